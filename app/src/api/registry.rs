//! Dists, mirrors and builds for the console. The role checks are those of the REST handlers
//! (`server/src/routes/api_v1/registry.rs`): reading is open to every role, dist and mirror
//! writes to admins, registering, publishing and withdrawing to release managers (see
//! `model::permission`). The backend's writes refresh the catalog devices read themselves.

use crate::error::AppError;
use crate::model::dist::{
    BoardFiles, BuildDetail, BuildView, DistView, MirrorView, NewBuild, NewBuildFile,
};
use crate::model::version::VersionScheme;
#[cfg(feature = "ssr")]
use crate::model::Permission;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[server(prefix = "/rpc", endpoint = "dists/list")]
pub async fn list_dists() -> Result<Vec<DistView>, AppError> {
    use crate::backend::{edge::server_fn as sf, registry::dists};
    sf::respond(async {
        let (state, _) = sf::require(Permission::ReadRegistry).await?;
        dists::list(&state.db).await
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "dists/get")]
pub async fn get_dist(name: String) -> Result<DistView, AppError> {
    use crate::backend::{edge::server_fn as sf, registry::dists};
    sf::respond(async {
        let (state, _) = sf::require(Permission::ReadRegistry).await?;
        dists::find(&state.db, &name).await
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "dists/create")]
pub async fn create_dist(
    name: String,
    version_scheme: VersionScheme,
    stable_channel: String,
    stable_branch: String,
    #[server(default)] legacy_version_file: Option<String>,
) -> Result<DistView, AppError> {
    use crate::backend::{edge::server_fn as sf, registry::dists};
    use crate::model::dist::NewDist;
    sf::respond(async {
        let (state, caller) = sf::require(Permission::ManageDists).await?;
        let new = NewDist {
            name: name.trim().to_string(),
            version_scheme,
            stable_channel: stable_channel.trim().to_string(),
            stable_branch: stable_branch.trim().to_string(),
            legacy_version_file: legacy_version_file
                .map(|f| f.trim().to_string())
                .filter(|f| !f.is_empty()),
        };
        dists::create(&state.db, &state.catalog, &caller.actor(), &new).await
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "mirrors/list")]
pub async fn list_mirrors(dist: String) -> Result<Vec<MirrorView>, AppError> {
    use crate::backend::{edge::server_fn as sf, registry::dists};
    sf::respond(async {
        let (state, _) = sf::require(Permission::ReadRegistry).await?;
        dists::mirrors(&state.db, &dist).await
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "mirrors/add")]
pub async fn add_mirror(
    dist: String,
    url_template: String,
    weight: u32,
) -> Result<MirrorView, AppError> {
    use crate::backend::{edge::server_fn as sf, registry::dists};
    use crate::model::dist::NewMirror;
    sf::respond(async {
        let (state, caller) = sf::require(Permission::ManageMirrors).await?;
        let new = NewMirror {
            url_template: url_template.trim().to_string(),
            weight,
        };
        dists::add_mirror(&state.db, &state.catalog, &caller.actor(), &dist, &new).await
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "mirrors/remove")]
pub async fn remove_mirror(dist: String, id: i64) -> Result<(), AppError> {
    use crate::backend::{edge::server_fn as sf, registry::dists};
    sf::respond(async {
        let (state, caller) = sf::require(Permission::ManageMirrors).await?;
        dists::remove_mirror(&state.db, &state.catalog, &caller.actor(), &dist, id).await
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "builds/list")]
pub async fn list_builds(
    dist: String,
    #[server(default)] branch: Option<String>,
    #[server(default)] board: Option<String>,
) -> Result<Vec<BuildView>, AppError> {
    use crate::backend::{edge::server_fn as sf, registry::builds};
    sf::respond(async {
        let (state, _) = sf::require(Permission::ReadRegistry).await?;
        builds::list(&state.db, &dist, branch.as_deref(), board.as_deref()).await
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "builds/detail")]
pub async fn get_build(id: i64) -> Result<BuildDetail, AppError> {
    use crate::backend::{devices::build_detail, edge::server_fn as sf};
    sf::respond(async {
        let (state, _) = sf::require(Permission::ReadRegistry).await?;
        build_detail::of_build(&state.db, id).await
    })
    .await
}

/// A build and its dist, for the build page: one call, so the page's one resource resolves in
/// one step (two calls in a row made the page fail to hydrate now and then).
#[server(prefix = "/rpc", endpoint = "builds/page")]
pub async fn build_with_dist(id: i64) -> Result<(BuildDetail, DistView), AppError> {
    use crate::backend::{devices::build_detail, edge::server_fn as sf, registry::dists};
    sf::respond(async {
        let (state, _) = sf::require(Permission::ReadRegistry).await?;
        let detail = build_detail::of_build(&state.db, id).await?;
        let dist = dists::find(&state.db, &detail.build.dist).await?;
        Ok((detail, dist))
    })
    .await
}

/// A build registered by hand in the console: one board and up to two files, as flat form
/// fields (CI registers richer builds through `POST /api/v1/builds`). Every field is text so
/// that a bad number is reported against its field rather than failing the whole call.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandBuild {
    pub branch: String,
    pub version: String,
    pub base_url: String,
    pub board: String,
    pub file1_name: String,
    pub file1_size: String,
    pub file1_sha256: String,
    #[serde(default)]
    pub file2_name: String,
    #[serde(default)]
    pub file2_size: String,
    #[serde(default)]
    pub file2_sha256: String,
    #[serde(default)]
    pub notes: String,
}

impl HandBuild {
    /// The registration CI would have sent. A second file row left entirely empty is skipped.
    pub fn into_new_build(self, dist: &str) -> Result<NewBuild, AppError> {
        let mut files = vec![file(
            "file1",
            &self.file1_name,
            &self.file1_size,
            &self.file1_sha256,
        )?];
        let second = [&self.file2_name, &self.file2_size, &self.file2_sha256];
        if second.iter().any(|v| !v.trim().is_empty()) {
            files.push(file(
                "file2",
                &self.file2_name,
                &self.file2_size,
                &self.file2_sha256,
            )?);
        }
        let mut boards = BTreeMap::new();
        boards.insert(self.board.trim().to_string(), BoardFiles { files });
        Ok(NewBuild {
            dist: dist.trim().to_string(),
            branch: self.branch.trim().to_string(),
            version: self.version.trim().to_string(),
            base_url: self.base_url.trim().to_string(),
            boards,
            notes: self.notes.trim().to_string(),
        })
    }
}

fn file(row: &str, name: &str, size: &str, sha256: &str) -> Result<NewBuildFile, AppError> {
    let size = size
        .trim()
        .parse::<i64>()
        .map_err(|_| AppError::validation(format!("{row}_size"), "must be a size in bytes"))?;
    Ok(NewBuildFile {
        name: name.trim().to_string(),
        size,
        sha256: sha256.trim().to_ascii_lowercase(),
    })
}

/// Registers a build typed in by a release manager. Registering the same build twice answers
/// the existing one, as the API does.
#[server(prefix = "/rpc", endpoint = "builds/register")]
pub async fn register_build(
    dist: String,
    #[server(flatten)] form: HandBuild,
) -> Result<BuildView, AppError> {
    use crate::backend::edge::server_fn as sf;
    use crate::backend::registry::builds::{self, Registered};
    sf::respond(async {
        let (state, caller) = sf::require(Permission::RegisterBuild).await?;
        let new = form.into_new_build(&dist)?;
        match builds::register(&state.db, &state.catalog, &caller.actor(), &new).await? {
            Registered::Created(build) | Registered::Existing(build) => Ok(build),
        }
    })
    .await
}

/// Publishes a build of the stable branch to its dist's stable channel.
#[server(prefix = "/rpc", endpoint = "builds/publish")]
pub async fn publish_build(id: i64) -> Result<BuildView, AppError> {
    use crate::backend::{edge::server_fn as sf, rollouts::publishing};
    sf::respond(async {
        let (state, caller) = sf::require(Permission::PublishBuild).await?;
        publishing::publish_build(&state.db, &state.catalog, &caller.actor(), id).await
    })
    .await
}

/// Stops offering a build anywhere. The console asks for a reason; it goes to the audit log.
#[server(prefix = "/rpc", endpoint = "builds/withdraw")]
pub async fn withdraw_build(id: i64, reason: String) -> Result<BuildView, AppError> {
    use crate::backend::{edge::server_fn as sf, rollouts::publishing};
    sf::respond(async {
        let (state, caller) = sf::require(Permission::WithdrawBuild).await?;
        publishing::withdraw(&state.db, &state.catalog, &caller.actor(), id, &reason).await
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> HandBuild {
        HandBuild {
            branch: "master".into(),
            version: "master-2017-08-26-891011".into(),
            base_url: "https://example.com".into(),
            board: "rpi3".into(),
            file1_name: "root.tar.gz".into(),
            file1_size: "1024".into(),
            file1_sha256: "A".repeat(64),
            ..HandBuild::default()
        }
    }

    #[test]
    fn one_file_row_makes_a_valid_build() {
        let build = form().into_new_build("recalbox").unwrap();
        assert_eq!(build.check(), Ok(()));
        let files = &build.boards["rpi3"].files;
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].sha256, "a".repeat(64));
    }

    #[test]
    fn a_started_second_row_is_used_and_checked() {
        let mut f = form();
        f.file2_name = "boot.tar.gz".into();
        let err = f.clone().into_new_build("recalbox").unwrap_err();
        assert_eq!(
            err,
            AppError::validation("file2_size", "must be a size in bytes")
        );
        f.file2_size = "10".into();
        f.file2_sha256 = "b".repeat(64);
        assert_eq!(
            f.into_new_build("recalbox").unwrap().boards["rpi3"]
                .files
                .len(),
            2
        );
    }

    #[test]
    fn a_bad_size_names_its_field() {
        let mut f = form();
        f.file1_size = "big".into();
        assert_eq!(
            f.into_new_build("recalbox").unwrap_err(),
            AppError::validation("file1_size", "must be a size in bytes")
        );
    }
}
