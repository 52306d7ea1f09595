use crate::harness::{Backend, TestApp};
use app::model::Role;
use reqwest::StatusCode;

fn bearer(app: &TestApp, path: &str, token: &str) -> reqwest::RequestBuilder {
    crate::harness::client()
        .get(app.at(path))
        .header("authorization", format!("Bearer {token}"))
}

async fn a_token_created_from_the_cli_works_on_the_next_request_until_revoked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (ok, stdout, stderr) = app
        .cli(
            &[
                "token",
                "create",
                "--name",
                "ci",
                "--role",
                "release-manager",
            ],
            "",
        )
        .await;
    assert!(ok, "{stderr}");
    let secret = stdout.lines().last().unwrap().trim().to_string();
    assert!(secret.starts_with("sluice_"));

    let me = bearer(&app, "/api/v1/me", &secret).send().await.unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["name"], "ci");
    assert_eq!(me["role"], "release-manager");
    assert_eq!(me["kind"], "token");

    let (ok, stdout, _) = app.cli(&["token", "list"], "").await;
    assert!(ok);
    assert!(stdout.contains("ci"));
    assert!(!stdout.contains(&secret), "the secret is never shown again");

    let (ok, _, stderr) = app.cli(&["token", "revoke", "ci"], "").await;
    assert!(ok, "{stderr}");
    let revoked = bearer(&app, "/api/v1/me", &secret).send().await.unwrap();
    assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED);
}

async fn a_token_acts_with_its_role(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signed_in("alice", Role::Admin).await;
    let viewer: serde_json::Value = app
        .rpc(
            &admin,
            "tokens/create",
            &[("name", "reader"), ("role", "viewer")],
        )
        .await
        .json()
        .await
        .unwrap();
    let root: serde_json::Value = app
        .rpc(
            &admin,
            "tokens/create",
            &[("name", "automation"), ("role", "admin")],
        )
        .await
        .json()
        .await
        .unwrap();
    let viewer_secret = viewer["secret"].as_str().unwrap();
    let admin_secret = root["secret"].as_str().unwrap();

    let forbidden = bearer(&app, "/api/v1/users", viewer_secret)
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = forbidden.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden");
    let allowed = bearer(&app, "/api/v1/users", admin_secret)
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);
}

async fn tokens_are_stored_only_as_digests_and_listed_without_secrets(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signed_in("alice", Role::Admin).await;
    let created: serde_json::Value = app
        .rpc(
            &admin,
            "tokens/create",
            &[("name", "ci"), ("role", "release-manager")],
        )
        .await
        .json()
        .await
        .unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    let stored: Vec<(String,)> = sqlx::query_as("SELECT token_hash FROM api_tokens")
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].0, secret);
    assert!(!stored[0].0.contains(&secret[7..]));

    let listed = app
        .rpc(&admin, "tokens/list", &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(listed.contains("\"ci\""));
    assert!(!listed.contains(&secret));
}

async fn a_bearer_header_that_names_no_token_is_refused_even_with_a_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signed_in("alice", Role::Admin).await;
    let response = admin
        .get(app.at("/api/v1/me"))
        .header("authorization", "Bearer sluice_0000")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn a_token_records_when_it_was_last_used(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, stdout, _) = app
        .cli(&["token", "create", "--name", "ci", "--role", "viewer"], "")
        .await;
    let secret = stdout.lines().last().unwrap().trim().to_string();
    let before = app::backend::accounts::tokens::list(&app.db).await.unwrap();
    assert_eq!(before[0].last_used_at, None);
    bearer(&app, "/api/v1/me", &secret).send().await.unwrap();
    let after = app::backend::accounts::tokens::list(&app.db).await.unwrap();
    assert!(after[0].last_used_at.is_some());
}

crate::on_both_backends!(
    a_token_created_from_the_cli_works_on_the_next_request_until_revoked,
    a_token_acts_with_its_role,
    tokens_are_stored_only_as_digests_and_listed_without_secrets,
    a_bearer_header_that_names_no_token_is_refused_even_with_a_session,
    a_token_records_when_it_was_last_used,
);
