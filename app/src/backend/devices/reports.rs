//! Device reports are answered only once they are durable. Reports arriving together are
//! written together: one transaction for a whole batch, then every waiting request is answered
//! (group commit), so thousands of devices reporting at once cost a few commits, not thousands.

use crate::backend::catalog::rollout_tracker::{write_reported, ReportedGrant};
use crate::backend::infra::db::{values_list, Backend, Db};
use crate::error::AppError;
use crate::model::device_report::{DeviceReport, ReportStatus};
use std::collections::HashMap;
use tokio::sync::{mpsc, oneshot};

const QUEUE: usize = 16_384;
const MAX_BATCH: usize = 2_000;
const ROWS_PER_STATEMENT: usize = 500;

/// A report to store, with where it came from.
#[derive(Clone, Debug)]
pub struct ReportRecord {
    pub dist_id: i64,
    pub report: DeviceReport,
    pub address: String,
    pub received_at: i64,
    /// The device's new standing in the rollouts that may have offered it, written with the
    /// report.
    pub grants: Vec<ReportedGrant>,
}

struct Pending {
    record: ReportRecord,
    done: oneshot::Sender<Result<(), AppError>>,
}

#[derive(Clone, Debug)]
pub struct ReportWriter {
    queue: mpsc::Sender<Pending>,
}

/// The other end of a `ReportWriter`: the loop that writes batches (`server::jobs` runs it).
pub struct ReportQueue {
    incoming: mpsc::Receiver<Pending>,
}

impl ReportWriter {
    pub fn new() -> (ReportWriter, ReportQueue) {
        let (queue, incoming) = mpsc::channel::<Pending>(QUEUE);
        (ReportWriter { queue }, ReportQueue { incoming })
    }

    /// Returns once the report is committed.
    #[tracing::instrument(skip_all)]
    pub async fn submit(&self, record: ReportRecord) -> Result<(), AppError> {
        let (done, committed) = oneshot::channel();
        self.queue
            .send(Pending { record, done })
            .await
            .map_err(|_| AppError::Internal)?;
        committed.await.map_err(|_| AppError::Internal)?
    }
}

impl ReportQueue {
    /// Writes what arrives, a batch at a time, until `stop` resolves; then writes what is
    /// already queued and returns.
    #[tracing::instrument(skip_all)]
    pub async fn run(mut self, db: Db, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut stopping = false;
        loop {
            let first = if stopping {
                self.incoming.recv().await
            } else {
                tokio::select! {
                    first = self.incoming.recv() => first,
                    () = &mut stop => {
                        // No new reports; the queued ones are still written and answered.
                        stopping = true;
                        self.incoming.close();
                        self.incoming.recv().await
                    }
                }
            };
            let Some(first) = first else {
                return;
            };
            self.write_batch(&db, first).await;
        }
    }

    async fn write_batch(&mut self, db: &Db, first: Pending) {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match self.incoming.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let records: Vec<&ReportRecord> = batch.iter().map(|p| &p.record).collect();
        let result = write(db, &records).await.map_err(AppError::from);
        for pending in batch {
            let _ = pending.done.send(result.clone());
        }
    }
}

async fn write(db: &Db, records: &[&ReportRecord]) -> Result<(), sqlx::Error> {
    let _turn = db.batch_turn().await;
    let mut tx = db.begin().await?;
    for chunk in records.chunks(ROWS_PER_STATEMENT) {
        let mut sql = String::from(
            "INSERT INTO device_reports (dist_id, uuid, board, branch, user_name, version, status, error, \
             update_time_seconds, received_at, address) VALUES ",
        );
        sql.push_str(&values_list(db.backend(), chunk.len(), 11));
        let mut query = sqlx::query(&sql);
        for record in chunk {
            let r = &record.report;
            query = query
                .bind(record.dist_id)
                .bind(&r.uuid)
                .bind(&r.board)
                .bind(&r.branch)
                .bind(&r.user)
                .bind(&r.boardversion)
                .bind(r.status.as_str())
                .bind(r.error.clone())
                .bind(r.update_time_seconds)
                .bind(record.received_at)
                .bind(&record.address);
        }
        query.execute(&mut *tx).await?;
    }
    // One device row per device: its last report of the batch. An earlier `OK` of the same
    // device that a later report follows still moves its current version, so it goes first.
    let mut last: HashMap<(i64, &str), usize> = HashMap::new();
    for (i, record) in records.iter().enumerate() {
        last.insert((record.dist_id, record.report.uuid.as_str()), i);
    }
    // The last `OK` of each device that a later report of the same batch follows: one row per
    // device, as a multi-row upsert cannot touch a row twice.
    let mut last_ok: HashMap<(i64, &str), usize> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        let key = (r.dist_id, r.report.uuid.as_str());
        if r.report.status == ReportStatus::Ok && last[&key] != i {
            last_ok.insert(key, i);
        }
    }
    let mut earlier_oks: Vec<usize> = last_ok.into_values().collect();
    earlier_oks.sort_unstable();
    let earlier_oks: Vec<&ReportRecord> = earlier_oks.into_iter().map(|i| records[i]).collect();
    let mut latest: Vec<usize> = last.into_values().collect();
    latest.sort_unstable();
    let latest: Vec<&ReportRecord> = latest.into_iter().map(|i| records[i]).collect();
    upsert_devices(&mut tx, &earlier_oks).await?;
    upsert_devices(&mut tx, &latest).await?;
    let grants: Vec<&ReportedGrant> = records.iter().flat_map(|r| &r.grants).collect();
    if !grants.is_empty() {
        write_reported(&mut tx, &grants).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Multi-row upsert of device rows from reports; each device appears at most once per call.
async fn upsert_devices(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    records: &[&ReportRecord],
) -> Result<(), sqlx::Error> {
    for chunk in records.chunks(ROWS_PER_STATEMENT) {
        let mut sql = String::from(
            "INSERT INTO devices (dist_id, uuid, board, branch, user_name, current_version, first_seen, \
             last_seen, last_report_status, last_report_at) VALUES ",
        );
        sql.push_str(&values_list(Backend::of(tx), chunk.len(), 10));
        sql.push_str(
            " ON CONFLICT (dist_id, uuid) DO UPDATE SET board = excluded.board, branch = excluded.branch, \
             user_name = excluded.user_name, last_seen = excluded.last_seen, \
             last_report_status = excluded.last_report_status, last_report_at = excluded.last_report_at, \
             current_version = CASE WHEN excluded.last_report_status = 'OK' \
                 THEN excluded.current_version ELSE devices.current_version END",
        );
        let mut query = sqlx::query(&sql);
        for record in chunk {
            let r = &record.report;
            query = query
                .bind(record.dist_id)
                .bind(&r.uuid)
                .bind(&r.board)
                .bind(&r.branch)
                .bind(&r.user)
                .bind(&r.boardversion)
                .bind(record.received_at)
                .bind(record.received_at)
                .bind(r.status.as_str())
                .bind(record.received_at);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}
