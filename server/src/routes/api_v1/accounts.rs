//! Accounts over the API: who am I, users, tokens, the audit log.

use super::ApiJson;
use app::backend::{accounts::tokens, accounts::users, infra::audit, AppState, Caller};
use app::model::{AuditEntry, AuditFilter, NewToken, Role, TokenView, UserView};
use app::AppError;
use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};

#[derive(Serialize)]
pub struct Me {
    name: String,
    role: Role,
    kind: &'static str,
}

pub async fn me(caller: Caller) -> Json<Me> {
    let kind = match caller.via {
        app::backend::edge::caller::Via::Session { .. } => "user",
        app::backend::edge::caller::Via::Token { .. } => "token",
    };
    Json(Me {
        name: caller.name,
        role: caller.role,
        kind,
    })
}

pub async fn list_users(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<Vec<UserView>>, AppError> {
    Ok(Json(users::list(&state.db).await?))
}

#[derive(Deserialize)]
pub struct NewUser {
    username: String,
    password: String,
    role: Role,
}

pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewUser>,
) -> Result<(http::StatusCode, Json<UserView>), AppError> {
    let user = users::create(
        &state.db,
        &caller.actor(),
        body.username.trim(),
        &body.password,
        body.role,
    )
    .await?;
    Ok((http::StatusCode::CREATED, Json(user)))
}

pub async fn list_tokens(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<Vec<TokenView>>, AppError> {
    Ok(Json(tokens::list(&state.db).await?))
}

#[derive(Deserialize)]
pub struct NewTokenRequest {
    name: String,
    role: Role,
}

pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewTokenRequest>,
) -> Result<(http::StatusCode, Json<NewToken>), AppError> {
    let token = tokens::create(&state.db, &caller.actor(), body.name.trim(), body.role).await?;
    Ok((http::StatusCode::CREATED, Json(token)))
}

#[derive(Deserialize)]
pub struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    before: Option<i64>,
}

pub async fn list_audit(
    State(state): State<AppState>,
    _caller: Caller,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<AuditEntry>>, AppError> {
    let Query(query) = query.map_err(|e| AppError::validation("query", e.body_text()))?;
    let filter = AuditFilter {
        actor: query.actor,
        action: query.action,
        before_id: query.before,
    };
    Ok(Json(audit::list(&state.db, &filter).await?))
}
