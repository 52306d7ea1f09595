use crate::harness::{Backend, TestApp};
use reqwest::StatusCode;

async fn healthz_answers_ok_without_the_database(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = crate::harness::get(app.at("/healthz")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "ok");
}

async fn readyz_answers_ok_while_the_database_answers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = crate::harness::get(app.at("/readyz")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    app.db.pool.close().await;
    let response = crate::harness::get(app.at("/readyz")).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
}

async fn an_unknown_page_renders_a_readable_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.add_user("alice", app::model::Role::Admin).await;
    let response = crate::harness::get(app.at("/no/such/page")).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response.text().await.unwrap().contains("Not found"));
}

#[test]
fn serve_fails_fast_when_the_database_cannot_be_reached() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot connect to the database"),
        "{stderr}"
    );
    // The cause, not the pool's "timed out" after waiting for it.
    assert!(stderr.contains("refused"), "{stderr}");
    assert!(!stderr.contains("timed out"), "{stderr}");
}

crate::on_both_backends!(
    healthz_answers_ok_without_the_database,
    readyz_answers_ok_while_the_database_answers,
    an_unknown_page_renders_a_readable_404,
);
