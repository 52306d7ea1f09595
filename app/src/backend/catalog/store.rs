//! Keeps the in-memory catalog that the device hot path reads. It is rebuilt from the database
//! whenever a dist, mirror, build or publication changes: at once on this replica, and on other
//! replicas through PostgreSQL `LISTEN/NOTIFY` (plus a periodic refresh as a safety net).

use crate::backend::catalog::rollout_tracker::RolloutTracker;
use crate::backend::infra::db::{stored, Db, NativePool, UNKNOWN};
use crate::error::AppError;
use crate::model::catalog::{
    ActiveRollout, BuildFile, Catalog, DistCatalog, OfferableBuild, SettlingRollout,
};
use crate::model::mirrors::Mirror;
use crate::model::rollout::{NewRollout, RolloutState};
use crate::model::version::VersionScheme;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

pub const NOTIFY_CHANNEL: &str = "sluice_catalog";

#[derive(Clone, Debug, Default)]
pub struct CatalogStore {
    current: Arc<RwLock<Arc<Catalog>>>,
    /// One rebuild at a time: otherwise a rebuild that read the database before a change
    /// could finish after the one that read it after, and put the stale catalog back.
    rebuilding: Arc<tokio::sync::Mutex<()>>,
    /// The live counters of the rollouts the catalog holds; kept in step with it.
    pub rollouts: RolloutTracker,
}

impl CatalogStore {
    /// The catalog as of the last rebuild; cheap (one `Arc` clone under a read lock).
    pub fn get(&self) -> Arc<Catalog> {
        self.current
            .read()
            .map(|c| Arc::clone(&c))
            .unwrap_or_else(|poisoned| Arc::clone(&poisoned.into_inner()))
    }

    /// Rebuilds from the database and tells the other replicas to do the same.
    #[tracing::instrument(skip_all)]
    pub async fn changed(&self, db: &Db) -> Result<(), AppError> {
        self.reload(db).await?;
        if let NativePool::Postgres(pool) = &db.native {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(NOTIFY_CHANNEL)
                .execute(pool)
                .await?;
        }
        Ok(())
    }

    pub fn new(rollouts: RolloutTracker) -> CatalogStore {
        CatalogStore {
            current: Arc::default(),
            rebuilding: Arc::default(),
            rollouts,
        }
    }

    #[tracing::instrument(skip_all)]
    pub async fn reload(&self, db: &Db) -> Result<(), AppError> {
        let _one_at_a_time = self.rebuilding.lock().await;
        let catalog = Arc::new(load(db).await?);
        self.rollouts.sync(db, &catalog).await?;
        match self.current.write() {
            Ok(mut current) => *current = catalog,
            Err(poisoned) => *poisoned.into_inner() = catalog,
        }
        Ok(())
    }
}

#[derive(sqlx::FromRow)]
struct DistRow {
    id: i64,
    name: String,
    version_scheme: String,
    stable_channel: String,
    stable_branch: String,
    legacy_version_file: Option<String>,
    report_key_hash: Option<String>,
}

#[derive(sqlx::FromRow)]
struct MirrorRow {
    id: i64,
    dist_id: i64,
    url_template: String,
    weight: i64,
}

#[derive(sqlx::FromRow)]
struct BuildRow {
    id: i64,
    dist_id: i64,
    branch: String,
    version: String,
    base_url: String,
}

#[derive(sqlx::FromRow)]
struct FileRow {
    build_id: i64,
    board: String,
    name: String,
    size: i64,
    sha256: String,
}

#[derive(sqlx::FromRow)]
struct RolloutRow {
    id: i64,
    dist_id: i64,
    channel: String,
    build_id: i64,
    policy: String,
    cohort_salt: String,
    state: String,
    current_step: i64,
    percent: f64,
    step_started_at: i64,
}

/// Reads everything a device may be offered.
#[tracing::instrument(skip_all)]
pub async fn load(db: &Db) -> Result<Catalog, AppError> {
    let dists: Vec<DistRow> = sqlx::query_as(
        "SELECT id, name, version_scheme, stable_channel, stable_branch, legacy_version_file, \
         report_key_hash FROM dists ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await?;
    let mirrors: Vec<MirrorRow> =
        sqlx::query_as("SELECT id, dist_id, url_template, weight FROM mirrors ORDER BY id")
            .fetch_all(&db.pool)
            .await?;
    let builds: Vec<BuildRow> = sqlx::query_as(
        "SELECT id, dist_id, branch, version, base_url FROM builds WHERE withdrawn_at IS NULL ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    ?;
    let files: Vec<FileRow> = sqlx::query_as(
        "SELECT f.build_id, f.board, f.name, f.size, f.sha256 FROM build_files f \
         JOIN builds b ON b.id = f.build_id WHERE b.withdrawn_at IS NULL ORDER BY f.id",
    )
    .fetch_all(&db.pool)
    .await?;
    let published: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT c.dist_id, c.build_id, c.channel FROM channel_builds c \
         JOIN builds b ON b.id = c.build_id WHERE b.withdrawn_at IS NULL",
    )
    .fetch_all(&db.pool)
    .await?;
    // Boards of every build ever registered, withdrawn or not: a board whose builds were all
    // withdrawn is still known (up to date), not unknown.
    let boards: Vec<(i64, String)> = sqlx::query_as(
        "SELECT DISTINCT b.dist_id, f.board FROM build_files f JOIN builds b ON b.id = f.build_id",
    )
    .fetch_all(&db.pool)
    .await?;
    // Every registered version, withdrawn or not, orders the `registration` scheme.
    let registered: Vec<(i64, i64, String)> =
        sqlx::query_as("SELECT id, dist_id, version FROM builds")
            .fetch_all(&db.pool)
            .await?;

    let rollouts: Vec<RolloutRow> = sqlx::query_as(
        "SELECT r.id, r.dist_id, r.channel, r.build_id, r.policy, r.cohort_salt, r.state, r.current_step, \
         r.percent, r.step_started_at FROM rollouts r JOIN builds b ON b.id = r.build_id \
         WHERE r.state IN ('running', 'paused', 'halted') AND b.withdrawn_at IS NULL",
    )
    .fetch_all(&db.pool)
    .await
    ?;

    let settling: Vec<SettlingRow> = sqlx::query_as(
        "SELECT r.id, r.dist_id, r.channel, r.state, r.policy, b.version FROM rollouts r \
         JOIN builds b ON b.id = r.build_id \
         WHERE r.state IN ('completed', 'superseded', 'rolled_back') AND EXISTS (\
           SELECT 1 FROM rollout_devices d WHERE d.rollout_id = r.id \
           AND d.status IN ('offered', 'downloading', 'rebooting'))",
    )
    .fetch_all(&db.pool)
    .await?;

    let mut files_by_build: HashMap<i64, HashMap<String, Vec<BuildFile>>> = HashMap::new();
    for file in files {
        files_by_build
            .entry(file.build_id)
            .or_default()
            .entry(file.board)
            .or_default()
            .push(BuildFile {
                name: file.name,
                size: file.size,
                sha256: file.sha256,
            });
    }

    let mut catalog = Catalog::default();
    for row in dists {
        let dist_id = row.id;
        let scheme = &row.version_scheme;
        let scheme: VersionScheme = stored("dists", "version_scheme", scheme, scheme.parse())?;
        let mut dist = DistCatalog {
            id: dist_id,
            name: row.name,
            scheme,
            stable_channel: row.stable_channel,
            stable_branch: row.stable_branch,
            legacy_version_file: row.legacy_version_file,
            report_key: row.report_key_hash,
            mirrors: mirrors
                .iter()
                .filter(|m| m.dist_id == dist_id)
                .map(|m| Mirror {
                    id: m.id,
                    url_template: m.url_template.clone(),
                    weight: m.weight.clamp(0, u32::MAX as i64) as u32,
                })
                .collect(),
            boards: boards
                .iter()
                .filter(|b| b.0 == dist_id)
                .map(|b| b.1.clone())
                .collect(),
            stable: vec![],
            branches: HashMap::new(),
            registered: registered
                .iter()
                .filter(|r| r.1 == dist_id)
                .map(|(id, _, version)| (version.clone(), *id))
                .collect(),
            rollouts: HashMap::new(),
            settling: settling
                .iter()
                .filter(|r| r.dist_id == dist_id)
                .map(settling_rollout)
                .collect::<Result<_, _>>()?,
        };
        let mut all_builds: HashMap<i64, Arc<OfferableBuild>> = HashMap::new();
        let published_here: HashSet<i64> = published
            .iter()
            .filter(|p| p.0 == dist_id && p.2 == dist.stable_channel)
            .map(|p| p.1)
            .collect();
        for row in builds.iter().filter(|b| b.dist_id == dist_id) {
            let Ok(key) = scheme.key(&row.version, Some(row.id)) else {
                tracing::warn!(
                    build = row.id,
                    version = row.version,
                    "build version does not fit its dist's scheme; not offered"
                );
                continue;
            };
            let build_files = files_by_build.remove(&row.id).unwrap_or_default();
            let build = Arc::new(OfferableBuild {
                id: row.id,
                branch: row.branch.clone(),
                version: row.version.clone(),
                key,
                base_url: row.base_url.clone(),
                files: build_files,
            });
            all_builds.insert(row.id, Arc::clone(&build));
            if published_here.contains(&row.id) {
                dist.stable.push(Arc::clone(&build));
            }
            if row.branch != dist.stable_branch {
                dist.branches
                    .entry(row.branch.clone())
                    .or_default()
                    .push(build);
            }
        }
        dist.stable.sort_by(|a, b| b.key.cmp(&a.key));
        for row in rollouts.iter().filter(|r| r.dist_id == dist_id) {
            if let Some(active) = active_rollout(row, &all_builds)? {
                dist.rollouts
                    .insert(active.channel.clone(), Arc::new(active));
            }
        }
        for builds in dist.branches.values_mut() {
            builds.sort_by(|a, b| b.key.cmp(&a.key));
        }
        catalog.dists.push(dist);
    }
    Ok(catalog)
}

#[derive(sqlx::FromRow)]
struct SettlingRow {
    id: i64,
    dist_id: i64,
    channel: String,
    state: String,
    policy: String,
    version: String,
}

/// A rollout's stored policy and state, decoded.
fn policy_and_state(policy: &str, state: &str) -> Result<(NewRollout, RolloutState), AppError> {
    let policy = stored("rollouts", "policy", policy, serde_json::from_str(policy))?;
    let parsed = RolloutState::parse(state).ok_or(UNKNOWN);
    Ok((policy, stored("rollouts", "state", state, parsed)?))
}

fn settling_rollout(row: &SettlingRow) -> Result<SettlingRollout, AppError> {
    let (policy, state) = policy_and_state(&row.policy, &row.state)?;
    Ok(SettlingRollout {
        id: row.id,
        channel: row.channel.clone(),
        state,
        version: row.version.clone(),
        update_timeout_minutes: policy.update_timeout_minutes,
    })
}

fn active_rollout(
    row: &RolloutRow,
    builds: &HashMap<i64, Arc<OfferableBuild>>,
) -> Result<Option<ActiveRollout>, AppError> {
    let (policy, state) = policy_and_state(&row.policy, &row.state)?;
    // A withdrawn build is not in the catalog: its rollout offers nothing.
    let Some(build) = builds.get(&row.build_id) else {
        return Ok(None);
    };
    Ok(Some(ActiveRollout {
        id: row.id,
        channel: row.channel.clone(),
        build: Arc::clone(build),
        state,
        current_step: row.current_step.max(0) as usize,
        percent: row.percent,
        step_started_at: row.step_started_at,
        salt: row.cohort_salt.clone(),
        canary: policy.canary_uuids.iter().cloned().collect(),
        deny: policy.deny_uuids.iter().cloned().collect(),
        policy,
    }))
}
