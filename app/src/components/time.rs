use crate::model::time_fmt::{format_millis, rfc3339_millis};
use leptos::prelude::*;

/// A timestamp people can read, machine-readable in `datetime`.
#[component]
pub fn Time(millis: i64) -> impl IntoView {
    view! { <time datetime=rfc3339_millis(millis)>{format_millis(millis)}</time> }
}
