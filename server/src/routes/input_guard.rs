//! Refuses control characters in a request before anything looks at it. PostgreSQL cannot store
//! a NUL in text, and no name, version or query Sluice knows has a control character in it, so
//! such input answers 400 naming where it was, instead of a 500 from deep inside. Bodies may
//! hold tabs and line breaks (reasons, notes); paths and queries may not.
//! Bodies are read here once, within the size limit every handler has anyway, which also makes
//! an oversized body a 413 everywhere (the server-function machinery would answer 400).

use app::AppError;
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::header::CONTENT_TYPE;
use http::StatusCode;
use percent_encoding::percent_decode_str;
use tower::ServiceExt;

/// The largest body any endpoint takes (axum's default limit for its extractors).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// Refuses the request if it holds a control character where none may be; else routes it.
pub async fn check(request: Request, router: Router) -> Response {
    if let Err(field) = check_target(request.uri()) {
        return refusal(&field);
    }
    let Some(kind) = body_kind(&request) else {
        return route(router, request).await;
    };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return too_large();
    };
    if let Err(field) = check_body(kind, &bytes) {
        return refusal(&field);
    }
    route(router, Request::from_parts(parts, Body::from(bytes))).await
}

async fn route(router: Router, request: Request) -> Response {
    match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

fn refusal(field: &str) -> Response {
    AppError::validation(field, "must not contain control characters").into_response()
}

fn too_large() -> Response {
    let error = serde_json::json!({"error": {
        "code": "too_large",
        "message": format!("the body is larger than {MAX_BODY_BYTES} bytes"),
    }});
    (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(error)).into_response()
}

/// A control character other than the tab and line breaks a text field may hold.
fn forbidden_in_text(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// The path and each query parameter, decoded as a handler will see them.
fn check_target(uri: &http::Uri) -> Result<(), String> {
    let path = uri.path();
    if path.contains('%') {
        let decoded = percent_decode_str(path).decode_utf8_lossy();
        if decoded.chars().any(char::is_control) {
            return Err("path".into());
        }
    }
    let Some(query) = uri.query() else {
        return Ok(());
    };
    if !query.contains('%') {
        return Ok(());
    }
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if name.chars().chain(value.chars()).any(char::is_control) {
            return Err(clip_field(&name));
        }
    }
    Ok(())
}

/// A field name as it may be shown back: printable and short.
fn clip_field(name: &str) -> String {
    let name: String = name.chars().filter(|c| !c.is_control()).take(64).collect();
    if name.is_empty() {
        "query".into()
    } else {
        name
    }
}

#[derive(Clone, Copy)]
enum BodyKind {
    Form,
    Json,
}

fn body_kind(request: &Request) -> Option<BodyKind> {
    let content_type = request.headers().get(CONTENT_TYPE)?.to_str().ok()?;
    let essence = content_type.split(';').next()?.trim();
    if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Some(BodyKind::Form)
    } else if essence.eq_ignore_ascii_case("application/json") {
        Some(BodyKind::Json)
    } else {
        None
    }
}

fn check_body(kind: BodyKind, bytes: &[u8]) -> Result<(), String> {
    match kind {
        BodyKind::Form => {
            for (name, value) in form_urlencoded::parse(bytes) {
                if name.chars().chain(value.chars()).any(forbidden_in_text) {
                    return Err(clip_field(&name));
                }
            }
            Ok(())
        }
        // A body that is not JSON is left to its handler, which says what is wrong with it.
        BodyKind::Json => match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(value) => check_json(&value, "body"),
            Err(_) => Ok(()),
        },
    }
}

fn check_json(value: &serde_json::Value, field: &str) -> Result<(), String> {
    match value {
        serde_json::Value::String(text) if text.chars().any(forbidden_in_text) => {
            Err(clip_field(field))
        }
        serde_json::Value::Array(items) => items.iter().try_for_each(|v| check_json(v, field)),
        serde_json::Value::Object(members) => members.iter().try_for_each(|(name, v)| {
            if name.chars().any(char::is_control) {
                return Err(clip_field(field));
            }
            check_json(v, name)
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(uri: &str) -> Result<(), String> {
        check_target(&uri.parse().unwrap())
    }

    #[test]
    fn a_nul_in_the_path_or_a_query_names_where_it_was() {
        assert_eq!(target("/status/fe%00dora"), Err("path".into()));
        assert_eq!(target("/v1/upgrade?arch=x&uuid=a%00b"), Err("uuid".into()));
        assert_eq!(target("/v1/upgrade?arch=%1b%5b31m"), Err("arch".into()));
        assert!(target("/status/fedora?at=2021-04-27%2012%3A00").is_ok());
        assert!(target("/v1/upgrade?arch=rpi3&boardversion=4.1.0-0001").is_ok());
    }

    #[test]
    fn a_body_may_break_lines_but_not_hold_a_nul() {
        assert!(check_body(BodyKind::Form, b"reason=first+line%0D%0Asecond%09tab").is_ok());
        assert_eq!(
            check_body(BodyKind::Form, b"username=ad%00min&password=x"),
            Err("username".into())
        );
        assert_eq!(
            check_body(BodyKind::Json, br#"{"dist":"a\u0000b"}"#),
            Err("dist".into())
        );
        assert_eq!(
            check_body(BodyKind::Json, br#"{"list":[{"name":"\u0007"}]}"#),
            Err("name".into())
        );
        assert!(check_body(BodyKind::Json, br#"{"notes":"a\nb"}"#).is_ok());
        assert!(check_body(BodyKind::Json, b"not json").is_ok());
    }
}
