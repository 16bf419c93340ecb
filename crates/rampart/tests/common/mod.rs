//! Helpers shared by the tests that run the real binary.

use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (up to a minute) until something accepts connections on `port`.
pub fn wait_until_serving(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "server did not start listening on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `rampart serve` on the embedded database in `dir` (first-start
/// admin password `admin_password`), output discarded, and waits until it
/// listens on `port`.
#[allow(dead_code)] // Not every test binary that shares this module starts servers.
pub fn serve(dir: &std::path::Path, port: u16, admin_password: &str) -> std::process::Child {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir)
        .env("RAMPART_ADMIN_PASSWORD", admin_password)
        .env_remove("RAMPART_DATABASE_URL")
        .env_remove("RAMPART_CONFIG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until_serving(port);
    child
}
