use crate::error::AppError;
use crate::model::AuditEntry;
#[cfg(feature = "ssr")]
use crate::model::AuditFilter;
#[cfg(feature = "ssr")]
use crate::model::Permission;
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "audit/list")]
pub async fn list_audit(
    actor: Option<String>,
    action: Option<String>,
    before_id: Option<i64>,
) -> Result<Vec<AuditEntry>, AppError> {
    use crate::backend::{edge::server_fn as sf, infra::audit};
    sf::respond(async {
        let (state, _) = sf::require(Permission::ReadAudit).await?;
        let filter = AuditFilter {
            actor,
            action,
            before_id,
        };
        audit::list(&state.db, &filter).await
    })
    .await
}
