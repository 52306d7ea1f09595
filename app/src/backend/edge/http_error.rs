//! How errors and callers look at the REST edge (`/api/v1`, device and CI endpoints).

use crate::backend::edge::caller::{self, Caller};
use crate::backend::edge::client_address::client_address;
use crate::backend::AppState;
use crate::error::AppError;
use crate::model::Access;
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::request::Parts;
use tower_sessions::Session;

/// `{"error": {"code": "...", "message": "...", "field": "..."}}` with the error's status.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut error = serde_json::json!({ "code": self.code(), "message": self.to_string() });
        if let AppError::Validation { field, .. } = &self {
            error["field"] = serde_json::Value::String(field.clone());
        }
        let mut response =
            (self.status(), Json(serde_json::json!({ "error": error }))).into_response();
        if let Some(seconds) = self.retry_after() {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
        }
        response
    }
}

/// A handler argument that requires a caller (401 otherwise) who holds the permission the route
/// declares (403 otherwise; see `server/src/routes/endpoints.rs`). It comes before the handler's
/// other arguments, so a refused caller learns nothing about what the route would have read.
impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = parts.extensions.get::<Session>();
        let address = client_address(parts);
        let caller = caller::resolve(&state.db, &parts.headers, session, &address)
            .await?
            .ok_or(AppError::Unauthorized)?;
        if let Some(Access::Needs(permission)) = parts.extensions.get::<Access>() {
            caller.require(*permission)?;
        }
        Ok(caller)
    }
}
