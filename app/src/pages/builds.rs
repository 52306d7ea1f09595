//! `/dists/{dist}`: the builds of one dist (filtered by `?branch=` and `?board=`), its download
//! mirrors, and the forms to register a build by hand and manage mirrors.

use super::dists::current_role;
use crate::api::registry::{
    get_dist, list_builds, list_mirrors, AddMirror, RegisterBuild, RemoveMirror,
};
use crate::components::error_panel::{submitted, ErrorPanel, FormError};
use crate::components::page_title::PageTitle;
use crate::components::time::Time;
use crate::model::dist::{BuildView, DistView, MirrorView};
use crate::model::Permission;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

#[component]
pub fn DistPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let dist = move || params.read().get("dist").unwrap_or_default();
    let filter = move || {
        let q = query.read();
        (
            q.get("branch").filter(|s| !s.is_empty()),
            q.get("board").filter(|s| !s.is_empty()),
        )
    };
    let register = ServerAction::<RegisterBuild>::new();
    let add_mirror = ServerAction::<AddMirror>::new();
    let remove_mirror = ServerAction::<RemoveMirror>::new();

    let info = Resource::new(dist, get_dist);
    let builds = Resource::new(
        move || (dist(), filter(), register.version().get()),
        |(dist, (branch, board), _)| list_builds(dist, branch, board),
    );
    let mirrors = Resource::new(
        move || {
            (
                dist(),
                add_mirror.version().get(),
                remove_mirror.version().get(),
            )
        },
        |(dist, _, _)| list_mirrors(dist),
    );

    view! {
        <PageTitle text=move || dist()/>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let role = current_role().await;
                let loaded = async { Ok::<_, crate::AppError>((info.await?, builds.await?, mirrors.await?)) };
                match loaded.await {
                    Err(error) => view! { <ErrorPanel error=error/> }.into_any(),
                    Ok((info, builds, mirrors)) => {
                        let (branch, board) = filter();
                        let may_register = role.is_some_and(|r| r.may(Permission::RegisterBuild));
                        let is_admin = role.is_some_and(|r| r.may(Permission::ManageMirrors));
                        view! {
                            <p class="breadcrumb"><a href="/dists">"Dists"</a></p>
                            <h1>{info.name.clone()}</h1>
                            <p>
                                "Versions follow the " <strong>{info.version_scheme.as_str()}</strong> " scheme. "
                                "The channel " <strong>{info.stable_channel.clone()}</strong>
                                " is fed by the branch " <strong>{info.stable_branch.clone()}</strong> ". "
                                <a href=format!("/dists/{}/devices", info.name)>"Devices of " {info.name.clone()}</a> " · "
                                <a href=format!("/dists/{}/rollouts", info.name)>"Rollouts of " {info.name.clone()}</a> " · "
                                <a href=format!("/dists/{}/releases", info.name)>"Release states"</a>
                            </p>
                            <h2>"Builds"</h2>
                            <BuildFilter dist=info.name.clone() branch=branch board=board/>
                            <BuildsTable builds=builds/>
                            {may_register.then(|| view! { <RegisterForm dist=info.clone() register=register/> })}
                            <Mirrors dist=info.name.clone() mirrors=mirrors is_admin=is_admin add=add_mirror remove=remove_mirror/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// A plain GET form, so a filtered list has a URL that can be shared.
#[component]
fn BuildFilter(dist: String, branch: Option<String>, board: Option<String>) -> impl IntoView {
    let action = format!("/dists/{dist}");
    view! {
        <form method="get" action=action.clone() class="filters">
            <label>"Branch" <input name="branch" value=branch.unwrap_or_default()/></label>
            <label>"Board" <input name="board" value=board.unwrap_or_default()/></label>
            <button type="submit">"Filter"</button>
            <a href=action.clone()>"Clear"</a>
        </form>
    }
}

#[component]
fn BuildsTable(builds: Vec<BuildView>) -> impl IntoView {
    if builds.is_empty() {
        return view! { <p>"No builds match."</p> }.into_any();
    }
    view! {
        <div class="table-scroll">
            <table>
                <thead><tr>
                    <th>"Version"</th><th>"Branch"</th><th>"Boards"</th>
                    <th>"Registered"</th><th>"Channels"</th><th>"Withdrawn"</th>
                </tr></thead>
                <tbody>
                    {builds.into_iter().map(|build| {
                        let boards = build.boards.keys().cloned().collect::<Vec<_>>().join(", ");
                        let channels = if build.channels.is_empty() { "—".to_string() } else { build.channels.join(", ") };
                        view! {
                            <tr class:disabled=build.withdrawn_at.is_some()>
                                <td><a href=format!("/builds/{}", build.id)>{build.version.clone()}</a></td>
                                <td>{build.branch.clone()}</td>
                                <td>{boards}</td>
                                <td><Time millis=build.created_at/> " by " {build.registered_by.clone()}</td>
                                <td>{channels}</td>
                                <td>{match build.withdrawn_at {
                                    Some(at) => view! { "yes, " <Time millis=at/> }.into_any(),
                                    None => "no".into_any(),
                                }}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// Registration by hand: one board, one or two files. CI uses `POST /api/v1/builds` instead.
#[component]
fn RegisterForm(dist: DistView, register: ServerAction<RegisterBuild>) -> impl IntoView {
    let outcome = move || register.value().get();
    view! {
        <h2>"Register a build"</h2>
        <p>"For a build CI did not register. Its files must already be at the base URL."</p>
        {move || submitted(outcome(), |build| view! {
                <p class="notice" role="status">
                    "Registered " <strong>{build.version.clone()}</strong> ". "
                    <a href=format!("/builds/{}", build.id)>"Open its page"</a>
                </p>
            }.into_any())}
        <ActionForm action=register attr:class="stacked">
            <input type="hidden" name="dist" value=dist.name.clone()/>
            <label>"Branch" <input name="branch" required maxlength="64" value=dist.stable_branch.clone()/></label>
            <label>"Version" <input name="version" required maxlength="128" autocomplete="off"/></label>
            <label>"Base URL" <input name="base_url" type="url" required maxlength="512" placeholder="https://downloads.example.com/build"/></label>
            <label>"Board" <input name="board" required maxlength="64" placeholder="rpi3"/></label>
            <FileRow row=1 required=true/>
            <FileRow row=2 required=false/>
            <label>"Notes" <textarea name="notes" rows="3" maxlength="10000"></textarea></label>
            <button type="submit">"Register build"</button>
        </ActionForm>
    }
}

/// The name, size and SHA-256 of one file, as `file{row}_name`, `file{row}_size`, `file{row}_sha256`.
#[component]
fn FileRow(row: u8, required: bool) -> impl IntoView {
    let legend = if required {
        format!("File {row}")
    } else {
        format!("File {row} (optional)")
    };
    view! {
        <fieldset class="file-row">
            <legend>{legend}</legend>
            <label>"Name" <input name=format!("file{row}_name") required=required maxlength="255" placeholder="root.tar.gz" autocomplete="off"/></label>
            <label>"Size in bytes" <input name=format!("file{row}_size") type="number" min="0" step="1" required=required/></label>
            <label>"SHA-256" <input name=format!("file{row}_sha256") required=required minlength="64" maxlength="64" pattern="[0-9a-fA-F]{64}" autocomplete="off" spellcheck="false"/></label>
        </fieldset>
    }
}

#[component]
fn Mirrors(
    dist: String,
    mirrors: Vec<MirrorView>,
    is_admin: bool,
    add: ServerAction<AddMirror>,
    remove: ServerAction<RemoveMirror>,
) -> impl IntoView {
    let error = move || {
        [
            add.value().get().and_then(|r| r.err()),
            remove.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
    };
    view! {
        <h2>"Download mirrors"</h2>
        <p>"Devices download from a mirror chosen by weight, and from the build's base URL when there is none. "
           "Templates may use " <code>"{dist}"</code> ", " <code>"{branch}"</code> ", "
           <code>"{version}"</code> " and " <code>"{board}"</code> "."</p>
        {move || error().map(|error| view! { <FormError error=error/> })}
        {if mirrors.is_empty() {
            view! { <p>"No mirrors: devices download from each build's base URL."</p> }.into_any()
        } else {
            view! {
                <div class="table-scroll">
                    <table>
                        <thead><tr>
                            <th>"URL template"</th><th>"Weight"</th>
                            {is_admin.then(|| view! { <th>"Actions"</th> })}
                        </tr></thead>
                        <tbody>
                            {mirrors.into_iter().map(|mirror| view! {
                                <tr>
                                    <td><code class="wrap">{mirror.url_template.clone()}</code></td>
                                    <td>{mirror.weight}</td>
                                    {is_admin.then(|| view! {
                                        <td>
                                            <ActionForm action=remove attr:class="inline">
                                                <input type="hidden" name="dist" value=mirror.dist.clone()/>
                                                <input type="hidden" name="id" value=mirror.id.to_string()/>
                                                <button type="submit" class="danger"
                                                    aria-label=format!("Remove mirror {}", mirror.url_template)>"Remove"</button>
                                            </ActionForm>
                                        </td>
                                    })}
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
        {is_admin.then(|| view! {
            <h3>"Add a mirror"</h3>
            <ActionForm action=add attr:class="stacked">
                <input type="hidden" name="dist" value=dist.clone()/>
                <label>"URL template"
                    <input name="url_template" required maxlength="512" autocomplete="off"
                        placeholder="https://mirror.example.com/{dist}/{version}"/>
                </label>
                <label>"Weight" <input name="weight" type="number" min="1" max="1000" step="1" value="1" required/></label>
                <button type="submit">"Add mirror"</button>
            </ActionForm>
        })}
    }
}
