//! Every background task of a running server, started and stopped in one place (`Jobs`).
//! The backend offers one step of each (a catalog rebuild, a rollout tick, a flush, a delivery
//! round); this module decides when they run. Tests call the same steps directly instead of
//! waiting for a timer.

pub mod amqp_confirms;
pub mod amqp_publisher;
mod catalog_refresher;
mod outage;
pub mod outbound_resolver;
pub mod outbox_worker;
mod timeline_listener;

use app::backend::devices::reports::ReportQueue;
use app::backend::infra::clock::now_millis;
use app::backend::rollouts::store as rollouts;
use app::backend::AppState;
use app::AppError;
use outbox_worker::WebhookSender;
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often buffered offers and check-ins are written.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// How long a task may take to stop before it is left behind.
const STOP_WITHIN: Duration = Duration::from_secs(10);

/// A task's view of the shutdown: resolves once it is asked to stop.
#[derive(Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    pub async fn requested(mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

/// The running tasks, in the order they are stopped.
pub struct Jobs {
    stop: watch::Sender<bool>,
    tasks: Vec<(&'static str, JoinHandle<()>)>,
    webhooks: WebhookSender,
}

/// Which jobs run on their own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Decisions {
    /// Every job runs on its timer (a real server).
    #[default]
    OnTimers,
    /// The rollout job and the senders (webhooks, AMQP) run only when called (`rollouts::store::tick`,
    /// `WebhookSender::deliver_due`, `amqp_publisher::publish_pending`), so a test decides
    /// when they happen. Everything else (the
    /// writers, the catalog and timeline refreshes, the live feed) still runs.
    WhenCalled,
}

impl Jobs {
    /// Starts every task of a server on `state`; `reports` is the queue of its report writer,
    /// `sessions` the deletion of expired sessions.
    pub async fn start(
        state: &AppState,
        decisions: Decisions,
        reports: ReportQueue,
        amqp_url: Option<&str>,
        sessions: impl Future<Output = ()> + Send + 'static,
    ) -> Result<Jobs, JobsError> {
        let (stop, _) = watch::channel(false);
        let webhooks = WebhookSender::new(state.clone()).map_err(|_| JobsError::Outbox)?;
        let mut jobs = Jobs {
            stop,
            tasks: Vec::new(),
            webhooks,
        };
        let on_timers = decisions == Decisions::OnTimers;
        // Deciding first: nothing new is decided once shutdown starts.
        let (db, catalog) = (state.db.clone(), state.catalog.clone());
        let every = catalog.rollouts.minute_ms() / 4;
        let tick_every = Duration::from_millis(every.clamp(50, 1000) as u64);
        if on_timers {
            jobs.spawn_every("rollout ticker", tick_every, move || {
                let (db, catalog) = (db.clone(), catalog.clone());
                async move {
                    rollouts::tick(&db, &catalog, now_millis())
                        .await
                        .map(|_| ())
                }
            });
        }
        let refresher = catalog_refresher::run(state.clone());
        jobs.spawn("catalog refresher", refresher);
        let listener = timeline_listener::run(state.clone());
        jobs.spawn("timeline listener", listener);
        let live = outbox_worker::live_feed(state.clone())
            .await
            .map_err(|_| JobsError::Outbox)?;
        jobs.spawn("live feed", live);
        if on_timers {
            jobs.spawn("webhook sender", jobs.webhooks.clone().run());
        }
        if let Some(url) = amqp_url.filter(|_| on_timers) {
            let publisher = amqp_publisher::run(state.clone(), url).map_err(JobsError::Amqp)?;
            jobs.spawn("AMQP publisher", publisher);
        }
        jobs.spawn("session cleanup", sessions);
        // Writing last: what was decided before the stop is still written.
        let db = state.db.clone();
        let stopping = jobs.signal().requested();
        jobs.spawn_to_end("report writer", reports.run(db, stopping));
        let (db, tracker) = (state.db.clone(), state.catalog.rollouts.clone());
        jobs.spawn_every("offer flusher", FLUSH_EVERY, move || {
            let (db, tracker) = (db.clone(), tracker.clone());
            async move { tracker.flush(&db).await }
        });
        let (db, seen) = (state.db.clone(), state.seen.clone());
        jobs.spawn_every("check-in flusher", FLUSH_EVERY, move || {
            let (db, seen) = (db.clone(), seen.clone());
            async move { seen.flush(&db).await.map(|_| ()) }
        });
        Ok(jobs)
    }

    /// The webhook sender, to deliver by hand (`Decisions::WhenCalled`).
    pub fn webhooks(&self) -> WebhookSender {
        self.webhooks.clone()
    }

    fn signal(&self) -> Stop {
        Stop(self.stop.subscribe())
    }

    /// A task that ends as soon as it is asked to stop.
    fn spawn(&mut self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        let stop = self.signal();
        let task = async move {
            tokio::select! {
                () = stop.requested() => {}
                () = task => {}
            }
        };
        self.spawn_to_end(name, task);
    }

    /// A task that watches the stop signal itself and finishes its work first.
    fn spawn_to_end(
        &mut self,
        name: &'static str,
        task: impl Future<Output = ()> + Send + 'static,
    ) {
        self.tasks.push((name, tokio::spawn(task)));
    }

    /// `step` every `period` until stopped, then once more (a flush writes its last batch).
    fn spawn_every<F, Fut>(&mut self, name: &'static str, period: Duration, mut step: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), AppError>> + Send,
    {
        let stop = self.signal().requested();
        self.spawn_to_end(name, async move {
            tokio::pin!(stop);
            let mut interval = tokio::time::interval(period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let stopping = tokio::select! {
                    () = &mut stop => true,
                    _ = interval.tick() => false,
                };
                if let Err(e) = step().await {
                    tracing::warn!(job = name, error = %e, "background job failed; retrying");
                }
                if stopping {
                    return;
                }
            }
        });
    }

    /// Asks every task to stop, then waits for each in turn: the deciding ones first, the
    /// writers last, so that what was decided is written.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for (name, task) in self.tasks {
            match tokio::time::timeout(STOP_WITHIN, task).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(job = name, error = %e, "background job failed"),
                Err(_) => tracing::error!(job = name, "background job did not stop in time"),
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    #[error("cannot start the outbox worker")]
    Outbox,
    #[error("{0}")]
    Amqp(String),
}
