use crate::components::page_title::PageTitle;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The first-run form. A plain form post to `/setup`, so it works without JavaScript too.
#[component]
pub fn SetupForm() -> impl IntoView {
    let query = use_query_map();
    let error = move || {
        query
            .read()
            .get("error")
            .map(|code| setup_error_message(&code))
    };
    view! {
        <PageTitle text="Create the first administrator"/>
        <main id="content" class="narrow">
            <h1>"Create the first administrator"</h1>
            <p>"Sluice has no users yet. The administrator you create here can add everyone else."</p>
            {move || error().map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
            <form method="post" action="/setup" class="stacked">
                <label>"Username"
                    <input name="username" required autocomplete="username" maxlength="64"/>
                </label>
                <label>"Password"
                    <input type="password" name="password" required minlength="10" autocomplete="new-password"/>
                </label>
                <label>"Password, again"
                    <input type="password" name="password_confirm" required minlength="10" autocomplete="new-password"/>
                </label>
                <button type="submit">"Create administrator"</button>
            </form>
        </main>
    }
}

/// The first-run handler redirects back with one of these codes.
pub fn setup_error_message(code: &str) -> &'static str {
    match code {
        "mismatch" => "The two passwords differ.",
        "username" => "A username is 1 to 64 letters, digits, '.', '_', '-' or '@'.",
        "password" => "A password needs at least 10 characters.",
        "exists" => "An administrator already exists; sign in instead.",
        _ => "That did not work; please try again.",
    }
}
