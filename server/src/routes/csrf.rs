//! Cross-site request forgery defence for cookie-authenticated writes. Session cookies are
//! SameSite=Lax, so browsers do not send them on cross-site POSTs; on top of that, a write that
//! carries the session cookie must show where it comes from (`Origin`, or `Sec-Fetch-Site`
//! when a browser sends no `Origin`), and that must be this server: same scheme, host and port.
//! Browsers always send one of them on a POST; a request with neither is not a browser's
//! same-site form, so it is refused. Requests with a Bearer token, and writes without the
//! session cookie (devices, CI), carry no ambient credential and are not checked.

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::Router;
use http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN};
use http::{HeaderMap, Method, StatusCode};

pub const SESSION_COOKIE: &str = "sluice_session";

/// `public_url`: where people reach Sluice (`SLUICE_PUBLIC_URL`); its scheme is the one pages
/// are served with. Without it, Sluice is reached as it serves: plain HTTP.
pub fn layer(router: Router, public_url: Option<String>) -> Router {
    let scheme = public_url
        .as_deref()
        .and_then(|u| u.split_once("://"))
        .map_or("http", |(scheme, _)| scheme)
        .to_ascii_lowercase();
    router.layer(middleware::from_fn(move |request: Request, next: Next| {
        let refused = is_forged_write(&request, &scheme);
        async move {
            if refused {
                return (StatusCode::FORBIDDEN, "cross-site request refused").into_response();
            }
            next.run(request).await
        }
    }))
}

fn has_session_cookie(headers: &HeaderMap) -> bool {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .any(|pair| pair.trim().split('=').next() == Some(SESSION_COOKIE))
}

fn is_forged_write(request: &Request, scheme: &str) -> bool {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let headers = request.headers();
    if safe || headers.contains_key(AUTHORIZATION) || !has_session_cookie(headers) {
        return false;
    }
    if let Some(origin) = headers.get(ORIGIN) {
        let expected = headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .map(|host| format!("{scheme}://{host}"));
        let origin = origin.to_str().unwrap_or("null");
        return expected.is_none_or(|expected| !origin.eq_ignore_ascii_case(&expected));
    }
    !matches!(
        headers.get("sec-fetch-site").map(|v| v.as_bytes()),
        Some(b"same-origin") | Some(b"none")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn post(origin: Option<&str>, fetch_site: Option<&str>) -> Request {
        let mut builder = Request::post("/rpc/users/create")
            .header(HOST, "sluice.example:3000")
            .header(COOKIE, format!("theme=dark; {SESSION_COOKIE}=abc"));
        if let Some(origin) = origin {
            builder = builder.header(ORIGIN, origin);
        }
        if let Some(site) = fetch_site {
            builder = builder.header("sec-fetch-site", site);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[test]
    fn a_post_from_the_same_origin_passes() {
        let request = post(Some("http://sluice.example:3000"), None);
        assert!(!is_forged_write(&request, "http"));
        assert!(!is_forged_write(&post(None, Some("same-origin")), "http"));
    }

    #[test]
    fn a_post_from_another_origin_or_scheme_is_refused() {
        assert!(is_forged_write(
            &post(Some("https://evil.example"), None),
            "http"
        ));
        assert!(is_forged_write(&post(Some("null"), None), "http"));
        assert!(is_forged_write(
            &post(Some("http://sluice.example:3000"), None),
            "https"
        ));
        assert!(is_forged_write(&post(None, Some("cross-site")), "http"));
        assert!(is_forged_write(&post(None, Some("same-site")), "http"));
    }

    #[test]
    fn a_cookie_write_that_says_nothing_of_where_it_comes_from_is_refused() {
        assert!(is_forged_write(&post(None, None), "http"));
    }

    #[test]
    fn writes_without_the_session_cookie_and_reads_are_not_checked() {
        let device = Request::post("/v1/log")
            .header(HOST, "sluice.example:3000")
            .body(Body::empty())
            .unwrap();
        assert!(!is_forged_write(&device, "http"));
        let read = Request::get("/")
            .header(ORIGIN, "https://evil.example")
            .header(COOKIE, format!("{SESSION_COOKIE}=abc"))
            .body(Body::empty())
            .unwrap();
        assert!(!is_forged_write(&read, "http"));
    }
}
