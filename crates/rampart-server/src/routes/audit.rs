//! `/api/v1/audit`: the organisation's audit trail, newest first (admin).

use axum::extract::State;
use axum::Json;
use rampart_core::Permission;
use rampart_store::AuditQuery;
use serde::Deserialize;

use crate::error::{ApiError, Problem};
use crate::extract::{ApiQuery, Principal};
use crate::routes::params::Time;
use crate::routes::{Page, PageParams};
use crate::state::AppState;
use rampart_app::api::audit::AuditView;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// `user:<id>`, `api_key:<id>` or `system`.
    pub actor: Option<String>,
    /// e.g. `incident.update`, `rule.create`, `user.delete`.
    pub action: Option<String>,
    /// `incident`, `rule`, `user`, `api_key` or `settings`.
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// From (RFC 3339 or epoch ms).
    #[param(schema_with = crate::routes::params::schema::time)]
    pub from: Option<Time>,
    /// Until, exclusive.
    #[param(schema_with = crate::routes::params::schema::time)]
    pub to: Option<Time>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    #[param(
        pattern = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub cursor: Option<String>,
}

/// Read the audit trail with filters (admin).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])), params(AuditParams),
    responses((status = 200, body = Page<AuditView>), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Json<Page<AuditView>>, ApiError> {
    principal.require(Permission::Admin)?;
    Ok(Json(params.page(&state, principal.org_id).await?))
}

impl AuditParams {
    /// The page of the organisation's trail these parameters ask for.
    pub async fn page(
        self,
        state: &AppState,
        org: rampart_core::OrgId,
    ) -> Result<Page<AuditView>, rampart_core::Error> {
        let page = PageParams {
            limit: self.limit,
            cursor: self.cursor,
        };
        let limit = page.limit()?;
        let query = AuditQuery {
            actor: self.actor,
            action: self.action,
            target_type: self.target_type,
            target_id: self.target_id,
            from: self.from.map(|t| t.0),
            to: self.to.map(|t| t.0),
            before: page.cursor()?,
            limit,
        };
        let items = state.audit.list(org, &query).await?;
        let items: Vec<AuditView> = items.into_iter().map(AuditView::from).collect();
        Ok(Page::new(items, limit, |e| e.id.to_string()))
    }
}
