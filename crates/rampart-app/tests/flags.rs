//! Flag changes reach every node: two nodes' `Flags` over one store, a
//! change made through one is evaluated by the other within a second.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use rampart_app::api::flags::NewFlag;
use rampart_app::audit::Audit;
use rampart_app::flags::Flags;
use rampart_app::{Actor, Principal};
use rampart_core::flag::FlagContext;
use rampart_core::{Role, SessionId, SystemClock, Timestamp, User, UserId};
use rampart_store::Store;

rampart_store::conformance_suite!(a_change_reaches_the_other_node_within_a_second);

async fn a_change_reaches_the_other_node_within_a_second(store: Arc<dyn Store>) {
    let org = rampart_store::testing::org_with_admin(&store, "nodes")
        .await
        .unwrap();
    let clock = Arc::new(SystemClock);
    let node = || {
        Flags::new(
            store.clone(),
            clock.clone(),
            Audit::new(store.clone(), clock.clone()),
        )
    };
    let (one, two) = (node(), node());
    two.refresh().await.unwrap();
    let refresher = tokio::spawn(two.clone().refresh_forever());
    let admin = Principal {
        org_id: org,
        actor: Actor::User {
            user: User {
                id: UserId::new(),
                org_id: org,
                email: "admin@nodes.test".into(),
                display_name: "Admin".into(),
                role: Role::Admin,
                platform_admin: false,
                disabled: false,
                created_at: Timestamp(0),
            },
            session: SessionId::new(),
        },
    };
    let off = FlagContext::default();
    assert_eq!(two.evaluate_in(org, "beta.x", &off).reason, "not_found");
    let changed = Instant::now();
    one.create(
        &admin,
        NewFlag {
            key: "beta.x".into(),
            platform: false,
            description: String::new(),
            enabled: true,
            rules: vec![],
            variants: vec![],
        },
    )
    .await
    .unwrap();
    assert!(
        one.evaluate_in(org, "beta.x", &off).enabled,
        "at once where it was made"
    );
    while !two.evaluate_in(org, "beta.x", &off).enabled {
        assert!(
            changed.elapsed() < Duration::from_millis(1500),
            "not within a second"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    refresher.abort();
}
