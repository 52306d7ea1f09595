//! A real Sluice on a random port with its own fresh database, and clients to talk to it.

use app::backend::edge::client_address::TrustedProxies;
use app::backend::infra::audit::Actor;
use app::backend::{accounts::users, Db};
use app::model::Role;
use reqwest::header::LOCATION;
use reqwest::{redirect, Client, Response, StatusCode};
use server::config::Config;
use server::jobs::Decisions;
use server::startup;
use sqlx::Connection;
use std::io::Write;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::sync::oneshot;

pub use app::backend::Backend;

pub const PASSWORD: &str = "correct horse battery";
/// A request that hangs fails the test with its place instead of stalling the whole run.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

fn postgres_base_url() -> String {
    std::env::var("SLUICE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub struct TestApp {
    pub url: String,
    pub database_url: String,
    pub config: Config,
    pub db: Db,
    pub state: app::backend::AppState,
    /// Dropping it stops the server; `stop` waits until its background work has stopped.
    shutdown: Option<oneshot::Sender<()>>,
    serving: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    webhooks: server::jobs::outbox_worker::WebhookSender,
    _sqlite_dir: Option<tempfile::TempDir>,
    postgres_database: Option<String>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        TestApp::spawn_configured(backend, |_| {}).await
    }

    /// A rehearsal server: a rollout policy's minute lasts `minute_ms` milliseconds.
    pub async fn spawn_with_minute(backend: Backend, minute_ms: i64) -> TestApp {
        TestApp::spawn_configured(backend, |config| config.minute_ms = minute_ms).await
    }

    /// A Sluice behind a reverse proxy on this machine: requests name their client in
    /// `X-Forwarded-For`, as a proxy would.
    pub async fn spawn_behind_proxy(backend: Backend) -> TestApp {
        TestApp::spawn_configured(backend, |config| {
            config.trusted_proxies = TrustedProxies::parse("127.0.0.1, ::1").expect("proxies")
        })
        .await
    }

    /// A Sluice that publishes to the test broker (`release_amqp::AMQP_URL`), its rollout job
    /// and senders driven by the test.
    pub async fn spawn_publishing(backend: Backend) -> TestApp {
        TestApp::spawn_configured(backend, |config| {
            config.amqp_url = Some(crate::release_amqp::AMQP_URL.into());
            config.decisions = Decisions::WhenCalled;
        })
        .await
    }

    /// A Sluice with the test configuration changed by `configure`.
    pub async fn spawn_configured(
        backend: Backend,
        configure: impl FnOnce(&mut Config),
    ) -> TestApp {
        let (database_url, sqlite_dir, postgres_database) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/sluice.db", dir.path().display());
                (url, Some(dir), None)
            }
            Backend::Postgres => {
                let (url, name) = fresh_postgres_database().await;
                (url, None, Some(name))
            }
        };
        let mut config = Config::for_tests(&database_url);
        configure(&mut config);
        TestApp::start(config, sqlite_dir, postgres_database).await
    }

    async fn start(
        config: Config,
        sqlite_dir: Option<tempfile::TempDir>,
        postgres_database: Option<String>,
    ) -> TestApp {
        let database_url = config.database_url.clone();
        let server = startup::build(&config).await.expect("Sluice starts");
        let url = format!("http://{}", server.local_addr());
        let db = server.state.db.clone();
        let state = server.state.clone();
        let webhooks = server.webhooks();
        let (shutdown, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(server.run_until(async {
            let _ = stopped.await;
        }));
        TestApp {
            url,
            database_url,
            config,
            db,
            state,
            shutdown: Some(shutdown),
            serving: Some(serving),
            webhooks,
            _sqlite_dir: sqlite_dir,
            postgres_database,
        }
    }

    /// Stops this Sluice (its background work included) and starts a new one on the same
    /// database, as an operator's restart does. The new one listens on another port.
    pub async fn restart(self) -> TestApp {
        self.restart_with(|_| {}).await
    }

    /// Restarts with the configuration changed by `configure`, as an operator's edit does.
    pub async fn restart_with(mut self, configure: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = self.config.clone();
        configure(&mut config);
        let sqlite_dir = self._sqlite_dir.take();
        let postgres_database = self.postgres_database.take();
        self.stop().await;
        TestApp::start(config, sqlite_dir, postgres_database).await
    }

    /// A Sluice whose rollout job and webhook sender run only when the test calls `tick` or
    /// `deliver`.
    pub async fn spawn_driven(backend: Backend) -> TestApp {
        TestApp::spawn_configured(backend, |config| config.decisions = Decisions::WhenCalled).await
    }

    /// One pass of the rollout job, now.
    pub async fn tick(&self) -> bool {
        self.tick_at(app::backend::infra::clock::now_millis()).await
    }

    /// One pass of the rollout job as if it were `now` (milliseconds since the epoch): holds
    /// and timeouts pass without waiting for them.
    pub async fn tick_at(&self, now: i64) -> bool {
        app::backend::rollouts::store::tick(&self.db, &self.state.catalog, now)
            .await
            .expect("the rollout job runs")
    }

    /// One round of webhook deliveries, returning once each is recorded: how many there were.
    pub async fn deliver(&self) -> usize {
        self.deliver_at(app::backend::infra::clock::now_millis())
            .await
    }

    /// A round of deliveries as if it were `now`: retries whose back-off has passed by then.
    pub async fn deliver_at(&self, now: i64) -> usize {
        self.webhooks
            .deliver_due(now)
            .await
            .expect("a delivery round")
    }

    /// Publishes to the configured AMQP broker what is new, returning once it is confirmed.
    pub async fn publish_amqp(&self) {
        let url = self.config.amqp_url.as_deref().expect("an AMQP URL");
        server::jobs::amqp_publisher::publish_pending(&self.state, url)
            .await
            .expect("the broker confirms");
    }

    /// Stops this Sluice as SIGTERM does, and returns once its requests are answered and its
    /// background work has stopped, buffers written.
    pub async fn stop(mut self) {
        drop(self.shutdown.take());
        if let Some(serving) = self.serving.take() {
            serving
                .await
                .expect("the server task")
                .expect("the server stops cleanly");
        }
    }

    /// Another `sluice serve` on this app's database, as a second replica is. It owns nothing:
    /// the database goes when this app goes.
    pub async fn replica(&self) -> TestApp {
        TestApp::start(self.config.clone(), None, None).await
    }

    /// A browser-like client: keeps cookies, does not follow redirects (tests look at them),
    /// and says where its requests come from, as browsers do.
    pub fn browser(&self) -> Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::ORIGIN,
            self.url.parse().expect("the app's origin"),
        );
        Client::builder()
            .default_headers(headers)
            .cookie_store(true)
            .redirect(redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("client")
    }

    /// A fresh API token with this role.
    pub async fn token(&self, role: Role) -> String {
        let name = format!("t{}", COUNTER.fetch_add(1, Ordering::SeqCst));
        app::backend::accounts::tokens::create(&self.db, &Actor::cli(), &name, role)
            .await
            .expect("token created")
            .secret
    }

    /// An API client sending this token.
    pub fn api(&self, token: &str) -> Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {token}").parse().expect("header"),
        );
        Client::builder()
            .default_headers(headers)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("client")
    }

    /// `GET path` with this client, read as JSON.
    pub async fn get_json(&self, client: &Client, path: &str) -> serde_json::Value {
        client
            .get(self.at(path))
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("a JSON answer")
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }

    /// Adds a user straight through the backend, as `sluice user add` does. Password hashing
    /// is bounded per process, and tests that flood sign-ins share this one: a busy answer is
    /// waited out, as any caller would.
    pub async fn add_user(&self, name: &str, role: Role) {
        loop {
            match users::create(&self.db, &Actor::cli(), name, PASSWORD, role).await {
                Ok(_) => return,
                Err(app::AppError::Busy) => {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await
                }
                Err(e) => panic!("user {name} not created: {e}"),
            }
        }
    }

    /// A signed-in browser for a new user with this role.
    pub async fn signed_in(&self, name: &str, role: Role) -> Client {
        self.add_user(name, role).await;
        let client = self.browser();
        let response = self.login(&client, name, PASSWORD).await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "sign-in of {name}"
        );
        client
    }

    /// Signs in; a 503 (every password check busy) is retried after its `Retry-After`, as a
    /// person would.
    pub async fn login(&self, client: &Client, username: &str, password: &str) -> Response {
        loop {
            let response = client
                .post(self.at("/login"))
                .form(&[("username", username), ("password", password)])
                .send()
                .await
                .expect("POST /login");
            if response.status() != StatusCode::SERVICE_UNAVAILABLE {
                return response;
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }

    /// Calls a server function the way the console does (a form-encoded POST).
    pub async fn rpc(&self, client: &Client, endpoint: &str, form: &[(&str, &str)]) -> Response {
        client
            .post(self.at(&format!("/rpc/{endpoint}")))
            .form(form)
            .send()
            .await
            .expect("server function call")
    }

    /// Runs the real `sluice` binary against this app's database. A blocking std process on a
    /// blocking thread: tokio's child reaping relies on SIGCHLD, which many short-lived test
    /// runtimes in one process can miss.
    pub async fn cli(&self, args: &[&str], stdin: &str) -> (bool, String, String) {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let stdin = stdin.to_string();
        let database_url = self.database_url.clone();
        tokio::task::spawn_blocking(move || {
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
                .args(&args)
                .env("DATABASE_URL", &database_url)
                .env("RUST_LOG", "warn")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("sluice binary runs");
            let mut input = child.stdin.take().expect("stdin");
            input.write_all(stdin.as_bytes()).expect("write stdin");
            drop(input);
            let output = child.wait_with_output().expect("sluice finishes");
            (
                output.status.success(),
                String::from_utf8_lossy(&output.stdout).into_owned(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            )
        })
        .await
        .expect("cli thread")
    }
}

pub fn location(response: &Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

async fn fresh_postgres_database() -> (String, String) {
    let base = postgres_base_url();
    let name = format!(
        "sluice_t_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000
    );
    let mut conn = sqlx::PgConnection::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL must run for the tests ({base}): {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let (prefix, _) = base.rsplit_once('/').expect("database URL has a path");
    (format!("{prefix}/{name}"), name)
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let Some(name) = self.postgres_database.take() else {
            return;
        };
        // Drop runs inside the test's runtime; a separate thread with its own runtime may block.
        let base = postgres_base_url();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&base)
                    .await
                    .map_err(std::io::Error::other)?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .map_err(std::io::Error::other)?;
                Ok::<_, std::io::Error>(())
            })
        })
        .join();
    }
}

/// A plain client (no cookies) that gives up on a hung request.
pub fn client() -> Client {
    Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("client")
}

pub async fn get(url: String) -> reqwest::Result<Response> {
    client().get(url).send().await
}
