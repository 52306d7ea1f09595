//! Building the service and running it until a shutdown signal.

use crate::config::{redact_url, Config};
use crate::jobs::{Jobs, JobsError};
use crate::routes;
use app::backend::catalog::rollout_tracker::RolloutTracker;
use app::backend::catalog::store::CatalogStore;
use app::backend::devices::check_ins::SeenBuffer;
use app::backend::devices::reports::ReportWriter;
use app::backend::infra::db::{DbError, NativePool};
use app::backend::messaging::outbox::Outbox;
use app::backend::{accounts::passwords, AppState, Db};
use app::{shell, App};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::OnceLock;
use tokio::net::TcpListener;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// How often expired sessions are deleted from the database.
const SESSION_CLEANUP: std::time::Duration = std::time::Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Database(#[from] DbError),
    #[error("cannot load the build catalog from the database")]
    Catalog,
    #[error(transparent)]
    Jobs(#[from] JobsError),
    #[error("cannot prepare the session table: {0}")]
    Sessions(String),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
}

/// A built service, listening, not yet serving.
pub struct Server {
    listener: TcpListener,
    edge: routes::edge::Edge,
    pub state: AppState,
    /// Every background task; stopped once the requests in flight are answered, writing what
    /// is still buffered. What the outbox had not delivered stays there for the next start.
    jobs: Jobs,
    limits: crate::serve::Limits,
}

impl Server {
    /// The webhook sender, for delivering by hand.
    pub fn webhooks(&self) -> crate::jobs::outbox_worker::WebhookSender {
        self.jobs.webhooks()
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` resolves, then finishes the requests in flight, then stops the
    /// background tasks, which write what is still buffered.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let outbox = self.state.outbox.clone();
        let shutdown = async move {
            shutdown.await;
            // Live streams never end on their own: they end now, so that the connections
            // they hold close and the wait for open requests ends with them.
            outbox.close();
        };
        crate::serve::serve(self.listener, self.edge, self.limits, shutdown).await;
        self.jobs.stop().await;
        Ok(())
    }

    /// Serves until SIGINT or SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }
}

pub async fn build(config: &Config) -> Result<Server, StartError> {
    tracing::info!(database = %redact_url(&config.database_url), "opening the database");
    let db = Db::connect(&config.database_url).await?;
    passwords::warm_up().await;

    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Listen {
            address: config.listen,
            source,
        })?;
    let leptos_options = LeptosOptions::builder()
        .output_name("sluice")
        .site_root(config.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(listener.local_addr().map_err(|source| StartError::Listen {
            address: config.listen,
            source,
        })?)
        .build();
    if config.minute_ms != 60_000 {
        tracing::warn!(
            minute_ms = config.minute_ms,
            "rehearsal: rollout clocks run fast"
        );
    }
    let catalog = CatalogStore::new(RolloutTracker::new(
        config.minute_ms,
        config.offers_per_address,
    ));
    catalog.reload(&db).await.map_err(|_| StartError::Catalog)?;
    let (reports, report_queue) = ReportWriter::new();
    let state = AppState {
        db,
        catalog,
        seen: SeenBuffer::default(),
        reports,
        outbox: Outbox::default(),
        timelines: Default::default(),
        streams: Default::default(),
        outbound: config.webhook_allow.clone(),
        default_dist: config.default_dist.as_deref().map(Into::into),
        report_url: report_url(config, &leptos_options).into(),
        public_url: config.public_url.as_deref().map(Into::into),
        leptos_options,
    };

    let router = console_router(&state);
    let (router, session_cleanup) = match &state.db.native {
        NativePool::Sqlite(pool) => {
            let store = SqliteStore::new(pool.clone());
            store
                .migrate()
                .await
                .map_err(|e| StartError::Sessions(e.to_string()))?;
            let cleanup = store.clone().continuously_delete_expired(SESSION_CLEANUP);
            (with_sessions(router, store, config), deleting(cleanup))
        }
        NativePool::Postgres(pool) => {
            let store = PostgresStore::new(pool.clone());
            store
                .migrate()
                .await
                .map_err(|e| StartError::Sessions(e.to_string()))?;
            let cleanup = store.clone().continuously_delete_expired(SESSION_CLEANUP);
            (with_sessions(router, store, config), deleting(cleanup))
        }
    };
    let amqp_url = config.amqp_url.as_deref();
    let decisions = config.decisions;
    let jobs = Jobs::start(&state, decisions, report_queue, amqp_url, session_cleanup).await?;
    let router = routes::page_nonce::layer(routes::csrf::layer(router, config.public_url.clone()));
    let router = routes::device_routes()
        .into_router()
        .with_state(routes::device::DeviceApi::new(&state))
        .merge(router);
    let edge = routes::edge::Edge::new(router, config.trusted_proxies.clone());
    Ok(Server {
        listener,
        edge,
        state,
        jobs,
        limits: config.connections,
    })
}

/// Where devices send their reports: the configured public URL, else the address this server
/// listens on. Never the request's `Host`, which the client chooses: a forged one would send
/// devices' reports elsewhere. Made once, not per update check.
fn report_url(config: &Config, options: &LeptosOptions) -> String {
    match &config.public_url {
        Some(url) => format!("{}/v1/log", url.trim_end_matches('/')),
        None => format!("http://{}/v1/log", options.site_addr),
    }
}

/// The console's routes, generated once per process. Generating them sets a process-wide flag
/// that parks every resource first polled meanwhile for good (leptos issue #4773), so a second
/// server starting in the same process (as in the integration tests) could hang pages another
/// one is rendering.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: OnceLock<Vec<leptos_axum::AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

fn console_router(state: &AppState) -> Router {
    let leptos_options = state.leptos_options.clone();
    let route_list = route_list();
    routes::routes()
        .into_router()
        .leptos_routes(state, route_list, move || shell(leptos_options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn(
            routes::rpc_status::bad_arguments_are_400,
        ))
        .with_state(state.clone())
}

/// The session table's cleanup as a background task: an error ends it, logged.
fn deleting(
    cleanup: impl Future<Output = Result<(), tower_sessions::session_store::Error>> + Send + 'static,
) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(async move {
        if let Err(e) = cleanup.await {
            tracing::warn!(error = %e, "expired sessions are no longer deleted");
        }
    })
}

fn with_sessions<S>(router: Router, store: S, config: &Config) -> Router
where
    S: SessionStore + Clone,
{
    let layer = SessionManagerLayer::new(store)
        .with_name(routes::csrf::SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(time::Duration::days(7)));
    router.layer(layer)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
