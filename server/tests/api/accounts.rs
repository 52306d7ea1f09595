use crate::harness::{location, Backend, TestApp, PASSWORD};
use app::model::Role;
use reqwest::StatusCode;

const FIRST_RUN: &str = "Create the first administrator";

async fn the_first_run_form_creates_an_admin_and_is_then_gone_for_good(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let browser = app.browser();
    let page = browser
        .get(app.at("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(FIRST_RUN));

    let response = browser
        .post(app.at("/setup"))
        .form(&[
            ("username", "alice"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/");

    let page = browser
        .get(app.at("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains(FIRST_RUN));
    assert!(page.contains("signed-in-user"));
    let me: serde_json::Value = browser
        .get(app.at("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], "alice");
    assert_eq!(me["role"], "admin");

    let again = app
        .browser()
        .post(app.at("/setup"))
        .header("accept", "application/json")
        .form(&[
            ("username", "mallory"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(
        app::backend::accounts::users::find_by_username(&app.db, "mallory")
            .await
            .unwrap()
            .is_none()
    );
}

async fn the_first_run_form_refuses_differing_passwords(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app
        .browser()
        .post(app.at("/setup"))
        .form(&[
            ("username", "alice"),
            ("password", PASSWORD),
            ("password_confirm", "something else"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/?error=mismatch");
    assert!(!app::backend::accounts::users::any_exists(&app.db)
        .await
        .unwrap());
}

async fn the_first_run_page_disappears_when_a_user_is_added_from_the_cli(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let page = crate::harness::get(app.at("/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(FIRST_RUN));

    let (ok, stdout, stderr) = app
        .cli(
            &[
                "user",
                "add",
                "alice",
                "--role",
                "admin",
                "--password-stdin",
            ],
            "correct horse battery\n",
        )
        .await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains("added alice (admin)"));

    let page = crate::harness::get(app.at("/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains(FIRST_RUN));
    let browser = app.browser();
    assert_eq!(
        app.login(&browser, "alice", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

async fn signing_in_with_the_right_password_starts_a_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.add_user("alice", Role::Admin).await;
    let browser = app.browser();
    let response = app.login(&browser, "alice", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/");
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
    let me: serde_json::Value = browser
        .get(app.at("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], "alice");
    assert_eq!(me["kind"], "user");
}

fn session_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sluice_session="))
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .to_string()
}

async fn signing_in_again_issues_a_new_session_id_and_signing_out_ends_the_old_one(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.add_user("alice", Role::Admin).await;
    let browser = app.browser();
    let first = session_cookie(&app.login(&browser, "alice", PASSWORD).await);
    let second = session_cookie(&app.login(&browser, "alice", PASSWORD).await);
    assert!(!first.is_empty() && !second.is_empty());
    assert_ne!(first, second);

    let logout = browser.post(app.at("/logout")).send().await.unwrap();
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&logout), "/login");
    // A stolen copy of the old cookie no longer works either.
    let replay = crate::harness::client()
        .get(app.at("/api/v1/me"))
        .header("cookie", second)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
}

async fn a_wrong_password_and_an_unknown_user_get_the_same_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.add_user("alice", Role::Admin).await;
    let wrong = app.login(&app.browser(), "alice", "not the password").await;
    let unknown = app
        .login(&app.browser(), "nobody", "not the password")
        .await;
    assert_eq!(wrong.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&wrong), "/login?error=invalid");
    assert_eq!(unknown.status(), wrong.status());
    assert_eq!(location(&unknown), location(&wrong));

    let json = |name: &'static str| {
        app.browser()
            .post(app.at("/login"))
            .header("accept", "application/json")
            .form(&[("username", name), ("password", "not the password")])
            .send()
    };
    let wrong = json("alice").await.unwrap();
    let unknown = json("nobody").await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.text().await.unwrap(), unknown.text().await.unwrap());
}

async fn five_failed_sign_ins_lock_that_username_from_that_address(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.add_user("alice", Role::Admin).await;
    app.add_user("bob", Role::Viewer).await;
    for _ in 0..5 {
        let response = app.login(&app.browser(), "alice", "guess").await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    let locked = app.login(&app.browser(), "alice", PASSWORD).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(locked
        .text()
        .await
        .unwrap()
        .contains("Too many failed sign-ins"));
    // Another username is not affected.
    assert_eq!(
        app.login(&app.browser(), "bob", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

async fn a_disabled_user_is_signed_out_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let browser = app.signed_in("vera", Role::Viewer).await;
    assert_eq!(
        browser
            .get(app.at("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let (ok, _, stderr) = app.cli(&["user", "disable", "vera"], "").await;
    assert!(ok, "{stderr}");
    assert_eq!(
        browser
            .get(app.at("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(&app.browser(), "vera", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        location(&app.login(&app.browser(), "vera", PASSWORD).await),
        "/login?error=invalid"
    );
}

async fn the_cli_lists_users_and_changes_roles(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.add_user("quinn", Role::Viewer).await;
    let (ok, _, stderr) = app.cli(&["user", "set-role", "quinn", "qa"], "").await;
    assert!(ok, "{stderr}");
    let (ok, stdout, _) = app.cli(&["user", "list"], "").await;
    assert!(ok);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("quinn"))
        .expect("quinn listed");
    assert!(line.contains("qa") && line.contains("active"), "{line}");
    let (ok, _, stderr) = app.cli(&["user", "set-role", "quinn", "root"], "").await;
    assert!(!ok);
    assert!(stderr.contains("unknown role"), "{stderr}");
}

async fn bad_input_is_answered_400_naming_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signed_in("alice", Role::Admin).await;
    let short = app
        .rpc(
            &admin,
            "users/create",
            &[("username", "bob"), ("password", "short"), ("role", "qa")],
        )
        .await;
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = short.json().await.unwrap();
    assert_eq!(body["code"], "validation");
    assert_eq!(body["field"], "password");

    let bad_role = admin
        .post(app.at("/api/v1/users"))
        .json(&serde_json::json!({"username": "bob", "password": PASSWORD, "role": "root"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_role.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = bad_role.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid");
    assert!(body["error"]["message"].as_str().unwrap().contains("role"));

    let duplicate = app
        .rpc(
            &admin,
            "users/create",
            &[
                ("username", "alice"),
                ("password", PASSWORD),
                ("role", "qa"),
            ],
        )
        .await;
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);
}

crate::on_both_backends!(
    the_first_run_form_creates_an_admin_and_is_then_gone_for_good,
    the_first_run_form_refuses_differing_passwords,
    the_first_run_page_disappears_when_a_user_is_added_from_the_cli,
    signing_in_with_the_right_password_starts_a_session,
    signing_in_again_issues_a_new_session_id_and_signing_out_ends_the_old_one,
    a_wrong_password_and_an_unknown_user_get_the_same_answer,
    five_failed_sign_ins_lock_that_username_from_that_address,
    a_disabled_user_is_signed_out_at_once,
    the_cli_lists_users_and_changes_roles,
    bad_input_is_answered_400_naming_the_field,
);
