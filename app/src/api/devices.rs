//! Devices for the console: how many run each version, search by uuid, one device's history.
//! Open to every signed-in role, as `GET /api/v1/dists/{dist}/…` is.

use crate::error::AppError;
use crate::model::dist::{DeviceHistory, DeviceView, VersionCount};
#[cfg(feature = "ssr")]
use crate::model::Permission;
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "devices/versions")]
pub async fn version_counts(dist: String) -> Result<Vec<VersionCount>, AppError> {
    use crate::backend::{devices::check_ins as devices, edge::server_fn as sf};
    sf::respond(async {
        let (state, _) = sf::require(Permission::ReadDevices).await?;
        devices::version_counts(&state.db, &dist).await
    })
    .await
}

/// Devices whose uuid starts with `uuid_prefix`; an empty prefix lists the most recently seen.
#[server(prefix = "/rpc", endpoint = "devices/search")]
pub async fn search_devices(
    dist: String,
    #[server(default)] uuid_prefix: String,
) -> Result<Vec<DeviceView>, AppError> {
    use crate::backend::{devices::check_ins as devices, edge::server_fn as sf};
    sf::respond(async {
        let (state, _) = sf::require(Permission::ReadDevices).await?;
        devices::search(&state.db, &dist, uuid_prefix.trim()).await
    })
    .await
}

#[server(prefix = "/rpc", endpoint = "devices/history")]
pub async fn get_device(dist: String, uuid: String) -> Result<DeviceHistory, AppError> {
    use crate::backend::{devices::check_ins as devices, edge::server_fn as sf};
    sf::respond(async {
        let (state, _) = sf::require(Permission::ReadDevices).await?;
        devices::history(&state.db, &dist, &uuid).await
    })
    .await
}
