//! Rollouts: creating one, steering it by hand, and the background job that advances, completes
//! or halts it by the rules of `model::rollout`. Every change writes the rollout's history; the
//! changes people make also go to the audit log.

use crate::backend::catalog::rollout_tracker::{
    shared_counts, time_out_overdue, LiveCounts, RolloutTracker,
};
use crate::backend::catalog::store::CatalogStore;
use crate::backend::infra::audit::{self, Actor};
use crate::backend::infra::clock::now_millis;
use crate::backend::infra::db::{stored, Db, UNKNOWN};
use crate::backend::messaging::outbox;
use crate::backend::{registry::builds, registry::dists};
use crate::error::AppError;
use crate::model::catalog::{ActiveRollout, Catalog};
use crate::model::rollout::plan::{self, Change, Refusal, Standing};
use crate::model::rollout::{
    self, BucketView, Command, Counts, NewRollout, RolloutEvent, RolloutState, RolloutView, Tick,
};
use sqlx::AnyConnection;
use std::collections::HashMap;

/// The actor of what the background job does.
pub const SYSTEM: &str = "sluice";

const SELECT: &str = "SELECT r.id, d.name AS dist, r.dist_id, r.channel, r.build_id, b.version, \
     r.policy, r.cohort_salt, r.state, r.current_step, r.percent, r.step_started_at, r.halt_reason, \
     r.created_by, r.created_at, r.updated_at \
     FROM rollouts r JOIN dists d ON d.id = r.dist_id JOIN builds b ON b.id = r.build_id";

/// A rollout row as stored, by column name.
#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    dist: String,
    dist_id: i64,
    channel: String,
    build_id: i64,
    version: String,
    policy: String,
    cohort_salt: String,
    state: String,
    current_step: i64,
    percent: f64,
    step_started_at: i64,
    halt_reason: Option<String>,
    created_by: String,
    created_at: i64,
    updated_at: i64,
}

/// A rollout row, decoded.
struct Stored {
    id: i64,
    dist: String,
    dist_id: i64,
    channel: String,
    build_id: i64,
    version: String,
    policy: NewRollout,
    salt: String,
    state: RolloutState,
    current_step: usize,
    percent: f64,
    step_started_at: i64,
    halt_reason: Option<String>,
    created_by: String,
    created_at: i64,
    updated_at: i64,
}

impl Stored {
    fn standing(&self) -> Standing {
        Standing {
            state: self.state,
            step: self.current_step,
            percent: self.percent,
            step_started_at: self.step_started_at,
            halt_reason: self.halt_reason.clone(),
        }
    }
}

fn decode(row: Row) -> Result<Stored, AppError> {
    let policy = stored(
        "rollouts",
        "policy",
        &row.policy,
        serde_json::from_str(&row.policy),
    )?;
    let state = RolloutState::parse(&row.state).ok_or(UNKNOWN);
    Ok(Stored {
        id: row.id,
        dist: row.dist,
        dist_id: row.dist_id,
        channel: row.channel,
        build_id: row.build_id,
        version: row.version,
        policy,
        salt: row.cohort_salt,
        state: stored("rollouts", "state", &row.state, state)?,
        current_step: row.current_step.max(0) as usize,
        percent: row.percent,
        step_started_at: row.step_started_at,
        halt_reason: row.halt_reason,
        created_by: row.created_by,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

async fn load(db: &Db, id: i64) -> Result<Stored, AppError> {
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE r.id = $1"))
        .bind(id)
        .fetch_optional(&db.pool)
        .await?;
    decode(row.ok_or_else(|| AppError::not_found("rollout"))?)
}

/// Starts a rollout of a build of the stable branch to the stable channel; an older one still
/// steering that channel is superseded. Answers the new rollout's id.
/// The catalog is refreshed before this returns, so the next update check follows the rollout.
#[tracing::instrument(skip_all)]
pub async fn create(
    db: &Db,
    catalog: &CatalogStore,
    actor: &Actor,
    new: &NewRollout,
) -> Result<i64, AppError> {
    new.check()
        .map_err(|(field, message)| AppError::validation(field, message))?;
    let dist = dists::find(db, &new.dist)
        .await
        .map_err(|_| AppError::validation("dist", format!("unknown dist '{}'", new.dist)))?;
    if new.channel != dist.stable_channel {
        return Err(AppError::validation(
            "channel",
            format!(
                "dist '{}' rolls out on its stable channel '{}' (dev branches get their builds at once)",
                dist.name, dist.stable_channel
            ),
        ));
    }
    let build = builds::find_by_name(db, dist.id, &dist.stable_branch, &new.version)
        .await?
        .ok_or_else(|| {
            AppError::validation(
                "version",
                format!(
                    "no build '{}' on branch '{}' of dist '{}'",
                    new.version, dist.stable_branch, dist.name
                ),
            )
        })?;
    let view = builds::view(db, build.0).await?;
    if view.withdrawn_at.is_some() {
        return Err(AppError::conflict(
            "this build was withdrawn and cannot be rolled out",
        ));
    }
    let now = now_millis();
    let completes = new.completes_at_once();
    let state = if completes {
        RolloutState::Completed
    } else {
        RolloutState::Running
    };
    let percent = new.steps[0].percent;
    let policy = serde_json::to_string(new).map_err(|_| AppError::Internal)?;
    let mut tx = db.begin().await?;

    let older: Vec<(i64, i64, f64)> = sqlx::query_as(
        "SELECT id, current_step, percent FROM rollouts WHERE dist_id = $1 AND channel = $2 \
         AND state IN ('running', 'paused', 'halted')",
    )
    .bind(dist.id)
    .bind(&new.channel)
    .fetch_all(&mut *tx)
    .await?;

    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO rollouts (dist_id, channel, build_id, policy, cohort_salt, state, current_step, percent, \
         step_started_at, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9, $8, $8) RETURNING id",
    )
    .bind(dist.id)
    .bind(&new.channel)
    .bind(build.0)
    .bind(&policy)
    .bind(new.cohort_salt.clone().unwrap_or_default())
    .bind(state.as_str())
    .bind(percent)
    .bind(now)
    .bind(&actor.name)
    .fetch_one(&mut *tx)
    .await
    ?;
    if new.cohort_salt.is_none() {
        // The default salt is the rollout's own id: each rollout draws a new cohort.
        sqlx::query("UPDATE rollouts SET cohort_salt = $1 WHERE id = $2")
            .bind(id.to_string())
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    if completes {
        publish_to_channel(&mut tx, dist.id, &new.channel, build.0, &actor.name, now).await?;
    }
    let why = format!("superseded by rollout {id} of {}", new.version);
    force_state(
        &mut tx,
        older,
        RolloutState::Superseded,
        "supersede",
        &why,
        &actor.name,
    )
    .await?;
    history(
        &mut tx,
        id,
        &actor.name,
        "create",
        "",
        RolloutState::Running,
        0,
        percent,
    )
    .await?;
    if completes {
        history(
            &mut tx,
            id,
            &actor.name,
            "complete",
            "published to every device",
            state,
            0,
            percent,
        )
        .await?;
    }
    let target = format!("{}/{}", dist.name, new.channel);
    let detail = format!("rollout {id} of {}", new.version);
    audit::record(&mut tx, actor, "rollout.create", &target, &detail).await?;
    tx.commit().await?;
    catalog.changed(db).await?;
    Ok(id)
}

/// The channel offers the build to every device from now on.
async fn publish_to_channel(
    conn: &mut AnyConnection,
    dist_id: i64,
    channel: &str,
    build_id: i64,
    by: &str,
    now: i64,
) -> Result<(), AppError> {
    let published = sqlx::query(
        "INSERT INTO channel_builds (dist_id, channel, build_id, published_by, published_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (dist_id, channel, build_id) DO NOTHING",
    )
    .bind(dist_id)
    .bind(channel)
    .bind(build_id)
    .bind(by)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if published.rows_affected() == 0 {
        return Ok(());
    }
    let (dist, branch, version): (String, String, String) = sqlx::query_as(
        "SELECT d.name, b.branch, b.version FROM builds b JOIN dists d ON d.id = b.dist_id \
         WHERE b.id = $1",
    )
    .bind(build_id)
    .fetch_one(&mut *conn)
    .await?;
    let message = serde_json::json!({
        "dist": dist, "build": build_id, "branch": branch, "version": version,
        "channel": channel, "actor": by, "at": now,
    });
    outbox::enqueue(conn, &outbox::build_topic("published"), &message).await?;
    Ok(())
}

/// A line of the rollout's history, and the message that tells it (`sluice.rollout.<action>`).
#[allow(clippy::too_many_arguments)]
async fn history(
    conn: &mut AnyConnection,
    rollout_id: i64,
    actor: &str,
    action: &str,
    reason: &str,
    state: RolloutState,
    step: usize,
    percent: f64,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO rollout_history (rollout_id, at, actor, action, reason, state, step, percent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(rollout_id)
    .bind(now_millis())
    .bind(actor)
    .bind(action)
    .bind(reason)
    .bind(state.as_str())
    .bind(step as i64)
    .bind(percent)
    .execute(&mut *conn)
    .await?;
    let (dist, channel, version): (String, String, String) = sqlx::query_as(
        "SELECT d.name, r.channel, b.version FROM rollouts r JOIN dists d ON d.id = r.dist_id \
         JOIN builds b ON b.id = r.build_id WHERE r.id = $1",
    )
    .bind(rollout_id)
    .fetch_one(&mut *conn)
    .await?;
    let message = serde_json::json!({
        "rollout": rollout_id, "dist": dist, "channel": channel, "version": version,
        "action": action, "state": state.as_str(), "step": step, "percent": percent,
        "reason": reason, "actor": actor, "at": now_millis(),
    });
    outbox::enqueue(conn, &outbox::rollout_topic(action), &message).await?;
    Ok(())
}

/// Applies a change if the rollout is still as `seen` (a person and the background job may
/// act at the same moment; the later one then sees the new state). False when it was not.
async fn apply(
    db: &Db,
    seen: &Stored,
    change: Change,
    actor: &Actor,
    audited: bool,
) -> Result<bool, AppError> {
    let now = now_millis();
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE rollouts SET state = $1, current_step = $2, percent = $3, step_started_at = $4, \
         halt_reason = $5, updated_at = $6 WHERE id = $7 AND state = $8 AND current_step = $9 AND percent = $10",
    )
    .bind(change.standing.state.as_str())
    .bind(change.standing.step as i64)
    .bind(change.standing.percent)
    .bind(change.standing.step_started_at)
    .bind(change.standing.halt_reason.clone())
    .bind(now)
    .bind(seen.id)
    .bind(seen.state.as_str())
    .bind(seen.current_step as i64)
    .bind(seen.percent)
    .execute(&mut *tx)
    .await
    ?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    match change.standing.state {
        RolloutState::Completed => {
            publish_to_channel(
                &mut tx,
                seen.dist_id,
                &seen.channel,
                seen.build_id,
                &actor.name,
                now,
            )
            .await?;
        }
        RolloutState::RolledBack => {
            // The channel points back at the build it offered before this one.
            sqlx::query(
                "DELETE FROM channel_builds WHERE dist_id = $1 AND channel = $2 AND build_id = $3",
            )
            .bind(seen.dist_id)
            .bind(&seen.channel)
            .bind(seen.build_id)
            .execute(&mut *tx)
            .await?;
        }
        _ => {}
    }
    history(
        &mut tx,
        seen.id,
        &actor.name,
        change.action,
        &change.reason,
        change.standing.state,
        change.standing.step,
        change.standing.percent,
    )
    .await?;
    if audited {
        let target = format!("{}/{} rollout {}", seen.dist, seen.channel, seen.id);
        let detail = format!("{}: {}", change.action, change.reason);
        audit::record(
            &mut tx,
            actor,
            &format!("rollout.{}", change.action),
            &target,
            &detail,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// A person's command: pause, resume, halt, advance, roll back or set the percent.
#[tracing::instrument(skip_all)]
pub async fn command(
    db: &Db,
    catalog: &CatalogStore,
    actor: &Actor,
    id: i64,
    command: Command,
    percent: Option<f64>,
    reason: &str,
) -> Result<(), AppError> {
    let seen = load(db, id).await?;
    let planned = plan::command(
        &seen.standing(),
        &seen.policy.steps,
        command,
        percent,
        reason,
        &actor.name,
        now_millis(),
    );
    let change = planned.map_err(|refusal| match refusal {
        Refusal::Invalid(field, message) => AppError::validation(field, message),
        Refusal::Conflict(message) => AppError::conflict(message),
    })?;
    if apply(db, &seen, change, actor, true).await? {
        catalog.changed(db).await
    } else {
        Err(AppError::conflict(
            "the rollout changed meanwhile; look again and retry",
        ))
    }
}

/// One pass of the background job over the rollouts the catalog holds: timeouts, then the
/// health gate, the hold and the halt, on the counts every replica shares (this replica's
/// offers are written first). Every replica runs it; a change is made once, by the first
/// (`apply` changes only the standing it saw). True when a rollout changed.
#[tracing::instrument(skip_all)]
pub async fn tick(db: &Db, catalog: &CatalogStore, now: i64) -> Result<bool, AppError> {
    let tracker = &catalog.rollouts;
    let snapshot = catalog.get();
    let active: Vec<&ActiveRollout> = snapshot
        .dists
        .iter()
        .flat_map(|d| d.rollouts.values().map(|r| r.as_ref()))
        .collect();
    catch_up(db, tracker, &snapshot, &active, now).await?;
    let mut changed = false;
    for rollout in active {
        if rollout.state != RolloutState::Running {
            continue;
        }
        let counts = tracker.counts(rollout.id, now).unwrap_or_default();
        let step = counts
            .steps
            .get(rollout.current_step)
            .copied()
            .unwrap_or_default();
        let held = (now - rollout.step_started_at) as f64 / tracker.minute_ms() as f64;
        let verdict = rollout::tick(
            &rollout.policy.steps,
            rollout.current_step,
            held,
            &step,
            &counts.whole,
            &rollout.policy.health,
        );
        if verdict != Tick::Nothing {
            changed |= automatic(db, tracker, rollout, verdict, now).await?;
        }
    }
    if changed {
        catalog.changed(db).await?;
    }
    Ok(changed)
}

/// What every replica does before it judges: writes its offers, times out overdue offers
/// (once, in the database), takes the shared counts, renews its slices of the caps.
async fn catch_up(
    db: &Db,
    tracker: &RolloutTracker,
    snapshot: &Catalog,
    active: &[&ActiveRollout],
    now: i64,
) -> Result<(), AppError> {
    tracker.flush(db).await?;
    for rollout in active {
        let timeout_ms = i64::from(rollout.policy.update_timeout_minutes) * tracker.minute_ms();
        let late = time_out_overdue(
            db,
            rollout.id,
            rollout::timeout_cutoff(now, timeout_ms),
            now,
        )
        .await?;
        tracker.timed_out(rollout.id, &late);
    }
    // Ended rollouts' devices still time out, so that their counts settle.
    for rollout in snapshot.dists.iter().flat_map(|d| &d.settling) {
        let timeout_ms = i64::from(rollout.update_timeout_minutes) * tracker.minute_ms();
        time_out_overdue(
            db,
            rollout.id,
            rollout::timeout_cutoff(now, timeout_ms),
            now,
        )
        .await?;
    }
    let ids: Vec<i64> = active.iter().map(|r| r.id).collect();
    tracker.share_counts(db, &ids).await?;
    for rollout in active.iter().filter(|r| r.state == RolloutState::Running) {
        if rollout.has_caps() {
            tracker.renew_lease(db, rollout, now).await?;
        }
    }
    Ok(())
}

/// Advances, completes or halts a rollout by the rules, recording why.
async fn automatic(
    db: &Db,
    tracker: &RolloutTracker,
    rollout: &ActiveRollout,
    verdict: Tick,
    now: i64,
) -> Result<bool, AppError> {
    let seen = load(db, rollout.id).await?;
    if seen.state != rollout.state
        || seen.current_step != rollout.current_step
        || seen.percent != rollout.percent
    {
        return Ok(false);
    }
    let Some(change) = plan::tick(&seen.standing(), &seen.policy.steps, verdict, now) else {
        return Ok(false);
    };
    let actor = Actor {
        name: SYSTEM.into(),
        address: "local".into(),
    };
    let halting = change.action == "halt";
    if halting {
        tracing::warn!(rollout = rollout.id, reason = %change.reason, "rollout halted");
        tracker.hold(rollout.id);
    }
    apply(db, &seen, change, &actor, false).await
}

/// Rollouts with their counts: live from the tracker while active, else from the database (one
/// query for them all).
async fn with_counts(
    db: &Db,
    tracker: &RolloutTracker,
    rollouts: Vec<Stored>,
) -> Result<Vec<RolloutView>, AppError> {
    let now = now_millis();
    let live: HashMap<i64, LiveCounts> = rollouts
        .iter()
        .filter_map(|r| tracker.counts(r.id, now).map(|c| (r.id, c)))
        .collect();
    let stored_ids: Vec<i64> = rollouts
        .iter()
        .map(|r| r.id)
        .filter(|id| !live.contains_key(id))
        .collect();
    let mut stored = shared_counts(db, &stored_ids).await?;
    Ok(rollouts
        .into_iter()
        .map(|r| {
            let (per_step, last_hour) = match live.get(&r.id) {
                Some(live) => (live.steps.clone(), live.grants_last_hour),
                None => (stored.remove(&r.id).unwrap_or_default(), 0),
            };
            assemble(r, per_step, last_hour, tracker.minute_ms())
        })
        .collect())
}

fn assemble(
    stored: Stored,
    counts_per_step: Vec<Counts>,
    grants_last_hour: u64,
    minute_ms: i64,
) -> RolloutView {
    let counts = counts_per_step
        .iter()
        .fold(Counts::default(), |all, step| all.plus(step));
    let step_counts = counts_per_step
        .get(stored.current_step)
        .copied()
        .unwrap_or_default();
    let hold_ends_at = if stored.state.is_active() {
        rollout::hold_ends_at(
            &stored.policy.steps,
            stored.current_step,
            stored.step_started_at,
            minute_ms,
        )
    } else {
        None
    };
    let p = stored.policy;
    RolloutView {
        id: stored.id,
        dist: stored.dist,
        channel: stored.channel,
        version: stored.version,
        build_id: stored.build_id,
        state: stored.state,
        current_step: stored.current_step,
        percent: stored.percent,
        steps: p.steps,
        step_started_at: stored.step_started_at,
        hold_ends_at,
        cohort_salt: stored.salt,
        canary_uuids: p.canary_uuids,
        deny_uuids: p.deny_uuids,
        health: p.health,
        update_timeout_minutes: p.update_timeout_minutes,
        max_grants_per_hour: p.max_grants_per_hour,
        max_in_flight: p.max_in_flight,
        in_flight: counts.in_flight(),
        counts,
        step_counts,
        counts_per_step,
        grants_last_hour,
        halt_reason: stored.halt_reason,
        created_by: stored.created_by,
        created_at: stored.created_at,
        updated_at: stored.updated_at,
    }
}

#[tracing::instrument(skip_all)]
pub async fn view(db: &Db, tracker: &RolloutTracker, id: i64) -> Result<RolloutView, AppError> {
    let stored = load(db, id).await?;
    let mut views = with_counts(db, tracker, vec![stored]).await?;
    views.pop().ok_or(AppError::Internal)
}

/// The rollouts of a dist, newest first.
#[tracing::instrument(skip_all)]
pub async fn list(
    db: &Db,
    tracker: &RolloutTracker,
    dist: &str,
) -> Result<Vec<RolloutView>, AppError> {
    let dist = dists::find(db, dist).await?;
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE r.dist_id = $1 ORDER BY r.id DESC LIMIT 200"
    ))
    .bind(dist.id)
    .fetch_all(&db.pool)
    .await?;
    let rollouts = rows
        .into_iter()
        .map(decode)
        .collect::<Result<Vec<_>, _>>()?;
    with_counts(db, tracker, rollouts).await
}

#[tracing::instrument(skip_all)]
pub async fn history_of(db: &Db, id: i64) -> Result<Vec<RolloutEvent>, AppError> {
    load(db, id).await?;
    let rows: Vec<HistoryRow> = sqlx::query_as(
        "SELECT at, actor, action, reason, state, step, percent FROM rollout_history \
         WHERE rollout_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            let parsed = RolloutState::parse(&row.state).ok_or(UNKNOWN);
            Ok(RolloutEvent {
                at: row.at,
                actor: row.actor,
                action: row.action,
                reason: row.reason,
                state: stored("rollout_history", "state", &row.state, parsed)?,
                step: row.step.max(0) as usize,
                percent: row.percent,
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct HistoryRow {
    at: i64,
    actor: String,
    action: String,
    reason: String,
    state: String,
    step: i64,
    percent: f64,
}

/// A device's bucket in a rollout, and whether it is in.
#[tracing::instrument(skip_all)]
pub async fn bucket_of(db: &Db, id: i64, uuid: &str) -> Result<BucketView, AppError> {
    let uuid = uuid.trim();
    if uuid.is_empty() || uuid.len() > 256 {
        return Err(AppError::validation("uuid", "must be 1 to 256 characters"));
    }
    let stored = load(db, id).await?;
    Ok(rollout::explain_bucket(
        &stored.salt,
        uuid,
        stored.percent,
        &stored.policy.canary_uuids,
        &stored.policy.deny_uuids,
    ))
}

/// Withdrawing a build halts the rollouts that offer it.
#[tracing::instrument(skip_all)]
pub async fn halt_for_withdrawal(
    conn: &mut AnyConnection,
    build_id: i64,
    by: &str,
) -> Result<(), AppError> {
    let active: Vec<(i64, i64, f64)> = sqlx::query_as(
        "SELECT id, current_step, percent FROM rollouts WHERE build_id = $1 AND state IN ('running', 'paused')",
    )
    .bind(build_id)
    .fetch_all(&mut *conn)
    .await
    ?;
    let why = format!("build withdrawn by {by}");
    force_state(conn, active, RolloutState::Halted, "halt", &why, by).await?;
    Ok(())
}

/// Moves rollouts (`(id, current step, percent)`) to `state` without a person's command: a
/// newer rollout or a withdrawal decided it. Each one's history says why; a halt keeps the
/// reason as its halt reason.
async fn force_state(
    conn: &mut AnyConnection,
    rollouts: Vec<(i64, i64, f64)>,
    state: RolloutState,
    action: &str,
    why: &str,
    by: &str,
) -> Result<(), AppError> {
    let sql = if state == RolloutState::Halted {
        "UPDATE rollouts SET state = $1, updated_at = $2, halt_reason = $4 WHERE id = $3"
    } else {
        "UPDATE rollouts SET state = $1, updated_at = $2 WHERE id = $3"
    };
    for (id, step, percent) in rollouts {
        let mut update = sqlx::query(sql)
            .bind(state.as_str())
            .bind(now_millis())
            .bind(id);
        if state == RolloutState::Halted {
            update = update.bind(why);
        }
        update.execute(&mut *conn).await?;
        history(conn, id, by, action, why, state, step as usize, percent).await?;
    }
    Ok(())
}
