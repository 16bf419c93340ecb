//! The storage conformance suite: every test runs against SQLite and, when
//! `RAMPART_TEST_DATABASE_URL` is set, against PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use rampart_core::{
    ApiKey, ApiKeyId, ApiKeyScope, CreatorState, OrgId, Organisation, Role, SessionId, Timestamp,
    UserId,
};
use rampart_store::{
    NewRefreshToken, NewSession, NewUser, RotateOutcome, Store, StoreError, ThrottlePolicy,
    UserUpdate,
};

const T0: Timestamp = Timestamp(1_800_000_000_000);

rampart_store::conformance_suite!(
    migrations_are_current_and_idempotent,
    organisation_with_admin_is_created_atomically,
    users_are_confined_to_their_organisation,
    user_updates_apply_only_given_fields,
    emails_are_unique_platform_wide,
    lists_paginate_by_keyset,
    refresh_tokens_rotate_and_reuse_revokes_the_family,
    expired_and_revoked_sessions_do_not_authenticate,
    api_keys_are_confined_and_revocable,
    login_failures_lock_after_the_threshold_and_reset_after_the_window,
);

fn new_user(email: &str, role: Role) -> NewUser {
    NewUser {
        id: UserId::new(),
        email: email.to_string(),
        display_name: email.split('@').next().unwrap().to_string(),
        role,
        platform_admin: false,
        password_hash: "$argon2id$fake".to_string(),
        created_at: T0,
    }
}

async fn new_org(store: &Arc<dyn Store>, name: &str) -> (OrgId, UserId) {
    let org = Organisation {
        id: OrgId::new(),
        name: name.to_string(),
        created_at: T0,
    };
    let admin = new_user(&format!("admin@{name}.test"), Role::Admin);
    store.create_org_with_admin(&org, &admin).await.unwrap();
    (org.id, admin.id)
}

async fn migrations_are_current_and_idempotent(store: Arc<dyn Store>) {
    assert!(store.migrations_current().await.unwrap());
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
    assert!(store.migrations_current().await.unwrap());
}

async fn organisation_with_admin_is_created_atomically(store: Arc<dyn Store>) {
    let (org, admin) = new_org(&store, "acme").await;
    assert_eq!(store.count_orgs().await.unwrap(), 1);
    let got = store.get_org(org).await.unwrap().unwrap();
    assert_eq!(got.name, "acme");
    let user = store.get_user(org, admin).await.unwrap().unwrap();
    assert_eq!(user.role, Role::Admin);
    assert_eq!(store.count_active_admins(org).await.unwrap(), 1);

    // A second organisation whose admin e-mail is taken is not created at all.
    let dup = Organisation {
        id: OrgId::new(),
        name: "other".into(),
        created_at: T0,
    };
    let err = store
        .create_org_with_admin(&dup, &new_user("admin@acme.test", Role::Admin))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    assert_eq!(store.count_orgs().await.unwrap(), 1);
    assert!(store.get_org(dup.id).await.unwrap().is_none());

    let same_name = Organisation {
        id: OrgId::new(),
        name: "acme".into(),
        created_at: T0,
    };
    let err = store
        .create_org_with_admin(&same_name, &new_user("x@y.test", Role::Admin))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { what } if what.contains("organisation")),
        "{err:?}"
    );
}

async fn users_are_confined_to_their_organisation(store: Arc<dyn Store>) {
    let (org_a, admin_a) = new_org(&store, "a").await;
    let (org_b, _) = new_org(&store, "b").await;
    let analyst = new_user("ana@a.test", Role::Analyst);
    store.create_user(org_a, &analyst).await.unwrap();

    assert!(store.get_user(org_b, analyst.id).await.unwrap().is_none());
    assert!(store
        .get_user_by_email(org_b, "ana@a.test")
        .await
        .unwrap()
        .is_none());
    let update = UserUpdate {
        role: Some(Role::Admin),
        ..Default::default()
    };
    assert!(store
        .update_user(org_b, analyst.id, &update, T0)
        .await
        .unwrap()
        .is_none());
    assert!(!store
        .delete_user(org_b, admin_a, Timestamp(0))
        .await
        .unwrap());
    let listed_b = store.list_users(org_b, None, 100).await.unwrap();
    assert!(listed_b.iter().all(|u| u.org_id == org_b));
    assert_eq!(listed_b.len(), 1);

    // Still intact in its own organisation.
    let still = store.get_user(org_a, analyst.id).await.unwrap().unwrap();
    assert_eq!(still.role, Role::Analyst);
    assert!(store.delete_user(org_a, analyst.id, T0).await.unwrap());
    assert!(store.get_user(org_a, analyst.id).await.unwrap().is_none());
}

async fn user_updates_apply_only_given_fields(store: Arc<dyn Store>) {
    let (org, admin) = new_org(&store, "u").await;
    let update = UserUpdate {
        display_name: Some("Ada".into()),
        disabled: Some(true),
        ..Default::default()
    };
    let user = store
        .update_user(org, admin, &update, T0.plus_secs(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.display_name, "Ada");
    assert!(user.disabled);
    assert_eq!(user.role, Role::Admin);
    assert_eq!(store.count_active_admins(org).await.unwrap(), 0);

    let update = UserUpdate {
        password_hash: Some("$argon2id$new".into()),
        ..Default::default()
    };
    store.update_user(org, admin, &update, T0).await.unwrap();
    let creds = store
        .find_credentials("admin@u.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(creds.password_hash, "$argon2id$new");
    assert_eq!(creds.user.display_name, "Ada");
    assert!(store
        .find_credentials("nobody@u.test")
        .await
        .unwrap()
        .is_none());
}

async fn emails_are_unique_platform_wide(store: Arc<dyn Store>) {
    let (org_a, _) = new_org(&store, "a").await;
    let (org_b, _) = new_org(&store, "b").await;
    store
        .create_user(org_a, &new_user("same@x.test", Role::Viewer))
        .await
        .unwrap();
    let err = store
        .create_user(org_b, &new_user("same@x.test", Role::Viewer))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { what } if what.contains("e-mail")),
        "{err:?}"
    );
}

async fn lists_paginate_by_keyset(store: Arc<dyn Store>) {
    let (org, _) = new_org(&store, "p").await;
    for i in 0..5 {
        store
            .create_user(org, &new_user(&format!("u{i}@p.test"), Role::Viewer))
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_users(org, after, 2).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 2);
        after = page.last().map(|u| u.id);
        seen.extend(page.into_iter().map(|u| u.id));
    }
    assert_eq!(seen.len(), 6);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "pages come in id order without gaps");
    sorted.dedup();
    assert_eq!(sorted.len(), 6, "no user appears twice");
}

fn token(hash: &str, at: Timestamp) -> NewRefreshToken {
    NewRefreshToken {
        token_hash: hash.to_string(),
        created_at: at,
        expires_at: at.plus_secs(3600),
    }
}

async fn start_session(store: &Arc<dyn Store>, org: OrgId, user: UserId, first: &str) -> SessionId {
    let session = NewSession {
        id: SessionId::new(),
        org_id: org,
        user_id: user,
        created_at: T0,
        expires_at: T0.plus_secs(86_400),
    };
    store
        .create_session(&session, &token(first, T0))
        .await
        .unwrap();
    session.id
}

async fn refresh_tokens_rotate_and_reuse_revokes_the_family(store: Arc<dyn Store>) {
    let (org, user) = new_org(&store, "r").await;
    let session = start_session(&store, org, user, "h1").await;
    let t1 = T0.plus_secs(10);

    let out = store
        .rotate_refresh_token("h1", &token("h2", t1), t1)
        .await
        .unwrap();
    assert!(
        matches!(out, RotateOutcome::Rotated { session: s, ref user } if s == session && user.email == "admin@r.test")
    );
    assert!(store
        .session_user(org, session, user, t1)
        .await
        .unwrap()
        .is_some());

    // h1 again: reuse. The family is revoked, so h2 is dead too.
    let out = store
        .rotate_refresh_token("h1", &token("h3", t1), t1)
        .await
        .unwrap();
    assert_eq!(out, RotateOutcome::Reused { session });
    assert!(store
        .session_user(org, session, user, t1)
        .await
        .unwrap()
        .is_none());
    let out = store
        .rotate_refresh_token("h2", &token("h4", t1), t1)
        .await
        .unwrap();
    assert_eq!(out, RotateOutcome::Invalid);

    let out = store
        .rotate_refresh_token("unknown", &token("h5", t1), t1)
        .await
        .unwrap();
    assert_eq!(out, RotateOutcome::Invalid);
}

async fn expired_and_revoked_sessions_do_not_authenticate(store: Arc<dyn Store>) {
    let (org, user) = new_org(&store, "s").await;
    let (other_org, _) = new_org(&store, "s2").await;
    let session = start_session(&store, org, user, "a1").await;
    assert!(store
        .session_user(org, session, user, T0)
        .await
        .unwrap()
        .is_some());
    assert!(store
        .session_user(other_org, session, user, T0)
        .await
        .unwrap()
        .is_none());
    assert!(!store.revoke_session(other_org, session, T0).await.unwrap());

    // The refresh token expires after an hour.
    let late = T0.plus_secs(3601);
    let out = store
        .rotate_refresh_token("a1", &token("a2", late), late)
        .await
        .unwrap();
    assert_eq!(out, RotateOutcome::Invalid);
    // The session itself after a day.
    assert!(store
        .session_user(org, session, user, T0.plus_secs(86_401))
        .await
        .unwrap()
        .is_none());

    let second = start_session(&store, org, user, "b1").await;
    assert_eq!(store.revoke_user_sessions(org, user, T0).await.unwrap(), 2);
    assert!(store
        .session_user(org, second, user, T0)
        .await
        .unwrap()
        .is_none());
    let out = store
        .rotate_refresh_token("b1", &token("b2", T0), T0)
        .await
        .unwrap();
    assert_eq!(out, RotateOutcome::Invalid);

    // A disabled user's session does not authenticate either.
    let third = start_session(&store, org, user, "c1").await;
    let disable = UserUpdate {
        disabled: Some(true),
        ..Default::default()
    };
    store.update_user(org, user, &disable, T0).await.unwrap();
    assert!(store
        .session_user(org, third, user, T0)
        .await
        .unwrap()
        .is_none());
    let out = store
        .rotate_refresh_token("c1", &token("c2", T0), T0)
        .await
        .unwrap();
    assert_eq!(out, RotateOutcome::Invalid);
}

fn api_key(org: OrgId, name: &str, scopes: Vec<ApiKeyScope>) -> ApiKey {
    ApiKey {
        id: ApiKeyId::new(),
        org_id: org,
        name: name.to_string(),
        prefix: "rk_abcd".to_string(),
        scopes,
        created_by: None,
        created_at: T0,
        last_used_at: None,
        revoked_at: None,
        creator_state: None,
    }
}

async fn api_keys_are_confined_and_revocable(store: Arc<dyn Store>) {
    let (org_a, _) = new_org(&store, "ka").await;
    let (org_b, _) = new_org(&store, "kb").await;
    let key = api_key(
        org_a,
        "shipper",
        vec![ApiKeyScope::Ingest, ApiKeyScope::Read],
    );
    store.create_api_key(org_a, &key, "hash-a").await.unwrap();

    let found = store.find_api_key("hash-a").await.unwrap().unwrap();
    assert_eq!(found.org_id, org_a);
    assert_eq!(found.scopes, vec![ApiKeyScope::Ingest, ApiKeyScope::Read]);
    assert!(store.get_api_key(org_b, key.id).await.unwrap().is_none());
    assert!(store
        .list_api_keys(org_b, None, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .revoke_api_key(org_b, key.id, T0)
        .await
        .unwrap()
        .is_none());

    // Last use is written at most once per granularity period.
    store.touch_api_key(org_a, key.id, T0, 60).await.unwrap();
    store
        .touch_api_key(org_a, key.id, T0.plus_secs(30), 60)
        .await
        .unwrap();
    let got = store.get_api_key(org_a, key.id).await.unwrap().unwrap();
    assert_eq!(got.last_used_at, Some(T0));
    store
        .touch_api_key(org_a, key.id, T0.plus_secs(61), 60)
        .await
        .unwrap();
    let got = store.get_api_key(org_a, key.id).await.unwrap().unwrap();
    assert_eq!(got.last_used_at, Some(T0.plus_secs(61)));

    let revoked = store
        .revoke_api_key(org_a, key.id, T0.plus_secs(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(T0.plus_secs(5)));
    // Revoking again keeps the first revocation time.
    let again = store
        .revoke_api_key(org_a, key.id, T0.plus_secs(9))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.revoked_at, Some(T0.plus_secs(5)));
    assert!(!store
        .find_api_key("hash-a")
        .await
        .unwrap()
        .unwrap()
        .is_active());

    // A key works only while the user who made it is active.
    let (org_c, _) = new_org(&store, "kc").await;
    let maker = new_user("maker@kc.test", Role::Analyst);
    store.create_user(org_c, &maker).await.unwrap();
    let made = ApiKey {
        created_by: Some(maker.id),
        ..api_key(org_c, "made", vec![ApiKeyScope::Read])
    };
    store.create_api_key(org_c, &made, "hash-c").await.unwrap();
    let state = |key: Option<ApiKey>| key.unwrap().creator_state;
    assert_eq!(
        state(store.find_api_key("hash-c").await.unwrap()),
        Some(CreatorState::Active)
    );
    let disable = UserUpdate {
        disabled: Some(true),
        ..Default::default()
    };
    store
        .update_user(org_c, maker.id, &disable, T0)
        .await
        .unwrap();
    let found = store.find_api_key("hash-c").await.unwrap().unwrap();
    assert_eq!(found.creator_state, Some(CreatorState::Disabled));
    assert!(!found.is_active());
    assert!(store.delete_user(org_c, maker.id, T0).await.unwrap());
    let listed = store.list_api_keys(org_c, None, 10).await.unwrap();
    assert_eq!(listed[0].creator_state, Some(CreatorState::Deleted));
    assert!(!listed[0].is_active());

    let dup = api_key(org_b, "dup", vec![ApiKeyScope::Read]);
    assert!(matches!(
        store.create_api_key(org_b, &dup, "hash-a").await,
        Err(StoreError::Conflict { .. })
    ));
}

async fn login_failures_lock_after_the_threshold_and_reset_after_the_window(store: Arc<dyn Store>) {
    let policy = ThrottlePolicy {
        window_secs: 60,
        lock_after: 3,
        lock_secs: 300,
    };
    let key = "account:someone@x.test";
    assert!(store.login_throttle(key).await.unwrap().is_none());
    let s1 = store.record_login_failure(key, T0, &policy).await.unwrap();
    assert_eq!((s1.failures, s1.locked_until), (1, None));
    store
        .record_login_failure(key, T0.plus_secs(1), &policy)
        .await
        .unwrap();
    let s3 = store
        .record_login_failure(key, T0.plus_secs(2), &policy)
        .await
        .unwrap();
    assert_eq!(s3.failures, 3);
    assert_eq!(s3.locked_until, Some(T0.plus_secs(302)));
    assert_eq!(store.login_throttle(key).await.unwrap().unwrap(), s3);

    // A failure after the window starts a new count.
    let later = T0.plus_secs(1000);
    let s = store
        .record_login_failure(key, later, &policy)
        .await
        .unwrap();
    assert_eq!(s.failures, 1);
    assert_eq!(s.window_start, later);
    assert_eq!(s.locked_at(later), None);

    store.clear_login_failures(key).await.unwrap();
    assert!(store.login_throttle(key).await.unwrap().is_none());
}
