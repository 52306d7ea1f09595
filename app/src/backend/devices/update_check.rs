//! The device hot path: which build a device gets, answered from memory alone (the catalog and
//! the rollout tracker), with the check-in noted for the next batched write. The HTTP handler
//! (`server::routes::device`) only parses the request and renders the answer.

use crate::backend::catalog::rollout_tracker::Decision;
use crate::backend::catalog::store::CatalogStore;
use crate::backend::devices::check_ins::{Seen, SeenBuffer};
use crate::model::catalog::{CheckError, DistCatalog, OfferableBuild};
use serde::Serialize;
use std::net::IpAddr;

/// A device's update check, as its query string says it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateCheck {
    pub arch: String,
    /// Absent (Recalbox's shipped client): the dist's stable channel.
    pub branch: Option<String>,
    pub boardversion: String,
    pub uuid: String,
    pub user: String,
    pub dist: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OfferFile {
    pub name: String,
    pub url: String,
    pub size: i64,
    pub sha256: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Offer {
    pub url: String,
    pub version: String,
    pub files: Vec<OfferFile>,
    pub mirrors: Vec<String>,
    pub report_url: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Offer(Offer),
    /// Nothing fresher; with a hint when a rollout's cap holds the device back.
    NoUpdate {
        retry_after_seconds: Option<u64>,
    },
}

/// What the update check reads and writes, all of it in memory.
pub struct HotPath<'a> {
    pub catalog: &'a CatalogStore,
    pub seen: &'a SeenBuffer,
    /// The dist that answers devices naming none.
    pub default_dist: Option<&'a str>,
    /// Where devices send their reports (never taken from the request).
    pub report_url: &'a str,
}

/// `GET /v1/upgrade`: the dist, the freshest build the device's branch allows, the rollout's
/// say on it, then the check-in noted.
pub fn answer(
    hot: &HotPath<'_>,
    check: UpdateCheck,
    address: IpAddr,
    now: i64,
) -> Result<Answer, CheckError> {
    let catalog = hot.catalog.get();
    let dist = catalog.dist_for_device(
        check.dist.as_deref(),
        hot.default_dist,
        &check.arch,
        &check.boardversion,
    )?;
    let branch = check.branch.as_deref().unwrap_or(&dist.stable_channel);
    let current = dist.current_key(&check.boardversion)?;
    let mut build = dist.freshest_for(&check.arch, branch, current.as_ref())?;
    let mut retry_after_seconds = None;
    if let Some(rollout) = dist.rollout_for(branch) {
        let baseline = build.map(|b| &b.key);
        let decision = hot.catalog.rollouts.decide(
            rollout,
            &check.arch,
            current.as_ref(),
            baseline,
            &check.uuid,
            address,
            now,
        );
        match decision {
            Decision::Baseline => {}
            Decision::Offer => build = Some(&rollout.build),
            Decision::Capped {
                retry_after_seconds: seconds,
            } => {
                build = None;
                retry_after_seconds = Some(seconds);
            }
        }
    }
    let answer = match build {
        Some(build) => Answer::Offer(offer(dist, build, &check.arch, &check.uuid, hot.report_url)),
        None => Answer::NoUpdate {
            retry_after_seconds,
        },
    };
    // The check's own strings move into the note: no copies on the hot path.
    let seen = Seen {
        branch: check.branch.unwrap_or_else(|| dist.stable_channel.clone()),
        board: check.arch,
        user: check.user,
        version: check.boardversion,
        at: now,
        offered: build.map(|b| b.version.clone()),
    };
    hot.seen.note(dist.id, check.uuid, seen);
    Ok(answer)
}

fn offer(
    dist: &DistCatalog,
    build: &OfferableBuild,
    board: &str,
    uuid: &str,
    report_url: &str,
) -> Offer {
    let mirrors = dist.download_bases(build, board, uuid);
    let url = mirrors[0].clone();
    let files = build
        .files
        .get(board)
        .map(|files| {
            files
                .iter()
                .map(|f| OfferFile {
                    name: f.name.clone(),
                    url: format!("{url}/{}", f.name),
                    size: f.size,
                    sha256: f.sha256.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    Offer {
        url,
        version: build.version.clone(),
        files,
        mirrors,
        report_url: report_url.to_string(),
    }
}

/// What the legacy path answers: the version to run, or a hint to come back later.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LegacyAnswer {
    Version(String),
    Later { retry_after_seconds: u64 },
}

/// `GET /legacy/{dist}/{branch}/{board}/{file}`, for clients that cannot send a query (NOOBS).
/// They send no uuid: a rollout's caps, per client address, are their canary.
pub fn answer_legacy(
    catalog: &CatalogStore,
    (dist, branch, board, file): (&str, &str, &str, &str),
    address: &str,
    now: i64,
) -> Result<LegacyAnswer, CheckError> {
    let snapshot = catalog.get();
    let dist = snapshot.dist(Some(dist))?;
    if dist.legacy_version_file.as_deref() != Some(file) {
        return Err(CheckError::Unknown {
            field: "file",
            message: format!("dist '{}' has no legacy version file '{file}'", dist.name),
        });
    }
    let mut build = dist.freshest_for(board, branch, None)?;
    if let Some(rollout) = dist.rollout_for(branch) {
        match catalog.rollouts.decide_legacy(rollout, board, address, now) {
            Decision::Baseline => {}
            Decision::Offer => build = Some(&rollout.build),
            Decision::Capped {
                retry_after_seconds,
            } if build.is_none() => {
                return Ok(LegacyAnswer::Later {
                    retry_after_seconds,
                })
            }
            Decision::Capped { .. } => {}
        }
    }
    match build {
        Some(build) => Ok(LegacyAnswer::Version(build.version.clone())),
        None => Err(CheckError::Unknown {
            field: "branch",
            message: "no build is offered on this branch yet".into(),
        }),
    }
}
