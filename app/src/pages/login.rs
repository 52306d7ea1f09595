use crate::components::page_title::PageTitle;
use crate::SessionResource;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Sign-in form. A plain form post to `/login`, so it works with and without JavaScript.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let session = expect_context::<SessionResource>();
    let error = move || {
        query.read().get("error").map(|code| match code.as_str() {
            "throttled" => "Too many failed sign-ins for this username; try again in 15 minutes.",
            _ => "Wrong username or password.",
        })
    };
    let signed_in_as = move || {
        session
            .get()
            .and_then(|r| r.ok())
            .and_then(|info| info.user)
            .map(|u| u.username)
    };
    view! {
        <PageTitle text="Sign in"/>
        <div class="narrow">
            <h1>"Sign in"</h1>
            {move || signed_in_as().map(|name| view! {
                <p class="notice">"You are signed in as " <strong>{name}</strong> ". " <a href="/">"Go to the overview"</a></p>
            })}
            {move || error().map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
            <form method="post" action="/login" class="stacked">
                <label>"Username"
                    <input name="username" required autocomplete="username" maxlength="64"/>
                </label>
                <label>"Password"
                    <input type="password" name="password" required autocomplete="current-password"/>
                </label>
                <button type="submit">"Sign in"</button>
            </form>
        </div>
    }
}
