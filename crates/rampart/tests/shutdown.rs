//! The real binary: first start prints the generated admin password, and
//! SIGTERM lets an in-flight request finish before the process exits cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{free_port, wait_until_serving};

#[test]
fn sigterm_finishes_in_flight_requests_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir.path())
        .env_remove("RAMPART_ADMIN_PASSWORD")
        .env_remove("RAMPART_DATABASE_URL")
        .env("RAMPART_ADMIN_EMAIL", "boss@example.test")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first_line = String::new();
    stdout.read_line(&mut first_line).unwrap();
    assert!(
        first_line.contains("boss@example.test") && first_line.contains("with password"),
        "{first_line}"
    );
    let password = first_line
        .trim_end()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    wait_until_serving(port);

    // Start a login and send only half of its body: the request is in flight.
    let body = format!(r#"{{"email":"boss@example.test","password":"{password}"}}"#);
    let (head, tail) = body.split_at(body.len() / 2);
    let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        conn,
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{head}",
        body.len()
    )
    .unwrap();
    conn.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(300));
    // New connections are refused while the in-flight one is still served.
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "still accepting after SIGTERM"
    );

    conn.write_all(tail.as_bytes()).unwrap();
    let mut response = String::new();
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    conn.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("access_token"));

    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "server did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    // The database was closed cleanly: SQLite checkpointed its WAL into the
    // database file (SQLite removes the emptied WAL when the last connection
    // closes; an empty one left behind is harmless).
    let wal = dir.path().join("rampart.db-wal");
    let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(wal_len, 0, "WAL not checkpointed at shutdown");

    // A second start reuses the database and creates no second admin.
    let again = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["user", "list", "--data-dir"])
        .arg(dir.path())
        .env_remove("RAMPART_DATABASE_URL")
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{listed}");
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.contains("boss@example.test\tadmin"));
}

#[test]
fn a_bad_setting_stops_start_up_with_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("rampart.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\nlog_fromat = \"json\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("log_fromat"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}
