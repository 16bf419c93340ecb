//! Watchlists behave alike on both backends: one entry per type and
//! value, imports that add or refresh, listings with filters and paging,
//! expiry, hit counts, the version every change bumps, audit in the same
//! transaction, and nothing of one organisation seen from another.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use rampart_core::watchlist::{EntryHits, IndicatorType, WatchlistEntry};
use rampart_core::{AuditEntry, OrgId, Timestamp, WatchlistEntryId};
use rampart_store::{AuditQuery, Store, WatchlistQuery};

rampart_store::conformance_suite!(watchlists_hold_one_entry_per_value_and_stay_apart);

fn entry(org: OrgId, kind: IndicatorType, value: &str, at: i64) -> WatchlistEntry {
    WatchlistEntry {
        id: WatchlistEntryId::new(),
        org_id: org,
        kind,
        value: value.into(),
        include_subdomains: false,
        source: "manual".into(),
        tags: vec!["c2".into()],
        description: None,
        severity: 3,
        expires_at: None,
        hits: 0,
        last_hit_at: None,
        created_by: "user:test".into(),
        created_at: Timestamp(at),
        updated_at: Timestamp(at),
    }
}

fn audit(org: OrgId, action: &str) -> AuditEntry {
    AuditEntry::new(
        org,
        Timestamp(5),
        "user:test",
        action,
        ("watchlist", "x".into()),
        None,
        None,
    )
}

fn query(limit: u32) -> WatchlistQuery {
    WatchlistQuery {
        limit,
        ..WatchlistQuery::default()
    }
}

async fn watchlists_hold_one_entry_per_value_and_stay_apart(store: Arc<dyn Store>) {
    let a = rampart_store::testing::org_with_admin(&store, "a")
        .await
        .unwrap();
    let b = rampart_store::testing::org_with_admin(&store, "b")
        .await
        .unwrap();
    assert_eq!(store.watchlist_version(a).await.unwrap(), 0);

    let ip = entry(a, IndicatorType::Ip, "198.51.100.7", 10);
    assert!(store
        .create_watchlist_entry(&ip, &audit(a, "watchlist.create"))
        .await
        .unwrap());
    // The same type and value again is refused; another type is not.
    let again = entry(a, IndicatorType::Ip, "198.51.100.7", 11);
    assert!(!store
        .create_watchlist_entry(&again, &audit(a, "watchlist.create"))
        .await
        .unwrap());
    let mut domain = entry(a, IndicatorType::Domain, "evil.example", 12);
    domain.include_subdomains = true;
    domain.expires_at = Some(Timestamp(1_000));
    assert!(store
        .create_watchlist_entry(&domain, &audit(a, "watchlist.create"))
        .await
        .unwrap());
    // Another organisation may hold the same value.
    assert!(store
        .create_watchlist_entry(
            &entry(b, IndicatorType::Ip, "198.51.100.7", 13),
            &audit(b, "watchlist.create")
        )
        .await
        .unwrap());
    assert_eq!(store.watchlist_version(a).await.unwrap(), 2);

    // An import refreshes existing values and adds new ones.
    let mut refreshed = entry(a, IndicatorType::Ip, "198.51.100.7", 20);
    refreshed.source = "feed".into();
    refreshed.severity = 5;
    let mut imported = vec![refreshed];
    for i in 0..1_200 {
        let mut e = entry(a, IndicatorType::Sha256, &format!("{i:064x}"), 20);
        e.source = "feed".into();
        imported.push(e);
    }
    let counts = store
        .import_watchlist_entries(a, &imported, &audit(a, "watchlist.import"))
        .await
        .unwrap();
    assert_eq!((counts.created, counts.updated), (1_200, 1));
    assert_eq!(store.watchlist_version(a).await.unwrap(), 3);
    let got = store.get_watchlist_entry(a, ip.id).await.unwrap().unwrap();
    assert_eq!(
        (got.source.as_str(), got.severity, got.created_at),
        ("feed", 5, Timestamp(10))
    );

    // Listings: filters, newest first, paging by id.
    let feed = store
        .list_watchlist_entries(
            a,
            &WatchlistQuery {
                source: Some("feed".into()),
                ..query(1000)
            },
        )
        .await
        .unwrap();
    assert_eq!(feed.len(), 1000);
    let rest = store
        .list_watchlist_entries(
            a,
            &WatchlistQuery {
                source: Some("feed".into()),
                before: feed.last().map(|e| e.id),
                ..query(1000)
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.len(), 201);
    let by_text = store
        .list_watchlist_entries(
            a,
            &WatchlistQuery {
                text: Some("EVIL".into()),
                ..query(10)
            },
        )
        .await
        .unwrap();
    assert_eq!(
        by_text.iter().map(|e| e.id).collect::<Vec<_>>(),
        [domain.id]
    );
    let by_kind = store
        .list_watchlist_entries(
            a,
            &WatchlistQuery {
                kind: Some(IndicatorType::Domain),
                ..query(10)
            },
        )
        .await
        .unwrap();
    assert_eq!(by_kind.len(), 1);
    let by_tag = store
        .list_watchlist_entries(
            a,
            &WatchlistQuery {
                tag: Some("c2".into()),
                ..query(10)
            },
        )
        .await
        .unwrap();
    assert_eq!(by_tag.len(), 10);
    let no_tag = store
        .list_watchlist_entries(
            a,
            &WatchlistQuery {
                tag: Some("c".into()),
                ..query(10)
            },
        )
        .await
        .unwrap();
    assert!(no_tag.is_empty(), "a tag matches whole");
    let live_later = store
        .list_watchlist_entries(
            a,
            &WatchlistQuery {
                live_at: Some(Timestamp(1_000)),
                kind: Some(IndicatorType::Domain),
                ..query(10)
            },
        )
        .await
        .unwrap();
    assert!(live_later.is_empty());

    // The matcher's view: live entries and the next expiry.
    let live = store.live_watchlist(a, Timestamp(500)).await.unwrap();
    assert_eq!(live.entries.len(), 1_202);
    assert_eq!(live.next_expiry, Some(Timestamp(1_000)));
    let later = store.live_watchlist(a, Timestamp(1_000)).await.unwrap();
    assert_eq!((later.entries.len(), later.next_expiry), (1_201, None));

    // Hits add up; the latest hit time is kept.
    store
        .add_watchlist_hits(
            a,
            &[EntryHits {
                id: ip.id,
                hits: 3,
                last_hit_at: Timestamp(50),
            }],
        )
        .await
        .unwrap();
    store
        .add_watchlist_hits(
            a,
            &[EntryHits {
                id: ip.id,
                hits: 2,
                last_hit_at: Timestamp(40),
            }],
        )
        .await
        .unwrap();
    let got = store.get_watchlist_entry(a, ip.id).await.unwrap().unwrap();
    assert_eq!((got.hits, got.last_hit_at), (5, Some(Timestamp(50))));

    // Another organisation sees, changes and deletes nothing of a's.
    assert!(store.get_watchlist_entry(b, ip.id).await.unwrap().is_none());
    assert!(!store
        .delete_watchlist_entry(b, ip.id, &audit(b, "watchlist.delete"))
        .await
        .unwrap());
    let mut foreign = got.clone();
    foreign.org_id = b;
    assert!(!store
        .update_watchlist_entry(&foreign, &audit(b, "watchlist.update"))
        .await
        .unwrap());
    assert_eq!(
        store
            .list_watchlist_entries(b, &query(100))
            .await
            .unwrap()
            .len(),
        1
    );
    store
        .add_watchlist_hits(
            b,
            &[EntryHits {
                id: ip.id,
                hits: 100,
                last_hit_at: Timestamp(60),
            }],
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .get_watchlist_entry(a, ip.id)
            .await
            .unwrap()
            .unwrap()
            .hits,
        5
    );

    // A watchlist larger than one page of the matcher's read comes whole.
    let many: Vec<WatchlistEntry> = (0..50_000)
        .map(|i| entry(a, IndicatorType::Md5, &format!("{i:032x}"), 30))
        .collect();
    store
        .import_watchlist_entries(a, &many, &audit(a, "watchlist.import"))
        .await
        .unwrap();
    let live = store.live_watchlist(a, Timestamp(500)).await.unwrap();
    assert_eq!(live.entries.len(), 51_202);
    let distinct: std::collections::HashSet<_> = live.entries.iter().map(|e| e.id).collect();
    assert_eq!(distinct.len(), 51_202);

    // Update and delete, audited and versioned.
    let mut changed = got;
    changed.tags = vec!["apt".into()];
    changed.updated_at = Timestamp(70);
    assert!(store
        .update_watchlist_entry(&changed, &audit(a, "watchlist.update"))
        .await
        .unwrap());
    assert_eq!(
        store
            .get_watchlist_entry(a, ip.id)
            .await
            .unwrap()
            .unwrap()
            .tags,
        ["apt"]
    );
    assert!(store
        .delete_watchlist_entry(a, ip.id, &audit(a, "watchlist.delete"))
        .await
        .unwrap());
    assert!(store.get_watchlist_entry(a, ip.id).await.unwrap().is_none());
    assert_eq!(store.watchlist_version(a).await.unwrap(), 6);
    let actions: Vec<String> = store
        .list_audit(
            a,
            &AuditQuery {
                limit: 100,
                ..AuditQuery::default()
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("watchlist."))
        .collect();
    assert_eq!(
        actions,
        [
            "watchlist.delete",
            "watchlist.update",
            "watchlist.import",
            "watchlist.import",
            "watchlist.create",
            "watchlist.create"
        ]
    );
}
