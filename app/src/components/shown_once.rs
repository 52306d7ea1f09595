use leptos::prelude::*;

/// A secret just created (a token, a webhook's signing key), shown once with a note to copy it:
/// Sluice keeps only what it needs and never shows it again.
#[component]
pub fn ShownOnce(secret: String, children: Children) -> impl IntoView {
    view! {
        <div class="notice" role="status">
            <p>{children()} " Copy it now: it is shown only once."</p>
            <code class="token-once">{secret}</code>
        </div>
    }
}
