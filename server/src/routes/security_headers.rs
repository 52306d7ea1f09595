//! Headers every answer carries: no MIME sniffing, no framing, no referrer sent to other sites,
//! and a Content-Security-Policy. Pages set their own policy (with the response's script nonce,
//! `app::backend::page_policy`); every other answer gets one under which nothing runs.

use app::backend::page_policy;
use axum::Router;
use http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::HeaderValue;
use tower_http::set_header::SetResponseHeaderLayer;

pub fn layer(router: Router) -> Router {
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(page_policy::NOT_A_PAGE),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
}
