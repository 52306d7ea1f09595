use crate::error::AppError;
use leptos::prelude::*;

/// An error as a readable panel with its status, never a blank page.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    let status = error.status();
    let (title, hint) = match &error {
        AppError::Unauthorized => ("Sign in required", Some(("Sign in", "/login"))),
        AppError::Forbidden => ("Forbidden", Some(("Back to the overview", "/"))),
        AppError::NotFound { .. } => ("Not found", Some(("Back to the overview", "/"))),
        AppError::Internal => ("Something went wrong", None),
        _ => ("That did not work", None),
    };
    view! {
        <section class="error-panel" role="alert">
            <p class="error-status">{status.as_u16()} " " {status.canonical_reason().unwrap_or("")}</p>
            <h1>{title}</h1>
            <p>{error.to_string()}</p>
            {hint.map(|(label, href)| view! { <p><a href=href>{label}</a></p> })}
        </section>
    }
}

/// The message of a failed form submission, next to the form.
#[component]
pub fn FormError(error: AppError) -> impl IntoView {
    view! { <p class="form-error" role="alert">{error.to_string()}</p> }
}

/// What a form shows after it was submitted: `done` with the answer on success, the error next
/// to the form otherwise, and nothing before the first submission.
pub fn submitted<T>(
    answer: Option<Result<T, AppError>>,
    done: impl FnOnce(T) -> AnyView,
) -> Option<AnyView> {
    match answer {
        Some(Ok(value)) => Some(done(value)),
        Some(Err(error)) => Some(view! { <FormError error=error/> }.into_any()),
        None => None,
    }
}
