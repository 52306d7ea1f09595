//! Canary rollouts: the policy a release manager writes, and the pure rules that drive it —
//! sticky cohorts, the ramp of steps, the health gate, automatic halt, caps and timeouts.
//! The server keeps the state; every decision is made here.

use super::device_report::ReportStatus;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One step of the ramp: offer to `percent` of the channel, then hold before the next.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub percent: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_minutes: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// Final outcomes a step needs before it can be judged.
    #[serde(default)]
    pub min_reports: u32,
    /// Failures (FAILED or timed out) over final outcomes at or below this are healthy.
    #[serde(default = "no_failure_limit")]
    pub max_failure_ratio: f64,
}

fn no_failure_limit() -> f64 {
    1.0
}

impl Default for Health {
    /// No gate: steps advance on time alone and nothing halts by itself.
    fn default() -> Self {
        Health {
            min_reports: 0,
            max_failure_ratio: 1.0,
        }
    }
}

pub const DEFAULT_UPDATE_TIMEOUT_MINUTES: u32 = 120;

fn default_timeout() -> u32 {
    DEFAULT_UPDATE_TIMEOUT_MINUTES
}

/// What `POST /api/v1/rollouts` takes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewRollout {
    pub dist: String,
    pub channel: String,
    pub version: String,
    pub steps: Vec<Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohort_salt: Option<String>,
    #[serde(default)]
    pub canary_uuids: Vec<String>,
    #[serde(default)]
    pub deny_uuids: Vec<String>,
    #[serde(default)]
    pub health: Health,
    #[serde(default = "default_timeout")]
    pub update_timeout_minutes: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_grants_per_hour: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<u32>,
}

/// A field and why its value is refused.
pub type Invalid = (&'static str, String);

const MAX_LIST: usize = 10_000;

impl NewRollout {
    /// The one-step case: every device of the channel at once, no gate, no caps.
    pub fn publish(dist: &str, channel: &str, version: &str) -> NewRollout {
        NewRollout {
            dist: dist.into(),
            channel: channel.into(),
            version: version.into(),
            steps: vec![Step {
                percent: 100.0,
                hold_minutes: None,
            }],
            cohort_salt: None,
            canary_uuids: Vec::new(),
            deny_uuids: Vec::new(),
            health: Health::default(),
            update_timeout_minutes: DEFAULT_UPDATE_TIMEOUT_MINUTES,
            max_grants_per_hour: None,
            max_in_flight: None,
        }
    }

    pub fn check(&self) -> Result<(), Invalid> {
        if self.steps.is_empty() {
            return Err(("steps", "needs at least one step".into()));
        }
        let mut previous = 0.0;
        for (i, step) in self.steps.iter().enumerate() {
            if !(step.percent > 0.0 && step.percent <= 100.0) {
                return Err((
                    "steps",
                    format!("step {}: percent must be above 0 and at most 100", i + 1),
                ));
            }
            if (step.percent * 100.0).fract() != 0.0 {
                return Err((
                    "steps",
                    format!("step {}: percent has at most two decimals", i + 1),
                ));
            }
            if step.percent < previous {
                return Err((
                    "steps",
                    format!(
                        "step {}: percents never go down (a ramp only adds devices)",
                        i + 1
                    ),
                ));
            }
            previous = step.percent;
        }
        if previous != 100.0 {
            return Err(("steps", "the last step must be 100 percent".into()));
        }
        if let Some(salt) = &self.cohort_salt {
            if salt.is_empty() || salt.len() > 200 {
                return Err(("cohort_salt", "must be 1 to 200 characters".into()));
            }
        }
        for (field, list) in [
            ("canary_uuids", &self.canary_uuids),
            ("deny_uuids", &self.deny_uuids),
        ] {
            if list.len() > MAX_LIST {
                return Err((field, format!("at most {MAX_LIST} uuids")));
            }
            if list.iter().any(|u| u.is_empty() || u.len() > 256) {
                return Err((field, "each uuid must be 1 to 256 characters".into()));
            }
        }
        if let Some(both) = self
            .canary_uuids
            .iter()
            .find(|u| self.deny_uuids.contains(u))
        {
            return Err(("deny_uuids", format!("{both} is also a canary")));
        }
        let ratio = self.health.max_failure_ratio;
        if !(0.0..=1.0).contains(&ratio) {
            return Err(("health.max_failure_ratio", "must be between 0 and 1".into()));
        }
        if self.update_timeout_minutes == 0 {
            return Err(("update_timeout_minutes", "must be at least 1".into()));
        }
        if self.max_grants_per_hour == Some(0) {
            return Err((
                "max_grants_per_hour",
                "must be at least 1 (leave it out for no cap)".into(),
            ));
        }
        if self.max_in_flight == Some(0) {
            return Err((
                "max_in_flight",
                "must be at least 1 (leave it out for no cap)".into(),
            ));
        }
        Ok(())
    }

    /// True when the policy has nothing to wait for: published at once.
    pub fn completes_at_once(&self) -> bool {
        self.steps.len() == 1
            && self.steps[0].hold_minutes.unwrap_or(0) == 0
            && self.health.min_reports == 0
            && self.max_grants_per_hour.is_none()
            && self.max_in_flight.is_none()
    }
}

/// Steps as a person types them in the console: `percent[:hold minutes]`, comma separated,
/// e.g. `1:60, 10:240, 100`.
pub fn parse_steps(text: &str) -> Result<Vec<Step>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|step| {
            let (percent, hold) = match step.split_once(':') {
                Some((p, h)) => (p.trim(), Some(h.trim())),
                None => (step, None),
            };
            let percent: f64 = percent
                .trim_end_matches('%')
                .parse()
                .map_err(|_| format!("'{step}': the percent is not a number"))?;
            let hold_minutes =
                match hold {
                    Some(h) => Some(h.trim_end_matches('m').parse::<u32>().map_err(|_| {
                        format!("'{step}': the hold is not a whole number of minutes")
                    })?),
                    None => None,
                };
            Ok(Step {
                percent,
                hold_minutes,
            })
        })
        .collect()
}

/// The other way round, for showing a policy.
pub fn format_steps(steps: &[Step]) -> String {
    steps
        .iter()
        .map(|s| match s.hold_minutes {
            Some(h) => format!("{}:{h}", s.percent),
            None => s.percent.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `(first 8 bytes of SHA-256(salt ":" uuid) as big-endian u64) % 10000`.
pub fn bucket(salt: &str, uuid: &str) -> u16 {
    let digest = Sha256::new()
        .chain_update(salt.as_bytes())
        .chain_update(b":")
        .chain_update(uuid.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % 10_000) as u16
}

/// A device is in the cohort when its bucket is below `percent × 100`.
pub fn in_cohort(bucket: u16, percent: f64) -> bool {
    f64::from(bucket) < (percent * 100.0).round()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutState {
    Running,
    Paused,
    Halted,
    Completed,
    RolledBack,
    Superseded,
}

impl RolloutState {
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutState::Running => "running",
            RolloutState::Paused => "paused",
            RolloutState::Halted => "halted",
            RolloutState::Completed => "completed",
            RolloutState::RolledBack => "rolled_back",
            RolloutState::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<RolloutState> {
        [
            RolloutState::Running,
            RolloutState::Paused,
            RolloutState::Halted,
            RolloutState::Completed,
            RolloutState::RolledBack,
            RolloutState::Superseded,
        ]
        .into_iter()
        .find(|state| state.as_str() == s)
    }

    /// Still steering its channel (a newer rollout supersedes it).
    pub fn is_active(self) -> bool {
        matches!(
            self,
            RolloutState::Running | RolloutState::Paused | RolloutState::Halted
        )
    }
}

/// What a person can ask of a rollout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    Pause,
    Resume,
    Halt,
    Advance,
    Rollback,
    SetPercent,
}

impl Command {
    pub fn parse(s: &str) -> Option<Command> {
        match s {
            "pause" => Some(Command::Pause),
            "resume" => Some(Command::Resume),
            "halt" => Some(Command::Halt),
            "advance" => Some(Command::Advance),
            "rollback" => Some(Command::Rollback),
            "percent" => Some(Command::SetPercent),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Command::Pause => "pause",
            Command::Resume => "resume",
            Command::Halt => "halt",
            Command::Advance => "advance",
            Command::Rollback => "rollback",
            Command::SetPercent => "percent",
        }
    }

    /// The state after the command, or why it cannot apply in `state`.
    pub fn apply(self, state: RolloutState) -> Result<RolloutState, String> {
        use RolloutState::*;
        let next = match (self, state) {
            (Command::Pause, Running) => Paused,
            (Command::Resume, Paused | Halted) => Running,
            (Command::Halt, Running | Paused) => Halted,
            (Command::Advance, Running | Paused) => state,
            (Command::SetPercent, Running | Paused | Halted) => state,
            (Command::Rollback, Running | Paused | Halted | Completed) => RolledBack,
            _ => {
                return Err(format!(
                    "cannot {} a rollout that is {}",
                    self.as_str(),
                    state.as_str().replace('_', " ")
                ))
            }
        };
        Ok(next)
    }
}

/// Where a device stands in a rollout, from the offer to its final outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantStatus {
    Offered,
    Downloading,
    Rebooting,
    Succeeded,
    Failed,
    TimedOut,
}

impl GrantStatus {
    pub const ALL: [GrantStatus; 6] = [
        GrantStatus::Offered,
        GrantStatus::Downloading,
        GrantStatus::Rebooting,
        GrantStatus::Succeeded,
        GrantStatus::Failed,
        GrantStatus::TimedOut,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantStatus::Offered => "offered",
            GrantStatus::Downloading => "downloading",
            GrantStatus::Rebooting => "rebooting",
            GrantStatus::Succeeded => "succeeded",
            GrantStatus::Failed => "failed",
            GrantStatus::TimedOut => "timed_out",
        }
    }

    pub fn parse(s: &str) -> Option<GrantStatus> {
        GrantStatus::ALL.into_iter().find(|g| g.as_str() == s)
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            GrantStatus::Succeeded | GrantStatus::Failed | GrantStatus::TimedOut
        )
    }

    /// Offered but not started: a pause or halt takes the offer back.
    pub fn may_be_withdrawn(self) -> bool {
        self == GrantStatus::Offered
    }

    /// The status after a device's report. Success counts only when the device is back after
    /// the reboot on the rollout's version: `OK` naming another version means it came back on
    /// the old one, a failure. A final outcome is never rewritten.
    pub fn after_report(
        self,
        status: ReportStatus,
        reported_version: &str,
        build_version: &str,
    ) -> GrantStatus {
        if self.is_final() {
            return self;
        }
        match status {
            ReportStatus::Started | ReportStatus::Downloaded => {
                if self == GrantStatus::Rebooting {
                    self
                } else {
                    GrantStatus::Downloading
                }
            }
            ReportStatus::Rebooting => GrantStatus::Rebooting,
            ReportStatus::Ok if reported_version == build_version => GrantStatus::Succeeded,
            ReportStatus::Ok | ReportStatus::Failed => GrantStatus::Failed,
        }
    }
}

/// Devices per status, for a whole rollout or one step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub offered: u64,
    pub downloading: u64,
    pub rebooting: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub timed_out: u64,
}

impl Counts {
    pub fn add(&mut self, status: GrantStatus, delta: i64) {
        let slot = match status {
            GrantStatus::Offered => &mut self.offered,
            GrantStatus::Downloading => &mut self.downloading,
            GrantStatus::Rebooting => &mut self.rebooting,
            GrantStatus::Succeeded => &mut self.succeeded,
            GrantStatus::Failed => &mut self.failed,
            GrantStatus::TimedOut => &mut self.timed_out,
        };
        *slot = slot.saturating_add_signed(delta);
    }

    pub fn plus(&self, other: &Counts) -> Counts {
        Counts {
            offered: self.offered + other.offered,
            downloading: self.downloading + other.downloading,
            rebooting: self.rebooting + other.rebooting,
            succeeded: self.succeeded + other.succeeded,
            failed: self.failed + other.failed,
            timed_out: self.timed_out + other.timed_out,
        }
    }

    pub fn outcomes(&self) -> u64 {
        self.succeeded + self.failed + self.timed_out
    }

    pub fn failures(&self) -> u64 {
        self.failed + self.timed_out
    }

    pub fn in_flight(&self) -> u64 {
        self.offered + self.downloading + self.rebooting
    }

    /// Failures over final outcomes; 0 before any.
    pub fn failure_ratio(&self) -> f64 {
        match self.outcomes() {
            0 => 0.0,
            n => self.failures() as f64 / n as f64,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Enough outcomes, failure ratio within the limit.
    Healthy,
    /// Not enough outcomes yet to judge.
    Waiting,
    /// Enough outcomes and too many failures: the figures, as a sentence.
    Unhealthy(String),
}

pub fn judge(counts: &Counts, health: &Health) -> Verdict {
    if counts.outcomes() < u64::from(health.min_reports) {
        return Verdict::Waiting;
    }
    let ratio = counts.failure_ratio();
    if ratio > health.max_failure_ratio {
        Verdict::Unhealthy(format!(
            "{} of {} outcomes failed ({} FAILED, {} timed out): {:.1}% is over the {:.1}% limit",
            counts.failures(),
            counts.outcomes(),
            counts.failed,
            counts.timed_out,
            ratio * 100.0,
            health.max_failure_ratio * 100.0
        ))
    } else {
        Verdict::Healthy
    }
}

/// What the background job does to a running rollout at one tick.
#[derive(Clone, Debug, PartialEq)]
pub enum Tick {
    Nothing,
    Advance,
    Complete,
    Halt(String),
}

/// The background rule: halt the moment the step (or the rollout as a whole) is unhealthy;
/// otherwise, once the hold is over and the step is healthy, go on.
pub fn tick(
    steps: &[Step],
    current_step: usize,
    held_minutes: f64,
    step: &Counts,
    whole: &Counts,
    health: &Health,
) -> Tick {
    for counts in [step, whole] {
        if let Verdict::Unhealthy(why) = judge(counts, health) {
            return Tick::Halt(why);
        }
    }
    let hold = steps
        .get(current_step)
        .and_then(|s| s.hold_minutes)
        .unwrap_or(0);
    if held_minutes < f64::from(hold) || judge(step, health) != Verdict::Healthy {
        return Tick::Nothing;
    }
    if current_step + 1 >= steps.len() {
        Tick::Complete
    } else {
        Tick::Advance
    }
}

/// The percent after advancing: the next step's, but never lower than what devices already
/// have (a hand-raised percent is kept).
pub fn advanced_percent(steps: &[Step], next_step: usize, current_percent: f64) -> f64 {
    steps
        .get(next_step)
        .map_or(100.0, |s| s.percent)
        .max(current_percent)
}

/// Why a new offer must wait, with a hint in seconds for `Retry-After`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CapVerdict {
    Allowed,
    Capped { retry_after_seconds: u64 },
}

/// The caps: new offers in the last hour, devices between offer and final outcome.
/// `oldest_in_window` is when the oldest offer still inside the hour was made.
pub fn check_caps(
    grants_last_hour: u64,
    in_flight: u64,
    max_grants_per_hour: Option<u32>,
    max_in_flight: Option<u32>,
    oldest_in_window: Option<i64>,
    now: i64,
    hour_ms: i64,
) -> CapVerdict {
    if max_grants_per_hour.is_some_and(|max| grants_last_hour >= u64::from(max)) {
        let frees_at = oldest_in_window.map_or(now, |t| t + hour_ms);
        let wait = ((frees_at - now).max(1000) + 999) / 1000;
        return CapVerdict::Capped {
            retry_after_seconds: wait as u64,
        };
    }
    if max_in_flight.is_some_and(|max| in_flight >= u64::from(max)) {
        return CapVerdict::Capped {
            retry_after_seconds: 60,
        };
    }
    CapVerdict::Allowed
}

/// How many new offers one replica may make until its next lease (`None`: the rollout has no
/// cap). The caps' room is what the stored offers leave (`offered_last_hour`, `in_flight`,
/// every replica's written offers); each replica gets a fair share of it (one replica gets it
/// all), and never more than the other replicas' unused leases leave, so that the offers of
/// all replicas together stay within every cap.
pub fn lease_size(
    max_grants_per_hour: Option<u32>,
    max_in_flight: Option<u32>,
    offered_last_hour: u64,
    in_flight: u64,
    leased_to_others: u64,
    other_replicas: u64,
) -> Option<u64> {
    let room = [
        max_grants_per_hour.map(|max| u64::from(max).saturating_sub(offered_last_hour)),
        max_in_flight.map(|max| u64::from(max).saturating_sub(in_flight)),
    ]
    .into_iter()
    .flatten()
    .min()?;
    let fair_share = room.div_ceil(other_replicas.saturating_add(1));
    Some(fair_share.min(room.saturating_sub(leased_to_others)))
}

/// The limit on new offers to one client address: at most `limit` in each policy minute
/// (0: no limit), so that one address making up device ids cannot take a rollout's caps.
/// `window_start` is when the current minute began for this address.
pub fn check_address_limit(
    offers_this_minute: u32,
    limit: u32,
    window_start: i64,
    now: i64,
    minute_ms: i64,
) -> CapVerdict {
    if limit == 0 || offers_this_minute < limit {
        return CapVerdict::Allowed;
    }
    let wait_ms = (window_start + minute_ms - now).max(1000);
    CapVerdict::Capped {
        retry_after_seconds: ((wait_ms + 999) / 1000) as u64,
    }
}

/// Offered devices that sent no final report within the timeout count as failures.
pub fn timed_out(status: GrantStatus, offered_at: i64, now: i64, timeout_ms: i64) -> bool {
    !status.is_final() && offered_at <= timeout_cutoff(now, timeout_ms)
}

/// The latest offer time that has timed out at `now` (the database applies `timed_out` to
/// every open offer made at or before it).
pub fn timeout_cutoff(now: i64, timeout_ms: i64) -> i64 {
    now - timeout_ms
}

pub mod plan;

#[cfg(test)]
mod tests;

/// A rollout as the API and the console show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RolloutView {
    pub id: i64,
    pub dist: String,
    pub channel: String,
    pub version: String,
    pub build_id: i64,
    pub state: RolloutState,
    /// 0-based index into `steps`.
    pub current_step: usize,
    pub percent: f64,
    pub steps: Vec<Step>,
    pub step_started_at: i64,
    /// When the current step's hold is over (Unix ms), if it has one.
    pub hold_ends_at: Option<i64>,
    pub cohort_salt: String,
    pub canary_uuids: Vec<String>,
    pub deny_uuids: Vec<String>,
    pub health: Health,
    pub update_timeout_minutes: u32,
    pub max_grants_per_hour: Option<u32>,
    pub max_in_flight: Option<u32>,
    /// The whole rollout.
    pub counts: Counts,
    /// The current step.
    pub step_counts: Counts,
    /// Every step so far, in order.
    pub counts_per_step: Vec<Counts>,
    pub grants_last_hour: u64,
    pub in_flight: u64,
    /// Why it was last halted (kept after a resume).
    pub halt_reason: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One line of a rollout's history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RolloutEvent {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub reason: String,
    pub state: RolloutState,
    pub step: usize,
    pub percent: f64,
}

/// A device's bucket in a rollout and whether it is offered the build.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BucketView {
    pub uuid: String,
    pub bucket: u16,
    pub in_cohort: bool,
    pub why: String,
}

/// The hold end of the current step: when it started plus its hold, in `minute_ms` minutes.
pub fn hold_ends_at(
    steps: &[Step],
    current_step: usize,
    step_started_at: i64,
    minute_ms: i64,
) -> Option<i64> {
    let hold = steps.get(current_step)?.hold_minutes?;
    Some(step_started_at + i64::from(hold) * minute_ms)
}

/// Where a device stands with a rollout's cohort, in words.
pub fn explain_bucket(
    salt: &str,
    uuid: &str,
    percent: f64,
    canary: &[String],
    deny: &[String],
) -> BucketView {
    let b = bucket(salt, uuid);
    let (in_cohort, why) = if canary.iter().any(|c| c == uuid) {
        (true, "a named canary: always in".to_string())
    } else if deny.iter().any(|d| d == uuid) {
        (false, "on the deny list: never in".to_string())
    } else if self::in_cohort(b, percent) {
        (
            true,
            format!("bucket {b} is below {}", (percent * 100.0).round()),
        )
    } else {
        (
            false,
            format!("bucket {b} is not below {}", (percent * 100.0).round()),
        )
    };
    BucketView {
        uuid: uuid.to_string(),
        bucket: b,
        in_cohort,
        why,
    }
}
