//! Feature flags behave alike on both backends: scopes, create and
//! replace, conflicts, audit in the same transaction, and the revision
//! every change bumps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use rampart_core::flag::{Flag, FlagDefinition};
use rampart_core::{AuditEntry, OrgId, Timestamp};
use rampart_store::{AuditQuery, FlagScope, FlagWrite, Store, StoreError};

rampart_store::conformance_suite!(flags_are_scoped_audited_and_versioned);

fn flag(org: Option<OrgId>, key: &str, enabled: bool, at: i64) -> Flag {
    Flag {
        key: key.into(),
        org_id: org,
        definition: FlagDefinition {
            description: "beta".into(),
            enabled,
            rules: vec![],
            variants: vec![],
        },
        created_at: Timestamp(at),
        updated_at: Timestamp(at),
        updated_by: "user:test".into(),
    }
}

fn audit(org: OrgId, action: &str, key: &str) -> AuditEntry {
    AuditEntry::new(
        org,
        Timestamp(5),
        "user:test",
        action,
        ("flag", key.into()),
        None,
        None,
    )
}

async fn flags_are_scoped_audited_and_versioned(store: Arc<dyn Store>) {
    let a = rampart_store::testing::org_with_admin(&store, "a")
        .await
        .unwrap();
    let b = rampart_store::testing::org_with_admin(&store, "b")
        .await
        .unwrap();
    let start = store.flags_revision().await.unwrap();
    let put = |f: Flag, write| {
        let store = store.clone();
        async move {
            store
                .put_flag(&f, write, a, &audit(a, "flag.put", &f.key))
                .await
        }
    };
    assert!(put(flag(Some(a), "beta.hunt", true, 10), FlagWrite::Create)
        .await
        .unwrap());
    assert!(put(flag(None, "beta.hunt", false, 11), FlagWrite::Create)
        .await
        .unwrap());
    assert!(matches!(
        put(flag(Some(a), "beta.hunt", true, 12), FlagWrite::Create).await,
        Err(StoreError::Conflict { .. })
    ));
    // Replacing keeps the creation time; a missing flag is not replaced.
    assert!(
        put(flag(Some(a), "beta.hunt", false, 20), FlagWrite::Replace)
            .await
            .unwrap()
    );
    assert!(
        !put(flag(Some(b), "beta.hunt", true, 20), FlagWrite::Replace)
            .await
            .unwrap()
    );
    let mine = store
        .get_flag(FlagScope::Org(a), "beta.hunt")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (mine.created_at, mine.updated_at),
        (Timestamp(10), Timestamp(20))
    );
    assert!(!mine.definition.enabled);
    assert_eq!(store.list_flags(FlagScope::Org(b)).await.unwrap(), vec![]);
    assert_eq!(
        store.list_flags(FlagScope::Platform).await.unwrap().len(),
        1
    );
    assert_eq!(
        store
            .get_flag(FlagScope::Org(b), "beta.hunt")
            .await
            .unwrap(),
        None
    );
    let (revision, all) = store.all_flags().await.unwrap();
    assert_eq!(revision, start + 3);
    assert_eq!(all.len(), 2);
    assert!(!store
        .delete_flag(
            FlagScope::Org(b),
            "beta.hunt",
            b,
            &audit(b, "flag.delete", "beta.hunt")
        )
        .await
        .unwrap());
    assert!(store
        .delete_flag(
            FlagScope::Org(a),
            "beta.hunt",
            a,
            &audit(a, "flag.delete", "beta.hunt")
        )
        .await
        .unwrap());
    assert_eq!(store.flags_revision().await.unwrap(), start + 4);
    let trail = store
        .list_audit(
            a,
            &AuditQuery {
                target_type: Some("flag".into()),
                limit: 10,
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(trail.len(), 4, "every change, none of the refused ones");
    assert!(store
        .list_audit(
            b,
            &AuditQuery {
                limit: 10,
                ..AuditQuery::default()
            }
        )
        .await
        .unwrap()
        .iter()
        .all(|e| e.target_type != "flag"));
}
