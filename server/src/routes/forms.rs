//! Plain HTML form posts for first run, sign-in and sign-out, so they work with JavaScript off.
//! A client that asks for JSON (`Accept: application/json`) gets JSON instead of redirects.

use app::backend::accounts::users::{self, UserRecord};
use app::backend::edge::caller::SESSION_USER_KEY;
use app::backend::edge::client_address::client_address;
use app::backend::infra::audit::{self, Actor};
use app::backend::{accounts::login, AppState};
use app::AppError;
use axum::extract::{FromRequestParts, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use http::header::ACCEPT;
use http::request::Parts;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use tower_sessions::Session;

/// The client's address, for the audit log.
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(client_address(parts)))
    }
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirm: String,
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// Usernames as typed may be anything; only this much of one goes to the throttle and the log.
fn clipped(name: &str) -> String {
    name.trim().chars().take(64).collect()
}

/// A name as typed, safe to write into the audit log: line breaks, controls and bidirectional
/// overrides are written as escapes, so a log line shows what was typed and nothing else.
fn loggable(name: &str) -> String {
    name.escape_debug().to_string()
}

pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let username = clipped(&form.username);
    let json = wants_json(&headers);
    match login::attempt(&state.db, &address, &username, &form.password).await {
        Ok(user) => match start_session(&state, &session, &user, &address, "session.login").await {
            Ok(()) if json => Json(serde_json::json!({
                "username": user.username, "role": user.role
            }))
            .into_response(),
            Ok(()) => Redirect::to("/").into_response(),
            Err(error) => error.into_response(),
        },
        Err(AppError::Unauthorized) => {
            let shown = loggable(&username);
            let actor = Actor {
                name: shown.clone(),
                address,
            };
            if let Err(error) = record(&state, &actor, "session.login_failed", &shown).await {
                return error.into_response();
            }
            if json {
                AppError::Unauthorized.into_response()
            } else {
                Redirect::to("/login?error=invalid").into_response()
            }
        }
        Err(error @ (AppError::TooManyRequests | AppError::Busy)) if !json => {
            let (title, message) = match error {
                AppError::Busy => (
                    "Sluice is busy",
                    "Too many people are signing in at this moment. Try again in a few seconds.",
                ),
                _ => (
                    "Too many failed sign-ins",
                    "There were too many failed sign-ins from your address. Try again in 15 minutes.",
                ),
            };
            let mut response = (error.status(), Html(message_page(title, message))).into_response();
            if let Some(seconds) = error.retry_after() {
                response
                    .headers_mut()
                    .insert(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
            }
            response
        }
        Err(error) => error.into_response(),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
) -> Response {
    let user_id: Option<i64> = session.get(SESSION_USER_KEY).await.ok().flatten();
    if let Some(user) = match user_id {
        Some(id) => users::find_by_id(&state.db, id).await.ok().flatten(),
        None => None,
    } {
        let actor = Actor {
            name: user.username.clone(),
            address,
        };
        if let Err(error) = record(&state, &actor, "session.logout", &user.username).await {
            return error.into_response();
        }
    }
    if let Err(e) = session.flush().await {
        tracing::error!(error = %e, "cannot end the session");
        return AppError::Internal.into_response();
    }
    Redirect::to("/login").into_response()
}

pub async fn setup(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    session: Session,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Response {
    let json = wants_json(&headers);
    let username = form.username.trim();
    let result = if form.password != form.password_confirm {
        Err(AppError::validation(
            "password_confirm",
            "the two passwords differ",
        ))
    } else {
        users::create_first_admin(&state.db, &address, username, &form.password).await
    };
    let user = match result {
        Ok(user) => user,
        Err(error) if json => return error.into_response(),
        Err(error) => {
            let code = match &error {
                AppError::Validation { field, .. } if field == "password_confirm" => "mismatch",
                AppError::Validation { field, .. } if field == "username" => "username",
                AppError::Validation { .. } => "password",
                AppError::Conflict { .. } => "exists",
                _ => return error.into_response(),
            };
            return Redirect::to(&format!("/?error={code}")).into_response();
        }
    };
    match start_session(&state, &session, &user, &address, "session.login").await {
        Ok(()) if json => (
            StatusCode::CREATED,
            Json(serde_json::json!({ "username": user.username, "role": user.role })),
        )
            .into_response(),
        Ok(()) => Redirect::to("/").into_response(),
        Err(error) => error.into_response(),
    }
}

/// Signs the user in on a fresh session id, so an id planted before sign-in is worthless.
async fn start_session(
    state: &AppState,
    session: &Session,
    user: &UserRecord,
    address: &str,
    action: &str,
) -> Result<(), AppError> {
    let store_error = |e: tower_sessions::session::Error| {
        tracing::error!(error = %e, "session store error");
        AppError::Internal
    };
    session.cycle_id().await.map_err(store_error)?;
    session
        .insert(SESSION_USER_KEY, user.id)
        .await
        .map_err(store_error)?;
    let actor = Actor {
        name: user.username.clone(),
        address: address.to_string(),
    };
    record(state, &actor, action, &user.username).await
}

async fn record(
    state: &AppState,
    actor: &Actor,
    action: &str,
    target: &str,
) -> Result<(), AppError> {
    let mut conn = state.db.pool.acquire().await?;
    Ok(audit::record(&mut conn, actor, action, target, "").await?)
}

/// A minimal page for answers that are not a Leptos route (such as 429).
fn message_page(title: &str, message: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Sluice</title><link rel=\"stylesheet\" href=\"/pkg/sluice.css\"></head>\
         <body><main id=\"content\" class=\"narrow\"><section class=\"error-panel\" role=\"alert\">\
         <h1>{title}</h1><p class=\"form-error\">{message}</p><p><a href=\"/login\">Back to sign in</a></p>\
         </section></main></body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_name_cannot_forge_a_log_line_or_turn_text_around() {
        assert_eq!(
            loggable("admin\nsession.login ok"),
            "admin\\nsession.login ok"
        );
        assert_eq!(loggable("evil\u{202e}nimda"), "evil\\u{202e}nimda");
        assert_eq!(loggable("zoë"), "zoë");
    }
}
