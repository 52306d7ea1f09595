//! Console users: creation, roles, disabling. Every change is audited.

use crate::backend::accounts::passwords;
use crate::backend::infra::audit::{self, Actor};
use crate::backend::infra::clock::now_millis;
use crate::backend::infra::db::{is_unique_violation, stored, Db};
use crate::error::AppError;
use crate::model::{check_password, check_username, Role, UserView};

/// A user as stored, with the password hash (never leaves the backend).
#[derive(Clone, Debug)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
}

impl UserRecord {
    pub fn view(&self) -> UserView {
        UserView {
            id: self.id,
            username: self.username.clone(),
            role: self.role,
            disabled: self.disabled,
            created_at: self.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    username: String,
    password_hash: String,
    role: String,
    disabled: i64,
    created_at: i64,
}

const COLUMNS: &str = "id, username, password_hash, role, disabled, created_at";

fn from_row(
    Row {
        id,
        username,
        password_hash,
        role,
        disabled,
        created_at,
    }: Row,
) -> Result<UserRecord, AppError> {
    Ok(UserRecord {
        id,
        username,
        password_hash,
        role: stored("users", "role", &role, role.parse())?,
        disabled: disabled != 0,
        created_at,
    })
}

#[tracing::instrument(skip_all)]
pub async fn any_exists(db: &Db) -> Result<bool, AppError> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM users LIMIT 1")
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.is_some())
}

#[tracing::instrument(skip_all)]
pub async fn find_by_username(db: &Db, username: &str) -> Result<Option<UserRecord>, AppError> {
    let row: Option<Row> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE username = $1"))
            .bind(username)
            .fetch_optional(&db.pool)
            .await?;
    row.map(from_row).transpose()
}

#[tracing::instrument(skip_all)]
pub async fn find_by_id(db: &Db, id: i64) -> Result<Option<UserRecord>, AppError> {
    let row: Option<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    row.map(from_row).transpose()
}

#[tracing::instrument(skip_all)]
pub async fn list(db: &Db) -> Result<Vec<UserView>, AppError> {
    let rows: Vec<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM users ORDER BY username"))
        .fetch_all(&db.pool)
        .await?;
    rows.into_iter()
        .map(|r| from_row(r).map(|user| user.view()))
        .collect()
}

/// Creates the first administrator, only while no user exists. The check and the insert are
/// one statement, so two people racing through the first-run page cannot both succeed.
#[tracing::instrument(skip_all)]
pub async fn create_first_admin(
    db: &Db,
    address: &str,
    username: &str,
    password: &str,
) -> Result<UserRecord, AppError> {
    check_username(username)?;
    check_password(password)?;
    // Hashing is the costly part: an anonymous caller gets no hash once an admin exists.
    if any_user_exists(db).await? {
        return Err(AppError::conflict("an administrator already exists"));
    }
    let hash = passwords::hash(password.to_string()).await?;
    let mut tx = db.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO users (username, password_hash, role, disabled, created_at) \
         SELECT $1, $2, $3, 0, $4 WHERE NOT EXISTS (SELECT 1 FROM users)",
    )
    .bind(username)
    .bind(&hash)
    .bind(Role::Admin.as_str())
    .bind(now_millis())
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(AppError::conflict("an administrator already exists"));
    }
    let actor = Actor {
        name: username.to_string(),
        address: address.to_string(),
    };
    audit::record(
        &mut tx,
        &actor,
        "user.create",
        username,
        "first administrator",
    )
    .await?;
    tx.commit().await?;
    find_by_username(db, username)
        .await?
        .ok_or(AppError::Internal)
}

async fn any_user_exists(db: &Db) -> Result<bool, AppError> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM users LIMIT 1")
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.is_some())
}

#[tracing::instrument(skip_all)]
pub async fn create(
    db: &Db,
    actor: &Actor,
    username: &str,
    password: &str,
    role: Role,
) -> Result<UserView, AppError> {
    check_username(username)?;
    check_password(password)?;
    let hash = passwords::hash(password.to_string()).await?;
    let mut tx = db.begin().await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO users (username, password_hash, role, disabled, created_at) \
         VALUES ($1, $2, $3, 0, $4) RETURNING id",
    )
    .bind(username)
    .bind(&hash)
    .bind(role.as_str())
    .bind(now_millis())
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            AppError::conflict(format!("a user named '{username}' already exists"))
        } else {
            e.into()
        }
    })?;
    audit::record(
        &mut tx,
        actor,
        "user.create",
        username,
        &format!("role {role}"),
    )
    .await?;
    tx.commit().await?;
    find_by_id(db, id)
        .await?
        .map(|u| u.view())
        .ok_or(AppError::Internal)
}

#[tracing::instrument(skip_all)]
pub async fn set_role(
    db: &Db,
    actor: &Actor,
    username: &str,
    role: Role,
) -> Result<UserView, AppError> {
    // An admin cannot lock themselves out; another admin can.
    if actor.name == username && role != Role::Admin {
        return Err(AppError::validation(
            "role",
            "you cannot remove your own admin role",
        ));
    }
    let mut tx = db.begin().await?;
    let result = sqlx::query("UPDATE users SET role = $1 WHERE username = $2")
        .bind(role.as_str())
        .bind(username)
        .execute(&mut *tx)
        .await?;
    finish_update(
        db,
        tx,
        result.rows_affected(),
        actor,
        username,
        "user.set_role",
        &format!("role {role}"),
    )
    .await
}

#[tracing::instrument(skip_all)]
pub async fn set_disabled(
    db: &Db,
    actor: &Actor,
    username: &str,
    disabled: bool,
) -> Result<UserView, AppError> {
    if actor.name == username && disabled {
        return Err(AppError::validation(
            "username",
            "you cannot disable yourself",
        ));
    }
    let mut tx = db.begin().await?;
    let result = sqlx::query("UPDATE users SET disabled = $1 WHERE username = $2")
        .bind(i64::from(disabled))
        .bind(username)
        .execute(&mut *tx)
        .await?;
    let action = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    finish_update(db, tx, result.rows_affected(), actor, username, action, "").await
}

/// Audits an update of one user and commits it, or answers 404 when no user had that name.
async fn finish_update(
    db: &Db,
    mut tx: sqlx::Transaction<'_, sqlx::Any>,
    rows: u64,
    actor: &Actor,
    username: &str,
    action: &str,
    detail: &str,
) -> Result<UserView, AppError> {
    if rows == 0 {
        return Err(AppError::not_found(format!("user '{username}'")));
    }
    audit::record(&mut tx, actor, action, username, detail).await?;
    tx.commit().await?;
    find_by_username(db, username)
        .await?
        .map(|u| u.view())
        .ok_or(AppError::Internal)
}
