//! `spawn_app()`: the real server on a random port with a fresh database,
//! and a small client for it.

use std::sync::Arc;

use rampart_core::{Clock, SystemClock};
use rampart_server::config::LoginPolicy;
use rampart_server::{Application, Config, ShutdownHandle};
use rampart_store::testing::TestDatabase;
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};

pub const ADMIN_EMAIL: &str = "admin@localhost";
pub const ADMIN_PASSWORD: &str = "bootstrap-password-1";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub shutdown: ShutdownHandle,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
    pub state: rampart_server::state::AppState,
    pub syslog_addrs: Vec<std::net::SocketAddr>,
    pub mailbox_addrs: Vec<std::net::SocketAddr>,
    _dir: tempfile::TempDir,
    _db: TestDatabase,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Sends a request and reads its answer, JSON or text.
    async fn read(request: reqwest::RequestBuilder) -> Self {
        let resp = request.send().await.expect("request sent");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body read");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            headers,
            body,
        }
    }
}

impl TestApp {
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Reply::read(req).await
    }

    /// POSTs a raw body with the given content type and optional encoding.
    pub async fn post_bytes(
        &self,
        path: &str,
        token: &str,
        content_type: &str,
        encoding: Option<&str>,
        body: Vec<u8>,
    ) -> Reply {
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body);
        if let Some(e) = encoding {
            req = req.header("content-encoding", e);
        }
        Reply::read(req).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.request(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.request(Method::POST, path, token, Some(body)).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/api/v1/auth/login",
            None,
            json!({"email": email, "password": password}),
        )
        .await
    }

    /// Logs in and returns the access token, asserting success.
    pub async fn token(&self, email: &str, password: &str) -> String {
        let r = self.login(email, password).await;
        assert_eq!(r.status, StatusCode::OK, "login of {email}: {:?}", r.body);
        r.body["access_token"]
            .as_str()
            .expect("access token")
            .to_string()
    }

    pub async fn admin_token(&self) -> String {
        self.token(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// Creates a user in the caller's organisation and returns its id.
    pub async fn create_user(&self, admin: &str, email: &str, role: &str) -> String {
        let r = self
            .post(
                "/api/v1/users",
                Some(admin),
                json!({"email": email, "role": role, "password": "user-password-123"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        r.body["id"].as_str().expect("id").to_string()
    }

    /// Creates a second organisation and returns its admin's token.
    pub async fn second_org(&self, name: &str) -> String {
        let platform = self.admin_token().await;
        let email = format!("admin@{name}.test");
        let r = self
            .post(
                "/api/v1/orgs",
                Some(&platform),
                json!({"name": name, "admin": {"email": email, "password": "other-admin-pass-1"}}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        self.token(&email, "other-admin-pass-1").await
    }

    /// Creates an API key and returns (id, secret).
    pub async fn api_key(&self, admin: &str, scopes: &[&str]) -> (String, String) {
        let r = self
            .post(
                "/api/v1/api-keys",
                Some(admin),
                json!({"name": "test key", "scopes": scopes}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        (
            r.body["id"].as_str().expect("id").to_string(),
            r.body["key"].as_str().expect("key").to_string(),
        )
    }

    pub async fn stop(self) {
        self.shutdown.shutdown();
        let _ = self.server.await;
    }
}

pub fn test_config(db: &TestDatabase, dir: &tempfile::TempDir) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        data_dir: dir.path().to_path_buf(),
        database_url: Some(SecretString::from(db.url().to_string())),
        admin_password: Some(SecretString::from(ADMIN_PASSWORD)),
        max_body_bytes: 64 * 1024,
        login: LoginPolicy {
            account_lock_after: 4,
            ip_lock_after: 1000,
            slowdown_after: 2,
            slowdown_step_ms: 1,
            slowdown_max_ms: 5,
            ..LoginPolicy::default()
        },
        ..Config::default()
    }
}

pub async fn spawn_app(db: TestDatabase) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

/// As [`spawn_app`], with the configuration adjusted first.
pub async fn spawn_app_with(db: TestDatabase, configure: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_with_clock(db, configure, Arc::new(SystemClock)).await
}

/// As [`spawn_app_with`], on a given clock: a test that counts within a
/// window holds time still rather than racing a busy machine.
pub async fn spawn_app_with_clock(
    db: TestDatabase,
    configure: impl FnOnce(&mut Config),
    clock: Arc<dyn Clock>,
) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(&db, &dir);
    configure(&mut config);
    let app = Application::build_with_clock(config, clock)
        .await
        .expect("app builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let shutdown = app.shutdown_handle();
    let state = app.state().clone();
    let syslog_addrs = app.syslog_addrs().to_vec();
    let mailbox_addrs = app.mailbox_addrs().to_vec();
    let server = tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        client: reqwest::Client::new(),
        shutdown,
        server,
        state,
        syslog_addrs,
        mailbox_addrs,
        _dir: dir,
        _db: db,
    }
}

/// Runs each listed test once on SQLite and once on PostgreSQL (when
/// RAMPART_TEST_DATABASE_URL is set).
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::helpers::spawn_app(rampart_store::testing::TestDatabase::sqlite()).await;
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = rampart_store::testing::TestDatabase::postgres().await else { return };
                    let app = $crate::helpers::spawn_app(db).await;
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
    };
}
