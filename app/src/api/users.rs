use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::Permission;
use crate::model::{Role, UserView};
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "users/list")]
pub async fn list_users() -> Result<Vec<UserView>, AppError> {
    use crate::backend::{accounts::users, edge::server_fn as sf};
    sf::respond(async {
        let (state, _) = sf::require(Permission::ManageUsers).await?;
        users::list(&state.db).await
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "users/create")]
pub async fn create_user(
    username: String,
    password: String,
    role: Role,
) -> Result<UserView, AppError> {
    use crate::backend::{accounts::users, edge::server_fn as sf};
    sf::respond(async {
        let (state, caller) = sf::require(Permission::ManageUsers).await?;
        users::create(&state.db, &caller.actor(), username.trim(), &password, role).await
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "users/set_role")]
pub async fn set_user_role(username: String, role: Role) -> Result<UserView, AppError> {
    use crate::backend::{accounts::users, edge::server_fn as sf};
    sf::respond(async {
        let (state, caller) = sf::require(Permission::ManageUsers).await?;
        users::set_role(&state.db, &caller.actor(), &username, role).await
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "users/set_disabled")]
pub async fn set_user_disabled(username: String, disabled: bool) -> Result<UserView, AppError> {
    use crate::backend::{accounts::users, edge::server_fn as sf};
    sf::respond(async {
        let (state, caller) = sf::require(Permission::ManageUsers).await?;
        users::set_disabled(&state.db, &caller.actor(), &username, disabled).await
    })
    .await
}
