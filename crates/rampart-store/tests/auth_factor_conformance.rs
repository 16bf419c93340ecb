//! Second factors and one-time challenges behave alike on both backends:
//! attempts are bounded before any comparison, a challenge is consumed
//! once, TOTP steps only move forward, recovery codes work once, and
//! another organisation sees none of it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use rampart_core::{AuditEntry, OrgId, Timestamp, UserId};
use rampart_store::{Challenge, ChallengeKind, Store, TotpRecord};

rampart_store::conformance_suite!(
    challenges_allow_their_attempts_and_one_use,
    authenticators_move_forward_and_recovery_codes_work_once,
);

async fn org(store: &Arc<dyn Store>, name: &str) -> OrgId {
    rampart_store::testing::org_with_admin(store, name)
        .await
        .unwrap()
}

fn challenge(org: OrgId, user: UserId, kind: ChallengeKind, hash: &str, at: i64) -> Challenge {
    Challenge {
        id: uuid::Uuid::now_v7().to_string(),
        org_id: org,
        user_id: user,
        kind,
        secret_hash: hash.into(),
        attempts: 0,
        max_attempts: 3,
        expires_at: Timestamp(at + 600_000),
        used_at: None,
        created_at: Timestamp(at),
    }
}

async fn challenges_allow_their_attempts_and_one_use(store: Arc<dyn Store>) {
    let (a, b) = (org(&store, "a").await, org(&store, "b").await);
    let user = UserId::new();
    let older = challenge(a, user, ChallengeKind::EmailCode, "h1", 1_000);
    let newer = challenge(a, user, ChallengeKind::EmailCode, "h2", 2_000);
    store.create_challenge(&older).await.unwrap();
    store.create_challenge(&newer).await.unwrap();
    let now = Timestamp(3_000);
    let latest = store
        .latest_challenge(a, user, ChallengeKind::EmailCode, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.id, newer.id);
    assert_eq!(
        store
            .latest_challenge(b, user, ChallengeKind::EmailCode, now)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .latest_challenge(a, user, ChallengeKind::Mfa, now)
            .await
            .unwrap(),
        None
    );
    // Another organisation can neither attempt nor use it.
    assert!(!store
        .spend_challenge_attempt(b, &newer.id, now)
        .await
        .unwrap());
    assert!(!store.consume_challenge(b, &older.id, now).await.unwrap());
    // Three attempts, then none.
    for _ in 0..3 {
        assert!(store
            .spend_challenge_attempt(a, &newer.id, now)
            .await
            .unwrap());
    }
    assert!(!store
        .spend_challenge_attempt(a, &newer.id, now)
        .await
        .unwrap());
    // Used once; then no longer found or attemptable.
    assert!(store.consume_challenge(a, &older.id, now).await.unwrap());
    assert!(!store.consume_challenge(a, &older.id, now).await.unwrap());
    assert!(!store
        .spend_challenge_attempt(a, &older.id, now)
        .await
        .unwrap());
    let reset = challenge(a, user, ChallengeKind::PasswordReset, "token-digest", 1_000);
    store.create_challenge(&reset).await.unwrap();
    let found = store
        .find_challenge(ChallengeKind::PasswordReset, "token-digest", now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, reset);
    assert_eq!(
        store
            .find_challenge(ChallengeKind::Mfa, "token-digest", now)
            .await
            .unwrap(),
        None
    );
    // Expired ones are neither found nor attemptable, and are purged.
    let late = Timestamp(reset.expires_at.0 + 1);
    assert_eq!(
        store
            .find_challenge(ChallengeKind::PasswordReset, "token-digest", late)
            .await
            .unwrap(),
        None
    );
    assert!(!store
        .spend_challenge_attempt(a, &reset.id, late)
        .await
        .unwrap());
    // (The newer e-mail code expires later and stays.)
    assert_eq!(store.purge_challenges(late).await.unwrap(), 2);
}

async fn authenticators_move_forward_and_recovery_codes_work_once(store: Arc<dyn Store>) {
    let (a, b) = (org(&store, "a").await, org(&store, "b").await);
    let user = UserId::new();
    let record = TotpRecord {
        secret: "GEZDGNBVGY3TQOJQ".into(),
        enabled: false,
        last_step: 0,
        created_at: Timestamp(1),
        confirmed_at: None,
    };
    store.put_totp(a, user, &record).await.unwrap();
    assert_eq!(store.get_totp(a, user).await.unwrap(), Some(record.clone()));
    assert_eq!(store.get_totp(b, user).await.unwrap(), None);
    let audit = |org| {
        AuditEntry::new(
            org,
            Timestamp(5),
            "user:test",
            "user.totp_enable",
            ("user", user.to_string()),
            None,
            None,
        )
    };
    let hashes = vec!["r1".to_owned(), "r2".to_owned()];
    assert!(!store
        .enable_totp(b, user, 10, &hashes, Timestamp(5), &audit(b))
        .await
        .unwrap());
    assert!(store
        .enable_totp(a, user, 10, &hashes, Timestamp(5), &audit(a))
        .await
        .unwrap());
    assert!(
        !store
            .enable_totp(a, user, 11, &hashes, Timestamp(6), &audit(a))
            .await
            .unwrap(),
        "already enabled"
    );
    let enabled = store.get_totp(a, user).await.unwrap().unwrap();
    assert_eq!(
        (enabled.enabled, enabled.last_step, enabled.confirmed_at),
        (true, 10, Some(Timestamp(5)))
    );
    // Steps move forward only.
    assert!(!store.advance_totp_step(a, user, 10).await.unwrap());
    assert!(store.advance_totp_step(a, user, 11).await.unwrap());
    assert!(!store.advance_totp_step(a, user, 9).await.unwrap());
    assert!(!store.advance_totp_step(b, user, 12).await.unwrap());
    // Recovery codes: each once, in its organisation.
    assert_eq!(store.recovery_codes_left(a, user).await.unwrap(), 2);
    assert!(!store
        .use_recovery_code(b, user, "r1", Timestamp(7))
        .await
        .unwrap());
    assert!(store
        .use_recovery_code(a, user, "r1", Timestamp(7))
        .await
        .unwrap());
    assert!(!store
        .use_recovery_code(a, user, "r1", Timestamp(8))
        .await
        .unwrap());
    assert!(!store
        .use_recovery_code(a, user, "nope", Timestamp(8))
        .await
        .unwrap());
    assert_eq!(store.recovery_codes_left(a, user).await.unwrap(), 1);
    // A new set-up replaces the old one and its codes.
    store.put_totp(a, user, &record).await.unwrap();
    assert_eq!(store.recovery_codes_left(a, user).await.unwrap(), 0);
    assert!(!store.get_totp(a, user).await.unwrap().unwrap().enabled);
    assert!(!store.delete_totp(b, user, &audit(b)).await.unwrap());
    assert!(store.delete_totp(a, user, &audit(a)).await.unwrap());
    assert_eq!(store.get_totp(a, user).await.unwrap(), None);
}
