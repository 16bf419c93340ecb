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
