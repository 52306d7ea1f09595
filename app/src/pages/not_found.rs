use crate::components::error_panel::ErrorPanel;
use crate::components::page_title::PageTitle;
use crate::error::AppError;
use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <PageTitle text="Not found"/>
        <main id="content">
            <ErrorPanel error=AppError::not_found("this page")/>
        </main>
    }
}
