//! Helpers every `#[server]` function uses: the state, the caller, the role check, and the HTTP
//! status of an error.

use crate::backend::edge::caller::{self, Caller};
use crate::backend::edge::client_address::client_address;
use crate::backend::AppState;
use crate::error::AppError;
use crate::model::Permission;
use http::request::Parts;
use leptos::prelude::use_context;
use std::future::Future;
use tower_sessions::Session;

pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        AppError::Internal
    })
}

/// The caller of the current request, if signed in or holding a token.
#[tracing::instrument(skip_all)]
pub async fn caller(state: &AppState) -> Result<Option<Caller>, AppError> {
    let parts = use_context::<Parts>().ok_or_else(|| {
        tracing::error!("request parts missing from the server function context");
        AppError::Internal
    })?;
    let session = parts.extensions.get::<Session>();
    let address = client_address(&parts);
    caller::resolve(&state.db, &parts.headers, session, &address).await
}

/// The state and the caller, once the caller is known to hold `permission`.
#[tracing::instrument(skip_all)]
pub async fn require(permission: Permission) -> Result<(AppState, Caller), AppError> {
    let state = state()?;
    let caller = caller(&state).await?.ok_or(AppError::Unauthorized)?;
    caller.require(permission)?;
    Ok((state, caller))
}

/// Runs the body of a server function and gives a failed call the error's HTTP status, so that
/// a viewer calling an admin function gets 403, not 500.
#[tracing::instrument(skip_all)]
pub async fn respond<T>(body: impl Future<Output = Result<T, AppError>>) -> Result<T, AppError> {
    let result = body.await;
    if let Err(err) = &result {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(err.status());
            if let Some(seconds) = err.retry_after() {
                response.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
            }
        }
    }
    result
}
