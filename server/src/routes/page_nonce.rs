//! The Content-Security-Policy of console pages: a nonce made for each request of the console's
//! router (never for health or the device protocol, which answer no page), handed to Leptos by
//! the shell (`app::backend::edge::page_policy::request_nonce`), and named in the policy of an HTML
//! answer. The edge gives every other answer a policy under which nothing runs.

use app::backend::edge::page_policy;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use http::HeaderValue;
use leptos::nonce::Nonce;

pub fn layer(router: Router) -> Router {
    router.layer(middleware::from_fn(with_nonce))
}

async fn with_nonce(mut request: Request, next: Next) -> Response {
    let nonce = Nonce::new();
    request.extensions_mut().insert(nonce.clone());
    let mut response = next.run(request).await;
    let is_page = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if is_page {
        if let Ok(policy) = HeaderValue::from_str(&page_policy::for_nonce(&nonce)) {
            response
                .headers_mut()
                .insert(CONTENT_SECURITY_POLICY, policy);
        }
    }
    response
}
