//! The live side of rollouts, in memory: which devices were offered each running rollout's
//! build, where each stands, the counts per step, and the caps' counters. The update check
//! decides from this and the catalog alone; offers are written in batches, outcomes with the
//! reports that carry them.

use crate::backend::infra::db::{stored, values_list, Backend, Db, UNKNOWN};
use crate::error::AppError;
use crate::model::catalog::{ActiveRollout, Catalog, SettlingRollout};
use crate::model::device_report::DeviceReport;
use crate::model::rollout::{self, CapVerdict, Counts, GrantStatus, RolloutState};
use crate::model::version::VersionKey;
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

const ROWS_PER_STATEMENT: usize = 400;

/// One device's place in one rollout, as stored in `rollout_devices`.
#[derive(Clone, Debug, PartialEq)]
pub struct GrantRow {
    pub rollout_id: i64,
    pub uuid: String,
    pub step: usize,
    pub status: GrantStatus,
    pub offered_at: i64,
    pub updated_at: i64,
}

/// A device's new standing after its report, to be written with the report.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportedGrant {
    pub row: GrantRow,
    /// This replica made the offer (it is in memory), so it is written even if the offer is
    /// not stored yet. Otherwise another replica may have made it: the report moves a stored
    /// offer only.
    pub offered_here: bool,
}

#[derive(Clone, Copy, Debug)]
struct Grant {
    step: usize,
    status: GrantStatus,
    offered_at: i64,
}

#[derive(Debug, Default)]
struct Tracked {
    grants: HashMap<String, Grant>,
    /// Clients of the legacy path (no uuid), by address: capped, never counted for health.
    legacy: HashSet<String>,
    /// When each offer of the last hour was made, oldest first.
    recent: VecDeque<i64>,
    whole: Counts,
    steps: Vec<Counts>,
    /// Set the moment the background job halts the rollout, before the catalog says so.
    held: bool,
    /// New offers per client address in the current policy minute (`by_address_since`).
    by_address: HashMap<IpAddr, u32>,
    by_address_since: i64,
    /// New offers this replica has made, ever: compared with its lease (`rollout_leases`).
    offers_made: u64,
    /// This replica's slice of the caps: it may offer while `offers_made < granted`, until
    /// `expires_at`. Only rollouts with a cap use it.
    lease: Lease,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Lease {
    granted: u64,
    expires_at: i64,
}

impl Tracked {
    fn set(&mut self, uuid: &str, grant: Grant) {
        if let Some(old) = self.grants.insert(uuid.to_string(), grant) {
            self.count(old, -1);
        }
        self.count(grant, 1);
    }

    fn count(&mut self, grant: Grant, delta: i64) {
        self.whole.add(grant.status, delta);
        if self.steps.len() <= grant.step {
            self.steps.resize(grant.step + 1, Counts::default());
        }
        self.steps[grant.step].add(grant.status, delta);
    }

    /// Whether `address` may have one more new offer this minute (the count starts afresh
    /// every policy minute, which also bounds the map to the addresses of one minute).
    fn address_limit(
        &mut self,
        address: IpAddr,
        limit: u32,
        now: i64,
        minute_ms: i64,
    ) -> CapVerdict {
        if now - self.by_address_since >= minute_ms {
            self.by_address.clear();
            self.by_address_since = now;
        }
        let offers = self.by_address.get(&address).copied().unwrap_or(0);
        rollout::check_address_limit(offers, limit, self.by_address_since, now, minute_ms)
    }

    fn caps(&mut self, rollout: &ActiveRollout, now: i64, hour_ms: i64) -> CapVerdict {
        while self.recent.front().is_some_and(|t| now - t >= hour_ms) {
            self.recent.pop_front();
        }
        rollout::check_caps(
            self.recent.len() as u64,
            self.whole.in_flight(),
            rollout.policy.max_grants_per_hour,
            rollout.policy.max_in_flight,
            self.recent.front().copied(),
            now,
            hour_ms,
        )
    }
}

/// What the update check does about a running rollout for one device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The rollout does not concern this device: answer from the channel's published builds.
    Baseline,
    /// Offer the rollout's build.
    Offer,
    /// A cap is reached: no offer now, come back later.
    Capped { retry_after_seconds: u64 },
}

/// Live counts of one rollout.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveCounts {
    pub whole: Counts,
    pub steps: Vec<Counts>,
    pub grants_last_hour: u64,
}

#[derive(Debug, Default)]
struct Inner {
    rollouts: HashMap<i64, Tracked>,
    /// New offers not yet written.
    pending: Vec<GrantRow>,
}

#[derive(Clone, Debug)]
pub struct RolloutTracker {
    inner: Arc<Mutex<Inner>>,
    /// This process's name among the replicas, for its cap leases.
    replica: Arc<str>,
    /// Held while offers move from memory to the database, and while the shared counts are
    /// read and taken: an offer is then counted either as stored or as pending, never as
    /// neither.
    writing: Arc<tokio::sync::Mutex<()>>,
    /// How long a policy minute lasts here: 60,000 ms, or less in a rehearsal.
    minute_ms: i64,
    /// New offers one client address may get per rollout and policy minute (0: no limit).
    offers_per_address: u32,
}

/// How long a replica's slice of a rollout's caps lasts unless renewed (each pass renews it):
/// a replica that dies gives its slice back after this.
pub const LEASE_MS: i64 = 10_000;

/// A name no other replica has: random, new at every start.
fn replica_name() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut bytes = [0u8; 12];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The default of `offers_per_address`.
pub const OFFERS_PER_ADDRESS: u32 = 10;

impl Default for RolloutTracker {
    fn default() -> Self {
        RolloutTracker::new(60_000, OFFERS_PER_ADDRESS)
    }
}

impl RolloutTracker {
    pub fn new(minute_ms: i64, offers_per_address: u32) -> RolloutTracker {
        RolloutTracker {
            inner: Arc::default(),
            minute_ms: minute_ms.max(1),
            offers_per_address,
            replica: replica_name().into(),
            writing: Arc::default(),
        }
    }

    pub fn minute_ms(&self) -> i64 {
        self.minute_ms
    }

    fn hour_ms(&self) -> i64 {
        self.minute_ms * 60
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The decision for a device at `address` that would otherwise get `baseline` (or
    /// nothing), recording the offer when one is made.
    #[allow(clippy::too_many_arguments)]
    pub fn decide(
        &self,
        rollout: &ActiveRollout,
        board: &str,
        current: Option<&VersionKey>,
        baseline: Option<&VersionKey>,
        uuid: &str,
        address: IpAddr,
        now: i64,
    ) -> Decision {
        let build = &rollout.build;
        if !build.files.contains_key(board)
            || current.is_some_and(|c| c >= &build.key)
            || baseline.is_some_and(|b| b >= &build.key)
        {
            return Decision::Baseline;
        }
        let hour_ms = self.hour_ms();
        let mut inner = self.lock();
        let Inner { rollouts, pending } = &mut *inner;
        let tracked = rollouts.entry(rollout.id).or_default();
        let running = rollout.state == RolloutState::Running && !tracked.held;
        if let Some(grant) = tracked.grants.get(uuid) {
            let withdrawn = !running && grant.status.may_be_withdrawn();
            return if grant.status.is_final() || withdrawn {
                Decision::Baseline
            } else {
                Decision::Offer
            };
        }
        if !running || !rollout.eligible(uuid) {
            return Decision::Baseline;
        }
        if let CapVerdict::Capped {
            retry_after_seconds,
        } = tracked.caps(rollout, now, hour_ms)
        {
            return Decision::Capped {
                retry_after_seconds,
            };
        }
        if let Some(capped) = self.lease_spent(tracked, rollout, now) {
            return capped;
        }
        if let CapVerdict::Capped {
            retry_after_seconds,
        } = tracked.address_limit(address, self.offers_per_address, now, self.minute_ms)
        {
            return Decision::Capped {
                retry_after_seconds,
            };
        }
        *tracked.by_address.entry(address).or_insert(0) += 1;
        tracked.offers_made += 1;
        let grant = Grant {
            step: rollout.current_step,
            status: GrantStatus::Offered,
            offered_at: now,
        };
        tracked.set(uuid, grant);
        tracked.recent.push_back(now);
        pending.push(GrantRow {
            rollout_id: rollout.id,
            uuid: uuid.to_string(),
            step: grant.step,
            status: grant.status,
            offered_at: now,
            updated_at: now,
        });
        Decision::Offer
    }

    /// `Some(capped)` when a rollout with a cap has no slice of it left here (used up, or not
    /// renewed in time): the other replicas may hold the rest.
    fn lease_spent(
        &self,
        tracked: &Tracked,
        rollout: &ActiveRollout,
        now: i64,
    ) -> Option<Decision> {
        let spent = tracked.offers_made >= tracked.lease.granted || now >= tracked.lease.expires_at;
        (rollout.has_caps() && spent).then(|| Decision::Capped {
            // A slice comes back with the next pass; a device need not ask sooner than in a
            // policy minute.
            retry_after_seconds: ((self.minute_ms + 999) / 1000).max(1) as u64,
        })
    }

    /// The legacy path: no uuid, no cohort; each client address is one offer under the caps.
    pub fn decide_legacy(
        &self,
        rollout: &ActiveRollout,
        board: &str,
        address: &str,
        now: i64,
    ) -> Decision {
        if !rollout.build.files.contains_key(board) {
            return Decision::Baseline;
        }
        let hour_ms = self.hour_ms();
        let mut inner = self.lock();
        let tracked = inner.rollouts.entry(rollout.id).or_default();
        if tracked.legacy.contains(address) {
            return Decision::Offer;
        }
        if rollout.state != RolloutState::Running || tracked.held {
            return Decision::Baseline;
        }
        match tracked.caps(rollout, now, hour_ms) {
            CapVerdict::Capped {
                retry_after_seconds,
            } => Decision::Capped {
                retry_after_seconds,
            },
            CapVerdict::Allowed => {
                // Legacy offers are not stored per device, so they cannot be counted against
                // the slice (`offers_made` must match what is written); they need one, and
                // count toward this replica's own caps.
                if let Some(capped) = self.lease_spent(tracked, rollout, now) {
                    return capped;
                }
                tracked.legacy.insert(address.to_string());
                tracked.recent.push_back(now);
                Decision::Offer
            }
        }
    }

    /// A report from a device: its new standing in the rollout, to be written with the
    /// report. A device this replica did not offer may have been offered by another one; its
    /// standing is then moved in the database only, where that offer is.
    pub fn on_report(
        &self,
        rollout: &ActiveRollout,
        report: &DeviceReport,
        now: i64,
    ) -> Option<ReportedGrant> {
        let mut inner = self.lock();
        let known = inner
            .rollouts
            .get(&rollout.id)
            .and_then(|t| t.grants.get(&report.uuid))
            .copied();
        let Some(grant) = known else {
            // Only a device of the cohort and of a board the build has can have been offered.
            if !rollout.build.files.contains_key(&report.board) || !rollout.eligible(&report.uuid) {
                return None;
            }
            let status = GrantStatus::Offered.after_report(
                report.status,
                &report.boardversion,
                &rollout.build.version,
            );
            return Some(ReportedGrant {
                row: GrantRow {
                    rollout_id: rollout.id,
                    uuid: report.uuid.clone(),
                    step: rollout.current_step,
                    status,
                    offered_at: now,
                    updated_at: now,
                },
                offered_here: false,
            });
        };
        let status =
            grant
                .status
                .after_report(report.status, &report.boardversion, &rollout.build.version);
        if status == grant.status {
            return None;
        }
        let tracked = inner.rollouts.get_mut(&rollout.id)?;
        tracked.set(&report.uuid, Grant { status, ..grant });
        Some(ReportedGrant {
            row: GrantRow {
                rollout_id: rollout.id,
                uuid: report.uuid.clone(),
                step: grant.step,
                status,
                offered_at: grant.offered_at,
                updated_at: now,
            },
            offered_here: true,
        })
    }

    /// The devices the database timed out (`time_out_overdue`), known here or not.
    pub fn timed_out(&self, rollout_id: i64, uuids: &[String]) {
        let mut inner = self.lock();
        let Some(tracked) = inner.rollouts.get_mut(&rollout_id) else {
            return;
        };
        for uuid in uuids {
            if let Some(grant) = tracked.grants.get(uuid).copied() {
                let status = GrantStatus::TimedOut;
                tracked.set(uuid, Grant { status, ..grant });
            }
        }
    }

    /// Reads the counts every replica shares and takes them (`adopt_counts`).
    #[tracing::instrument(skip_all)]
    pub async fn share_counts(&self, db: &Db, ids: &[i64]) -> Result<(), AppError> {
        let _writing = self.writing.lock().await;
        for (id, counts) in shared_counts(db, ids).await? {
            self.adopt_counts(id, counts);
        }
        Ok(())
    }

    /// Takes the counts every replica shares: those stored (`shared_counts`), plus this
    /// replica's offers not written yet.
    pub fn adopt_counts(&self, rollout_id: i64, stored: Vec<Counts>) {
        let mut inner = self.lock();
        let Inner { rollouts, pending } = &mut *inner;
        let Some(tracked) = rollouts.get_mut(&rollout_id) else {
            return;
        };
        tracked.whole = stored.iter().fold(Counts::default(), |sum, s| sum.plus(s));
        tracked.steps = stored;
        for row in pending.iter().filter(|r| r.rollout_id == rollout_id) {
            let status = tracked
                .grants
                .get(&row.uuid)
                .map_or(row.status, |g| g.status);
            let grant = Grant {
                step: row.step,
                status,
                offered_at: row.offered_at,
            };
            tracked.count(grant, 1);
        }
    }

    /// Stops new offers of a rollout at once, ahead of the catalog (an automatic halt).
    pub fn hold(&self, rollout_id: i64) {
        self.lock().rollouts.entry(rollout_id).or_default().held = true;
    }

    /// Counts of a rollout being tracked, `None` when it is not active.
    pub fn counts(&self, rollout_id: i64, now: i64) -> Option<LiveCounts> {
        let hour_ms = self.hour_ms();
        let inner = self.lock();
        let tracked = inner.rollouts.get(&rollout_id)?;
        Some(LiveCounts {
            whole: tracked.whole,
            steps: tracked.steps.clone(),
            grants_last_hour: tracked.recent.iter().filter(|t| now - *t < hour_ms).count() as u64,
        })
    }

    /// Follows the catalog: loads the devices of rollouts that became active (after a restart,
    /// or on another replica), forgets those that ended.
    #[tracing::instrument(skip_all)]
    pub async fn sync(&self, db: &Db, catalog: &Catalog) -> Result<(), AppError> {
        let active: HashSet<i64> = catalog
            .dists
            .iter()
            .flat_map(|d| d.rollouts.values().map(|r| r.id))
            .collect();
        let missing: Vec<i64> = {
            let mut inner = self.lock();
            inner.rollouts.retain(|id, _| active.contains(id));
            // Once the catalog itself says a rollout is not running, the early hold has done
            // its job; a later resume must find it cleared.
            for rollout in catalog.dists.iter().flat_map(|d| d.rollouts.values()) {
                if rollout.state != RolloutState::Running {
                    if let Some(tracked) = inner.rollouts.get_mut(&rollout.id) {
                        tracked.held = false;
                    }
                }
            }
            active
                .iter()
                .filter(|id| !inner.rollouts.contains_key(id))
                .copied()
                .collect()
        };
        for id in missing {
            let rows: Vec<(String, i64, String, i64)> = sqlx::query_as(
                "SELECT uuid, step, status, offered_at FROM rollout_devices WHERE rollout_id = $1",
            )
            .bind(id)
            .fetch_all(&db.pool)
            .await?;
            let mut tracked = Tracked::default();
            let hour_ago = crate::backend::infra::clock::now_millis() - self.hour_ms();
            let mut recent: Vec<i64> = Vec::new();
            for (uuid, step, status, offered_at) in rows {
                let parsed = GrantStatus::parse(&status).ok_or(UNKNOWN);
                let status = stored("rollout_devices", "status", &status, parsed)?;
                tracked.set(
                    &uuid,
                    Grant {
                        step: step.max(0) as usize,
                        status,
                        offered_at,
                    },
                );
                if offered_at > hour_ago {
                    recent.push(offered_at);
                }
            }
            recent.sort_unstable();
            tracked.recent = recent.into();
            // Offers made here since the catalog changed are already counted; keep them.
            let mut inner = self.lock();
            if let Some(live) = inner.rollouts.remove(&id) {
                for (uuid, grant) in live.grants {
                    tracked.set(&uuid, grant);
                }
                tracked.recent.extend(live.recent);
                tracked.legacy.extend(live.legacy);
                // What only memory knows: an early halt, and this minute's offers per address.
                tracked.held = live.held;
                tracked.by_address = live.by_address;
                tracked.by_address_since = live.by_address_since;
                tracked.offers_made = live.offers_made;
                tracked.lease = live.lease;
            }
            inner.rollouts.insert(id, tracked);
        }
        // A rollout with a cap offers nothing here until this replica holds a slice of it.
        for rollout in catalog.dists.iter().flat_map(|d| d.rollouts.values()) {
            let unleased = self
                .lock()
                .rollouts
                .get(&rollout.id)
                .is_some_and(|t| t.lease == Lease::default());
            if unleased && rollout.state == RolloutState::Running && rollout.has_caps() {
                self.renew_lease(db, rollout, crate::backend::infra::clock::now_millis())
                    .await?;
            }
        }
        Ok(())
    }

    /// Takes this replica's slice of a rollout's caps for the next `LEASE_MS`: a fair share of
    /// what the stored offers and the other replicas' live slices leave (`lease_size`), so
    /// that all replicas together never offer past a cap. Each pass of the rollout job renews
    /// it, after writing this replica's offers.
    #[tracing::instrument(skip_all)]
    pub async fn renew_lease(
        &self,
        db: &Db,
        rollout: &ActiveRollout,
        now: i64,
    ) -> Result<(), AppError> {
        let mut tx = db.begin().await?;
        if db.backend() == crate::backend::infra::db::Backend::Postgres {
            // One replica at a time leases from a rollout (SQLite writes one at a time anyway).
            sqlx::query("SELECT id FROM rollouts WHERE id = $1 FOR UPDATE")
                .bind(rollout.id)
                .execute(&mut *tx)
                .await?;
        }
        let (in_flight,): (i64,) = sqlx::query_as(&format!(
            "SELECT COUNT(*) FROM rollout_devices WHERE rollout_id = $1 AND status IN ({})",
            status_list(false)
        ))
        .bind(rollout.id)
        .fetch_one(&mut *tx)
        .await?;
        let (last_hour,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM rollout_devices WHERE rollout_id = $1 AND offered_at > $2",
        )
        .bind(rollout.id)
        .bind(now - self.hour_ms())
        .fetch_one(&mut *tx)
        .await?;
        let others: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT granted, used FROM rollout_leases \
             WHERE rollout_id = $1 AND replica <> $2 AND expires_at > $3",
        )
        .bind(rollout.id)
        .bind(self.replica.as_ref())
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let mine: Option<(i64,)> = sqlx::query_as(
            "SELECT used FROM rollout_leases WHERE rollout_id = $1 AND replica = $2",
        )
        .bind(rollout.id)
        .bind(self.replica.as_ref())
        .fetch_optional(&mut *tx)
        .await?;
        let used = mine.map_or(0, |(used,)| used.max(0) as u64);
        let leased_to_others: u64 = others
            .iter()
            .map(|(granted, used)| (granted - used).max(0) as u64)
            .sum();
        let size = rollout::lease_size(
            rollout.policy.max_grants_per_hour,
            rollout.policy.max_in_flight,
            last_hour.max(0) as u64,
            in_flight.max(0) as u64,
            leased_to_others,
            others.len() as u64,
        )
        .unwrap_or(0);
        let lease = Lease {
            granted: used + size,
            expires_at: now + LEASE_MS,
        };
        sqlx::query(
            "INSERT INTO rollout_leases (rollout_id, replica, granted, used, expires_at) \
             VALUES ($1, $2, $3, 0, $4) ON CONFLICT (rollout_id, replica) \
             DO UPDATE SET granted = excluded.granted, expires_at = excluded.expires_at",
        )
        .bind(rollout.id)
        .bind(self.replica.as_ref())
        .bind(lease.granted as i64)
        .bind(lease.expires_at)
        .execute(&mut *tx)
        .await?;
        // Slices of replicas gone for an hour are only clutter.
        sqlx::query("DELETE FROM rollout_leases WHERE rollout_id = $1 AND expires_at < $2")
            .bind(rollout.id)
            .bind(now - self.hour_ms().max(3_600_000))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        // Offers made since `used` was read are counted in `offers_made`: they come out of
        // this slice, which the other replicas count in full until they are written.
        self.hold_lease(rollout.id, lease.granted, lease.expires_at);
        Ok(())
    }

    /// This replica may make offers while it has made fewer than `granted` in all, until
    /// `expires_at`.
    pub fn hold_lease(&self, rollout_id: i64, granted: u64, expires_at: i64) {
        self.lock().rollouts.entry(rollout_id).or_default().lease = Lease {
            granted,
            expires_at,
        };
    }

    /// Writes the offers made since the last flush.
    #[tracing::instrument(skip_all)]
    pub async fn flush(&self, db: &Db) -> Result<(), AppError> {
        let _writing = self.writing.lock().await;
        let pending = std::mem::take(&mut self.lock().pending);
        if pending.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.write_offers(db, &pending).await {
            // Keep them for the next attempt.
            self.lock().pending.extend(pending);
            return Err(e.into());
        }
        Ok(())
    }

    /// The offers, and in the same transaction what they used of this replica's cap leases.
    async fn write_offers(&self, db: &Db, offers: &[GrantRow]) -> Result<(), sqlx::Error> {
        let mut per_rollout: HashMap<i64, i64> = HashMap::new();
        for offer in offers {
            *per_rollout.entry(offer.rollout_id).or_default() += 1;
        }
        let _turn = db.batch_turn().await;
        let mut tx = db.begin().await?;
        write_grants(&mut tx, offers, false).await?;
        for (rollout_id, used) in per_rollout {
            sqlx::query(
                "UPDATE rollout_leases SET used = used + $1 WHERE rollout_id = $2 AND replica = $3",
            )
            .bind(used)
            .bind(rollout_id)
            .bind(self.replica.as_ref())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }
}

/// A report of a device a settling rollout (`SettlingRollout`) may have offered: it moves the
/// stored offer, if there is one still open.
pub fn settling_report(
    rollout: &SettlingRollout,
    report: &DeviceReport,
    now: i64,
) -> ReportedGrant {
    let status =
        GrantStatus::Offered.after_report(report.status, &report.boardversion, &rollout.version);
    ReportedGrant {
        row: GrantRow {
            rollout_id: rollout.id,
            uuid: report.uuid.clone(),
            step: 0,
            status,
            offered_at: now,
            updated_at: now,
        },
        offered_here: false,
    }
}

/// The stored statuses, as an SQL list, that are final (`true`) or still open (`false`).
/// Sluice's own constants, never input.
fn status_list(final_ones: bool) -> String {
    GrantStatus::ALL
        .iter()
        .filter(|s| s.is_final() == final_ones)
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Multi-row upsert of device standings. Offers never overwrite (a report may have moved the
/// device on already); reports do, but never a final standing (another replica may have
/// stored one first).
#[tracing::instrument(skip_all)]
pub async fn write_grants(
    conn: &mut sqlx::AnyConnection,
    rows: &[GrantRow],
    overwrite: bool,
) -> Result<(), sqlx::Error> {
    // One row per device and rollout in a statement: the last one wins.
    let mut last: HashMap<(i64, &str), &GrantRow> = HashMap::new();
    for row in rows {
        last.insert((row.rollout_id, row.uuid.as_str()), row);
    }
    let rows: Vec<&GrantRow> = last.into_values().collect();
    let conflict = if overwrite {
        format!(
            " ON CONFLICT (rollout_id, uuid) DO UPDATE SET status = excluded.status, \
             updated_at = excluded.updated_at WHERE rollout_devices.status NOT IN ({})",
            status_list(true)
        )
    } else {
        " ON CONFLICT (rollout_id, uuid) DO NOTHING".to_string()
    };
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut sql = String::from(
            "INSERT INTO rollout_devices (rollout_id, uuid, step, status, offered_at, updated_at) VALUES ",
        );
        sql.push_str(&values_list(Backend::of(conn), chunk.len(), 6));
        sql.push_str(&conflict);
        let mut query = sqlx::query(&sql);
        for row in chunk {
            query = query
                .bind(row.rollout_id)
                .bind(&row.uuid)
                .bind(row.step as i64)
                .bind(row.status.as_str())
                .bind(row.offered_at)
                .bind(row.updated_at);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;

/// The standings reports give: those of offers made here are upserted; the others move an
/// offer another replica stored, if there is one and it is still open.
pub async fn write_reported(
    conn: &mut sqlx::AnyConnection,
    grants: &[&ReportedGrant],
) -> Result<(), sqlx::Error> {
    let here: Vec<GrantRow> = grants
        .iter()
        .filter(|g| g.offered_here)
        .map(|g| g.row.clone())
        .collect();
    if !here.is_empty() {
        write_grants(&mut *conn, &here, true).await?;
    }
    // One statement per rollout and new status, not one per report: most reports of a batch
    // concern devices no replica offered, and each statement is a round trip.
    let mut elsewhere: HashMap<(i64, GrantStatus), (i64, Vec<&str>)> = HashMap::new();
    for grant in grants.iter().filter(|g| !g.offered_here) {
        let group = elsewhere
            .entry((grant.row.rollout_id, grant.row.status))
            .or_insert((0, Vec::new()));
        group.0 = group.0.max(grant.row.updated_at);
        group.1.push(grant.row.uuid.as_str());
    }
    for ((rollout_id, status), (updated_at, uuids)) in elsewhere {
        for chunk in uuids.chunks(ROWS_PER_STATEMENT) {
            let marks: Vec<String> = (4..4 + chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "UPDATE rollout_devices SET status = $1, updated_at = $2 \
                 WHERE rollout_id = $3 AND uuid IN ({}) AND status NOT IN ({})",
                marks.join(", "),
                status_list(true)
            );
            let mut query = sqlx::query(&sql)
                .bind(status.as_str())
                .bind(updated_at)
                .bind(rollout_id);
            for uuid in chunk {
                query = query.bind(*uuid);
            }
            query.execute(&mut *conn).await?;
        }
    }
    Ok(())
}

/// Open offers of a rollout made at or before `offered_by` become timed out, whichever
/// replica made them; the first replica to get there does it, once. Answers their devices.
#[tracing::instrument(skip_all)]
pub async fn time_out_overdue(
    db: &Db,
    rollout_id: i64,
    offered_by: i64,
    now: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String,)> = sqlx::query_as(&format!(
        "UPDATE rollout_devices SET status = $1, updated_at = $2 \
         WHERE rollout_id = $3 AND status IN ({}) AND offered_at <= $4 RETURNING uuid",
        status_list(false)
    ))
    .bind(GrantStatus::TimedOut.as_str())
    .bind(now)
    .bind(rollout_id)
    .bind(offered_by)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|(uuid,)| uuid).collect())
}

/// Counts per step of these rollouts from the stored standings: what every replica sees.
#[tracing::instrument(skip_all)]
pub async fn shared_counts(db: &Db, ids: &[i64]) -> Result<HashMap<i64, Vec<Counts>>, AppError> {
    let mut counts: HashMap<i64, Vec<Counts>> = HashMap::new();
    if ids.is_empty() {
        return Ok(counts);
    }
    let id_list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let rows: Vec<(i64, i64, String, i64)> = sqlx::query_as(&format!(
        "SELECT rollout_id, step, status, COUNT(*) FROM rollout_devices \
         WHERE rollout_id IN ({id_list}) GROUP BY rollout_id, step, status"
    ))
    .fetch_all(&db.pool)
    .await?;
    for (id, step, status, n) in rows {
        let steps = counts.entry(id).or_default();
        let step = step.max(0) as usize;
        if steps.len() <= step {
            steps.resize(step + 1, Counts::default());
        }
        let parsed = GrantStatus::parse(&status).ok_or(UNKNOWN);
        steps[step].add(stored("rollout_devices", "status", &status, parsed)?, n);
    }
    Ok(counts)
}
