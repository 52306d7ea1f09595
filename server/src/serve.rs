//! The accept loop: each connection served by hyper with a deadline for its request headers,
//! at most `Limits::max_connections` at once, and a bounded wait for the open ones at shutdown. axum's
//! own `serve` has neither the deadline nor the bound: a client that sends half a header and
//! waits kept its connection (and a file descriptor) open for good.

use crate::routes::edge::Edge;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Connections open at once by default; beyond it, new ones wait in the listen queue.
pub const MAX_CONNECTIONS: usize = 4096;
/// How long the open connections may take to finish once shutdown begins (live streams never
/// finish on their own).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How connections are served.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// How long a client may take to send its request headers.
    pub header_read_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            max_connections: MAX_CONNECTIONS,
        }
    }
}

pub async fn serve(
    listener: TcpListener,
    edge: Edge,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // wait a moment rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let edge = edge.clone();
        let service = hyper::service::service_fn(move |request: http::Request<Incoming>| {
            let answer = edge
                .clone()
                .handle(peer, request.map(axum::body::Body::new));
            async move { Ok::<_, std::convert::Infallible>(answer.await) }
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::info!("closed the connections still open at shutdown");
    }
}
