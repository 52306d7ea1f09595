//! Cross-site request forgery defence for cookie-authenticated writes. Session cookies are
//! SameSite=Lax, so browsers do not send them on cross-site POSTs; on top of that, a write whose
//! `Origin` names another host is refused. Requests with a Bearer token carry no ambient
//! credential and are not checked.

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::header::{AUTHORIZATION, HOST, ORIGIN};
use http::{Method, StatusCode};

pub fn layer(router: Router) -> Router {
    router.layer(middleware::from_fn(check))
}

async fn check(request: Request, next: Next) -> Response {
    if is_cross_site_write(&request) {
        return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
    }
    next.run(request).await
}

fn is_cross_site_write(request: &Request) -> bool {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe || request.headers().contains_key(AUTHORIZATION) {
        return false;
    }
    let headers = request.headers();
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
    {
        return true;
    }
    match (headers.get(ORIGIN), headers.get(HOST)) {
        (Some(origin), Some(host)) => {
            let origin = origin.to_str().unwrap_or("");
            let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or(origin);
            origin == "null" || origin_host.as_bytes() != host.as_bytes()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn post(origin: Option<&str>) -> Request {
        let mut builder = Request::post("/rpc/users/create").header(HOST, "sluice.example:3000");
        if let Some(origin) = origin {
            builder = builder.header(ORIGIN, origin);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[test]
    fn a_post_from_the_same_origin_passes() {
        assert!(!is_cross_site_write(&post(Some(
            "http://sluice.example:3000"
        ))));
        assert!(!is_cross_site_write(&post(None)));
    }

    #[test]
    fn a_post_from_another_origin_is_refused() {
        assert!(is_cross_site_write(&post(Some("https://evil.example"))));
        assert!(is_cross_site_write(&post(Some("null"))));
    }

    #[test]
    fn reads_are_never_refused() {
        let request = Request::get("/")
            .header(ORIGIN, "https://evil.example")
            .body(Body::empty())
            .unwrap();
        assert!(!is_cross_site_write(&request));
    }
}
