use crate::api::users::{list_users, CreateUser, SetUserDisabled, SetUserRole};
use crate::components::error_panel::{ErrorPanel, FormError};
use crate::components::page_title::PageTitle;
use crate::components::time::Time;
use crate::model::{Role, UserView};
use leptos::prelude::*;

#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let set_role = ServerAction::<SetUserRole>::new();
    let set_disabled = ServerAction::<SetUserDisabled>::new();
    let users = Resource::new(
        move || {
            (
                create.version().get(),
                set_role.version().get(),
                set_disabled.version().get(),
            )
        },
        |_| list_users(),
    );
    let last_error = move || {
        [
            create.value().get().and_then(|r| r.err()),
            set_role.value().get().and_then(|r| r.err()),
            set_disabled.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
    };

    view! {
        <PageTitle text="Users"/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Err(error) => view! { <ErrorPanel error=error/> }.into_any(),
                    Ok(list) => view! {
                        <h1>"Users"</h1>
                        {move || last_error().map(|error| view! { <FormError error=error/> })}
                        <div class="table-scroll">
                            <table>
                                <thead><tr>
                                    <th>"Username"</th><th>"Role"</th><th>"Status"</th>
                                    <th>"Created"</th><th>"Actions"</th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|user| view! {
                                        <UserRow user=user set_role=set_role set_disabled=set_disabled/>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                        <h2>"Create a user"</h2>
                        <ActionForm action=create attr:class="stacked">
                            <label>"Username" <input name="username" required maxlength="64" autocomplete="off"/></label>
                            <label>"Password" <input type="password" name="password" required minlength="10" autocomplete="new-password"/></label>
                            <label>"Role" <RoleSelect selected=Role::Viewer/></label>
                            <button type="submit">"Create user"</button>
                        </ActionForm>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn UserRow(
    user: UserView,
    set_role: ServerAction<SetUserRole>,
    set_disabled: ServerAction<SetUserDisabled>,
) -> impl IntoView {
    let toggle_label = if user.disabled { "Enable" } else { "Disable" };
    let name = user.username;
    let select_id = format!("role-{}", user.id);
    let (role_name, toggle_name) = (name.clone(), name.clone());
    view! {
        <tr class:disabled=user.disabled>
            <td>{name}</td>
            <td>{user.role.to_string()}</td>
            <td>{if user.disabled { "disabled" } else { "active" }}</td>
            <td><Time millis=user.created_at/></td>
            <td class="actions">
                <ActionForm action=set_role attr:class="inline">
                    <input type="hidden" name="username" value=role_name.clone()/>
                    <label class="visually-hidden" for=select_id.clone()>"New role for " {role_name.clone()}</label>
                    <RoleSelect selected=user.role id=select_id.clone()/>
                    <button type="submit">"Change role"</button>
                </ActionForm>
                <ActionForm action=set_disabled attr:class="inline">
                    <input type="hidden" name="username" value=toggle_name.clone()/>
                    <input type="hidden" name="disabled" value=(!user.disabled).to_string()/>
                    <button type="submit">{toggle_label}</button>
                </ActionForm>
            </td>
        </tr>
    }
}

/// A `<select name="role">` with every role.
#[component]
pub fn RoleSelect(selected: Role, #[prop(optional, into)] id: Option<String>) -> impl IntoView {
    view! {
        <select name="role" id=id>
            {Role::ALL.into_iter().map(|role| view! {
                <option value=role.as_str() selected=role == selected>{role.as_str()}</option>
            }).collect_view()}
        </select>
    }
}
