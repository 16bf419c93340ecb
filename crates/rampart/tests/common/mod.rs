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

/// The binary with `args`, not reading the environment's database or
/// configuration.
#[allow(dead_code)]
pub fn rampart(args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_rampart"));
    command
        .args(args)
        .env_remove("RAMPART_DATABASE_URL")
        .env_remove("RAMPART_CONFIG");
    command
}

/// The standard output of a command that must have succeeded.
#[allow(dead_code)]
pub fn succeeded(output: &std::process::Output) -> String {
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    text
}

/// A data directory a server has started on once (creating the
/// organisation 'default'), and the port it used.
#[allow(dead_code)]
pub fn bootstrapped() -> (tempfile::TempDir, std::path::PathBuf, u16) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Something else may take a port between `free_port` and the server's
    // bind (tests start servers in parallel): then what answered was not
    // ours, and the database has no organisation yet. Start again.
    for _ in 0..5 {
        let port = free_port();
        let mut server = serve(&data, port, "admin-password-12345");
        server.kill().unwrap();
        server.wait().unwrap();
        let listed = rampart(&["user", "list"])
            .arg("--data-dir")
            .arg(&data)
            .output()
            .unwrap();
        if listed.status.success() {
            return (dir, data, port);
        }
    }
    panic!("rampart serve did not bootstrap {}", data.display());
}
