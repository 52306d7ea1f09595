use crate::harness::{Backend, TestApp, PASSWORD};
use app::model::Role;
use reqwest::StatusCode;

async fn every_write_is_in_the_audit_log_with_who_and_from_where(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signed_in("alice", Role::Admin).await;
    let calls: [(&str, &[(&str, &str)]); 5] = [
        (
            "users/create",
            &[
                ("username", "bob"),
                ("password", PASSWORD),
                ("role", "viewer"),
            ],
        ),
        ("users/set_role", &[("username", "bob"), ("role", "qa")]),
        (
            "users/set_disabled",
            &[("username", "bob"), ("disabled", "true")],
        ),
        (
            "tokens/create",
            &[("name", "ci"), ("role", "release-manager")],
        ),
        ("tokens/revoke", &[("name", "ci")]),
    ];
    for (endpoint, form) in calls {
        let response = app.rpc(&admin, endpoint, form).await;
        assert_eq!(response.status(), StatusCode::OK, "{endpoint}");
    }
    let entries: Vec<serde_json::Value> = admin
        .get(app.at("/api/v1/audit"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "user.create",
        "user.set_role",
        "user.disable",
        "token.create",
        "token.revoke",
        "session.login",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    let set_role = entries
        .iter()
        .find(|e| e["action"] == "user.set_role")
        .unwrap();
    assert_eq!(set_role["actor"], "alice");
    assert_eq!(set_role["target"], "bob");
    assert_eq!(set_role["address"], "127.0.0.1");
    assert!(set_role["at"].as_i64().unwrap() > 0);
}

async fn admins_can_filter_the_audit_log(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signed_in("alice", Role::Admin).await;
    app.cli(&["token", "create", "--name", "ci", "--role", "viewer"], "")
        .await;
    let only_tokens: Vec<serde_json::Value> = admin
        .get(app.at("/api/v1/audit?action=token."))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(only_tokens.len(), 1);
    assert!(only_tokens[0]["actor"]
        .as_str()
        .unwrap()
        .starts_with("cli:"));
    let by_alice: Vec<serde_json::Value> = admin
        .get(app.at("/api/v1/audit?actor=alice"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(by_alice.iter().all(|e| e["actor"] == "alice"));
    assert!(!by_alice.is_empty());

    let page = admin
        .get(app.at("/admin/audit?action=token."))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("token.create"));
    assert!(!page.contains("session.login"));
}

async fn failed_sign_ins_are_audited_without_the_password(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signed_in("alice", Role::Admin).await;
    app.login(&app.browser(), "alice", "my-secret-guess").await;
    let entries = admin
        .get(app.at("/api/v1/audit"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(entries.contains("session.login_failed"));
    assert!(!entries.contains("my-secret-guess"));
}

crate::on_both_backends!(
    every_write_is_in_the_audit_log_with_who_and_from_where,
    admins_can_filter_the_audit_log,
    failed_sign_ins_are_audited_without_the_password,
);
