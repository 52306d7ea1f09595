//! What every request goes through first, in one middleware (each layer of its own costs the
//! hot path a boxed future): the client's address is worked out (`ClientIp`, believing
//! `X-Forwarded-For` only from trusted proxies), control characters are refused
//! (`input_guard`), and the answer gets the headers every answer carries: no MIME sniffing, no
//! framing, no referrer sent to other sites, and a Content-Security-Policy: for a page, one that
//! runs only the scripts carrying the nonce made here for the request (which the shell gives
//! to Leptos, `app::backend::page_policy`); for every other answer, one under which nothing
//! runs.

use super::input_guard;
use app::backend::client_address::{ClientIp, TrustedProxies};
use app::backend::page_policy;
use axum::extract::{ConnectInfo, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use http::header::{
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::HeaderValue;
use leptos::nonce::Nonce;
use std::net::SocketAddr;

pub fn layer(router: Router, proxies: TrustedProxies) -> Router {
    router.layer(middleware::from_fn(move |request, next| {
        edge(proxies.clone(), request, next)
    }))
}

/// Paths that never answer a page: health and the device protocol (the hot path pays for no
/// nonce).
fn never_a_page(path: &str) -> bool {
    path.starts_with("/v1/")
        || path.starts_with("/legacy/")
        || path == "/healthz"
        || path == "/readyz"
}

async fn edge(proxies: TrustedProxies, mut request: Request, next: Next) -> Response {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        let client = proxies.client(peer.ip(), request.headers());
        request.extensions_mut().insert(ClientIp(client));
    }
    let nonce = (!never_a_page(request.uri().path())).then(Nonce::new);
    if let Some(nonce) = &nonce {
        request.extensions_mut().insert(nonce.clone());
    }
    let mut response = input_guard::check(request, next).await;
    let is_page = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let page_policy = nonce
        .filter(|_| is_page)
        .and_then(|nonce| HeaderValue::from_str(&page_policy::for_nonce(&nonce)).ok());
    let headers = response.headers_mut();
    match page_policy {
        Some(policy) => {
            headers.insert(CONTENT_SECURITY_POLICY, policy);
        }
        None => {
            headers.insert(
                CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(page_policy::NOT_A_PAGE),
            );
        }
    }
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}
