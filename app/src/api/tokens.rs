use crate::error::AppError;
use crate::model::{NewToken, Role, TokenView};
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "tokens/list")]
pub async fn list_tokens() -> Result<Vec<TokenView>, AppError> {
    use crate::backend::{server_fn as sf, tokens};
    sf::respond(async {
        let (state, _) = sf::require(&[Role::Admin]).await?;
        tokens::list(&state.db).await
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "tokens/create")]
pub async fn create_token(name: String, role: Role) -> Result<NewToken, AppError> {
    use crate::backend::{server_fn as sf, tokens};
    sf::respond(async {
        let (state, caller) = sf::require(&[Role::Admin]).await?;
        tokens::create(&state.db, &caller.actor(), name.trim(), role).await
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "tokens/revoke")]
pub async fn revoke_token(name: String) -> Result<(), AppError> {
    use crate::backend::{server_fn as sf, tokens};
    sf::respond(async {
        let (state, caller) = sf::require(&[Role::Admin]).await?;
        tokens::revoke(&state.db, &caller.actor(), &name).await
    })
    .await
}
