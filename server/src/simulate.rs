//! `sluice simulate`: a fleet of virtual devices speaking the real device protocol to a Sluice,
//! to rehearse a rollout policy before real devices meet it. Each device polls
//! `GET /v1/upgrade`; offered a build, it reports STARTED, DOWNLOADED, REBOOTING, then OK or
//! FAILED through `POST /v1/log`, as a real device does.

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args, Clone, Debug)]
pub struct SimulateArgs {
    /// The Sluice to talk to, e.g. http://127.0.0.1:3000.
    #[arg(long)]
    pub server: String,
    #[arg(long)]
    pub dist: String,
    /// The channel (or dev branch) the devices follow.
    #[arg(long)]
    pub channel: String,
    #[arg(long)]
    pub board: String,
    /// How many virtual devices.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub devices: u32,
    /// The share of upgrades that fail, from 0 to 1.
    #[arg(long)]
    pub failure_rate: f64,
    /// Compress time: with 60, a minute of the devices' life lasts a second. Run the server
    /// with the same `--rehearsal-speedup` so that hold times shrink alike.
    #[arg(long, default_value_t = 1.0)]
    pub speedup: f64,
    /// The version the devices run at the start; by default the oldest the dist's scheme allows.
    #[arg(long)]
    pub from: Option<String>,
    /// How long to run, in (compressed) minutes; the run ends sooner once every device has
    /// upgraded.
    #[arg(long, default_value_t = 180.0)]
    pub minutes: f64,
    /// Minutes between two update checks of one device.
    #[arg(long, default_value_t = 1.0)]
    pub poll_minutes: f64,
    /// Virtual devices talking at the same time.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Vary the run: devices' uuids and which ones fail depend on it.
    #[arg(long, default_value = "sim")]
    pub seed: String,
}

impl SimulateArgs {
    fn check(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.failure_rate) {
            return Err("--failure-rate must be between 0 and 1".into());
        }
        if !(self.speedup > 0.0 && self.speedup <= 100_000.0) {
            return Err("--speedup must be above 0".into());
        }
        let positive = |x: f64| x.is_finite() && x > 0.0;
        if !positive(self.minutes) || !positive(self.poll_minutes) {
            return Err("--minutes and --poll-minutes must be above 0".into());
        }
        if self.concurrency == 0 {
            return Err("--concurrency must be at least 1".into());
        }
        Ok(())
    }

    /// A duration of `minutes` device minutes, compressed.
    fn minutes(&self, minutes: f64) -> Duration {
        Duration::from_secs_f64((minutes * 60.0 / self.speedup).max(0.001))
    }
}

#[derive(Default)]
struct Tally {
    checks: AtomicU64,
    offers: AtomicU64,
    capped: AtomicU64,
    succeeded: AtomicU64,
    failed: AtomicU64,
    errors: AtomicU64,
    /// Devices that upgraded at least once.
    upgraded: AtomicU64,
}

#[derive(Deserialize)]
struct Offer {
    version: String,
}

#[derive(Deserialize)]
struct DistInfo {
    floor_version: String,
}

/// One virtual device.
struct Device {
    uuid: String,
    version: String,
    /// Whether this device's upgrades fail: a stable draw per device, so reruns agree.
    fails: bool,
    upgraded: bool,
}

/// The outcome of a run, for the summary.
#[derive(Debug, PartialEq, Eq)]
pub struct Summary {
    pub checks: u64,
    pub offers: u64,
    pub capped: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub errors: u64,
    /// Devices per version at the end.
    pub versions: Vec<(String, u64)>,
}

fn draw(seed: &str, uuid: &str) -> f64 {
    let digest = Sha256::digest(format!("{seed}:fail:{uuid}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % 1_000_000) as f64 / 1_000_000.0
}

pub async fn run(args: SimulateArgs) -> Result<(), String> {
    let summary = simulate(args).await?;
    println!(
        "{} checks, {} offers, {} held back by caps, {} upgrades OK, {} FAILED, {} errors",
        summary.checks,
        summary.offers,
        summary.capped,
        summary.succeeded,
        summary.failed,
        summary.errors
    );
    for (version, n) in &summary.versions {
        println!("{n:>8} devices on {version}");
    }
    Ok(())
}

pub async fn simulate(args: SimulateArgs) -> Result<Summary, String> {
    args.check()?;
    let server = args.server.trim_end_matches('/').to_string();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let from = match &args.from {
        Some(from) => from.clone(),
        None => {
            let url = format!("{server}/v1/dists/{}", args.dist);
            let info: DistInfo = http
                .get(&url)
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .map_err(|e| format!("cannot read {url}: {e}"))?
                .json()
                .await
                .map_err(|e| format!("unexpected answer from {url}: {e}"))?;
            info.floor_version
        }
    };
    let devices: Vec<Device> = (0..args.devices)
        .map(|i| {
            let uuid = format!("{}-{i:06}", args.seed);
            Device {
                fails: draw(&args.seed, &uuid) < args.failure_rate,
                uuid,
                version: from.clone(),
                upgraded: false,
            }
        })
        .collect();
    let tally = Arc::new(Tally::default());
    let bar = ProgressBar::new((args.minutes * 60.0) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} device seconds  {msg}")
            .map_err(|e| e.to_string())?,
    );
    let started = Instant::now();
    let end = started + args.minutes(args.minutes);
    let args = Arc::new(args);
    let fleet_size = u64::from(args.devices);
    let all_upgraded = move |tally: &Tally| tally.upgraded.load(Ordering::Relaxed) >= fleet_size;
    // Each worker owns a share of the fleet and polls its devices in turn.
    let workers_n = args.concurrency.min(devices.len());
    let mut shares: Vec<Vec<Device>> = (0..workers_n).map(|_| Vec::new()).collect();
    for (i, device) in devices.into_iter().enumerate() {
        shares[i % workers_n].push(device);
    }
    let mut workers = tokio::task::JoinSet::new();
    for mut share in shares {
        let (args, http, tally, server) = (
            Arc::clone(&args),
            http.clone(),
            Arc::clone(&tally),
            server.clone(),
        );
        workers.spawn(async move {
            // One pass over the share per poll interval.
            let pause =
                (args.minutes(args.poll_minutes).as_secs_f64() / share.len() as f64).min(1.0);
            'run: loop {
                for device in share.iter_mut() {
                    if Instant::now() >= end || all_upgraded(&tally) {
                        break 'run;
                    }
                    let cycle = cycle(
                        &http,
                        &server,
                        &args,
                        &tally,
                        &device.uuid,
                        &device.version,
                        device.fails,
                    );
                    match cycle.await {
                        Some(new_version) => {
                            if !device.upgraded {
                                device.upgraded = true;
                                tally.upgraded.fetch_add(1, Ordering::Relaxed);
                            }
                            device.version = new_version;
                        }
                        None => tokio::time::sleep(Duration::from_secs_f64(pause)).await,
                    }
                }
            }
            share
        });
    }
    while Instant::now() < end && !all_upgraded(&tally) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let device_seconds = started.elapsed().as_secs_f64() * args.speedup;
        bar.set_position(device_seconds as u64);
        bar.set_message(format!(
            "{} offers, {} OK, {} FAILED, {} capped",
            tally.offers.load(Ordering::Relaxed),
            tally.succeeded.load(Ordering::Relaxed),
            tally.failed.load(Ordering::Relaxed),
            tally.capped.load(Ordering::Relaxed)
        ));
    }
    let mut versions: std::collections::BTreeMap<String, u64> = Default::default();
    while let Some(share) = workers.join_next().await {
        for device in share.map_err(|e| e.to_string())? {
            *versions.entry(device.version).or_default() += 1;
        }
    }
    bar.finish();
    Ok(Summary {
        checks: tally.checks.load(Ordering::Relaxed),
        offers: tally.offers.load(Ordering::Relaxed),
        capped: tally.capped.load(Ordering::Relaxed),
        succeeded: tally.succeeded.load(Ordering::Relaxed),
        failed: tally.failed.load(Ordering::Relaxed),
        errors: tally.errors.load(Ordering::Relaxed),
        versions: versions.into_iter().collect(),
    })
}

/// One update check, and the upgrade it leads to. Answers the new version after a success.
async fn cycle(
    http: &reqwest::Client,
    server: &str,
    args: &SimulateArgs,
    tally: &Tally,
    uuid: &str,
    version: &str,
    fails: bool,
) -> Option<String> {
    tally.checks.fetch_add(1, Ordering::Relaxed);
    let answer = http
        .get(format!("{server}/v1/upgrade"))
        .query(&[
            ("arch", args.board.as_str()),
            ("branch", args.channel.as_str()),
            ("boardversion", version),
            ("uuid", uuid),
            ("user", "simulator"),
            ("dist", args.dist.as_str()),
        ])
        .send()
        .await;
    let offer: Offer = match answer {
        Ok(r) if r.status() == reqwest::StatusCode::OK => match r.json().await {
            Ok(offer) => offer,
            Err(_) => {
                tally.errors.fetch_add(1, Ordering::Relaxed);
                return None;
            }
        },
        Ok(r) if r.status() == reqwest::StatusCode::NO_CONTENT => {
            if r.headers().contains_key(reqwest::header::RETRY_AFTER) {
                tally.capped.fetch_add(1, Ordering::Relaxed);
            }
            return None;
        }
        _ => {
            tally.errors.fetch_add(1, Ordering::Relaxed);
            return None;
        }
    };
    tally.offers.fetch_add(1, Ordering::Relaxed);
    // Download, install, reboot: a few minutes of a device's life.
    for (status, minutes) in [("STARTED", 0.0), ("DOWNLOADED", 2.0), ("REBOOTING", 0.5)] {
        tokio::time::sleep(args.minutes(minutes)).await;
        report(http, server, args, tally, uuid, version, status).await;
    }
    tokio::time::sleep(args.minutes(1.0)).await;
    if fails {
        report(http, server, args, tally, uuid, version, "FAILED").await;
        tally.failed.fetch_add(1, Ordering::Relaxed);
        None
    } else {
        report(http, server, args, tally, uuid, &offer.version, "OK").await;
        tally.succeeded.fetch_add(1, Ordering::Relaxed);
        Some(offer.version)
    }
}

async fn report(
    http: &reqwest::Client,
    server: &str,
    args: &SimulateArgs,
    tally: &Tally,
    uuid: &str,
    version: &str,
    status: &str,
) {
    let body = serde_json::json!({
        "board": args.board, "uuid": uuid, "user": "simulator", "boardversion": version,
        "branch": args.channel, "status": status, "dist": args.dist,
    });
    let sent = http
        .post(format!("{server}/v1/log"))
        .json(&body)
        .send()
        .await;
    if !sent.is_ok_and(|r| r.status().is_success()) {
        tally.errors.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_failure_draw_is_stable_and_about_the_rate() {
        assert_eq!(draw("s", "a"), draw("s", "a"));
        let failing = (0..10_000)
            .filter(|i| draw("s", &format!("d{i}")) < 0.3)
            .count();
        assert!((2_700..3_300).contains(&failing), "{failing}");
    }
}
