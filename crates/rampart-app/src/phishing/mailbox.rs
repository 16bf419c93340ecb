//! The report mailbox: a small SMTP server (RFC 5321: HELO/EHLO, MAIL,
//! RCPT, DATA, RSET, NOOP, QUIT) that an organisation's mail server relays
//! its phishing-report address to. Each message received is a report
//! (source `mailbox`, high priority) whose reporter is the envelope
//! sender; a message that carries the suspicious one as an attachment is
//! analysed for that one. Lines, messages, connections and idle time are
//! bounded; a message that cannot be read is refused with 554.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rampart_core::phishing::PhishSource;
use rampart_core::OrgId;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{Phishing, MAX_MESSAGE_BYTES};

/// Longest command line read (RFC 5321 allows 512; extensions more).
const MAX_LINE: usize = 4096;
/// Connections served at once per listener.
const MAX_CONNECTIONS: usize = 64;
/// How long the server waits for a client's next line.
const IDLE: Duration = Duration::from_secs(120);

/// Starts a mailbox on `listen` for `org`; returns the address bound.
pub async fn start(
    phishing: Phishing,
    org: OrgId,
    listen: SocketAddr,
    tasks: &mut JoinSet<()>,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    tasks.spawn(serve(listener, phishing, org));
    tracing::info!(%addr, %org, "phishing report mailbox started");
    Ok(addr)
}

async fn serve(listener: TcpListener, phishing: Phishing, org: OrgId) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            let mut stream = stream;
            let _ = stream
                .write_all(b"421 4.3.2 too many connections, try later\r\n")
                .await;
            continue;
        };
        let phishing = phishing.clone();
        tokio::spawn(async move {
            if let Err(error) = session(stream, &phishing, org).await {
                tracing::debug!(%peer, %error, "report mailbox session ended");
            }
            drop(slot);
        });
    }
}

/// Reads one line (without its CRLF), at most `MAX_LINE` bytes; `None` at
/// the end of the stream.
async fn line<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    let read = tokio::time::timeout(
        IDLE,
        (&mut *reader)
            .take(MAX_LINE as u64 + 2)
            .read_until(b'\n', &mut buf),
    )
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "idle"))??;
    if read == 0 {
        return Ok(None);
    }
    if !buf.ends_with(b"\n") {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "line too long",
        ));
    }
    while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        buf.pop();
    }
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

/// The address of `MAIL FROM:<a@b>` or `RCPT TO:<a@b>` (parameters after it
/// ignored); `None` when the command is malformed.
fn path(argument: &str) -> Option<String> {
    let argument = argument.trim_start();
    let inner = argument.strip_prefix('<')?.split('>').next()?;
    Some(inner.trim().to_owned())
}

async fn session(stream: TcpStream, phishing: &Phishing, org: OrgId) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    write
        .write_all(b"220 rampart ESMTP report mailbox\r\n")
        .await?;
    let mut sender: Option<String> = None;
    let mut recipients = 0usize;
    loop {
        let Some(command) = line(&mut reader).await? else {
            return Ok(());
        };
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let argument = command.get(verb.len()..).unwrap_or("").trim_start();
        let reply: String = match verb.as_str() {
            "EHLO" => format!("250-rampart\r\n250-SIZE {MAX_MESSAGE_BYTES}\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n"),
            "HELO" => "250 rampart\r\n".into(),
            "MAIL" => match argument.get(..5).filter(|p| p.eq_ignore_ascii_case("FROM:")).and_then(|_| path(&argument[5..])) {
                Some(from) if from.len() <= 320 => {
                    sender = Some(from);
                    recipients = 0;
                    "250 2.1.0 ok\r\n".into()
                }
                _ => "501 5.5.4 MAIL FROM:<address>\r\n".into(),
            },
            "RCPT" => match (sender.is_some(), argument.get(..3).filter(|p| p.eq_ignore_ascii_case("TO:")).and_then(|_| path(&argument[3..]))) {
                (false, _) => "503 5.5.1 MAIL first\r\n".into(),
                (true, Some(to)) if !to.is_empty() && recipients < 100 => {
                    recipients += 1;
                    "250 2.1.5 ok\r\n".into()
                }
                _ => "501 5.5.4 RCPT TO:<address>\r\n".into(),
            },
            "DATA" if sender.is_none() || recipients == 0 => "503 5.5.1 MAIL and RCPT first\r\n".into(),
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let reply = match data(&mut reader).await? {
                    Some(message) => {
                        let reporter = sender.take().filter(|s| !s.is_empty()).unwrap_or_else(|| "report mailbox".into());
                        match phishing.submit_as(org, reporter, &message, PhishSource::Mailbox).await {
                            Ok(submitted) => format!("250 2.0.0 queued as {}\r\n", submitted.id),
                            Err(error) if error.kind == rampart_core::ErrorKind::Invalid => {
                                format!("554 5.6.0 {}\r\n", error.detail.replace(['\r', '\n'], " "))
                            }
                            Err(error) => {
                                tracing::error!(%org, detail = %error.detail, "a mailbox report could not be stored");
                                "451 4.3.0 try again later\r\n".into()
                            }
                        }
                    }
                    None => format!("552 5.3.4 a message may have at most {MAX_MESSAGE_BYTES} bytes\r\n"),
                };
                sender = None;
                recipients = 0;
                reply
            }
            "RSET" => {
                sender = None;
                recipients = 0;
                "250 2.0.0 ok\r\n".into()
            }
            "NOOP" => "250 2.0.0 ok\r\n".into(),
            "VRFY" => "252 2.1.5 send some mail, it will be tried\r\n".into(),
            "QUIT" => {
                write.write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            _ => "502 5.5.2 command not recognised\r\n".into(),
        };
        write.write_all(reply.as_bytes()).await?;
    }
}

/// The message of a DATA command, dot-unstuffed; `None` when it is larger
/// than allowed (read to its end all the same, so the session goes on).
async fn data<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut message = Vec::new();
    let mut too_large = false;
    loop {
        let mut buf = Vec::new();
        let read = tokio::time::timeout(
            IDLE,
            (&mut *reader).take(1 << 20).read_until(b'\n', &mut buf),
        )
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "idle"))??;
        if read == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "DATA not ended",
            ));
        }
        if buf == b".\r\n" || buf == b".\n" {
            return Ok((!too_large).then_some(message));
        }
        let body = if buf.starts_with(b"..") {
            &buf[1..]
        } else {
            &buf[..]
        };
        if message.len() + body.len() > MAX_MESSAGE_BYTES {
            too_large = true;
            message.clear();
        }
        if !too_large {
            message.extend_from_slice(body);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_read_with_their_parameters_ignored() {
        assert_eq!(path(" <a@b.test> SIZE=100").as_deref(), Some("a@b.test"));
        assert_eq!(path("<>").as_deref(), Some(""));
        assert_eq!(path("a@b.test"), None);
    }

    #[tokio::test]
    async fn data_is_unstuffed_and_bounded() {
        let mut reader =
            BufReader::new(&b"Subject: x\r\n\r\n..leading dot\r\nline\r\n.\r\nNEXT\r\n"[..]);
        let message = data(&mut reader).await.unwrap().unwrap();
        assert_eq!(message, b"Subject: x\r\n\r\n.leading dot\r\nline\r\n");
        assert_eq!(line(&mut reader).await.unwrap().as_deref(), Some("NEXT"));
        let mut unended = BufReader::new(&b"Subject: x\r\n"[..]);
        assert!(data(&mut unended).await.is_err());
        let huge = vec![b'a'; MAX_LINE + 10];
        let mut long = BufReader::new(&huge[..]);
        assert!(line(&mut long).await.is_err());
    }
}
