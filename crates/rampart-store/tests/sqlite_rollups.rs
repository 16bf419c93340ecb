//! The embedded store's rollups read back from disk: stats over a time
//! range give the same answer from a freshly opened store (rollups read
//! from their table) as from the one that wrote them (rollups cached at
//! write), including after retention rewrote a block.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rampart_core::{Event, EventFilter, OrgId, Timestamp};
use rampart_store::testing::TestDatabase;
use rampart_store::StatsRequest;

const T0: i64 = 1_800_000_000_000;

fn event(i: i64) -> Event {
    Event {
        timestamp: Timestamp(T0 + i * 997),
        received: Timestamp(T0 + i * 997),
        source: "test".into(),
        user: Some(format!("user{}", i % 7)),
        host: Some(format!("host{}", i % 3)),
        source_ip: format!("10.0.{}.{}", i % 5, i % 200).parse().ok(),
        ..Event::default()
    }
}

#[tokio::test]
async fn rollups_answer_alike_from_cache_and_from_disk() {
    let db = TestDatabase::sqlite();
    let org = OrgId::new();
    let store = db.store().await;
    for batch in 0..3 {
        let events: Vec<Event> = (batch * 5000..(batch + 1) * 5000).map(event).collect();
        let prepared = store.prepare_events(org, events);
        store.append_events(&[prepared]).await.unwrap();
    }
    store
        .delete_events_before(org, Timestamp(T0 + 2_000_000))
        .await
        .unwrap();
    let filter = EventFilter {
        from: Some(Timestamp(T0 + 1_000_000)),
        ..EventFilter::default()
    };
    let ask = |field| StatsRequest {
        filter: &filter,
        bucket_ms: 300_000,
        top_field: Some(field),
        top_limit: 5,
        approximate_top: true,
    };
    let mut warm = Vec::new();
    for field in ["user.name", "host.name", "source.ip"] {
        warm.push(store.event_stats(org, &ask(field)).await.unwrap());
    }
    store.close().await;
    let reopened = db.store().await;
    for (n, field) in ["user.name", "host.name", "source.ip"]
        .into_iter()
        .enumerate()
    {
        let cold = reopened.event_stats(org, &ask(field)).await.unwrap();
        assert_eq!(cold, warm[n], "{field}");
    }
    assert_eq!(warm[0].total, 15_000 - 2_000_000 / 997 - 1);
    // Only rollups make the many source addresses' top list approximate:
    // equal answers mean the reopened store read them too.
    assert!(warm[2].top_approximate && !warm[0].top_approximate);
    reopened.close().await;
}
