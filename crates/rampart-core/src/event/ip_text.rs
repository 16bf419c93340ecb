//! Addresses as text, fast: IPv4 dotted decimal written by hand (the
//! formatting machinery was a tenth of the ingest path, which writes
//! several addresses per event for storage and summaries); IPv6 as
//! `Display` writes it.

use std::fmt::Write as _;
use std::net::IpAddr;

/// Appends `ip` as `Display` writes it.
pub fn push_ip(buffer: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    buffer.push('.');
                }
                if octet >= 100 {
                    buffer.push(char::from(b'0' + octet / 100));
                }
                if octet >= 10 {
                    buffer.push(char::from(b'0' + (octet / 10) % 10));
                }
                buffer.push(char::from(b'0' + octet % 10));
            }
        }
        IpAddr::V6(_) => {
            let _ = write!(buffer, "{ip}");
        }
    }
}

/// `ip` as text, as `to_string` gives it.
pub fn ip_string(ip: IpAddr) -> String {
    let mut out = String::with_capacity(15);
    push_ip(&mut out, ip);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn addresses_read_as_display_writes_them() {
        for octet in 0..=255u8 {
            for ip in [
                Ipv4Addr::new(octet, 0, 255 - octet, octet / 3),
                Ipv4Addr::new(10, octet, 9, 100),
            ] {
                let ip = IpAddr::V4(ip);
                assert_eq!(ip_string(ip), ip.to_string());
            }
        }
        let v6: IpAddr = "2001:db8::1"
            .parse()
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert_eq!(ip_string(v6), "2001:db8::1");
    }
}
