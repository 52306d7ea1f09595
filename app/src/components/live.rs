//! Live pages: follow a dist's server-sent event stream (`/api/v1/events/stream?dist=`) and
//! call back on every release event. Only in the browser; the server-rendered page is complete
//! without it.

#[cfg(feature = "hydrate")]
use leptos::prelude::*;

/// The topics a release page reacts to.
pub const RELEASE_TOPICS: [&str; 2] = ["sluice.release.state.entered", "sluice.release.state.left"];

/// Opens the stream once the page is interactive, closes it when the page goes away.
pub fn follow_dist(dist: String, on_event: impl Fn() + Clone + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::closure::Closure;
        use leptos::wasm_bindgen::JsCast;
        Effect::new(move |_| {
            let query = serde_urlencoded::to_string([("dist", &dist)]).unwrap_or_default();
            let url = format!("/api/v1/events/stream?{query}");
            let Ok(source) = leptos::web_sys::EventSource::new(&url) else {
                return;
            };
            let on_event = on_event.clone();
            let callback = Closure::<dyn Fn()>::new(on_event);
            for topic in RELEASE_TOPICS {
                let _ = source
                    .add_event_listener_with_callback(topic, callback.as_ref().unchecked_ref());
            }
            // The listener lives as long as the page; the source is closed with it.
            callback.forget();
            let source = send_wrapper::SendWrapper::new(source);
            on_cleanup(move || source.close());
        });
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (dist, on_event);
    }
}
