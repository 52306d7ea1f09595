//! Devices as the update check and reports see them. The update check never writes to the
//! database itself: it notes "seen" in a buffer that is written in batches.

use crate::backend::infra::clock::now_millis;
use crate::backend::infra::db::{values_list, Db};
use crate::backend::registry::dists;
use crate::error::AppError;
use crate::model::dist::{DeviceHistory, DeviceView, ReportView, VersionCount};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

const ROWS_PER_STATEMENT: usize = 100;

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

/// How long a device that keeps checking in unchanged may go without its row being
/// rewritten: at most twice this. A fleet that polls often then costs the database a write
/// per device and minute or two, not one per check (`last_seen` and the time of its last
/// offer are kept to two minutes); a device whose board, branch, user or version changed, or
/// that was offered another build, is written at the next flush as always.
pub const UNCHANGED_REWRITE_MS: i64 = 60_000;

/// By dist, then by device: a device is found by its uuid as the request gave it.
type ByDevice<T> = HashMap<i64, HashMap<String, T>>;

#[derive(Debug, Default)]
struct Buffer {
    pending: ByDevice<Seen>,
    /// What was last written of each device (a hash of it), in two generations: the current
    /// one, and the one before it, dropped when the current one is `UNCHANGED_REWRITE_MS` old.
    written: [ByDevice<u64>; 2],
    generation_started: i64,
}

impl Buffer {
    /// Starts a new generation of what was written once the current one is old enough.
    fn rotate(&mut self, now: i64) {
        if now - self.generation_started >= UNCHANGED_REWRITE_MS {
            self.written[1] = std::mem::take(&mut self.written[0]);
            self.generation_started = now;
        }
    }

    fn remember_written(&mut self, chunk: &[((i64, String), Seen)]) {
        for ((dist_id, uuid), seen) in chunk {
            self.written[0]
                .entry(*dist_id)
                .or_default()
                .insert(uuid.clone(), fingerprint(seen));
        }
    }

    /// True when the database already holds this check-in but for its time: the device's
    /// last write in either generation had the same fingerprint.
    fn holds_already(&self, dist_id: i64, uuid: &str, fingerprint: u64) -> bool {
        self.written.iter().any(|generation| {
            generation
                .get(&dist_id)
                .and_then(|devices| devices.get(uuid))
                == Some(&fingerprint)
        })
    }
}

/// What a check-in writes, apart from when it was seen.
fn fingerprint(seen: &Seen) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    (
        &seen.board,
        &seen.branch,
        &seen.user,
        &seen.version,
        &seen.offered,
    )
        .hash(&mut hasher);
    hasher.finish()
}

#[derive(Clone, Debug, Default)]
pub struct SeenBuffer {
    buffer: Arc<Mutex<Buffer>>,
    /// One flush at a time: a later flush that committed first would have its newer check-ins
    /// overwritten by the older ones of the flush still writing.
    writing: Arc<tokio::sync::Mutex<()>>,
}

impl SeenBuffer {
    /// Remembers a check; a later check of the same device replaces an earlier one, but an
    /// earlier offer is kept if the later check offered nothing.
    pub fn note(&self, dist_id: i64, uuid: String, seen: Seen) {
        let fingerprint = fingerprint(&seen);
        let mut buffer = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = buffer
            .pending
            .get_mut(&dist_id)
            .and_then(|devices| devices.get_mut(uuid.as_str()))
        {
            let offered = seen.offered.or_else(|| existing.offered.take());
            *existing = Seen { offered, ..seen };
            return;
        }
        if buffer.holds_already(dist_id, &uuid, fingerprint) {
            return;
        }
        buffer
            .pending
            .entry(dist_id)
            .or_default()
            .insert(uuid, seen);
    }

    /// Writes everything noted so far (once a flush already under way is done), a short
    /// transaction per `ROWS_PER_STATEMENT` devices:
    /// SQLite has one write lock, and a report must not wait behind a flush of a burst of
    /// 100,000 check-ins. On failure what is not written goes back to be tried again.
    #[tracing::instrument(skip_all)]
    pub async fn flush(&self, db: &Db) -> Result<usize, AppError> {
        let _writing = self.writing.lock().await;
        let batch: Vec<((i64, String), Seen)> = {
            let mut buffer = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
            buffer.rotate(now_millis());
            std::mem::take(&mut buffer.pending)
                .into_iter()
                .flat_map(|(dist_id, devices)| {
                    devices
                        .into_iter()
                        .map(move |(uuid, seen)| ((dist_id, uuid), seen))
                })
                .collect()
        };
        let mut written = 0;
        while written < batch.len() {
            let chunk = &batch[written..(written + ROWS_PER_STATEMENT).min(batch.len())];
            if let Err(e) = write_seen(db, chunk).await {
                let mut buffer = self.buffer.lock().unwrap_or_else(|p| p.into_inner());
                for ((dist_id, uuid), seen) in batch.into_iter().skip(written) {
                    buffer
                        .pending
                        .entry(dist_id)
                        .or_default()
                        .entry(uuid)
                        .or_insert(seen);
                }
                return Err(e.into());
            }
            self.buffer
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remember_written(chunk);
            written += chunk.len();
        }
        Ok(written)
    }
}

/// One multi-row upsert, in a transaction of its own.
async fn write_seen(db: &Db, chunk: &[((i64, String), Seen)]) -> Result<(), sqlx::Error> {
    let _turn = db.batch_turn().await;
    let mut tx = db.begin().await?;
    let mut sql = String::from(
        "INSERT INTO devices (dist_id, uuid, board, branch, user_name, current_version, first_seen, \
         last_seen, last_offer_version, last_offer_at) VALUES ",
    );
    sql.push_str(&values_list(db.backend(), chunk.len(), 10));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(version: &str, offered: Option<&str>) -> Seen {
        Seen {
            board: "rpi3".into(),
            branch: "stable".into(),
            user: "u".into(),
            version: version.into(),
            at: 0,
            offered: offered.map(String::from),
        }
    }

    fn noted_after_write(buffer: &mut Buffer, next: &Seen) -> bool {
        !buffer.holds_already(1, "d1", fingerprint(next))
    }

    #[test]
    fn an_unchanged_device_is_rewritten_only_once_its_write_is_two_generations_old() {
        let mut buffer = Buffer::default();
        buffer.rotate(100_000);
        buffer.remember_written(&[
            ((1, "d1".into()), seen("v1", None)),
            ((1, "d2".into()), seen("v1", Some("v2"))),
        ]);
        assert!(!noted_after_write(&mut buffer, &seen("v1", None)));
        assert!(
            noted_after_write(&mut buffer, &seen("v2", None)),
            "a new version"
        );
        assert!(
            noted_after_write(&mut buffer, &seen("v1", Some("v2"))),
            "an offer"
        );
        let same_offer = seen("v1", Some("v2"));
        assert!(buffer.holds_already(1, "d2", fingerprint(&same_offer)));
        let other_offer = seen("v1", Some("v3"));
        assert!(!buffer.holds_already(1, "d2", fingerprint(&other_offer)));
        buffer.rotate(100_000 + UNCHANGED_REWRITE_MS - 1);
        assert!(!noted_after_write(&mut buffer, &seen("v1", None)));
        buffer.rotate(100_000 + UNCHANGED_REWRITE_MS);
        assert!(
            !noted_after_write(&mut buffer, &seen("v1", None)),
            "the generation before"
        );
        buffer.rotate(100_000 + 2 * UNCHANGED_REWRITE_MS);
        assert!(noted_after_write(&mut buffer, &seen("v1", None)));
    }
}
