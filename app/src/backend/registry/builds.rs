//! The build registry: registration by CI, publication to the stable channel, withdrawal.

use crate::backend::catalog::store::CatalogStore;
use crate::backend::infra::audit::{self, Actor};
use crate::backend::infra::clock::now_millis;
use crate::backend::infra::db::{is_unique_violation, Db};
use crate::backend::messaging::outbox;
use crate::backend::registry::dists;
use crate::error::AppError;
use crate::model::catalog::BuildFile;
use crate::model::dist::{BuildView, NewBuild};
use crate::model::version::VersionScheme;
use sqlx::AnyConnection;
use std::collections::BTreeMap;

/// What registering a build did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    Created(BuildView),
    /// The same build with the same content was already registered.
    Existing(BuildView),
}

/// Registers a build; a new one is offered from the next update check (the catalog is
/// refreshed before this returns).
#[tracing::instrument(skip_all)]
pub async fn register(
    db: &Db,
    catalog: &CatalogStore,
    actor: &Actor,
    new: &NewBuild,
) -> Result<Registered, AppError> {
    new.check()?;
    let dist = dists::find(db, &new.dist)
        .await
        .map_err(|_| AppError::validation("dist", format!("unknown dist '{}'", new.dist)))?;
    if dist.version_scheme != VersionScheme::Registration {
        dist.version_scheme
            .key(&new.version, None)
            .map_err(|message| AppError::validation("version", message))?;
    }
    let digest = new.content_digest();
    if let Some(existing) = find_by_name(db, dist.id, &new.branch, &new.version).await? {
        return same_or_conflict(db, existing, &digest).await;
    }

    let mut tx = db.begin().await?;
    let inserted: Result<(i64,), sqlx::Error> = sqlx::query_as(
        "INSERT INTO builds (dist_id, branch, version, base_url, notes, content_hash, registered_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(dist.id)
    .bind(&new.branch)
    .bind(&new.version)
    .bind(new.base_url.trim_end_matches('/'))
    .bind(&new.notes)
    .bind(&digest)
    .bind(&actor.name)
    .bind(now_millis())
    .fetch_one(&mut *tx)
    .await;
    let id = match inserted {
        Ok((id,)) => id,
        // Two CI jobs raced with the same build: the loser answers as if it came second.
        Err(e) if is_unique_violation(&e) => {
            drop(tx);
            let existing = find_by_name(db, dist.id, &new.branch, &new.version)
                .await?
                .ok_or(AppError::Internal)?;
            return same_or_conflict(db, existing, &digest).await;
        }
        Err(e) => return Err(e.into()),
    };
    for (board, files) in &new.boards {
        for file in &files.files {
            sqlx::query("INSERT INTO build_files (build_id, board, name, size, sha256) VALUES ($1, $2, $3, $4, $5)")
                .bind(id)
                .bind(board)
                .bind(&file.name)
                .bind(file.size)
                .bind(file.sha256.to_ascii_lowercase())
                .execute(&mut *tx)
                .await
                ?;
        }
    }
    let target = format!("{}/{}/{}", new.dist, new.branch, new.version);
    let boards: Vec<&str> = new.boards.keys().map(String::as_str).collect();
    audit::record(
        &mut tx,
        actor,
        "build.register",
        &target,
        &format!("boards {}", boards.join(", ")),
    )
    .await?;
    let message = serde_json::json!({
        "dist": new.dist, "build": id, "branch": new.branch, "version": new.version,
        "boards": boards, "actor": actor.name, "at": now_millis(),
    });
    outbox::enqueue(&mut tx, &outbox::build_topic("registered"), &message).await?;
    tx.commit().await?;
    catalog.changed(db).await?;
    Ok(Registered::Created(view(db, id).await?))
}

async fn same_or_conflict(
    db: &Db,
    existing: (i64, String),
    digest: &str,
) -> Result<Registered, AppError> {
    let (id, stored_digest) = existing;
    if stored_digest == digest {
        Ok(Registered::Existing(view(db, id).await?))
    } else {
        Err(AppError::conflict(
            "this dist, branch and version is already registered with different content",
        ))
    }
}

#[tracing::instrument(skip_all)]
pub async fn find_by_name(
    db: &Db,
    dist_id: i64,
    branch: &str,
    version: &str,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, content_hash FROM builds WHERE dist_id = $1 AND branch = $2 AND version = $3",
    )
    .bind(dist_id)
    .bind(branch)
    .bind(version)
    .fetch_optional(&db.pool)
    .await
}

#[derive(sqlx::FromRow)]
struct BuildRow {
    id: i64,
    dist: String,
    branch: String,
    version: String,
    base_url: String,
    notes: String,
    registered_by: String,
    created_at: i64,
    withdrawn_at: Option<i64>,
}
const BUILD_COLUMNS: &str = "b.id, d.name AS dist, b.branch, b.version, b.base_url, b.notes, b.registered_by, b.created_at, b.withdrawn_at";

/// One build with its files and channels.
#[tracing::instrument(skip_all)]
pub async fn view(db: &Db, id: i64) -> Result<BuildView, AppError> {
    let row: Option<BuildRow> = sqlx::query_as(&format!(
        "SELECT {BUILD_COLUMNS} FROM builds b JOIN dists d ON d.id = b.dist_id WHERE b.id = $1"
    ))
    .bind(id)
    .fetch_optional(&db.pool)
    .await?;
    let row = row.ok_or_else(|| AppError::not_found(format!("build {id}")))?;
    let mut views = attach(db, vec![row]).await?;
    views.pop().ok_or(AppError::Internal)
}

/// Builds of a dist, freshest registration first, optionally of one branch or board.
#[tracing::instrument(skip_all)]
pub async fn list(
    db: &Db,
    dist: &str,
    branch: Option<&str>,
    board: Option<&str>,
) -> Result<Vec<BuildView>, AppError> {
    let dist = dists::find(db, dist).await?;
    let rows: Vec<BuildRow> = sqlx::query_as(&format!(
        "SELECT {BUILD_COLUMNS} FROM builds b JOIN dists d ON d.id = b.dist_id \
         WHERE b.dist_id = $1 AND ($2 IS NULL OR b.branch = $2) \
           AND ($3 IS NULL OR EXISTS (SELECT 1 FROM build_files f WHERE f.build_id = b.id AND f.board = $3)) \
         ORDER BY b.id DESC LIMIT 500"
    ))
    .bind(dist.id)
    .bind(branch.filter(|s| !s.is_empty()))
    .bind(board.filter(|s| !s.is_empty()))
    .fetch_all(&db.pool)
    .await
    ?;
    attach(db, rows).await
}

#[derive(sqlx::FromRow)]
struct FileRow {
    build_id: i64,
    board: String,
    name: String,
    size: i64,
    sha256: String,
}

/// Adds files and channels to build rows (two queries for the whole list).
async fn attach(db: &Db, rows: Vec<BuildRow>) -> Result<Vec<BuildView>, AppError> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
    let id_list = ids.join(",");
    let files: Vec<FileRow> = sqlx::query_as(&format!(
        "SELECT build_id, board, name, size, sha256 FROM build_files WHERE build_id IN ({id_list}) ORDER BY id"
    ))
    .fetch_all(&db.pool)
    .await
    ?;
    let channels: Vec<(i64, String)> = sqlx::query_as(&format!(
        "SELECT build_id, channel FROM channel_builds WHERE build_id IN ({id_list}) ORDER BY id"
    ))
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |BuildRow {
                 id,
                 dist,
                 branch,
                 version,
                 base_url,
                 notes,
                 registered_by,
                 created_at,
                 withdrawn_at,
             }| {
                let mut boards: BTreeMap<String, Vec<BuildFile>> = BTreeMap::new();
                for file in files.iter().filter(|f| f.build_id == id) {
                    boards
                        .entry(file.board.clone())
                        .or_default()
                        .push(BuildFile {
                            name: file.name.clone(),
                            size: file.size,
                            sha256: file.sha256.clone(),
                        });
                }
                BuildView {
                    id,
                    dist,
                    branch,
                    version,
                    base_url,
                    notes,
                    boards,
                    registered_by,
                    created_at,
                    withdrawn_at,
                    channels: channels
                        .iter()
                        .filter(|c| c.0 == id)
                        .map(|c| c.1.clone())
                        .collect(),
                }
            },
        )
        .collect())
}

/// Marks a build withdrawn inside the caller's transaction; false when it already was.
#[tracing::instrument(skip_all)]
pub async fn mark_withdrawn(conn: &mut AnyConnection, id: i64) -> Result<bool, AppError> {
    let done =
        sqlx::query("UPDATE builds SET withdrawn_at = $1 WHERE id = $2 AND withdrawn_at IS NULL")
            .bind(now_millis())
            .bind(id)
            .execute(&mut *conn)
            .await?;
    Ok(done.rows_affected() > 0)
}
