//! Assets: create, read, change and delete, checked and audited; a change
//! of criticality or exposure scores the asset's findings again.

use rampart_core::finding::{Asset, Exposure, Finding};
use rampart_core::{AssetId, Error, Permission};
use rampart_store::{AssetQuery, FindingQuery};

use super::{scoring, Vulnerabilities};
use crate::api::vulns::{AssetInput, AssetPatch};
use crate::audit::snapshot;
use crate::input::{labels as list, text};
use crate::paging::{Page, PageParams, TextCursor};
use crate::principal::Principal;

fn criticality(value: Option<i64>) -> Result<Option<u8>, Error> {
    value
        .map(|c| {
            u8::try_from(c)
                .ok()
                .filter(|c| (1..=5).contains(c))
                .ok_or_else(|| Error::invalid_field("criticality", "must be 1 to 5"))
        })
        .transpose()
}

impl Vulnerabilities {
    pub async fn create_asset(
        &self,
        principal: &Principal,
        input: AssetInput,
    ) -> Result<Asset, Error> {
        principal.require(Permission::Analyse)?;
        let now = self.clock.now();
        let asset = Asset {
            id: AssetId::new(),
            org_id: principal.org_id,
            name: text("name", &input.name, 200)?,
            kind: input.kind,
            identifiers: list("identifiers", input.identifiers)?,
            criticality: criticality(input.criticality)?.unwrap_or(3),
            exposure: input.exposure.unwrap_or(Exposure::Internal),
            owner: input
                .owner
                .filter(|o| !o.trim().is_empty())
                .map(|o| text("owner", &o, 200))
                .transpose()?,
            tags: list("tags", input.tags)?,
            created_at: now,
            updated_at: now,
        };
        let entry = self.audit.entry(
            principal,
            "asset.create",
            ("asset", asset.id.to_string()),
            None,
            snapshot(&asset),
        );
        self.store
            .create_asset(&asset, &entry)
            .await
            .map_err(|e| asset_conflict(e.into()))?;
        Ok(asset)
    }

    pub async fn asset(&self, principal: &Principal, id: AssetId) -> Result<Asset, Error> {
        principal.require(Permission::Read)?;
        self.store
            .get_asset(principal.org_id, id)
            .await?
            .ok_or_else(|| Error::not_found("asset"))
    }

    /// The organisation's assets by name.
    pub async fn assets(
        &self,
        principal: &Principal,
        page: &PageParams,
    ) -> Result<Page<Asset>, Error> {
        principal.require(Permission::Read)?;
        let limit = page.limit()?;
        let after = page.cursor::<TextCursor>()?.map(|c| c.0);
        let query = AssetQuery {
            kind: None,
            after_name: after,
            limit,
        };
        let items = self.store.list_assets(principal.org_id, &query).await?;
        Ok(Page::new(items, limit, |a| TextCursor::encode(&a.name)))
    }

    pub async fn update_asset(
        &self,
        principal: &Principal,
        id: AssetId,
        patch: AssetPatch,
    ) -> Result<Asset, Error> {
        principal.require(Permission::Analyse)?;
        let before = self.asset(principal, id).await?;
        let mut asset = before.clone();
        if let Some(name) = patch.name {
            asset.name = text("name", &name, 200)?;
        }
        if let Some(kind) = patch.kind {
            asset.kind = kind;
        }
        if let Some(identifiers) = patch.identifiers {
            asset.identifiers = list("identifiers", identifiers)?;
        }
        if let Some(c) = criticality(patch.criticality)? {
            asset.criticality = c;
        }
        if let Some(exposure) = patch.exposure {
            asset.exposure = exposure;
        }
        if let Some(owner) = patch.owner {
            asset.owner = if owner.trim().is_empty() {
                None
            } else {
                Some(text("owner", &owner, 200)?)
            };
        }
        if let Some(tags) = patch.tags {
            asset.tags = list("tags", tags)?;
        }
        asset.updated_at = self.clock.now();
        let rescored =
            if (asset.criticality, asset.exposure) == (before.criticality, before.exposure) {
                Vec::new()
            } else {
                self.rescored(&asset).await?
            };
        let entry = self.audit.entry(
            principal,
            "asset.update",
            ("asset", id.to_string()),
            snapshot(&before),
            snapshot(&asset),
        );
        if !self
            .store
            .update_asset(&asset, &rescored, &entry)
            .await
            .map_err(|e| asset_conflict(e.into()))?
        {
            return Err(Error::not_found("asset"));
        }
        Ok(asset)
    }

    /// The asset's findings scored again for its new criticality or
    /// exposure (only those whose priority changes).
    async fn rescored(&self, asset: &Asset) -> Result<Vec<Finding>, Error> {
        let phrases = self.phrases_of(asset.org_id).await?;
        let now = self.clock.now();
        let mut out = Vec::new();
        let mut query = FindingQuery {
            asset: Some(asset.id),
            limit: 1000,
            ..FindingQuery::default()
        };
        loop {
            let page = self.store.list_findings(asset.org_id, &query).await?;
            let full = page.len() == query.limit as usize;
            query.after = page.last().map(|f| (f.priority.score, f.id));
            let intel =
                scoring::intel_for(self.store.as_ref(), page.iter().map(|f| &f.report)).await?;
            for mut finding in page {
                let age = scoring::age_days(Some(finding.first_seen), now);
                let priority = scoring::score(&finding.report, asset, age, &phrases, &intel);
                if priority != finding.priority {
                    finding.priority = priority;
                    out.push(finding);
                }
            }
            if !full {
                return Ok(out);
            }
        }
    }

    /// Deletes an asset with its findings and imports.
    pub async fn delete_asset(&self, principal: &Principal, id: AssetId) -> Result<(), Error> {
        principal.require(Permission::Analyse)?;
        let before = self.asset(principal, id).await?;
        let entry = self.audit.entry(
            principal,
            "asset.delete",
            ("asset", id.to_string()),
            snapshot(&before),
            None,
        );
        if !self
            .store
            .delete_asset(principal.org_id, id, &entry)
            .await?
        {
            return Err(Error::not_found("asset"));
        }
        Ok(())
    }
}

/// A store conflict on an asset is its name.
fn asset_conflict(error: Error) -> Error {
    if error.kind == rampart_core::ErrorKind::Conflict {
        Error::conflict("asset_exists", "the organisation has an asset of this name")
    } else {
        error
    }
}
