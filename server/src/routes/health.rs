use super::device::DeviceApi;
use axum::extract::State;
use http::StatusCode;

/// Answers without touching the database: for load balancers and benchmarks.
pub async fn healthz() -> &'static str {
    "ok"
}

/// 200 only while the database answers.
pub async fn readyz(State(state): State<DeviceApi>) -> (StatusCode, &'static str) {
    if state.db.is_ready().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}
