//! Devices as the update check and reports see them. The update check never writes to the
//! database itself: it notes "seen" in a buffer that is written in batches.

use crate::backend::infra::db::{values_list, Db};
use crate::backend::registry::dists;
use crate::error::AppError;
use crate::model::dist::{DeviceHistory, DeviceView, ReportView, VersionCount};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const ROWS_PER_STATEMENT: usize = 400;

/// One update check, as remembered until the next flush.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub board: String,
    pub branch: String,
    pub user: String,
    pub version: String,
    pub at: i64,
    pub offered: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct SeenBuffer {
    pending: Arc<Mutex<HashMap<(i64, String), Seen>>>,
}

impl SeenBuffer {
    /// Remembers a check; a later check of the same device replaces an earlier one, but an
    /// earlier offer is kept if the later check offered nothing.
    pub fn note(&self, dist_id: i64, uuid: &str, seen: Seen) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        match pending.get_mut(&(dist_id, uuid.to_string())) {
            Some(existing) => {
                let offered = seen.offered.clone().or_else(|| existing.offered.take());
                *existing = Seen { offered, ..seen };
            }
            None => {
                pending.insert((dist_id, uuid.to_string()), seen);
            }
        }
    }

    /// Writes everything noted so far, a short transaction per `ROWS_PER_STATEMENT` devices:
    /// SQLite has one write lock, and a report must not wait behind a flush of a burst of
    /// 100,000 check-ins. On failure what is not written goes back to be tried again.
    #[tracing::instrument(skip_all)]
    pub async fn flush(&self, db: &Db) -> Result<usize, AppError> {
        let batch: Vec<((i64, String), Seen)> = {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.drain().collect()
        };
        let mut written = 0;
        while written < batch.len() {
            let chunk = &batch[written..(written + ROWS_PER_STATEMENT).min(batch.len())];
            if let Err(e) = write_seen(db, chunk).await {
                let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
                for (key, seen) in batch.into_iter().skip(written) {
                    pending.entry(key).or_insert(seen);
                }
                return Err(e.into());
            }
            written += chunk.len();
        }
        Ok(written)
    }
}

/// One multi-row upsert, in a transaction of its own.
async fn write_seen(db: &Db, chunk: &[((i64, String), Seen)]) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    let mut sql = String::from(
        "INSERT INTO devices (dist_id, uuid, board, branch, user_name, current_version, first_seen, \
         last_seen, last_offer_version, last_offer_at) VALUES ",
    );
    sql.push_str(&values_list(
        chunk.len(),
        9,
        &[1, 2, 3, 4, 5, 6, 7, 7, 8, 9],
    ));
    sql.push_str(
        " ON CONFLICT (dist_id, uuid) DO UPDATE SET board = excluded.board, branch = excluded.branch, \
         user_name = excluded.user_name, current_version = excluded.current_version, \
         last_seen = excluded.last_seen, \
         last_offer_version = COALESCE(excluded.last_offer_version, devices.last_offer_version), \
         last_offer_at = COALESCE(excluded.last_offer_at, devices.last_offer_at)",
    );
    let mut query = sqlx::query(&sql);
    for ((dist_id, uuid), seen) in chunk {
        let offer_at = seen.offered.as_ref().map(|_| seen.at);
        query = query
            .bind(*dist_id)
            .bind(uuid)
            .bind(&seen.board)
            .bind(&seen.branch)
            .bind(&seen.user)
            .bind(&seen.version)
            .bind(seen.at)
            .bind(seen.offered.clone())
            .bind(offer_at);
    }
    query.execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// A device row with its dist's name, as `DeviceView` reads it.
const DEVICE_COLUMNS: &str =
    "d.name AS dist, v.uuid, v.board, v.branch, v.user_name, v.current_version, \
     v.first_seen, v.last_seen, v.last_offer_version, v.last_offer_at, v.last_report_status, \
     v.last_report_at FROM devices v JOIN dists d ON d.id = v.dist_id";

/// Devices per board and version (the devices page chart).
#[tracing::instrument(skip_all)]
pub async fn version_counts(db: &Db, dist: &str) -> Result<Vec<VersionCount>, AppError> {
    let dist = dists::find(db, dist).await?;
    let rows: Vec<VersionCount> = sqlx::query_as(
        "SELECT board, current_version AS version, COUNT(*) AS devices FROM devices WHERE dist_id = $1 \
         GROUP BY board, current_version ORDER BY board, current_version",
    )
    .bind(dist.id)
    .fetch_all(&db.pool)
    .await
    ?;
    Ok(rows)
}

/// Devices whose uuid starts with `prefix`, most recently seen first (at most 50).
#[tracing::instrument(skip_all)]
pub async fn search(db: &Db, dist: &str, prefix: &str) -> Result<Vec<DeviceView>, AppError> {
    let dist = dists::find(db, dist).await?;
    let pattern = format!("{}%", prefix.replace(['%', '_'], ""));
    let rows: Vec<DeviceView> = sqlx::query_as(&format!(
        "SELECT {DEVICE_COLUMNS} WHERE v.dist_id = $1 AND v.uuid LIKE $2 ORDER BY v.last_seen DESC LIMIT 50"
    ))
    .bind(dist.id)
    .bind(pattern)
    .fetch_all(&db.pool)
    .await
    ?;
    Ok(rows)
}

/// One device and its last 100 reports, newest first.
#[tracing::instrument(skip_all)]
pub async fn history(db: &Db, dist: &str, uuid: &str) -> Result<DeviceHistory, AppError> {
    let dist = dists::find(db, dist).await?;
    let device: Option<DeviceView> = sqlx::query_as(&format!(
        "SELECT {DEVICE_COLUMNS} WHERE v.dist_id = $1 AND v.uuid = $2"
    ))
    .bind(dist.id)
    .bind(uuid)
    .fetch_optional(&db.pool)
    .await?;
    let device = device.ok_or_else(|| AppError::not_found(format!("device '{uuid}'")))?;
    let reports: Vec<ReportView> = sqlx::query_as(
        "SELECT id, version, status, error, update_time_seconds, received_at FROM device_reports \
         WHERE dist_id = $1 AND uuid = $2 ORDER BY id DESC LIMIT 100",
    )
    .bind(dist.id)
    .bind(uuid)
    .fetch_all(&db.pool)
    .await?;
    Ok(DeviceHistory { device, reports })
}

/// Devices on a version, and final reports for it: for the build page.
#[tracing::instrument(skip_all)]
pub async fn version_outcomes(
    db: &Db,
    dist_id: i64,
    version: &str,
) -> Result<(i64, i64, i64), AppError> {
    let (on_it,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM devices WHERE dist_id = $1 AND current_version = $2")
            .bind(dist_id)
            .bind(version)
            .fetch_one(&db.pool)
            .await?;
    let counts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, COUNT(*) FROM device_reports WHERE dist_id = $1 AND version = $2 \
         AND status IN ('OK', 'FAILED') GROUP BY status",
    )
    .bind(dist_id)
    .bind(version)
    .fetch_all(&db.pool)
    .await?;
    let count = |status: &str| counts.iter().find(|c| c.0 == status).map_or(0, |c| c.1);
    Ok((on_it, count("OK"), count("FAILED")))
}
