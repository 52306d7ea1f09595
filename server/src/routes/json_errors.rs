//! axum's own rejections (a path segment that is not a number, a query that does not parse, a
//! body of the wrong type) answer plain text. The API and device endpoints answer every error in
//! one JSON shape, so those are rewritten into it here.

use app::AppError;
use axum::body::to_bytes;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::CONTENT_TYPE;

const MAX_REJECTION_BYTES: usize = 16 * 1024;

pub async fn rejections_as_json(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let plain_text = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !response.status().is_client_error() || !plain_text {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = to_bytes(body, MAX_REJECTION_BYTES)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let error = serde_json::json!({"error": {
        "code": AppError::Call { message: String::new() }.code(),
        "message": text,
    }});
    let mut json = (parts.status, axum::Json(error)).into_response();
    for (name, value) in parts.headers.iter() {
        if name != CONTENT_TYPE && name != http::header::CONTENT_LENGTH {
            json.headers_mut().insert(name, value.clone());
        }
    }
    json
}
