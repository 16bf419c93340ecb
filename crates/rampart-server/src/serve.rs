//! The HTTP/1 accept loop: each connection served by hyper with the
//! router, the peer address as `ConnectInfo`, and graceful shutdown (stop
//! accepting, let in-flight requests finish). Written out instead of
//! `axum::serve` so that hyper's header limits sit above the router's own:
//! the router answers oversized headers with a problem document
//! (the routes' `bounded_headers` middleware), hyper only past twice that.

use std::future::Future;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

/// Most request headers the router accepts; more is a 431 problem document.
pub const MAX_HEADERS: usize = 100;
/// Most bytes of request headers (names and values) the router accepts.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Headers hyper itself accepts; the router refuses more than
/// [`MAX_HEADERS`] with a problem document.
const HYPER_MAX_HEADERS: usize = 2 * MAX_HEADERS;

/// Serves `app` on `listener` until `signal` completes, then waits for the
/// open connections' requests to finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    signal: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .max_headers(HYPER_MAX_HEADERS)
        .header_read_timeout(Duration::from_secs(30));
    tokio::pin!(signal);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait, then go on.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut signal => break,
        };
        let service = app.clone().map_request(
            move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            },
        );
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
