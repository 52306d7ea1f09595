//! The server-function machinery answers 500 for every failure it raises itself, including
//! arguments that do not parse. Those are the caller's fault: they answer 400 here.

use app::AppError;
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::StatusCode;

const MAX_ERROR_BODY: usize = 64 * 1024;

pub async fn bad_arguments_are_400(request: Request, next: Next) -> Response {
    let is_rpc = request.uri().path().starts_with(app::api::PREFIX);
    let response = next.run(request).await;
    if !is_rpc || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, MAX_ERROR_BODY).await.unwrap_or_default();
    if let Ok(AppError::Call { .. }) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, Body::from(bytes))
}
