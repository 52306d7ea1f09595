//! The release stream for the console and the public status pages. The role checks are those
//! of the REST handlers (`server/src/routes/api_v1/release_stream.rs`): public dists are open to
//! everyone, private ones to signed-in roles; recording needs a release manager (or admin).

use crate::error::AppError;
use crate::model::release_stream::{ReleaseEvent, ReleaseHistory, StatusPageData, StreamDist};
use crate::model::timeline::Diff;
#[cfg(feature = "ssr")]
use crate::model::Permission;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the console page of a dist's releases shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseConsoleData {
    pub status: StatusPageData,
    /// The newest events first: who did what, and why.
    pub recent: Vec<ReleaseEvent>,
}

#[server(prefix = "/rpc", endpoint = "status/dists")]
pub async fn public_dists() -> Result<Vec<StreamDist>, AppError> {
    use crate::backend::edge::server_fn as sf;
    sf::respond(async {
        let state = sf::state()?;
        crate::backend::registry::stream_dists::list_dists(&state.db, true).await
    })
    .await
}

/// A time from a page's query (`?at=`, `?from=`): RFC 3339, or `now` when empty.
#[cfg(feature = "ssr")]
fn time_or_now(field: &'static str, text: &str, now: i64) -> Result<i64, AppError> {
    use crate::model::release_stream::parse_time_field;
    match text.trim() {
        "" => Ok(now),
        text => Ok(parse_time_field(field, text)?),
    }
}

/// The dist, if whoever calls may read it (see `crate::backend::registry::stream_dists::readable`), and the
/// state to read it with.
#[cfg(feature = "ssr")]
async fn readable(
    dist: &str,
) -> Result<
    (
        crate::backend::AppState,
        crate::backend::registry::stream_dists::DistRef,
    ),
    AppError,
> {
    use crate::backend::edge::server_fn as sf;
    let state = sf::state()?;
    let caller = sf::caller(&state).await.ok().flatten();
    let dist = crate::backend::registry::stream_dists::readable(
        &state.db,
        caller.as_ref().map(|c| c.role),
        dist,
    )
    .await?;
    Ok((state, dist))
}

/// A dist's status page, its tables as of `at` (empty: now).
#[server(prefix = "/rpc", endpoint = "status/dist")]
pub async fn status_of(
    dist: String,
    #[server(default)] at: String,
) -> Result<StatusPageData, AppError> {
    use crate::backend::{
        edge::server_fn as sf, infra::clock::now_millis, release_stream::views as release_views,
    };
    sf::respond(async {
        let now = now_millis();
        let at = time_or_now("at", &at, now)?;
        let (state, dist) = readable(&dist).await?;
        release_views::status_page(&state.db, &state.timelines, &dist, now, at).await
    })
    .await
}

/// One release's stays as of `at` (empty: now).
#[server(prefix = "/rpc", endpoint = "status/history")]
pub async fn history_of(
    dist: String,
    release: String,
    #[server(default)] at: String,
) -> Result<ReleaseHistory, AppError> {
    use crate::backend::{
        edge::server_fn as sf, infra::clock::now_millis, release_stream::views as release_views,
    };
    sf::respond(async {
        let at = time_or_now("at", &at, now_millis())?;
        let (state, dist) = readable(&dist).await?;
        release_views::history(&state.db, &state.timelines, &dist, &release, at).await
    })
    .await
}

/// What changed between `from` and `to` (empty `to`: now).
#[server(prefix = "/rpc", endpoint = "status/diff")]
pub async fn diff_of(
    dist: String,
    from: String,
    #[server(default)] to: String,
) -> Result<Diff<'static>, AppError> {
    use crate::backend::{
        edge::server_fn as sf, infra::clock::now_millis, release_stream::views as release_views,
    };
    sf::respond(async {
        let now = now_millis();
        if from.trim().is_empty() {
            return Err(AppError::validation("from", "is required"));
        }
        let from = time_or_now("from", &from, now)?;
        let to = time_or_now("to", &to, now)?;
        let (state, dist) = readable(&dist).await?;
        release_views::diff(&state.db, &state.timelines, &dist, from, to).await
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "releases/console")]
pub async fn release_console(dist: String) -> Result<ReleaseConsoleData, AppError> {
    use crate::backend::release_stream::events as release_stream;
    use crate::backend::{
        edge::server_fn as sf, infra::clock::now_millis, release_stream::views as release_views,
    };
    sf::respond(async {
        let (state, caller) = sf::require(Permission::ReadReleaseStream).await?;
        let found =
            crate::backend::registry::stream_dists::readable(&state.db, Some(caller.role), &dist)
                .await?;
        let now = now_millis();
        Ok(ReleaseConsoleData {
            status: release_views::status_page(&state.db, &state.timelines, &found, now, now)
                .await?,
            recent: release_stream::recent_events(&state.db, &dist, 50).await?,
        })
    })
    .await
}

/// Records an event from the console form. `action` is `entered` or `left`; `at` is an
/// optional RFC 3339 time (empty: now).
#[server(prefix = "/rpc", endpoint = "releases/record")]
pub async fn record_release_event(
    dist: String,
    release: String,
    state: String,
    action: String,
    #[server(default)] note: String,
    #[server(default)] at: String,
) -> Result<ReleaseEvent, AppError> {
    use crate::backend::{edge::server_fn as sf, release_stream::views as release_views};
    use crate::model::release_stream::{parse_time_field, Action, NewReleaseEvent};
    sf::respond(async {
        let (app, caller) = sf::require(Permission::RecordReleaseEvent).await?;
        let action = Action::parse(&action)
            .ok_or_else(|| AppError::validation("action", "must be entered or left"))?;
        let at = Some(at.trim())
            .filter(|t| !t.is_empty())
            .map(|t| parse_time_field("at", t))
            .transpose()?;
        let new = NewReleaseEvent {
            dist: dist.trim().to_string(),
            release: release.trim().to_string(),
            state: state.trim().to_string(),
            action,
            at,
            note: note.trim().to_string(),
        };
        let event =
            release_views::record(&app.db, &app.timelines, &app.outbox, &caller.actor(), &new)
                .await?;
        Ok(event)
    })
    .await
}

/// The public face of a dist (admins): `public` is a checkbox (`on` when ticked).
#[server(prefix = "/rpc", endpoint = "releases/settings")]
pub async fn set_release_settings(
    dist: String,
    #[server(default)] public: Option<String>,
    stable_state: String,
    branched_state: String,
) -> Result<StreamDist, AppError> {
    use crate::backend::edge::server_fn as sf;
    use crate::model::release_stream::StreamDistSettings;
    sf::respond(async {
        let (state, caller) = sf::require(Permission::ConfigureReleaseStream).await?;
        let settings = StreamDistSettings {
            public: public.is_some_and(|p| !p.is_empty() && p != "false"),
            stable_state: stable_state.trim().to_string(),
            branched_state: branched_state.trim().to_string(),
        };
        crate::backend::registry::stream_dists::set_settings(
            &state.db,
            &caller.actor(),
            &dist,
            &settings,
        )
        .await
    })
    .await
}

/// The rules of a dist and the webhooks a rule may point at (admins).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesData {
    pub rules: Vec<crate::model::release_stream::ReleaseRule>,
    /// `(id, url)` of every webhook.
    pub webhooks: Vec<(i64, String)>,
}

/// The rules of a dist for an admin; `None` for anyone else (the page then shows no rules
/// section), so loading it never fails the page of a non-admin.
#[server(prefix = "/rpc", endpoint = "rules/list")]
pub async fn list_rules(dist: String) -> Result<Option<RulesData>, AppError> {
    use crate::backend::{
        edge::server_fn as sf, messaging::webhooks, release_stream::rules as release_rules,
    };
    sf::respond(async {
        let state = sf::state()?;
        let caller = sf::caller(&state).await?;
        if !caller.is_some_and(|c| c.role.may(Permission::ManageReleaseRules)) {
            return Ok(None);
        }
        Ok(Some(RulesData {
            rules: release_rules::list(&state.db, Some(&dist))
                .await?
                .into_iter()
                .filter(|r| r.active)
                .collect(),
            webhooks: webhooks::list(&state.db)
                .await?
                .into_iter()
                .map(|w| (w.id, w.url))
                .collect(),
        }))
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "rules/create")]
pub async fn create_rule(
    dist: String,
    state: String,
    on: String,
    webhook_id: i64,
) -> Result<crate::model::release_stream::ReleaseRule, AppError> {
    use crate::backend::{edge::server_fn as sf, release_stream::rules as release_rules};
    use crate::model::release_stream::{Action, NewReleaseRule, RuleAction};
    sf::respond(async {
        let (app, caller) = sf::require(Permission::ManageReleaseRules).await?;
        let on = Action::parse(&on)
            .ok_or_else(|| AppError::validation("on", "must be entered or left"))?;
        let new = NewReleaseRule {
            dist,
            state: state.trim().to_string(),
            on,
            action: RuleAction::Webhook { webhook_id },
        };
        release_rules::create(&app.db, &caller.actor(), &new).await
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "rules/remove")]
pub async fn remove_rule(id: i64) -> Result<(), AppError> {
    use crate::backend::{edge::server_fn as sf, release_stream::rules as release_rules};
    sf::respond(async {
        let (app, caller) = sf::require(Permission::ManageReleaseRules).await?;
        release_rules::remove(&app.db, &caller.actor(), id).await
    })
    .await
}
