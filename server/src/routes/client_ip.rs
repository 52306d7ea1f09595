//! Works out each request's client address once, at the edge, for the throttles, the audit log
//! and the device limits (`app::backend::client_address`).

use app::backend::client_address::{ClientIp, TrustedProxies};
use axum::extract::{ConnectInfo, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use std::net::SocketAddr;

pub fn layer(router: Router, proxies: TrustedProxies) -> Router {
    router.layer(middleware::from_fn(move |request, next| {
        resolve(proxies.clone(), request, next)
    }))
}

async fn resolve(proxies: TrustedProxies, mut request: Request, next: Next) -> Response {
    if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
        let client = proxies.client(peer.ip(), request.headers());
        request.extensions_mut().insert(ClientIp(client));
    }
    next.run(request).await
}
