//! The device protocol, kept exactly as real devices speak it (seed 000):
//! `GET /v1/upgrade?arch&branch&boardversion&uuid&user`, the path-only legacy version file, and
//! `POST /v1/log`. The answers are `backend::devices::update_check`'s; this only parses and
//! renders them.

use super::forms::ClientAddress;
use app::backend::catalog::rollout_tracker::{settling_report, ReportedGrant};
use app::backend::devices::reports::ReportRecord;
use app::backend::devices::update_check::{self, Answer, HotPath, LegacyAnswer, UpdateCheck};
use app::backend::edge::client_address::ClientIp;
use app::backend::infra::clock::now_millis;
use app::backend::AppState;
use app::model::catalog::CheckError;
use app::model::device_report::DeviceReport;
use app::model::report_key;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, StatusCode};
use std::borrow::Cow;
use std::sync::Arc;

pub const MAX_REPORT_BYTES: usize = 64 * 1024;
const PARAM_MAX: usize = 256;

/// `{"error":{"code","message","field"}}` for devices.
fn device_error(status: StatusCode, code: &str, field: &str, message: String) -> Response {
    let body = serde_json::json!({ "error": { "code": code, "message": message, "field": field } });
    (status, Json(body)).into_response()
}

fn check_error(error: CheckError) -> Response {
    match error {
        CheckError::Invalid { field, message } => {
            device_error(StatusCode::BAD_REQUEST, "invalid", field, message)
        }
        CheckError::Unknown { field, message } => {
            device_error(StatusCode::NOT_FOUND, "not_found", field, message)
        }
    }
}

/// The query parameters, each required one present, short and printable. A parameter given
/// twice counts as its last value.
fn parse_query(raw: Option<&str>) -> Result<UpdateCheck, CheckError> {
    const NAMES: [&str; 6] = ["arch", "branch", "boardversion", "uuid", "user", "dist"];
    let mut values: [Option<Cow<'_, str>>; 6] = Default::default();
    for (name, value) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if let Some(i) = NAMES.iter().position(|n| *n == name) {
            values[i] = Some(value);
        }
    }
    let mut take = |i: usize, required: bool| -> Result<Option<String>, CheckError> {
        let field = NAMES[i];
        match values[i].take() {
            Some(v) if v.len() > PARAM_MAX || v.chars().any(char::is_control) => {
                Err(CheckError::Invalid {
                    field,
                    message: format!("must be at most {PARAM_MAX} printable characters"),
                })
            }
            Some(v) if !v.is_empty() => Ok(Some(v.into_owned())),
            _ if required => Err(CheckError::Invalid {
                field,
                message: "is required".into(),
            }),
            _ => Ok(None),
        }
    };
    Ok(UpdateCheck {
        arch: take(0, true)?.unwrap_or_default(),
        branch: take(1, false)?,
        boardversion: take(2, true)?.unwrap_or_default(),
        uuid: take(3, true)?.unwrap_or_default(),
        user: take(4, false)?.unwrap_or_default(),
        dist: take(5, false)?,
    })
}

/// Whether an offer is answered as the bare URL (`text/plain`) rather than JSON. Recalbox's
/// shipped client sends no `branch` and `Accept: */*`, and takes the whole body as the URL of
/// the new version; clients that send a `branch` (the seed's story) read JSON. So: JSON when
/// `Accept` names `application/json`, the URL when it names `text/plain`, and otherwise the
/// URL exactly when no `branch` was sent.
fn answers_with_the_bare_url(headers: &HeaderMap, branch_given: bool) -> bool {
    let accept = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if accept.contains("application/json") {
        false
    } else {
        accept.contains("text/plain") || !branch_given
    }
}

/// The device routes' state: the `AppState` behind one `Arc`, so that a request clones one
/// pointer, not the dozen reference counts of the `AppState` (both cores would take turns to
/// own each of them).
#[derive(Clone)]
pub struct DeviceApi(Arc<AppState>);

impl DeviceApi {
    pub fn new(state: &AppState) -> DeviceApi {
        DeviceApi(Arc::new(state.clone()))
    }
}

impl std::ops::Deref for DeviceApi {
    type Target = AppState;
    fn deref(&self) -> &AppState {
        &self.0
    }
}

pub async fn upgrade(
    State(api): State<DeviceApi>,
    ClientIp(address): ClientIp,
    request: Request,
) -> Response {
    let check = match parse_query(request.uri().query()) {
        Ok(check) => check,
        Err(e) => return check_error(e),
    };
    let bare_url = answers_with_the_bare_url(request.headers(), check.branch.is_some());
    let hot = HotPath {
        catalog: &api.catalog,
        seen: &api.seen,
        default_dist: api.default_dist.as_deref(),
        report_url: &api.report_url,
    };
    match update_check::answer(&hot, check, address, now_millis()) {
        Err(e) => check_error(e),
        Ok(Answer::NoUpdate {
            retry_after_seconds,
        }) => no_update(retry_after_seconds),
        Ok(Answer::Offer(offer)) if bare_url => {
            ([(CONTENT_TYPE, "text/plain; charset=utf-8")], offer.url).into_response()
        }
        Ok(Answer::Offer(offer)) => Json(offer).into_response(),
    }
}

/// 204, with a `Retry-After` hint when a rollout's cap holds the device back.
fn no_update(retry_after: Option<u64>) -> Response {
    match retry_after {
        Some(seconds) => {
            (StatusCode::NO_CONTENT, [(RETRY_AFTER, seconds.to_string())]).into_response()
        }
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

/// `GET /legacy/{dist}/{branch}/{board}/{file}`: for clients that cannot send query parameters
/// (NOOBS): the version they should run, as plain text.
pub async fn legacy_version(
    State(state): State<DeviceApi>,
    ClientAddress(address): ClientAddress,
    Path((dist, branch, board, file)): Path<(String, String, String, String)>,
) -> Response {
    let path = (
        dist.as_str(),
        branch.as_str(),
        board.as_str(),
        file.as_str(),
    );
    match update_check::answer_legacy(&state.catalog, path, &address, now_millis()) {
        Ok(LegacyAnswer::Version(version)) => (
            [(CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{version}\n"),
        )
            .into_response(),
        Ok(LegacyAnswer::Later {
            retry_after_seconds,
        }) => no_update(Some(retry_after_seconds)),
        Err(e) => check_error(e),
    }
}

/// `POST /v1/log`: a device's report, answered once it is durable.
pub async fn report(
    State(state): State<DeviceApi>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return device_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "body",
                format!("a report must be at most {MAX_REPORT_BYTES} bytes"),
            )
        }
        Err(rejection) => {
            return device_error(
                StatusCode::BAD_REQUEST,
                "invalid",
                "body",
                rejection.body_text(),
            )
        }
    };
    let mut report = match DeviceReport::parse(&body) {
        Ok(report) => report,
        Err(e) => return device_error(StatusCode::BAD_REQUEST, "invalid", e.field, e.message),
    };
    let catalog = state.catalog.get();
    let dist = catalog.dist_for_device(
        report.dist.as_deref(),
        state.default_dist.as_deref(),
        &report.board,
        &report.boardversion,
    );
    let dist = match dist {
        Ok(dist) => dist,
        Err(e) => return check_error(e),
    };
    if report.branch.is_empty() {
        report.branch = dist.stable_channel.clone();
    }
    let key = headers
        .get(report_key::HEADER)
        .and_then(|v| v.to_str().ok());
    if !report_key::accepts(dist.report_key.as_deref(), key) {
        return device_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            report_key::HEADER,
            "this dist takes reports only with its report key".into(),
        );
    }
    let now = now_millis();
    let mut grants: Vec<ReportedGrant> = dist
        .rollout_for(&report.branch)
        .and_then(|rollout| state.catalog.rollouts.on_report(rollout, &report, now))
        .into_iter()
        .collect();
    grants.extend(
        dist.settling_for(&report.branch)
            .map(|rollout| settling_report(rollout, &report, now)),
    );
    let record = ReportRecord {
        dist_id: dist.id,
        report,
        address,
        received_at: now,
        grants,
    };
    match state.reports.submit(record).await {
        Ok(()) => Json(serde_json::json!({ "recorded": true })).into_response(),
        Err(error) => error.into_response(),
    }
}

/// `GET /v1/dists/{dist}`: what a device (or the fleet simulator) needs to know about a dist,
/// from the in-memory catalog: its version scheme and the version older than every build.
/// Only dists that serve devices (some build is registered) are shown: a dist that exists only
/// for its release stream may be private, and this answer needs no sign-in.
pub async fn dist_info(State(state): State<DeviceApi>, Path(dist): Path<String>) -> Response {
    let catalog = state.catalog.get();
    let found = catalog.dist(Some(&dist)).and_then(|dist| {
        if dist.boards.is_empty() {
            Err(CheckError::Unknown {
                field: "dist",
                message: format!("unknown dist '{}'", dist.name),
            })
        } else {
            Ok(dist)
        }
    });
    match found {
        Ok(dist) => Json(serde_json::json!({
            "name": dist.name,
            "version_scheme": dist.scheme.as_str(),
            "stable_channel": dist.stable_channel,
            "floor_version": dist.scheme.floor(),
        }))
        .into_response(),
        Err(e) => check_error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = value {
            headers.insert(ACCEPT, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn recalboxs_client_gets_the_bare_url_and_the_seeds_story_gets_json() {
        assert!(answers_with_the_bare_url(&accept(Some("*/*")), false));
        assert!(answers_with_the_bare_url(&accept(None), false));
        assert!(!answers_with_the_bare_url(&accept(Some("*/*")), true));
        assert!(!answers_with_the_bare_url(
            &accept(Some("application/json")),
            false
        ));
        assert!(answers_with_the_bare_url(&accept(Some("text/plain")), true));
    }

    #[test]
    fn the_branch_and_the_user_may_be_left_out() {
        let query = parse_query(Some("arch=rpi3&boardversion=4.1.0-0001&uuid=u1")).unwrap();
        assert_eq!(query.branch, None);
        assert_eq!(query.user, "");
        assert!(
            parse_query(Some("boardversion=1&uuid=u1")).is_err(),
            "arch is required"
        );
    }
}
