use crate::backend::catalog::store::CatalogStore;
use crate::backend::devices::check_ins::SeenBuffer;
use crate::backend::devices::reports::ReportWriter;
use crate::backend::messaging::outbound::OutboundPolicy;
use crate::backend::messaging::outbox::Outbox;
use crate::backend::messaging::stream_slots::StreamSlots;
use crate::backend::release_stream::timeline_cache::TimelineCache;
use crate::backend::Db;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;

/// Everything a handler or server function needs. It is cloned for every request (axum's
/// `State`), so its text fields are shared (`Arc<str>`), never copied.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub leptos_options: LeptosOptions,
    /// What devices may be offered, in memory (the update check reads only this).
    pub catalog: CatalogStore,
    /// Device check-ins waiting to be written in a batch.
    pub seen: SeenBuffer,
    /// Device reports, group-committed.
    pub reports: ReportWriter,
    /// Wakes the message worker after a commit; the live feed of emitted messages.
    pub outbox: Outbox,
    /// The release-stream spans of each dist, for the views.
    pub timelines: TimelineCache,
    /// Where webhooks may point.
    pub outbound: OutboundPolicy,
    /// Live streams held open, by client address.
    pub streams: StreamSlots,
    /// The dist that answers devices naming none (`SLUICE_DEFAULT_DIST`), when configured.
    pub default_dist: Option<std::sync::Arc<str>>,
    /// Where devices send their reports (`…/v1/log`), in the offers they get.
    pub report_url: std::sync::Arc<str>,
    /// The URL people and devices reach Sluice at, when configured.
    pub public_url: Option<std::sync::Arc<str>>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
