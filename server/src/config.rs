//! Typed configuration: command-line flags, each with an environment variable, and defaults
//! that run on a laptop with no configuration at all.

use crate::jobs::Decisions;
use crate::serve::Limits;
use app::backend::catalog::rollout_tracker::OFFERS_PER_ADDRESS;
use app::backend::edge::client_address::TrustedProxies;
use app::backend::messaging::outbound::OutboundPolicy;
use clap::Args;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/sluice.db";

#[derive(Args, Clone)]
pub struct DatabaseArgs {
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,
}

#[derive(Args, Clone, Debug)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "SLUICE_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: Option<SocketAddr>,
    /// The address people reach Sluice at; `https://…` makes session cookies Secure.
    #[arg(long, env = "SLUICE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The folder holding the built site (`pkg/`); found next to the binary when not given.
    #[arg(long, env = "SLUICE_SITE_ROOT")]
    pub site_root: Option<PathBuf>,
    /// For rehearsals only: run rollout clocks this many times faster (60 makes a policy
    /// minute last one second). Leave it out in production.
    #[arg(long, env = "SLUICE_REHEARSAL_SPEEDUP", value_parser = clap::value_parser!(u32).range(1..=60_000))]
    pub rehearsal_speedup: Option<u32>,
    /// `amqp://user:password@host:5672/vhost`: publish every event there (fedora-messaging
    /// format); nothing is published to AMQP when unset.
    #[arg(long, env = "SLUICE_AMQP_URL")]
    pub amqp_url: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` names the client: a comma-separated list of
    /// addresses and networks (`127.0.0.1, 10.0.0.0/8`). Unset: the header is ignored.
    #[arg(long, env = "SLUICE_TRUSTED_PROXIES", value_parser = TrustedProxies::parse)]
    pub trusted_proxies: Option<TrustedProxies>,
    /// New rollout offers one client address may get per rollout and minute, so that one
    /// address cannot take a rollout's caps with made-up device ids; 0 turns the limit off
    /// (a rehearsal with `sluice simulate`, whose devices all share one address).
    #[arg(long, env = "SLUICE_OFFERS_PER_ADDRESS", default_value_t = OFFERS_PER_ADDRESS)]
    pub offers_per_address: u32,
    /// Webhooks may point only to public addresses; this comma-separated list of host names,
    /// addresses and networks may be used as well (`hooks.internal, 10.0.0.0/8`).
    #[arg(long, env = "SLUICE_WEBHOOK_ALLOW", value_parser = OutboundPolicy::parse)]
    pub webhook_allow: Option<OutboundPolicy>,
    /// The dist that answers devices whose requests name none (Recalbox's client names none).
    /// Unset: the dist that has the device's board and knows its version.
    #[arg(long, env = "SLUICE_DEFAULT_DIST")]
    pub default_dist: Option<String>,
}

/// Everything `serve` needs, resolved.
#[derive(Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    pub public_url: Option<String>,
    pub site_root: PathBuf,
    /// How long a rollout policy's minute lasts, in milliseconds (60,000 but in rehearsals).
    pub minute_ms: i64,
    pub amqp_url: Option<String>,
    pub trusted_proxies: TrustedProxies,
    pub offers_per_address: u32,
    /// Deadlines and bounds of connections.
    pub connections: Limits,
    pub webhook_allow: OutboundPolicy,
    pub default_dist: Option<String>,
    /// Whether rollout ticks and webhook deliveries run on their timers (always, but in tests
    /// that drive them).
    pub decisions: Decisions,
}

impl Config {
    pub fn new(database: &DatabaseArgs, serve: &ServeArgs) -> Config {
        Config {
            listen: serve
                .listen
                .unwrap_or_else(|| ([127, 0, 0, 1], 3000).into()),
            database_url: database.database_url.clone(),
            public_url: serve.public_url.clone(),
            site_root: serve.site_root.clone().unwrap_or_else(find_site_root),
            minute_ms: 60_000 / i64::from(serve.rehearsal_speedup.unwrap_or(1)),
            amqp_url: serve.amqp_url.clone(),
            trusted_proxies: serve.trusted_proxies.clone().unwrap_or_default(),
            offers_per_address: serve.offers_per_address,
            connections: Limits::default(),
            webhook_allow: serve.webhook_allow.clone().unwrap_or_default(),
            default_dist: serve.default_dist.clone(),
            decisions: Decisions::OnTimers,
        }
    }

    /// A configuration for tests: port 0, the given database, no site, no limit on offers per
    /// address (test fleets all come from 127.0.0.1), and webhooks allowed to this machine
    /// (test receivers listen on it).
    pub fn for_tests(database_url: &str) -> Config {
        Config {
            listen: ([127, 0, 0, 1], 0).into(),
            database_url: database_url.to_string(),
            public_url: None,
            site_root: PathBuf::from("target/site"),
            minute_ms: 60_000,
            amqp_url: None,
            trusted_proxies: TrustedProxies::default(),
            offers_per_address: 0,
            connections: Limits::default(),
            webhook_allow: OutboundPolicy::parse("127.0.0.1, ::1").expect("loopback"),
            default_dist: None,
            decisions: Decisions::OnTimers,
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

/// `target/site` when run from the repository root, else `../site` next to the binary
/// (`target/release/sluice` → `target/site`).
fn find_site_root() -> PathBuf {
    let from_root = PathBuf::from("target/site");
    if from_root.join("pkg").is_dir() {
        return from_root;
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(|dir| dir.join("site")))
        .filter(|dir| dir.join("pkg").is_dir())
        .unwrap_or(from_root)
}

/// Hides the passwords of a URL: in its user part, and in query parameters such as
/// PostgreSQL's `?password=`.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let base = match (base.find("://"), base.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &base[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &base[..scheme + 3], &base[at..]),
                None => base.to_string(),
            }
        }
        _ => base.to_string(),
    };
    let Some(query) = query else {
        return base;
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if is_secret_parameter(name) => format!("{name}=***"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

fn is_secret_parameter(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "password",
        "passwd",
        "pass",
        "pwd",
        "secret",
        "token",
        "sslpassword",
    ]
    .contains(&name.as_str())
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("database_url", &redact_url(&self.database_url))
            .field("public_url", &self.public_url)
            .field("site_root", &self.site_root)
            .field("amqp_url", &self.amqp_url.as_deref().map(redact_url))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_passwords_never_show_in_debug_output() {
        let mut config = Config::for_tests("postgres://sluice:hunter2@db.example/sluice");
        config.public_url = Some("https://sluice.example".into());
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"));
        assert!(shown.contains("postgres://sluice:***@db.example/sluice"));
    }

    #[test]
    fn urls_without_a_password_are_shown_as_they_are() {
        assert_eq!(
            redact_url("sqlite://data/sluice.db"),
            "sqlite://data/sluice.db"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1:5432/test"),
            "postgres://postgres@127.0.0.1:5432/test"
        );
    }

    #[test]
    fn passwords_in_the_query_are_hidden_too() {
        assert_eq!(
            redact_url("postgres://db.example/sluice?user=s&password=hunter2&sslmode=require"),
            "postgres://db.example/sluice?user=s&password=***&sslmode=require"
        );
        assert_eq!(
            redact_url("amqp://u:hunter2@mq.example/?PASSWORD=x"),
            "amqp://u:***@mq.example/?PASSWORD=***"
        );
    }

    #[test]
    fn cookies_are_secure_only_behind_https() {
        let mut config = Config::for_tests("sqlite://x.db");
        assert!(!config.secure_cookies());
        config.public_url = Some("https://sluice.example".into());
        assert!(config.secure_cookies());
    }
}
