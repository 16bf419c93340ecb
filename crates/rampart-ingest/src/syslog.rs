//! Syslog listeners (UDP and TCP, off by default): messages are batched
//! for up to 100 ms or 1,000 lines and go through the same ingest pipeline
//! as HTTP requests (admission, validation rules, detection, the
//! group-commit writer). TCP takes octet-counted (RFC 6587)
//! and newline-framed streams; UDP takes one message per datagram.

use std::time::Duration;

use rampart_core::OrgId;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::config::{SyslogListener, SyslogProtocol};
use crate::decode::{decode_lines, RawFormat};
use crate::metrics::IngestMetrics;
use crate::pipeline::Ingest;

/// Longest syslog message accepted; longer frames are cut off.
const MAX_MESSAGE: usize = 64 * 1024;
const BATCH_LINES: usize = 1000;
const BATCH_WAIT: Duration = Duration::from_millis(100);

/// Binds one listener and serves it until the task set is dropped.
pub async fn start(
    ingest: Ingest,
    org: OrgId,
    config: SyslogListener,
    tasks: &mut JoinSet<()>,
) -> std::io::Result<std::net::SocketAddr> {
    let (lines, receiver) = mpsc::channel::<String>(10 * BATCH_LINES);
    let metrics = ingest.metrics().clone();
    tasks.spawn(batcher(ingest, org, config.source.clone(), receiver));
    match config.protocol {
        SyslogProtocol::Udp => {
            let socket = UdpSocket::bind(config.listen).await?;
            let addr = socket.local_addr()?;
            tasks.spawn(serve_udp(socket, lines, metrics));
            tracing::info!(%addr, "syslog UDP listener started");
            Ok(addr)
        }
        SyslogProtocol::Tcp => {
            let listener = TcpListener::bind(config.listen).await?;
            let addr = listener.local_addr()?;
            tasks.spawn(serve_tcp(listener, lines));
            tracing::info!(%addr, "syslog TCP listener started");
            Ok(addr)
        }
    }
}

async fn serve_udp(socket: UdpSocket, lines: mpsc::Sender<String>, metrics: IngestMetrics) {
    let mut buffer = vec![0u8; MAX_MESSAGE];
    loop {
        let Ok((n, _)) = socket.recv_from(&mut buffer).await else {
            continue;
        };
        let text = String::from_utf8_lossy(&buffer[..n]).trim_end().to_owned();
        // UDP has no back-pressure: when the writer is behind, drop and count.
        if lines.try_send(text).is_err() {
            metrics.syslog_dropped();
            tracing::warn!("syslog UDP message dropped: ingest is behind");
        }
    }
}

async fn serve_tcp(listener: TcpListener, lines: mpsc::Sender<String>) {
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        let lines = lines.clone();
        tokio::spawn(async move {
            if let Err(error) = read_frames(BufReader::new(stream), &lines).await {
                tracing::debug!(%peer, %error, "syslog TCP connection ended");
            }
        });
    }
}

/// Reads frames until EOF: `LEN SP MSG` when a frame starts with a digit,
/// otherwise a line.
async fn read_frames<R: tokio::io::AsyncRead + Unpin>(
    mut reader: BufReader<R>,
    lines: &mpsc::Sender<String>,
) -> std::io::Result<()> {
    loop {
        let buffered = reader.fill_buf().await?;
        let Some(&first) = buffered.first() else {
            return Ok(());
        };
        let frame = if first.is_ascii_digit() {
            let mut length = Vec::new();
            (&mut reader).take(8).read_until(b' ', &mut length).await?;
            let length: usize = std::str::from_utf8(&length)
                .ok()
                .and_then(|l| l.trim().parse().ok())
                .filter(|l| *l <= MAX_MESSAGE)
                .ok_or_else(|| std::io::Error::other("bad octet count"))?;
            let mut frame = vec![0u8; length];
            reader.read_exact(&mut frame).await?;
            frame
        } else {
            let mut frame = Vec::new();
            (&mut reader)
                .take(MAX_MESSAGE as u64)
                .read_until(b'\n', &mut frame)
                .await?;
            frame
        };
        let text = String::from_utf8_lossy(&frame).trim_end().to_owned();
        if !text.is_empty() && lines.send(text).await.is_err() {
            return Ok(());
        }
    }
}

/// Gathers lines into batches and sends each through the ingest pipeline
/// that HTTP requests take: admission, validation rules, detection, the
/// group-commit writer, correlation, the same counters.
async fn batcher(ingest: Ingest, org: OrgId, source: String, mut receiver: mpsc::Receiver<String>) {
    let mut batch = Vec::with_capacity(BATCH_LINES);
    loop {
        let Some(first) = receiver.recv().await else {
            return;
        };
        batch.push(first);
        let deadline = tokio::time::Instant::now() + BATCH_WAIT;
        while batch.len() < BATCH_LINES {
            match tokio::time::timeout_at(deadline, receiver.recv()).await {
                Ok(Some(line)) => batch.push(line),
                Ok(None) | Err(_) => break,
            }
        }
        // Waiting here holds the listener back: TCP senders feel it, UDP
        // messages past the channel are dropped (and counted).
        let slot = loop {
            match ingest.admit().await {
                Ok(slot) => break slot,
                Err(_) => tracing::warn!("syslog batch waits: ingest is behind"),
            }
        };
        let lines = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_LINES));
        let source = source.clone();
        let decoded = ingest.ingest(org, false, move |received, rules| {
            Ok(decode_lines(
                lines.iter().enumerate(),
                RawFormat::Syslog,
                received,
                &source,
                rules,
            ))
        });
        match decoded.await {
            Ok(report) if report.rejected > 0 => tracing::debug!(
                rejected = report.rejected,
                first = ?report.errors.first(),
                "syslog lines refused"
            ),
            Ok(_) => {}
            Err(error) => tracing::error!(
                code = error.code,
                detail = %error.detail,
                "a syslog batch could not be stored"
            ),
        }
        drop(slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn octet_counted_and_newline_frames_mix() {
        let stream: &[u8] =
            b"18 <34>1 - - - - - hi\n<13>Nov 22 10:00:00 h app: line two\n10 <13>x: abc\n";
        let (tx, mut rx) = mpsc::channel(10);
        read_frames(BufReader::new(stream), &tx).await.unwrap();
        drop(tx);
        let mut got = Vec::new();
        while let Some(line) = rx.recv().await {
            got.push(line);
        }
        assert_eq!(
            got,
            [
                "<34>1 - - - - - hi",
                "<13>Nov 22 10:00:00 h app: line two",
                "<13>x: abc"
            ]
        );
    }
}
