//! Dists and their mirrors.

use crate::backend::catalog::store::CatalogStore;
use crate::backend::infra::audit::{self, Actor};
use crate::backend::infra::clock::now_millis;
use crate::backend::infra::db::{is_unique_violation, stored, Db};
use crate::error::AppError;
use crate::model::dist::{check_slug, DistView, MirrorView, NewDist, NewMirror};
use crate::model::mirrors::check_template;
use crate::model::report_key;

#[derive(sqlx::FromRow)]
struct DistRow {
    id: i64,
    name: String,
    version_scheme: String,
    stable_channel: String,
    stable_branch: String,
    legacy_version_file: Option<String>,
    created_at: i64,
}

const DIST_COLUMNS: &str =
    "id, name, version_scheme, stable_channel, stable_branch, legacy_version_file, created_at";

fn dist_from_row(
    DistRow {
        id,
        name,
        version_scheme,
        stable_channel,
        stable_branch,
        legacy_version_file,
        created_at,
    }: DistRow,
) -> Result<DistView, AppError> {
    let scheme = version_scheme.parse();
    Ok(DistView {
        id,
        name,
        version_scheme: stored("dists", "version_scheme", &version_scheme, scheme)?,
        stable_channel,
        stable_branch,
        legacy_version_file,
        created_at,
    })
}

#[tracing::instrument(skip_all)]
pub async fn create(
    db: &Db,
    catalog: &CatalogStore,
    actor: &Actor,
    new: &NewDist,
) -> Result<DistView, AppError> {
    check_slug("name", &new.name)?;
    check_slug("stable_channel", &new.stable_channel)?;
    check_slug("stable_branch", &new.stable_branch)?;
    let legacy = new.legacy_version_file.as_deref().filter(|s| !s.is_empty());
    if let Some(file) = legacy {
        check_slug("legacy_version_file", file)?;
    }
    let mut tx = db.begin().await?;
    let row: DistRow = sqlx::query_as(&format!(
        "INSERT INTO dists (name, version_scheme, stable_channel, stable_branch, legacy_version_file, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {DIST_COLUMNS}"
    ))
    .bind(&new.name)
    .bind(new.version_scheme.as_str())
    .bind(&new.stable_channel)
    .bind(&new.stable_branch)
    .bind(legacy)
    .bind(now_millis())
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            AppError::conflict(format!("a dist named '{}' already exists", new.name))
        } else {
            e.into()
        }
    })?;
    let detail = format!(
        "scheme {}, stable channel {} fed by {}",
        new.version_scheme, new.stable_channel, new.stable_branch
    );
    audit::record(&mut tx, actor, "dist.create", &new.name, &detail).await?;
    tx.commit().await?;
    catalog.changed(db).await?;
    dist_from_row(row)
}

#[tracing::instrument(skip_all)]
pub async fn list(db: &Db) -> Result<Vec<DistView>, AppError> {
    let rows: Vec<DistRow> =
        sqlx::query_as(&format!("SELECT {DIST_COLUMNS} FROM dists ORDER BY id"))
            .fetch_all(&db.pool)
            .await?;
    rows.into_iter().map(dist_from_row).collect()
}

#[tracing::instrument(skip_all)]
pub async fn find(db: &Db, name: &str) -> Result<DistView, AppError> {
    let row: Option<DistRow> =
        sqlx::query_as(&format!("SELECT {DIST_COLUMNS} FROM dists WHERE name = $1"))
            .bind(name)
            .fetch_optional(&db.pool)
            .await?;
    row.map(dist_from_row)
        .transpose()?
        .ok_or_else(|| AppError::not_found(format!("dist '{name}'")))
}

#[tracing::instrument(skip_all)]
pub async fn add_mirror(
    db: &Db,
    catalog: &CatalogStore,
    actor: &Actor,
    dist: &str,
    new: &NewMirror,
) -> Result<MirrorView, AppError> {
    check_template(&new.url_template).map_err(|m| AppError::validation("url_template", m))?;
    if new.weight == 0 || new.weight > 1000 {
        return Err(AppError::validation("weight", "must be between 1 and 1000"));
    }
    let dist = find(db, dist).await?;
    let mut tx = db.begin().await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO mirrors (dist_id, url_template, weight, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(dist.id)
    .bind(&new.url_template)
    .bind(i64::from(new.weight))
    .bind(now_millis())
    .fetch_one(&mut *tx)
    .await
    ?;
    let detail = format!("{} (weight {})", new.url_template, new.weight);
    audit::record(&mut tx, actor, "mirror.add", &dist.name, &detail).await?;
    tx.commit().await?;
    catalog.changed(db).await?;
    Ok(MirrorView {
        id,
        dist: dist.name,
        url_template: new.url_template.clone(),
        weight: new.weight,
    })
}

#[tracing::instrument(skip_all)]
pub async fn remove_mirror(
    db: &Db,
    catalog: &CatalogStore,
    actor: &Actor,
    dist: &str,
    id: i64,
) -> Result<(), AppError> {
    let dist = find(db, dist).await?;
    let mut tx = db.begin().await?;
    let done = sqlx::query("DELETE FROM mirrors WHERE id = $1 AND dist_id = $2")
        .bind(id)
        .bind(dist.id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::not_found(format!(
            "mirror {id} of dist '{}'",
            dist.name
        )));
    }
    audit::record(
        &mut tx,
        actor,
        "mirror.remove",
        &dist.name,
        &format!("mirror {id}"),
    )
    .await?;
    tx.commit().await?;
    catalog.changed(db).await
}

#[tracing::instrument(skip_all)]
pub async fn mirrors(db: &Db, dist: &str) -> Result<Vec<MirrorView>, AppError> {
    let dist = find(db, dist).await?;
    let rows: Vec<(i64, String, i64)> = sqlx::query_as(
        "SELECT id, url_template, weight FROM mirrors WHERE dist_id = $1 ORDER BY id",
    )
    .bind(dist.id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, url_template, weight)| MirrorView {
            id,
            dist: dist.name.clone(),
            url_template,
            weight: weight.clamp(0, u32::MAX as i64) as u32,
        })
        .collect())
}

/// Sets the key device reports of `name` must carry (`None`: no key). Only its digest is
/// stored; the audit log says that it changed, never the key.
#[tracing::instrument(skip_all)]
pub async fn set_report_key(
    db: &Db,
    catalog: &CatalogStore,
    actor: &Actor,
    name: &str,
    key: Option<&str>,
) -> Result<(), AppError> {
    if let Some(key) = key {
        report_key::check_new(key)?;
    }
    let mut tx = db.begin().await?;
    let updated = sqlx::query("UPDATE dists SET report_key_hash = $1 WHERE name = $2")
        .bind(key.map(report_key::digest))
        .bind(name)
        .execute(&mut *tx)
        .await?;
    if updated.rows_affected() == 0 {
        return Err(AppError::not_found(format!("dist '{name}'")));
    }
    let detail = if key.is_some() { "set" } else { "removed" };
    audit::record(&mut tx, actor, "dist.report_key", name, detail).await?;
    tx.commit().await?;
    catalog.changed(db).await
}
