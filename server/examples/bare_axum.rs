//! `make bench`'s yardstick for what axum and hyper cost by themselves: one handler answering
//! "ok", served by `axum::serve` on the same runtime Sluice uses. Listens on `BENCH_LISTEN`.

use axum::routing::get;
use axum::Router;

#[tokio::main]
async fn main() {
    let address = std::env::var("BENCH_LISTEN").unwrap_or_else(|_| "127.0.0.1:3918".into());
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .unwrap_or_else(|e| panic!("cannot listen on {address}: {e}"));
    let router = Router::new().route("/", get(|| async { "ok" }));
    axum::serve(listener, router)
        .await
        .unwrap_or_else(|e| panic!("serving failed: {e}"));
}
