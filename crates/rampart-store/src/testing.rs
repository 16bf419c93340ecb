//! Fresh, throw-away databases for tests: a temporary SQLite file, or a
//! private schema in the PostgreSQL named by `RAMPART_TEST_DATABASE_URL`.

use std::sync::Arc;

use rampart_core::{OrgId, Organisation, Role, Timestamp, UserId};

use crate::{Backend, NewUser, Store};

/// A new organisation named `name` with its admin `admin@<name>.test`.
pub async fn org_with_admin(store: &Arc<dyn Store>, name: &str) -> crate::Result<OrgId> {
    let org = Organisation {
        id: OrgId::new(),
        name: name.into(),
        created_at: Timestamp(0),
    };
    let admin = NewUser {
        id: UserId::new(),
        email: format!("admin@{name}.test"),
        display_name: "Admin".into(),
        role: Role::Admin,
        platform_admin: false,
        password_hash: "x".into(),
        created_at: Timestamp(0),
    };
    store.create_org_with_admin(&org, &admin).await?;
    Ok(org.id)
}

/// The environment variable naming the PostgreSQL server tests may use.
pub const POSTGRES_URL_VAR: &str = "RAMPART_TEST_DATABASE_URL";

/// A database that exists for one test and is removed after it.
pub struct TestDatabase {
    backend: Backend,
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Directory(#[allow(dead_code)] tempfile::TempDir),
    Schema { admin_url: String, schema: String },
}

impl TestDatabase {
    /// An empty SQLite database in a new temporary directory.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| setup_failed(&e.to_string()));
        let url = format!("sqlite://{}", dir.path().join("rampart.db").display());
        Self {
            backend: Backend::Sqlite,
            url,
            cleanup: Cleanup::Directory(dir),
        }
    }

    /// An empty schema in the test PostgreSQL, or `None` (with a notice on
    /// stderr) when `RAMPART_TEST_DATABASE_URL` is not set.
    pub async fn postgres() -> Option<Self> {
        let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
            eprintln!("notice: {POSTGRES_URL_VAR} is not set; skipping the PostgreSQL variant");
            return None;
        };
        let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
        let admin = sqlx::PgPool::connect(&admin_url)
            .await
            .unwrap_or_else(|e| setup_failed(&format!("{POSTGRES_URL_VAR}: {e}")));
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .unwrap_or_else(|e| setup_failed(&e.to_string()));
        admin.close().await;
        let separator = if admin_url.contains('?') { '&' } else { '?' };
        let url = format!("{admin_url}{separator}options=-csearch_path%3D{schema}");
        Some(Self {
            backend: Backend::Postgres,
            url,
            cleanup: Cleanup::Schema { admin_url, schema },
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL to hand to `rampart_store::connect` or `--database-url`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A connected, migrated store on this database. Close it before the
    /// database is dropped.
    pub async fn store(&self) -> Arc<dyn Store> {
        let store = crate::connect(&self.url)
            .await
            .unwrap_or_else(|e| setup_failed(&e.to_string()));
        store
            .migrate()
            .await
            .unwrap_or_else(|e| setup_failed(&e.to_string()));
        store
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Cleanup::Schema { admin_url, schema } = &self.cleanup else {
            return;
        };
        let (admin_url, schema) = (admin_url.clone(), schema.clone());
        // Drop may run inside an async test; use a runtime of its own thread.
        let handle = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                use sqlx::Connection as _;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                    // Never hang a test run on a lock a leaked connection holds.
                    let _ = sqlx::query("SET lock_timeout = '5s'")
                        .execute(&mut conn)
                        .await;
                    let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                        .execute(&mut conn)
                        .await;
                    let _ = conn.close().await;
                }
            });
        });
        let _ = handle.join();
    }
}

/// Ends the test with a message when a test database cannot be set up (the
/// crate denies `panic!`; this is the one allowed place).
#[allow(clippy::panic)]
fn setup_failed(message: &str) -> ! {
    panic!("test database set-up failed: {message}")
}

/// Instantiates each listed `async fn(Arc<dyn Store>)` once per backend:
/// in a module `sqlite`, and in a module `postgres` that skips (with a
/// notice) when `RAMPART_TEST_DATABASE_URL` is not set.
#[macro_export]
macro_rules! conformance_suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = rampart_store::testing::TestDatabase::sqlite();
                    let store = db.store().await;
                    super::$name(store.clone()).await;
                    store.close().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = rampart_store::testing::TestDatabase::postgres().await else { return };
                    let store = db.store().await;
                    super::$name(store.clone()).await;
                    store.close().await;
                }
            )*
        }
    };
}
