//! A build with how devices fare with it: what the build page shows.

use crate::backend::devices::check_ins;
use crate::backend::infra::db::Db;
use crate::backend::registry::{builds, dists};
use crate::error::AppError;

#[tracing::instrument(skip_all)]
pub async fn of_build(db: &Db, id: i64) -> Result<crate::model::dist::BuildDetail, AppError> {
    use crate::model::mirrors::{render, MirrorVars};
    let build = builds::view(db, id).await?;
    let dist = dists::find(db, &build.dist).await?;
    let board = build.boards.keys().next().cloned().unwrap_or_default();
    let vars = MirrorVars {
        dist: &dist.name,
        branch: &build.branch,
        version: &build.version,
        board: &board,
    };
    let mut mirrors: Vec<String> = dists::mirrors(db, &dist.name)
        .await?
        .iter()
        .map(|m| render(&m.url_template, &vars))
        .collect();
    mirrors.push(build.base_url.clone());
    let (devices_on_it, reports_ok, reports_failed) =
        check_ins::version_outcomes(db, dist.id, &build.version).await?;
    Ok(crate::model::dist::BuildDetail {
        build,
        mirrors,
        devices_on_it,
        reports_ok,
        reports_failed,
    })
}
