use crate::harness::{Backend, TestApp, PASSWORD};
use app::model::Role;
use reqwest::StatusCode;

async fn a_viewer_calling_an_admin_server_function_gets_403(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let viewer = app.signed_in("vera", Role::Viewer).await;
    for (endpoint, form) in [
        ("users/list", vec![]),
        (
            "users/create",
            vec![
                ("username", "eve"),
                ("password", PASSWORD),
                ("role", "admin"),
            ],
        ),
        (
            "users/set_role",
            vec![("username", "vera"), ("role", "admin")],
        ),
        ("tokens/create", vec![("name", "mine"), ("role", "admin")]),
        ("audit/list", vec![]),
    ] {
        let response = app.rpc(&viewer, endpoint, &form).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{endpoint}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], "forbidden");
    }
    assert!(
        app::backend::accounts::users::find_by_username(&app.db, "eve")
            .await
            .unwrap()
            .is_none()
    );
    let vera = app::backend::accounts::users::find_by_username(&app.db, "vera")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(vera.role, Role::Viewer);
}

async fn an_admin_calling_the_same_server_function_succeeds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signed_in("alice", Role::Admin).await;
    let response = app.rpc(&admin, "users/list", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let users: serde_json::Value = response.json().await.unwrap();
    assert_eq!(users[0]["username"], "alice");
}

async fn server_functions_without_a_session_answer_401(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.rpc(&app.browser(), "users/list", &[]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

async fn a_viewer_opening_an_admin_page_sees_forbidden_with_status_403(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let viewer = app.signed_in("vera", Role::Viewer).await;
    let response = viewer.get(app.at("/admin/users")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let page = response.text().await.unwrap();
    assert!(page.contains("Forbidden"));
    assert!(!page.contains("Create user"));
}

async fn api_v1_without_credentials_answers_401_in_the_error_format(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = crate::harness::get(app.at("/api/v1/users")).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    assert!(body["error"]["message"].is_string());
}

async fn a_write_from_another_site_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signed_in("alice", Role::Admin).await;
    let response = admin
        .post(app.at("/rpc/users/create"))
        .header("origin", "https://evil.example")
        .form(&[
            ("username", "eve"),
            ("password", PASSWORD),
            ("role", "admin"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        app::backend::accounts::users::find_by_username(&app.db, "eve")
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_server_function_call_with_bad_arguments_answers_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signed_in("alice", Role::Admin).await;
    let response = app
        .rpc(&admin, "users/set_role", &[("username", "alice")])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = app
        .rpc(
            &admin,
            "users/set_disabled",
            &[("username", "x"), ("disabled", "maybe")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

crate::on_both_backends!(
    a_viewer_calling_an_admin_server_function_gets_403,
    an_admin_calling_the_same_server_function_succeeds,
    server_functions_without_a_session_answer_401,
    a_viewer_opening_an_admin_page_sees_forbidden_with_status_403,
    api_v1_without_credentials_answers_401_in_the_error_format,
    a_write_from_another_site_is_refused,
    a_server_function_call_with_bad_arguments_answers_400,
);
