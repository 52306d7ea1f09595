//! Who is making a request: a signed-in user (session cookie) or an API token (Bearer header).
//! Both are looked up in the database on every request, so a role change, a disabled user or a
//! token created or revoked from the CLI takes effect on the very next request.

use crate::backend::infra::audit::Actor;
use crate::backend::{accounts::tokens, accounts::users, Db};
use crate::error::AppError;
use crate::model::{CurrentUser, Permission, Role};
use http::header::AUTHORIZATION;
use http::HeaderMap;
use tower_sessions::Session;

pub const SESSION_USER_KEY: &str = "user_id";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    Session { user_id: i64 },
    Token { token_id: i64 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub role: Role,
    pub via: Via,
    pub address: String,
}

impl Caller {
    /// 403 unless the caller's role holds `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        if self.role.may(permission) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub fn actor(&self) -> Actor {
        let name = match self.via {
            Via::Session { .. } => self.name.clone(),
            Via::Token { .. } => format!("token:{}", self.name),
        };
        Actor {
            name,
            address: self.address.clone(),
        }
    }

    pub fn current_user(&self) -> CurrentUser {
        CurrentUser {
            username: self.name.clone(),
            role: self.role,
        }
    }
}

/// Resolves the caller. A Bearer header that does not name an active token is an error rather
/// than a fall-back to the session, so a revoked token never silently acts as someone else.
#[tracing::instrument(skip_all)]
pub async fn resolve(
    db: &Db,
    headers: &HeaderMap,
    session: Option<&Session>,
    address: &str,
) -> Result<Option<Caller>, AppError> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let secret = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(AppError::Unauthorized)?;
        let token = tokens::authenticate(db, secret)
            .await?
            .ok_or(AppError::Unauthorized)?;
        return Ok(Some(Caller {
            name: token.name,
            role: token.role,
            via: Via::Token { token_id: token.id },
            address: address.to_string(),
        }));
    }
    let Some(session) = session else {
        return Ok(None);
    };
    let user_id: Option<i64> = session.get(SESSION_USER_KEY).await.map_err(|e| {
        tracing::error!(error = %e, "session store error");
        AppError::Internal
    })?;
    let Some(user_id) = user_id else {
        return Ok(None);
    };
    match users::find_by_id(db, user_id).await? {
        Some(user) if !user.disabled => Ok(Some(Caller {
            name: user.username,
            role: user.role,
            via: Via::Session { user_id },
            address: address.to_string(),
        })),
        _ => Ok(None),
    }
}
