//! What every request goes through first, before the router: the client's address is worked
//! out (`ClientIp`, believing `X-Forwarded-For` only from trusted proxies), control characters
//! are refused (`input_guard`), and the answer gets the headers every answer carries: no MIME
//! sniffing, no framing, no referrer sent to other sites, and a Content-Security-Policy under
//! which nothing runs, unless it is a console page with its own (`page_nonce`). Each request
//! gets an id, sent back as `X-Request-Id` and carried by a tracing span around everything that
//! handles it, so that every log line of the request names it (in place of tower-http's
//! `TraceLayer`). The accept loop calls it directly rather than as a router layer: a layer
//! wraps every route and boxes each request's future once more, which the device hot path
//! pays on every update check.

use super::input_guard;
use app::backend::edge::client_address::{ClientIp, TrustedProxies};
use app::backend::edge::page_policy;
use axum::extract::Request;
use axum::response::Response;
use axum::Router;
use http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::HeaderValue;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use tracing::Instrument;

const REQUEST_ID: http::HeaderName = http::HeaderName::from_static("x-request-id");

/// The request's id: a count of this process's requests (a number: no text to build on the
/// hot path). With the process's start in the log, it names one request.
fn next_request_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The application behind its edge.
#[derive(Clone)]
pub struct Edge {
    router: Router,
    proxies: TrustedProxies,
}

impl Edge {
    pub fn new(router: Router, proxies: TrustedProxies) -> Edge {
        Edge { router, proxies }
    }

    /// Answers one request from `peer`.
    pub async fn handle(self, peer: SocketAddr, mut request: Request) -> Response {
        let client = self.proxies.client(peer.ip(), request.headers());
        request.extensions_mut().insert(ClientIp(client));
        let id = next_request_id();
        // The path as Debug: escaped, whatever it holds.
        let span = tracing::info_span!(
            "request",
            id,
            method = %request.method(),
            path = ?request.uri().path()
        );
        let mut response = input_guard::check(request, self.router)
            .instrument(span)
            .await;
        let headers = response.headers_mut();
        headers.insert(REQUEST_ID, HeaderValue::from(id));
        headers
            .entry(CONTENT_SECURITY_POLICY)
            .or_insert(HeaderValue::from_static(page_policy::NOT_A_PAGE));
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
        response
    }
}
