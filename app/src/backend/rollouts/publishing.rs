//! Publishing and withdrawing builds: the decisions that change what devices are offered.
//! Publishing is the one-step rollout; withdrawing halts every rollout of the build. Both
//! refresh the catalog before they return, so the next update check sees them.

use crate::backend::catalog::store::CatalogStore;
use crate::backend::infra::audit::{self, Actor};
use crate::backend::infra::clock::now_millis;
use crate::backend::infra::db::Db;
use crate::backend::messaging::outbox;
use crate::backend::registry::{builds, dists};
use crate::backend::rollouts::store;
use crate::error::AppError;
use crate::model::dist::{check_slug, check_withdraw_reason, BuildView};
use crate::model::rollout::NewRollout;

/// Publishes a build of the stable branch, named by its version, to the stable channel.
#[tracing::instrument(skip_all)]
pub async fn publish(
    db: &Db,
    catalog: &CatalogStore,
    actor: &Actor,
    dist: &str,
    channel: &str,
    version: &str,
) -> Result<BuildView, AppError> {
    check_slug("channel", channel)?;
    let dist = dists::find(db, dist).await?;
    if channel != dist.stable_channel {
        return Err(AppError::not_found(format!(
            "channel '{channel}' of dist '{}'",
            dist.name
        )));
    }
    let (id, _) = builds::find_by_name(db, dist.id, &dist.stable_branch, version)
        .await?
        .ok_or_else(|| {
            AppError::validation(
                "version",
                format!(
                    "no build '{version}' on branch '{}' of dist '{}'",
                    dist.stable_branch, dist.name
                ),
            )
        })?;
    let build = builds::view(db, id).await?;
    if build.withdrawn_at.is_some() {
        return Err(AppError::conflict(
            "this build was withdrawn and cannot be published",
        ));
    }
    if build.channels.iter().any(|c| c == channel) {
        return Ok(build);
    }
    let rollout = NewRollout::publish(&dist.name, channel, version);
    store::create(db, catalog, actor, &rollout).await?;
    builds::view(db, id).await
}

/// Publishes the build with this id to its dist's stable channel. Only builds of the stable
/// branch can be; naming the build by id, the caller learns that here rather than finding
/// another build of the same version published.
#[tracing::instrument(skip_all)]
pub async fn publish_build(
    db: &Db,
    catalog: &CatalogStore,
    actor: &Actor,
    id: i64,
) -> Result<BuildView, AppError> {
    let build = builds::view(db, id).await?;
    let dist = dists::find(db, &build.dist).await?;
    if build.branch != dist.stable_branch {
        return Err(AppError::validation(
            "id",
            format!(
                "only builds of branch '{}' can be published to '{}'",
                dist.stable_branch, dist.stable_channel
            ),
        ));
    }
    publish(
        db,
        catalog,
        actor,
        &dist.name,
        &dist.stable_channel,
        &build.version,
    )
    .await
}

/// Stops offering a build anywhere; devices get the freshest build still allowed, or nothing.
#[tracing::instrument(skip_all)]
pub async fn withdraw(
    db: &Db,
    catalog: &CatalogStore,
    actor: &Actor,
    id: i64,
    reason: &str,
) -> Result<BuildView, AppError> {
    let reason = reason.trim();
    check_withdraw_reason(reason)?;
    let build = builds::view(db, id).await?;
    if build.withdrawn_at.is_some() {
        return Ok(build);
    }
    let mut tx = db.begin().await?;
    builds::mark_withdrawn(&mut tx, id).await?;
    store::halt_for_withdrawal(&mut tx, id, &actor.name).await?;
    let target = format!("{}/{}/{}", build.dist, build.branch, build.version);
    audit::record(&mut tx, actor, "build.withdraw", &target, reason).await?;
    let message = serde_json::json!({
        "dist": build.dist, "build": id, "branch": build.branch, "version": build.version,
        "reason": reason, "actor": actor.name, "at": now_millis(),
    });
    outbox::enqueue(&mut tx, &outbox::build_topic("withdrawn"), &message).await?;
    tx.commit().await?;
    catalog.changed(db).await?;
    builds::view(db, id).await
}
