use crate::error::AppError;
use crate::model::SessionInfo;
use leptos::prelude::*;

/// Whether the first-run form is needed and who is signed in. Open to everyone.
#[server(prefix = "/rpc", endpoint = "session")]
pub async fn get_session() -> Result<SessionInfo, AppError> {
    use crate::backend::{accounts::users, edge::server_fn as sf};
    sf::respond(async {
        let state = sf::state()?;
        let setup_needed = !users::any_exists(&state.db).await?;
        let user = sf::caller(&state).await?.map(|c| c.current_user());
        Ok(SessionInfo { setup_needed, user })
    })
    .await
}
