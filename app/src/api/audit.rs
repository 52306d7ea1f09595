use crate::error::AppError;
use crate::model::AuditEntry;
#[cfg(feature = "ssr")]
use crate::model::{AuditFilter, Role};
use leptos::prelude::*;

#[server(prefix = "/rpc", endpoint = "audit/list")]
pub async fn list_audit(
    actor: Option<String>,
    action: Option<String>,
    before_id: Option<i64>,
) -> Result<Vec<AuditEntry>, AppError> {
    use crate::backend::{audit, server_fn as sf};
    sf::respond(async {
        let (state, _) = sf::require(&[Role::Admin]).await?;
        let filter = AuditFilter {
            actor,
            action,
            before_id,
        };
        audit::list(&state.db, &filter).await
    })
    .await
}
