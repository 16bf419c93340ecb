//! The operator's account commands (`rampart user …`, `rampart apikey …`),
//! run as the real binary on the database a server made: what they create,
//! change and revoke is what the server then sees.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::{Child, Command, Output};

use common::free_port;

fn rampart(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("RAMPART_DATABASE_URL")
        .env("RAMPART_USER_PASSWORD", "bob-password-12345")
        .output()
        .unwrap()
}

fn succeeded(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    text
}

fn serve(dir: &Path, port: u16) -> Child {
    common::serve(dir, port, "admin-password-12345")
}

fn stop(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn operator_commands_change_what_the_server_sees() {
    let dir = tempfile::tempdir().unwrap();
    // The first start creates the default organisation and its admin.
    let port = free_port();
    stop(serve(dir.path(), port));

    let created = succeeded(&rampart(
        dir.path(),
        &[
            "apikey",
            "create",
            "--name",
            "ops",
            "--scopes",
            "read,ingest",
        ],
    ));
    let key = created
        .lines()
        .find(|l| l.starts_with("rk_"))
        .expect("the key is printed")
        .to_owned();
    let key_id = created
        .split_whitespace()
        .nth(2)
        .expect("the key's id is printed")
        .to_owned();
    succeeded(&rampart(
        dir.path(),
        &[
            "user",
            "create",
            "--email",
            "Bob@Example.test",
            "--role",
            "viewer",
        ],
    ));
    let listed = succeeded(&rampart(dir.path(), &["user", "list"]));
    assert!(listed.contains("bob@example.test\tviewer"), "{listed}");

    let port = free_port();
    let server = serve(dir.path(), port);
    let base = format!("http://127.0.0.1:{port}/api/v1");
    let client = reqwest::Client::new();
    let me = |token: String| {
        let request = client.get(format!("{base}/me")).bearer_auth(token).send();
        async move { request.await.unwrap().status().as_u16() }
    };
    let login = |password: &'static str| {
        let request = client
            .post(format!("{base}/auth/login"))
            .json(&serde_json::json!({"email": "bob@example.test", "password": password}))
            .send();
        async move { request.await.unwrap().status().as_u16() }
    };
    assert_eq!(me(key.clone()).await, 200, "the key made offline works");
    assert_eq!(login("bob-password-12345").await, 200);

    // Changes made while the server runs take effect at once for
    // sign-ins, and within the node's credential cache time (1 s) for
    // keys in use.
    succeeded(&rampart(
        dir.path(),
        &["user", "disable", "--email", "bob@example.test"],
    ));
    assert_eq!(login("bob-password-12345").await, 401);
    succeeded(&rampart(dir.path(), &["apikey", "revoke", &key_id]));
    let revoked_at = std::time::Instant::now();
    let mut status = me(key.clone()).await;
    while status != 401 && revoked_at.elapsed() < std::time::Duration::from_secs(3) {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        status = me(key.clone()).await;
    }
    assert_eq!(status, 401);
    assert!(revoked_at.elapsed() < std::time::Duration::from_millis(2500));
    let keys = succeeded(&rampart(dir.path(), &["apikey", "list"]));
    assert!(keys.contains("ops") && keys.contains("revoked"), "{keys}");
    stop(server);

    // An organisation that does not exist is named.
    let missing = rampart(dir.path(), &["user", "list", "--org", "nowhere"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nowhere"));
}
