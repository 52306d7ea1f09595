use crate::error::AppError;
use crate::model::webhook::{DeliveryView, NewWebhook, WebhookView};
#[cfg(feature = "ssr")]
use crate::model::Permission;
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "webhooks/list")]
pub async fn list_webhooks() -> Result<Vec<WebhookView>, AppError> {
    use crate::backend::{edge::server_fn as sf, messaging::webhooks};
    sf::respond(async {
        let (state, _) = sf::require(Permission::ManageWebhooks).await?;
        webhooks::list(&state.db).await
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "webhooks/create")]
pub async fn create_webhook(url: String) -> Result<NewWebhook, AppError> {
    use crate::backend::{edge::server_fn as sf, messaging::webhooks};
    sf::respond(async {
        let (state, caller) = sf::require(Permission::ManageWebhooks).await?;
        webhooks::create(&state.db, &state.outbound, &caller.actor(), url.trim()).await
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "webhooks/set-active")]
pub async fn set_webhook_active(id: i64, active: bool) -> Result<WebhookView, AppError> {
    use crate::backend::{edge::server_fn as sf, messaging::webhooks};
    sf::respond(async {
        let (state, caller) = sf::require(Permission::ManageWebhooks).await?;
        webhooks::set_active(&state.db, &caller.actor(), id, active).await
    })
    .await
}

/// A webhook and its delivery log, newest first.
#[server(prefix = "/rpc", endpoint = "webhooks/deliveries")]
pub async fn webhook_deliveries(id: i64) -> Result<(WebhookView, Vec<DeliveryView>), AppError> {
    use crate::backend::{edge::server_fn as sf, messaging::webhooks};
    sf::respond(async {
        let (state, _) = sf::require(Permission::ManageWebhooks).await?;
        let hook = webhooks::get(&state.db, id).await?;
        Ok((hook, webhooks::deliveries(&state.db, id).await?))
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "webhooks/redeliver")]
pub async fn redeliver(delivery_id: i64) -> Result<i64, AppError> {
    use crate::backend::{edge::server_fn as sf, messaging::webhooks};
    sf::respond(async {
        let (state, caller) = sf::require(Permission::ManageWebhooks).await?;
        let id = webhooks::redeliver(&state.db, &caller.actor(), delivery_id).await?;
        state.outbox.wake();
        Ok(id)
    })
    .await
}
