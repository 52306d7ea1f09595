use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::Permission;
use crate::model::{NewToken, Role, TokenView};
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "tokens/list")]
pub async fn list_tokens() -> Result<Vec<TokenView>, AppError> {
    use crate::backend::{accounts::tokens, edge::server_fn as sf};
    sf::respond(async {
        let (state, _) = sf::require(Permission::ManageTokens).await?;
        tokens::list(&state.db).await
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "tokens/create")]
pub async fn create_token(name: String, role: Role) -> Result<NewToken, AppError> {
    use crate::backend::{accounts::tokens, edge::server_fn as sf};
    sf::respond(async {
        let (state, caller) = sf::require(Permission::ManageTokens).await?;
        tokens::create(&state.db, &caller.actor(), name.trim(), role).await
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "tokens/revoke")]
pub async fn revoke_token(name: String) -> Result<(), AppError> {
    use crate::backend::{accounts::tokens, edge::server_fn as sf};
    sf::respond(async {
        let (state, caller) = sf::require(Permission::ManageTokens).await?;
        tokens::revoke(&state.db, &caller.actor(), &name).await
    })
    .await
}
