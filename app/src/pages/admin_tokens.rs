use super::admin_users::RoleSelect;
use crate::api::tokens::{list_tokens, CreateToken, RevokeToken};
use crate::components::error_panel::{submitted, ErrorPanel, FormError};
use crate::components::page_title::PageTitle;
use crate::components::shown_once::ShownOnce;
use crate::components::time::Time;
use crate::model::Role;
use leptos::prelude::*;

#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_tokens(),
    );
    let created = move || create.value().get();
    let revoke_error = move || revoke.value().get().and_then(|r| r.err());

    view! {
        <PageTitle text="API tokens"/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Err(error) => view! { <ErrorPanel error=error/> }.into_any(),
                    Ok(list) => view! {
                        <h1>"API tokens"</h1>
                        <p>"Tokens let CI jobs and scripts call " <code>"/api/v1"</code>
                           " with " <code>"Authorization: Bearer …"</code> ". A token acts with its role."</p>
                        {move || submitted(created(), |new| view! {
                                <ShownOnce secret=new.secret.clone()>
                                    "Token " <strong>{new.token.name.clone()}</strong> " created."
                                </ShownOnce>
                            }.into_any())}
                        {move || revoke_error().map(|error| view! { <FormError error=error/> })}
                        <div class="table-scroll">
                            <table>
                                <thead><tr>
                                    <th>"Name"</th><th>"Role"</th><th>"Created by"</th>
                                    <th>"Created"</th><th>"Last used"</th><th>"Actions"</th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|token| view! {
                                        <tr>
                                            <td>{token.name.clone()}</td>
                                            <td>{token.role.to_string()}</td>
                                            <td>{token.created_by.clone()}</td>
                                            <td><Time millis=token.created_at/></td>
                                            <td>{match token.last_used_at {
                                                Some(at) => view! { <Time millis=at/> }.into_any(),
                                                None => "never".into_any(),
                                            }}</td>
                                            <td>
                                                <ActionForm action=revoke attr:class="inline">
                                                    <input type="hidden" name="name" value=token.name.clone()/>
                                                    <button type="submit" class="danger">"Revoke"</button>
                                                </ActionForm>
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        <h2>"Create a token"</h2>
                        <ActionForm action=create attr:class="stacked">
                            <label>"Name" <input name="name" required maxlength="64" autocomplete="off"/></label>
                            <label>"Role" <RoleSelect selected=Role::ReleaseManager/></label>
                            <button type="submit">"Create token"</button>
                        </ActionForm>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}
