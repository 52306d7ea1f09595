//! Rollouts for the console. The role checks are those of the REST handlers
//! (`server/src/routes/api_v1/rollouts.rs`): every role reads, release managers (and admins)
//! start and steer.

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::rollout::NewRollout;
use crate::model::rollout::{BucketView, RolloutEvent, RolloutView};
#[cfg(feature = "ssr")]
use crate::model::Permission;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A rollout page: the rollout, its history, and how fast policy minutes run here.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RolloutPage {
    pub rollout: RolloutView,
    pub history: Vec<RolloutEvent>,
    pub now: i64,
}

#[server(prefix = "/rpc", endpoint = "rollouts/list")]
pub async fn list_rollouts(dist: String) -> Result<Vec<RolloutView>, AppError> {
    use crate::backend::{edge::server_fn as sf, rollouts::store as rollouts};
    sf::respond(async {
        let (state, _) = sf::require(Permission::ReadRollouts).await?;
        rollouts::list(&state.db, &state.catalog.rollouts, &dist).await
    })
    .await
}

/// A dist and its rollouts, for the dist's rollouts page: one call, so the page's one resource
/// resolves in one step.
#[server(prefix = "/rpc", endpoint = "rollouts/of_dist")]
pub async fn rollouts_of_dist(
    dist: String,
) -> Result<(crate::model::dist::DistView, Vec<RolloutView>), AppError> {
    use crate::backend::{edge::server_fn as sf, registry::dists, rollouts::store as rollouts};
    sf::respond(async {
        let (state, _) = sf::require(Permission::ReadRollouts).await?;
        let info = dists::find(&state.db, &dist).await?;
        let list = rollouts::list(&state.db, &state.catalog.rollouts, &dist).await?;
        Ok((info, list))
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "rollouts/get")]
pub async fn get_rollout(id: i64) -> Result<RolloutPage, AppError> {
    use crate::backend::{edge::server_fn as sf, infra::clock, rollouts::store as rollouts};
    sf::respond(async {
        let (state, _) = sf::require(Permission::ReadRollouts).await?;
        Ok(RolloutPage {
            rollout: rollouts::view(&state.db, &state.catalog.rollouts, id).await?,
            history: rollouts::history_of(&state.db, id).await?,
            now: clock::now_millis(),
        })
    })
    .await
}

/// The console's "Start a rollout" form, as flat text fields; each is checked against its
/// name so that a mistake is reported where it was made.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutForm {
    pub version: String,
    pub steps: String,
    #[serde(default)]
    pub min_reports: String,
    #[serde(default)]
    pub max_failure_ratio_percent: String,
    #[serde(default)]
    pub update_timeout_minutes: String,
    #[serde(default)]
    pub max_grants_per_hour: String,
    #[serde(default)]
    pub max_in_flight: String,
    #[serde(default)]
    pub canary_uuids: String,
    #[serde(default)]
    pub deny_uuids: String,
    #[serde(default)]
    pub cohort_salt: String,
}

#[server(prefix = "/rpc", endpoint = "rollouts/create")]
pub async fn create_rollout(
    dist: String,
    #[server(flatten)] form: RolloutForm,
) -> Result<RolloutView, AppError> {
    use crate::backend::{edge::server_fn as sf, registry::dists, rollouts::store as rollouts};
    use crate::model::rollout::{parse_steps, Health, DEFAULT_UPDATE_TIMEOUT_MINUTES};
    let RolloutForm {
        version,
        steps,
        min_reports,
        max_failure_ratio_percent,
        update_timeout_minutes,
        max_grants_per_hour,
        max_in_flight,
        canary_uuids,
        deny_uuids,
        cohort_salt,
    } = form;
    sf::respond(async {
        let (state, caller) = sf::require(Permission::SteerRollout).await?;
        let dist_view = dists::find(&state.db, &dist).await?;
        let number = |field: &'static str, text: &str| -> Result<Option<u32>, AppError> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(None);
            }
            text.parse::<u32>()
                .map(Some)
                .map_err(|_| AppError::validation(field, "must be a whole number"))
        };
        let ratio = match max_failure_ratio_percent.trim() {
            "" => 100.0,
            text => text.trim_end_matches('%').parse::<f64>().map_err(|_| {
                AppError::validation("health.max_failure_ratio", "must be a percent")
            })?,
        };
        let list = |text: &str| -> Vec<String> {
            text.split([',', '\n', ' '])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        };
        let new = NewRollout {
            dist: dist_view.name.clone(),
            channel: dist_view.stable_channel.clone(),
            version: version.trim().to_string(),
            steps: parse_steps(&steps).map_err(|m| AppError::validation("steps", m))?,
            cohort_salt: Some(cohort_salt.trim().to_string()).filter(|s| !s.is_empty()),
            canary_uuids: list(&canary_uuids),
            deny_uuids: list(&deny_uuids),
            health: Health {
                min_reports: number("health.min_reports", &min_reports)?.unwrap_or(0),
                max_failure_ratio: ratio / 100.0,
            },
            update_timeout_minutes: number("update_timeout_minutes", &update_timeout_minutes)?
                .unwrap_or(DEFAULT_UPDATE_TIMEOUT_MINUTES),
            max_grants_per_hour: number("max_grants_per_hour", &max_grants_per_hour)?,
            max_in_flight: number("max_in_flight", &max_in_flight)?,
        };
        let id = rollouts::create(&state.db, &state.catalog, &caller.actor(), &new).await?;
        let view = rollouts::view(&state.db, &state.catalog.rollouts, id).await?;
        leptos_axum::redirect(&format!("/rollouts/{id}"));
        Ok(view)
    })
    .await
}

/// Pause, resume, halt, advance, roll back or set the percent, with the reason.
#[server(prefix = "/rpc", endpoint = "rollouts/steer")]
pub async fn steer_rollout(
    id: i64,
    action: String,
    #[server(default)] percent: String,
    #[server(default)] reason: String,
) -> Result<(), AppError> {
    use crate::backend::{edge::server_fn as sf, rollouts::store as rollouts};
    use crate::model::rollout::Command;
    sf::respond(async {
        let (state, caller) = sf::require(Permission::SteerRollout).await?;
        let command = Command::parse(&action)
            .ok_or_else(|| AppError::validation("action", "unknown action"))?;
        let percent = match percent.trim() {
            "" => None,
            text => Some(
                text.trim_end_matches('%')
                    .parse::<f64>()
                    .map_err(|_| AppError::validation("percent", "must be a number"))?,
            ),
        };
        let actor = caller.actor();
        rollouts::command(
            &state.db,
            &state.catalog,
            &actor,
            id,
            command,
            percent,
            &reason,
        )
        .await
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "rollouts/bucket")]
pub async fn rollout_bucket(id: i64, uuid: String) -> Result<BucketView, AppError> {
    use crate::backend::{edge::server_fn as sf, rollouts::store as rollouts};
    sf::respond(async {
        let (state, _) = sf::require(Permission::ReadRollouts).await?;
        rollouts::bucket_of(&state.db, id, &uuid).await
    })
    .await
}
