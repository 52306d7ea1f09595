//! Dists as the release stream sees them: public or not, and which states count as stable and
//! branched. The registry owns the `dists` table; this is its release-stream face.

use crate::backend::infra::audit::{self, Actor};
use crate::backend::infra::clock::now_millis;
use crate::backend::infra::db::Db;
use crate::error::AppError;
use crate::model::release_stream::{StreamDist, StreamDistSettings};
use crate::model::{Permission, Role};
use sqlx::AnyConnection;

#[derive(sqlx::FromRow)]
struct DistRow {
    id: i64,
    name: String,
    public: i64,
    stable_state: String,
    branched_state: String,
}

const DIST_COLUMNS: &str = "id, name, public, stable_state, branched_state";

/// A dist with its id, for the queries that follow.
#[derive(Clone, Debug)]
pub struct DistRef {
    pub id: i64,
    pub dist: StreamDist,
}

fn dist_from_row(
    DistRow {
        id,
        name,
        public,
        stable_state,
        branched_state,
    }: DistRow,
) -> DistRef {
    DistRef {
        id,
        dist: StreamDist {
            name,
            public: public != 0,
            stable_state,
            branched_state,
        },
    }
}

#[tracing::instrument(skip_all)]
pub async fn find(db: &Db, name: &str) -> Result<DistRef, AppError> {
    let row: Option<DistRow> =
        sqlx::query_as(&format!("SELECT {DIST_COLUMNS} FROM dists WHERE name = $1"))
            .bind(name)
            .fetch_optional(&db.pool)
            .await?;
    row.map(dist_from_row)
        .ok_or_else(|| AppError::not_found(format!("dist '{name}'")))
}

/// Who may read a dist's stream: anyone when it is public, any signed-in role otherwise. To a
/// caller who is not signed in, a private dist looks like no dist at all.
#[tracing::instrument(skip_all)]
pub async fn readable(db: &Db, role: Option<Role>, name: &str) -> Result<DistRef, AppError> {
    let dist = find(db, name).await?;
    match role {
        _ if dist.dist.public => Ok(dist),
        Some(role) if role.may(Permission::ReadReleaseStream) => Ok(dist),
        Some(_) => Err(AppError::Forbidden),
        None => Err(AppError::not_found(format!("dist '{name}'"))),
    }
}

#[tracing::instrument(skip_all)]
pub async fn list_dists(db: &Db, only_public: bool) -> Result<Vec<StreamDist>, AppError> {
    let rows: Vec<DistRow> = sqlx::query_as(&format!(
        "SELECT {DIST_COLUMNS} FROM dists WHERE ($1 = 0 OR public = 1) ORDER BY name"
    ))
    .bind(i64::from(only_public))
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|r| dist_from_row(r).dist).collect())
}

#[tracing::instrument(skip_all)]
pub async fn set_settings(
    db: &Db,
    actor: &Actor,
    name: &str,
    settings: &StreamDistSettings,
) -> Result<StreamDist, AppError> {
    settings.check()?;
    let mut tx = db.begin().await?;
    let row: Option<DistRow> = sqlx::query_as(&format!(
        "UPDATE dists SET public = $1, stable_state = $2, branched_state = $3 WHERE name = $4 \
         RETURNING {DIST_COLUMNS}"
    ))
    .bind(i64::from(settings.public))
    .bind(&settings.stable_state)
    .bind(&settings.branched_state)
    .bind(name)
    .fetch_optional(&mut *tx)
    .await?;
    let dist = row
        .map(dist_from_row)
        .ok_or_else(|| AppError::not_found(format!("dist '{name}'")))?;
    let detail = format!(
        "public {}, stable state '{}', branched state '{}'",
        settings.public, settings.stable_state, settings.branched_state
    );
    audit::record(&mut tx, actor, "dist.release_settings", name, &detail).await?;
    tx.commit().await?;
    Ok(dist.dist)
}

/// The dist's id, creating it with the device defaults on its first event. The insert comes
/// first so that on SQLite the transaction holds the write lock from its first statement.
#[tracing::instrument(skip_all)]
pub async fn ensure(conn: &mut AnyConnection, name: &str) -> Result<(i64, bool), AppError> {
    let created = sqlx::query(
        "INSERT INTO dists (name, version_scheme, stable_channel, stable_branch, created_at) \
         VALUES ($1, 'registration', 'stable', 'master', $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?
    .rows_affected()
        > 0;
    // Also a row lock on PostgreSQL: writers of one dist take turns, so a pair's spans are
    // always rebuilt from every event before them.
    let (id,): (i64,) =
        sqlx::query_as("UPDATE dists SET public = public WHERE name = $1 RETURNING id")
            .bind(name)
            .fetch_one(&mut *conn)
            .await?;
    Ok((id, created))
}

/// The public dists, by name, for `release.json`.
#[tracing::instrument(skip_all)]
pub async fn public_dists(db: &Db) -> Result<Vec<DistRef>, AppError> {
    let rows: Vec<DistRow> = sqlx::query_as(&format!(
        "SELECT {DIST_COLUMNS} FROM dists WHERE public = 1 ORDER BY name"
    ))
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(dist_from_row).collect())
}
