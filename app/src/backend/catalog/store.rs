//! Keeps the in-memory catalog that the device hot path reads. It is rebuilt from the database
//! whenever a dist, mirror, build or publication changes: at once on this replica, and on other
//! replicas through PostgreSQL `LISTEN/NOTIFY` (plus a periodic refresh as a safety net).

use crate::backend::catalog::rollout_tracker::RolloutTracker;
use crate::backend::infra::db::{internal, stored, Db, NativePool, UNKNOWN};
use crate::error::AppError;
use crate::model::catalog::{ActiveRollout, BuildFile, Catalog, DistCatalog, OfferableBuild};
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
                .await
                .map_err(internal)?;
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

type DistRow = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);
type BuildRow = (i64, i64, String, String, String);
type RolloutRow = (i64, i64, String, i64, String, String, String, i64, f64, i64);

/// Reads everything a device may be offered.
#[tracing::instrument(skip_all)]
pub async fn load(db: &Db) -> Result<Catalog, AppError> {
    let dists: Vec<DistRow> = sqlx::query_as(
        "SELECT id, name, version_scheme, stable_channel, stable_branch, legacy_version_file, \
         report_key_hash FROM dists ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    .map_err(internal)?;
    let mirrors: Vec<(i64, i64, String, i64)> =
        sqlx::query_as("SELECT id, dist_id, url_template, weight FROM mirrors ORDER BY id")
            .fetch_all(&db.pool)
            .await
            .map_err(internal)?;
    let builds: Vec<BuildRow> = sqlx::query_as(
        "SELECT id, dist_id, branch, version, base_url FROM builds WHERE withdrawn_at IS NULL ORDER BY id",
    )
    .fetch_all(&db.pool)
    .await
    .map_err(internal)?;
    let files: Vec<(i64, String, String, i64, String)> = sqlx::query_as(
        "SELECT f.build_id, f.board, f.name, f.size, f.sha256 FROM build_files f \
         JOIN builds b ON b.id = f.build_id WHERE b.withdrawn_at IS NULL ORDER BY f.id",
    )
    .fetch_all(&db.pool)
    .await
    .map_err(internal)?;
    let published: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT c.dist_id, c.build_id, c.channel FROM channel_builds c \
         JOIN builds b ON b.id = c.build_id WHERE b.withdrawn_at IS NULL",
    )
    .fetch_all(&db.pool)
    .await
    .map_err(internal)?;
    // Boards of every build ever registered, withdrawn or not: a board whose builds were all
    // withdrawn is still known (up to date), not unknown.
    let boards: Vec<(i64, String)> = sqlx::query_as(
        "SELECT DISTINCT b.dist_id, f.board FROM build_files f JOIN builds b ON b.id = f.build_id",
    )
    .fetch_all(&db.pool)
    .await
    .map_err(internal)?;
    // Every registered version, withdrawn or not, orders the `registration` scheme.
    let registered: Vec<(i64, i64, String)> =
        sqlx::query_as("SELECT id, dist_id, version FROM builds")
            .fetch_all(&db.pool)
            .await
            .map_err(internal)?;

    let rollouts: Vec<RolloutRow> = sqlx::query_as(
        "SELECT r.id, r.dist_id, r.channel, r.build_id, r.policy, r.cohort_salt, r.state, r.current_step, \
         r.percent, r.step_started_at FROM rollouts r JOIN builds b ON b.id = r.build_id \
         WHERE r.state IN ('running', 'paused', 'halted') AND b.withdrawn_at IS NULL",
    )
    .fetch_all(&db.pool)
    .await
    .map_err(internal)?;

    let mut files_by_build: HashMap<i64, HashMap<String, Vec<BuildFile>>> = HashMap::new();
    for (build_id, board, name, size, sha256) in files {
        files_by_build
            .entry(build_id)
            .or_default()
            .entry(board)
            .or_default()
            .push(BuildFile { name, size, sha256 });
    }

    let mut catalog = Catalog::default();
    for (dist_id, name, scheme, stable_channel, stable_branch, legacy_version_file, report_key) in
        dists
    {
        let scheme: VersionScheme = stored("dists", "version_scheme", &scheme, scheme.parse())?;
        let mut dist = DistCatalog {
            id: dist_id,
            name,
            scheme,
            stable_channel,
            stable_branch,
            legacy_version_file,
            report_key,
            mirrors: mirrors
                .iter()
                .filter(|m| m.1 == dist_id)
                .map(|(id, _, url_template, weight)| Mirror {
                    id: *id,
                    url_template: url_template.clone(),
                    weight: (*weight).clamp(0, u32::MAX as i64) as u32,
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
        };
        let mut all_builds: HashMap<i64, Arc<OfferableBuild>> = HashMap::new();
        let published_here: HashSet<i64> = published
            .iter()
            .filter(|p| p.0 == dist_id && p.2 == dist.stable_channel)
            .map(|p| p.1)
            .collect();
        for (id, _, branch, version, base_url) in builds.iter().filter(|b| b.1 == dist_id) {
            let Ok(key) = scheme.key(version, Some(*id)) else {
                tracing::warn!(
                    build = id,
                    version,
                    "build version does not fit its dist's scheme; not offered"
                );
                continue;
            };
            let build_files = files_by_build.remove(id).unwrap_or_default();
            let build = Arc::new(OfferableBuild {
                id: *id,
                branch: branch.clone(),
                version: version.clone(),
                key,
                base_url: base_url.clone(),
                files: build_files,
            });
            all_builds.insert(*id, Arc::clone(&build));
            if published_here.contains(id) {
                dist.stable.push(Arc::clone(&build));
            }
            if branch != &dist.stable_branch {
                dist.branches.entry(branch.clone()).or_default().push(build);
            }
        }
        dist.stable.sort_by(|a, b| b.key.cmp(&a.key));
        for row in rollouts.iter().filter(|r| r.1 == dist_id) {
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

fn active_rollout(
    row: &RolloutRow,
    builds: &HashMap<i64, Arc<OfferableBuild>>,
) -> Result<Option<ActiveRollout>, AppError> {
    let (id, _, channel, build_id, policy, salt, state, step, percent, step_started_at) = row;
    let policy: NewRollout = stored("rollouts", "policy", policy, serde_json::from_str(policy))?;
    let state = stored(
        "rollouts",
        "state",
        state,
        RolloutState::parse(state).ok_or(UNKNOWN),
    )?;
    // A withdrawn build is not in the catalog: its rollout offers nothing.
    let Some(build) = builds.get(build_id) else {
        return Ok(None);
    };
    Ok(Some(ActiveRollout {
        id: *id,
        channel: channel.clone(),
        build: Arc::clone(build),
        state,
        current_step: (*step).max(0) as usize,
        percent: *percent,
        step_started_at: *step_started_at,
        salt: salt.clone(),
        canary: policy.canary_uuids.iter().cloned().collect(),
        deny: policy.deny_uuids.iter().cloned().collect(),
        policy,
    }))
}
