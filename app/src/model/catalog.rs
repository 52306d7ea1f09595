//! The in-memory picture of what may be offered to devices, and the update-check decision made
//! on it. The device hot path reads only this: no database query per request.

use super::mirrors::{self, Mirror, MirrorVars};
use super::rollout::{self, NewRollout, RolloutState};
use super::version::{VersionKey, VersionScheme};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildFile {
    pub name: String,
    pub size: i64,
    pub sha256: String,
}

/// A build that some devices may be offered.
#[derive(Clone, Debug)]
pub struct OfferableBuild {
    pub id: i64,
    pub branch: String,
    pub version: String,
    pub key: VersionKey,
    pub base_url: String,
    /// Files per board; a build is offered only to boards it has files for.
    pub files: HashMap<String, Vec<BuildFile>>,
}

#[derive(Clone, Debug)]
pub struct DistCatalog {
    pub id: i64,
    pub name: String,
    pub scheme: VersionScheme,
    pub stable_channel: String,
    pub stable_branch: String,
    pub legacy_version_file: Option<String>,
    /// The SHA-256 of the key device reports must carry, when the dist requires one.
    pub report_key: Option<String>,
    pub mirrors: Vec<Mirror>,
    /// Every board some registered build has files for.
    pub boards: HashSet<String>,
    /// Builds published to the stable channel and not withdrawn, freshest first.
    pub stable: Vec<Arc<OfferableBuild>>,
    /// Builds of each dev branch, not withdrawn, freshest first.
    pub branches: HashMap<String, Vec<Arc<OfferableBuild>>>,
    /// For the `registration` scheme: version string → registration sequence.
    pub registered: HashMap<String, i64>,
    /// The rollout steering each channel, while one is running, paused or halted.
    pub rollouts: HashMap<String, Arc<ActiveRollout>>,
    /// Rollouts that ended with devices still between offer and outcome.
    pub settling: Vec<SettlingRollout>,
}

/// A rollout that no longer steers its channel (completed, superseded, rolled back) while some
/// devices it offered have not reported an outcome yet: their reports still count (for a
/// completed one, whose build the channel now offers) and they still time out, so its counts
/// settle.
#[derive(Clone, Debug, PartialEq)]
pub struct SettlingRollout {
    pub id: i64,
    pub channel: String,
    pub state: RolloutState,
    /// The version of its build.
    pub version: String,
    pub update_timeout_minutes: u32,
}

/// A rollout still steering its channel, as the update check needs it.
#[derive(Clone, Debug)]
pub struct ActiveRollout {
    pub id: i64,
    pub channel: String,
    pub build: Arc<OfferableBuild>,
    pub state: RolloutState,
    pub current_step: usize,
    pub percent: f64,
    pub step_started_at: i64,
    pub salt: String,
    pub policy: NewRollout,
    pub canary: HashSet<String>,
    pub deny: HashSet<String>,
}

impl ActiveRollout {
    /// Canaries always, denied never, the others by their bucket.
    /// Whether new offers are limited (per hour, or in flight at once).
    pub fn has_caps(&self) -> bool {
        self.policy.max_grants_per_hour.is_some() || self.policy.max_in_flight.is_some()
    }

    pub fn eligible(&self, uuid: &str) -> bool {
        if self.canary.contains(uuid) {
            return true;
        }
        !self.deny.contains(uuid)
            && rollout::in_cohort(rollout::bucket(&self.salt, uuid), self.percent)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Catalog {
    /// Oldest dist first: the first one is the default for devices that do not name a dist.
    pub dists: Vec<DistCatalog>,
}

/// Why an update check cannot be answered: the field and the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckError {
    /// 400: a parameter is missing or malformed.
    Invalid {
        field: &'static str,
        message: String,
    },
    /// 404: no such dist, board or branch.
    Unknown {
        field: &'static str,
        message: String,
    },
}

impl Catalog {
    pub fn dist(&self, name: Option<&str>) -> Result<&DistCatalog, CheckError> {
        match name {
            Some(name) => self.dists.iter().find(|d| d.name == name),
            None => self.dists.first(),
        }
        .ok_or_else(|| CheckError::Unknown {
            field: "dist",
            message: match name {
                Some(name) => format!("unknown dist '{name}'"),
                None => "no dist is configured".into(),
            },
        })
    }
}

impl Catalog {
    /// The dist that answers a device: the one it names, else (as Recalbox's shipped client
    /// names none) the operator's default dist when one is configured, else the first dist,
    /// oldest first, that serves the device's board and knows its version (parses it, or
    /// registered it under the `registration` scheme); when none does, the first dist, whose
    /// answer then says what is wrong.
    pub fn dist_for_device(
        &self,
        name: Option<&str>,
        default: Option<&str>,
        board: &str,
        version: &str,
    ) -> Result<&DistCatalog, CheckError> {
        let name = name.or(default);
        if name.is_some() || self.dists.len() < 2 {
            return self.dist(name);
        }
        self.dists
            .iter()
            .find(|d| d.boards.contains(board) && d.knows_version(version))
            .map_or_else(|| self.dist(None), Ok)
    }
}

impl DistCatalog {
    /// Whether a device's version belongs to this dist's scheme.
    fn knows_version(&self, version: &str) -> bool {
        match self.scheme {
            VersionScheme::Registration => self.registered.contains_key(version),
            scheme => scheme.key(version, None).is_ok(),
        }
    }

    /// True for the names a device uses to follow the stable channel: the channel's name, or
    /// the branch that feeds it (a device on `master` never skips the staged publication).
    pub fn is_stable(&self, branch: &str) -> bool {
        branch == self.stable_channel || branch == self.stable_branch
    }

    /// The rollout steering the channel a device on `branch` follows, if any.
    pub fn rollout_for(&self, branch: &str) -> Option<&Arc<ActiveRollout>> {
        if self.is_stable(branch) {
            self.rollouts.get(&self.stable_channel)
        } else {
            None
        }
    }

    /// The ended rollouts of the channel a device on `branch` follows whose devices' reports
    /// still count: the completed ones still settling.
    pub fn settling_for(&self, branch: &str) -> impl Iterator<Item = &SettlingRollout> {
        let stable = self.is_stable(branch);
        self.settling.iter().filter(move |r| {
            stable && r.channel == self.stable_channel && r.state == RolloutState::Completed
        })
    }

    /// The builds a device following `branch` may get, freshest first.
    pub fn candidates(&self, branch: &str) -> Result<&[Arc<OfferableBuild>], CheckError> {
        if self.is_stable(branch) {
            return Ok(&self.stable);
        }
        self.branches
            .get(branch)
            .map(Vec::as_slice)
            .ok_or_else(|| CheckError::Unknown {
                field: "branch",
                message: format!("unknown branch '{branch}' for dist '{}'", self.name),
            })
    }

    /// The sort key of the version a device runs. Under `registration`, a version never
    /// registered is older than every build.
    pub fn current_key(&self, version: &str) -> Result<Option<VersionKey>, CheckError> {
        if self.scheme == VersionScheme::Registration {
            return Ok(self
                .registered
                .get(version)
                .map(|n| VersionKey::Registration(*n)));
        }
        self.scheme
            .key(version, None)
            .map(Some)
            .map_err(|message| CheckError::Invalid {
                field: "boardversion",
                message,
            })
    }

    /// The freshest build this board may get on this branch that is fresher than `current`,
    /// or `None` when the device is up to date.
    pub fn freshest_for(
        &self,
        board: &str,
        branch: &str,
        current: Option<&VersionKey>,
    ) -> Result<Option<&Arc<OfferableBuild>>, CheckError> {
        if !self.boards.contains(board) {
            return Err(CheckError::Unknown {
                field: "arch",
                message: format!("unknown board '{board}' for dist '{}'", self.name),
            });
        }
        let newest = self
            .candidates(branch)?
            .iter()
            .find(|build| build.files.contains_key(board));
        Ok(newest.filter(|build| current.is_none_or(|c| &build.key > c)))
    }

    /// Download bases for this device, preferred first: its mirrors by weight, then the build's
    /// own host.
    pub fn download_bases(&self, build: &OfferableBuild, board: &str, uuid: &str) -> Vec<String> {
        let vars = MirrorVars {
            dist: &self.name,
            branch: &build.branch,
            version: &build.version,
            board,
        };
        let mut bases: Vec<String> = mirrors::order_for_device(uuid, &self.mirrors)
            .into_iter()
            .map(|m| mirrors::render(&m.url_template, &vars))
            .collect();
        let own = build.base_url.trim_end_matches('/').to_string();
        if !bases.contains(&own) {
            bases.push(own);
        }
        bases
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(id: i64, branch: &str, version: &str, boards: &[&str]) -> Arc<OfferableBuild> {
        Arc::new(OfferableBuild {
            id,
            branch: branch.into(),
            version: version.into(),
            key: VersionScheme::Dated.key(version, None).unwrap(),
            base_url: format!("https://{version}-archive.example"),
            files: boards
                .iter()
                .map(|b| {
                    (
                        b.to_string(),
                        vec![BuildFile {
                            name: "root.tar.gz".into(),
                            size: 1,
                            sha256: "0".repeat(64),
                        }],
                    )
                })
                .collect(),
        })
    }

    fn recalbox(
        stable: Vec<Arc<OfferableBuild>>,
        branches: Vec<(&str, Vec<Arc<OfferableBuild>>)>,
    ) -> DistCatalog {
        let mut boards = HashSet::new();
        for b in stable
            .iter()
            .chain(branches.iter().flat_map(|(_, v)| v.iter()))
        {
            boards.extend(b.files.keys().cloned());
        }
        DistCatalog {
            id: 1,
            name: "recalbox".into(),
            scheme: VersionScheme::Dated,
            stable_channel: "stable".into(),
            stable_branch: "master".into(),
            legacy_version_file: Some("recalbox.version".into()),
            report_key: None,
            mirrors: vec![],
            boards,
            stable,
            branches: branches
                .into_iter()
                .map(|(n, v)| (n.to_string(), v))
                .collect(),
            registered: HashMap::new(),
            rollouts: HashMap::new(),
            settling: Vec::new(),
        }
    }

    fn key(v: &str) -> VersionKey {
        VersionScheme::Dated.key(v, None).unwrap()
    }

    #[test]
    fn a_device_naming_no_dist_is_answered_by_the_dist_of_its_board_and_version() {
        let recalbox = recalbox(
            vec![build(1, "master", "master-2017-08-24-1", &["rpi3"])],
            vec![],
        );
        let mut other = recalbox.clone();
        other.id = 2;
        other.name = "ubports".into();
        other.scheme = VersionScheme::Semver;
        other.boards = ["rpi3".to_string(), "pinephone".to_string()].into();
        let catalog = Catalog {
            dists: vec![other, recalbox],
        };
        let dist = |board, version| {
            catalog
                .dist_for_device(None, None, board, version)
                .unwrap()
                .name
                .clone()
        };
        assert_eq!(dist("rpi3", "master-2017-08-20-1"), "recalbox");
        assert_eq!(dist("rpi3", "1.2.3"), "ubports");
        assert_eq!(
            dist("pinephone", "master-2017-08-20-1"),
            "ubports",
            "nobody knows it: the first"
        );
        assert_eq!(
            catalog
                .dist_for_device(Some("recalbox"), None, "pinephone", "1.2.3")
                .unwrap()
                .name,
            "recalbox"
        );
        assert_eq!(
            catalog
                .dist_for_device(None, Some("recalbox"), "rpi3", "1.2.3")
                .unwrap()
                .name,
            "recalbox",
            "a configured default answers whatever the device runs"
        );
    }

    #[test]
    fn a_device_on_the_published_build_is_up_to_date() {
        let dist = recalbox(
            vec![build(1, "master", "master-2017-08-24-123456", &["rpi3"])],
            vec![],
        );
        let offer = dist
            .freshest_for("rpi3", "stable", Some(&key("master-2017-08-24-123456")))
            .unwrap();
        assert!(offer.is_none());
    }

    #[test]
    fn a_fresher_published_build_is_offered_even_without_the_branch_prefix() {
        let dist = recalbox(
            vec![
                build(2, "master", "master-2017-08-26-891011", &["rpi3"]),
                build(1, "master", "master-2017-08-24-123456", &["rpi3"]),
            ],
            vec![],
        );
        let offer = dist
            .freshest_for("rpi3", "stable", Some(&key("2017-08-24-123456")))
            .unwrap();
        assert_eq!(offer.unwrap().version, "master-2017-08-26-891011");
    }

    #[test]
    fn a_board_the_newest_build_lacks_gets_the_newest_it_has() {
        let dist = recalbox(
            vec![
                build(2, "master", "master-2017-08-26-1", &["rpi3"]),
                build(1, "master", "master-2017-08-25-1", &["rpi3", "x86_64"]),
            ],
            vec![],
        );
        let offer = dist
            .freshest_for("x86_64", "stable", Some(&key("master-2017-08-20-1")))
            .unwrap();
        assert_eq!(offer.unwrap().id, 1);
    }

    #[test]
    fn a_dev_branch_gets_its_own_newest_build() {
        let dist = recalbox(
            vec![build(1, "master", "master-2017-08-24-1", &["rpi3"])],
            vec![(
                "feature-x",
                vec![build(5, "feature-x", "feature-x-2017-09-01-7", &["rpi3"])],
            )],
        );
        let offer = dist
            .freshest_for("rpi3", "feature-x", Some(&key("master-2017-08-24-1")))
            .unwrap();
        assert_eq!(offer.unwrap().id, 5);
    }

    #[test]
    fn the_stable_branch_name_follows_the_stable_channel() {
        let dist = recalbox(
            vec![],
            vec![(
                "master",
                vec![build(9, "master", "master-2017-09-01-1", &["rpi3"])],
            )],
        );
        let offer = dist
            .freshest_for("rpi3", "master", Some(&key("master-2017-08-24-1")))
            .unwrap();
        assert!(
            offer.is_none(),
            "an unpublished master build must not reach devices"
        );
    }

    #[test]
    fn unknown_boards_and_branches_are_named() {
        let dist = recalbox(
            vec![build(1, "master", "master-2017-08-24-1", &["rpi3"])],
            vec![],
        );
        assert!(matches!(
            dist.freshest_for("pc", "stable", None),
            Err(CheckError::Unknown { field: "arch", .. })
        ));
        assert!(matches!(
            dist.freshest_for("rpi3", "nope", None),
            Err(CheckError::Unknown {
                field: "branch",
                ..
            })
        ));
        assert!(matches!(
            dist.current_key("garbage"),
            Err(CheckError::Invalid {
                field: "boardversion",
                ..
            })
        ));
    }

    #[test]
    fn download_bases_list_mirrors_then_the_build_host() {
        let mut dist = recalbox(
            vec![build(1, "master", "master-2017-08-24-1", &["rpi3"])],
            vec![],
        );
        dist.mirrors = vec![Mirror {
            id: 1,
            url_template: "https://m1.example/{dist}/{version}".into(),
            weight: 1,
        }];
        let bases = dist.download_bases(&dist.stable[0].clone(), "rpi3", "012456789");
        assert_eq!(
            bases,
            vec![
                "https://m1.example/recalbox/master-2017-08-24-1".to_string(),
                "https://master-2017-08-24-1-archive.example".to_string()
            ]
        );
    }
}
