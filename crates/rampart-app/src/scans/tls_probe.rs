//! The `tls` scan's handshakes, to an address the scope admitted: one
//! with rustls per modern version (TLS 1.3, TLS 1.2) that records the
//! certificates without trusting them, and, since rustls speaks nothing
//! older, a hand-built ClientHello for TLS 1.1 and 1.0 whose ServerHello
//! (or alert) says whether the server still accepts them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rampart_scan::checks::tls::Offered;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Accepts any certificate: the scan reads certificates, it does not
/// rely on them.
#[derive(Debug)]
struct RecordOnly(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for RecordOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// A handshake with one modern version; the server's certificates when it
/// succeeds.
async fn modern(
    addr: SocketAddr,
    host: &str,
    version: &'static rustls::SupportedProtocolVersion,
    timeout: Duration,
) -> Option<Vec<Vec<u8>>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[version])
        .ok()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(RecordOnly(provider)))
        .with_no_client_auth();
    let name = ServerName::try_from(
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
    )
    .ok()?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let handshake = async {
        let stream = TcpStream::connect(addr).await.ok()?;
        let tls = connector.connect(name, stream).await.ok()?;
        let (_, session) = tls.get_ref();
        Some(
            session
                .peer_certificates()
                .unwrap_or_default()
                .iter()
                .map(|c| c.as_ref().to_vec())
                .collect(),
        )
    };
    tokio::time::timeout(timeout, handshake)
        .await
        .ok()
        .flatten()
}

/// A TLS 1.0/1.1 ClientHello (`minor` 1 or 2) with common ciphers of that
/// era and the server name.
fn legacy_client_hello(minor: u8, host: &str) -> Vec<u8> {
    let ciphers: [u16; 8] = [
        0xc014, 0xc013, 0xc00a, 0xc009, 0x0035, 0x002f, 0x000a, 0x00ff,
    ];
    let mut body = vec![3, minor];
    // 32 random bytes (fixed: this hello only asks a question).
    body.extend((0u8..32).map(|i| i.wrapping_mul(37).wrapping_add(11)));
    body.push(0); // no session id
    body.extend(((ciphers.len() * 2) as u16).to_be_bytes());
    for c in ciphers {
        body.extend(c.to_be_bytes());
    }
    body.extend([1, 0]); // compression: null
    let mut extensions = Vec::new();
    let name = host.as_bytes();
    if host.parse::<std::net::IpAddr>().is_err() && name.len() < 256 {
        let list_len = (name.len() + 3) as u16;
        extensions.extend([0, 0]);
        extensions.extend((list_len + 2).to_be_bytes());
        extensions.extend(list_len.to_be_bytes());
        extensions.push(0);
        extensions.extend((name.len() as u16).to_be_bytes());
        extensions.extend(name);
    }
    // Supported groups and point formats, so ECDHE suites can be chosen.
    extensions.extend([0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x17, 0x00, 0x18]);
    extensions.extend([0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    body.extend((extensions.len() as u16).to_be_bytes());
    body.extend(extensions);
    let mut handshake = vec![1];
    handshake.extend(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend(body);
    let mut record = vec![22, 3, 1];
    record.extend((handshake.len() as u16).to_be_bytes());
    record.extend(handshake);
    record
}

/// The server's certificates from the handshake messages that follow a
/// ServerHello (TLS 1.2 and older send them in the clear).
fn certificates(handshake: &[u8]) -> Vec<Vec<u8>> {
    let mut at = 0;
    while at + 4 <= handshake.len() {
        let kind = handshake[at];
        let len = usize::from(handshake[at + 1]) << 16
            | usize::from(handshake[at + 2]) << 8
            | usize::from(handshake[at + 3]);
        let Some(body) = handshake.get(at + 4..at + 4 + len) else {
            break;
        };
        if kind == 11 {
            let mut chain = Vec::new();
            let mut i = 3;
            while i + 3 <= body.len() {
                let n = usize::from(body[i]) << 16
                    | usize::from(body[i + 1]) << 8
                    | usize::from(body[i + 2]);
                match body.get(i + 3..i + 3 + n) {
                    Some(cert) => chain.push(cert.to_vec()),
                    None => break,
                }
                i += 3 + n;
            }
            return chain;
        }
        at += 4 + len;
    }
    Vec::new()
}

/// Whether the server answers a TLS 1.`minor - 1` hello with a ServerHello
/// of that version; its certificates when it does.
async fn legacy(
    addr: SocketAddr,
    host: &str,
    minor: u8,
    timeout: Duration,
) -> Option<Vec<Vec<u8>>> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.ok()?;
        stream
            .write_all(&legacy_client_hello(minor, host))
            .await
            .ok()?;
        // Handshake records until the certificates are in (64 KiB at most).
        let mut handshake = Vec::new();
        while handshake.len() < 64 * 1024 {
            let mut head = [0u8; 5];
            stream.read_exact(&mut head).await.ok()?;
            let len = usize::from(u16::from_be_bytes([head[3], head[4]]));
            let mut record = vec![0u8; len];
            stream.read_exact(&mut record).await.ok()?;
            if head[0] != 22 {
                break;
            }
            if handshake.is_empty() {
                // A ServerHello of the version asked, or no.
                if record.len() < 6 || record[0] != 2 || record[4] != 3 || record[5] != minor {
                    return None;
                }
            }
            handshake.extend(record);
            let chain = certificates(&handshake);
            if !chain.is_empty() {
                return Some(chain);
            }
        }
        (!handshake.is_empty()).then(|| certificates(&handshake))
    };
    tokio::time::timeout(timeout, exchange).await.ok().flatten()
}

/// Every version's outcome, newest first, and the certificates of the
/// newest one that worked.
pub async fn probe(
    addr: SocketAddr,
    host: &str,
    timeout: Duration,
) -> (Vec<Offered>, Vec<Vec<u8>>) {
    let tls13 = modern(addr, host, &rustls::version::TLS13, timeout).await;
    let tls12 = modern(addr, host, &rustls::version::TLS12, timeout).await;
    let tls11 = legacy(addr, host, 2, timeout).await;
    let tls10 = legacy(addr, host, 1, timeout).await;
    let versions = vec![
        Offered {
            version: "TLS 1.3",
            accepted: tls13.is_some(),
        },
        Offered {
            version: "TLS 1.2",
            accepted: tls12.is_some(),
        },
        Offered {
            version: "TLS 1.1",
            accepted: tls11.is_some(),
        },
        Offered {
            version: "TLS 1.0",
            accepted: tls10.is_some(),
        },
    ];
    (
        versions,
        tls13.or(tls12).or(tls11).or(tls10).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::legacy_client_hello;

    #[test]
    fn the_legacy_hello_is_one_well_formed_record() {
        let hello = legacy_client_hello(2, "shop.example.com");
        assert_eq!(&hello[..3], &[22, 3, 1]);
        let record_len = usize::from(u16::from_be_bytes([hello[3], hello[4]]));
        assert_eq!(hello.len(), 5 + record_len);
        assert_eq!(hello[5], 1, "ClientHello");
        let body_len = usize::from(hello[7]) << 8 | usize::from(hello[8]);
        assert_eq!(record_len, 4 + body_len);
        assert_eq!(&hello[9..11], &[3, 2], "TLS 1.1");
        assert!(hello.windows(16).any(|w| w == b"shop.example.com"));
        assert!(
            !legacy_client_hello(1, "127.0.0.1")
                .windows(9)
                .any(|w| w == b"127.0.0.1"),
            "no SNI for addresses"
        );
    }
}
