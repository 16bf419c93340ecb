//! Validation rules and their counts behave alike on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use rampart_core::validation::{Check, FieldType, Mode, ValidationRule};
use rampart_core::{OrgId, Timestamp, ValidationRuleId};
use rampart_store::{CountDelta, Store, StoreError};

rampart_store::conformance_suite!(
    rules_are_confined_to_their_org,
    counts_add_up_across_writers
);

async fn org(store: &Arc<dyn Store>, name: &str) -> OrgId {
    rampart_store::testing::org_with_admin(store, name)
        .await
        .unwrap()
}

fn rule(org: OrgId, name: &str) -> ValidationRule {
    ValidationRule {
        id: ValidationRuleId::new(),
        org_id: org,
        name: name.into(),
        source: Some("firewall".into()),
        field: "source.ip".into(),
        check: Check::Type { is: FieldType::Ip },
        mode: Mode::Reject,
        enabled: true,
        created_at: Timestamp(1),
        updated_at: Timestamp(1),
    }
}

async fn rules_are_confined_to_their_org(store: Arc<dyn Store>) {
    let (a, b) = (org(&store, "a").await, org(&store, "b").await);
    let mut r = rule(a, "ip-is-ip");
    store.create_validation_rule(a, &r).await.unwrap();
    let dup = store.create_validation_rule(a, &rule(a, "ip-is-ip")).await;
    assert!(matches!(dup, Err(StoreError::Conflict { .. })), "{dup:?}");
    store
        .create_validation_rule(b, &rule(b, "ip-is-ip"))
        .await
        .unwrap();

    assert_eq!(
        store.list_validation_rules(a).await.unwrap(),
        vec![r.clone()]
    );
    assert_eq!(store.get_validation_rule(b, r.id).await.unwrap(), None);
    r.check = Check::AllowedValues {
        values: vec!["x".into()],
    };
    r.mode = Mode::Warn;
    r.enabled = false;
    r.updated_at = Timestamp(2);
    assert!(
        !store.update_validation_rule(b, &r).await.unwrap(),
        "b changed a's rule"
    );
    assert!(store.update_validation_rule(a, &r).await.unwrap());
    assert_eq!(
        store.get_validation_rule(a, r.id).await.unwrap(),
        Some(r.clone())
    );
    assert!(!store.delete_validation_rule(b, r.id).await.unwrap());
    assert!(store.delete_validation_rule(a, r.id).await.unwrap());
    assert!(store.list_validation_rules(a).await.unwrap().is_empty());
    assert_eq!(store.list_validation_rules(b).await.unwrap().len(), 1);
}

async fn counts_add_up_across_writers(store: Arc<dyn Store>) {
    let (a, b) = (OrgId::new(), OrgId::new());
    let rule = ValidationRuleId::new();
    let delta = |org, minute, passed, failed| CountDelta {
        org,
        rule,
        minute,
        passed,
        failed,
    };
    store
        .add_validation_counts(&[delta(a, 60_000, 5, 1), delta(a, 120_000, 2, 0)])
        .await
        .unwrap();
    store
        .add_validation_counts(&[delta(a, 60_000, 3, 2), delta(b, 60_000, 100, 100)])
        .await
        .unwrap();
    let counts = store
        .validation_counts(a, rule, Timestamp(0), Timestamp(180_000))
        .await
        .unwrap();
    assert_eq!(counts, [(60_000, 8, 3), (120_000, 2, 0)]);
    let later = store
        .validation_counts(a, rule, Timestamp(120_000), Timestamp(180_000))
        .await
        .unwrap();
    assert_eq!(later, [(120_000, 2, 0)]);
}

mod settings {
    use super::*;

    rampart_store::conformance_suite!(
        retention_overrides_are_per_organisation,
        required_second_factors_are_per_organisation_and_keep_retention
    );

    async fn retention_overrides_are_per_organisation(store: Arc<dyn Store>) {
        let (a, b) = (org(&store, "ra").await, org(&store, "rb").await);
        assert_eq!(store.retention_days(a).await.unwrap(), None);
        store.set_retention_days(a, Some(7)).await.unwrap();
        store.set_retention_days(b, Some(90)).await.unwrap();
        store.set_retention_days(b, None).await.unwrap();
        assert_eq!(store.retention_days(a).await.unwrap(), Some(7));
        assert_eq!(store.retention_days(b).await.unwrap(), None);
        assert_eq!(store.retention_overrides().await.unwrap(), vec![(a, 7)]);
    }

    async fn required_second_factors_are_per_organisation_and_keep_retention(
        store: Arc<dyn Store>,
    ) {
        let (a, b) = (org(&store, "ma").await, org(&store, "mb").await);
        assert!(!store.requires_mfa(a).await.unwrap());
        store.set_retention_days(a, Some(30)).await.unwrap();
        store.set_requires_mfa(a, true).await.unwrap();
        assert!(store.requires_mfa(a).await.unwrap());
        assert!(!store.requires_mfa(b).await.unwrap(), "only its own");
        // Either setting leaves the other as it was.
        assert_eq!(store.retention_days(a).await.unwrap(), Some(30));
        store.set_retention_days(a, None).await.unwrap();
        assert!(store.requires_mfa(a).await.unwrap());
        store.set_requires_mfa(a, false).await.unwrap();
        assert!(!store.requires_mfa(a).await.unwrap());
    }
}
