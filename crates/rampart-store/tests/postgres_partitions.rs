//! PostgreSQL's event partitions: hours inside days, the source-address
//! b-tree built only on sealed hours, and days made before hours existed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rampart_core::{Event, EventFilter, OrgId, Timestamp};
use rampart_store::testing::TestDatabase;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// An hour boundary (and 2027-01-15T08:00Z).
const T0: i64 = 1_800_000_000_000;

fn event(ts: i64, ip: &str) -> Event {
    Event {
        timestamp: Timestamp(ts),
        received: Timestamp(ts),
        source: "test".into(),
        source_ip: Some(ip.parse().unwrap()),
        fields: "{}".into(),
        ..Event::default()
    }
}

/// Partitions holding a valid `<name>_src_ip` index, by name.
async fn indexed(pool: &sqlx::PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_partition_tree('events') t \
         JOIN pg_class c ON c.oid = t.relid \
         JOIN pg_index i ON i.indrelid = c.oid AND i.indisvalid \
         JOIN pg_class x ON x.oid = i.indexrelid AND x.relname = c.relname || '_src_ip' \
         ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn only_sealed_hours_get_the_source_index_and_old_whole_days_keep_working() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let store = db.store().await;
    let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
    // A day partition as migrations before hours made it: one plain table.
    let old_day = (T0 - DAY) / DAY;
    sqlx::query(&format!(
        "CREATE TABLE events_d{old_day} PARTITION OF events FOR VALUES FROM ({}) TO ({})",
        old_day * DAY,
        (old_day + 1) * DAY
    ))
    .execute(&pool)
    .await
    .unwrap();

    let org = OrgId::new();
    let events = vec![
        event(T0 - DAY + 5, "192.0.2.1"),
        event(T0 + 5, "192.0.2.2"),
        event(T0 + HOUR + 5, "192.0.2.3"),
        event(T0 + 2 * HOUR + 5, "192.0.2.3"),
    ];
    let prepared = store.prepare_events(org, events.clone());
    let ids = store.append_events(&[prepared]).await.unwrap().remove(0);
    for (id, want) in ids.iter().zip(&events) {
        assert_eq!(
            store.get_event(org, *id).await.unwrap().as_ref(),
            Some(want)
        );
    }
    let old_rows: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM ONLY events_d{old_day}"))
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(old_rows, 1, "the whole-day table takes its day's events");

    // 40 minutes into the third hour: the first two hours (and the old
    // day) are sealed, the third is still written.
    let day = T0 / DAY;
    let h = (T0 % DAY) / HOUR;
    let built = store
        .seal_event_storage(Timestamp(T0 + 2 * HOUR + 40 * 60_000))
        .await
        .unwrap();
    assert_eq!(built, 3);
    assert_eq!(
        indexed(&pool).await,
        [
            format!("events_d{old_day}"),
            format!("events_d{day}_h{h:02}"),
            format!("events_d{day}_h{:02}", h + 1),
        ]
    );
    // The hour still written has the interim src_ip index; sealed ones lose it.
    let interim: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_indexes WHERE schemaname = current_schema() \
         AND indexname LIKE '%\\_src\\_ip\\_hot' ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(interim, [format!("events_d{day}_h{:02}", h + 2)]);
    // Searches read both kinds alike.
    let filter = EventFilter {
        source_ip: Some("192.0.2.3".parse().unwrap()),
        ..Default::default()
    };
    let found = store.query_events(org, &filter, None, 10).await.unwrap();
    let times: Vec<i64> = found.iter().map(|(_, e)| e.timestamp.0).collect();
    assert_eq!(times, [T0 + 2 * HOUR + 5, T0 + HOUR + 5]);
    let other = store
        .query_events(OrgId::new(), &filter, None, 10)
        .await
        .unwrap();
    assert!(other.is_empty(), "another organisation sees none of it");

    // A failed concurrent build leaves an invalid index: the next run redoes it.
    let third = format!("events_d{day}_h{:02}", h + 2);
    sqlx::query(&format!("CREATE INDEX {third}_src_ip ON {third} (org_id)"))
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(&format!(
        "UPDATE pg_index SET indisvalid = false WHERE indexrelid = '{third}_src_ip'::regclass"
    ))
    .execute(&pool)
    .await
    .unwrap();
    let built = store
        .seal_event_storage(Timestamp(T0 + 4 * HOUR))
        .await
        .unwrap();
    assert_eq!(built, 1);
    assert!(indexed(&pool).await.contains(&third));
    pool.close().await;
    store.close().await;
}
