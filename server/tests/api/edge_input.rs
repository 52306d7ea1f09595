//! Hostile input at the edge: control characters, oversized bodies, slow clients, forged
//! headers, forged origins, and errors that keep their JSON shape.

use crate::devices::{recalbox_with_two_builds, NEW_0826, OLD_0824};
use crate::harness::{Backend, TestApp};
use crate::release_stream::{post_form, with_release_manager};
use app::model::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn assert_refused(what: &str, status: StatusCode) {
    assert!(
        status == StatusCode::BAD_REQUEST || status == StatusCode::NOT_FOUND,
        "{what}: {status}"
    );
}

async fn a_nul_or_control_character_anywhere_answers_400_or_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signed_in("admin", Role::Admin).await;
    let anonymous = crate::harness::client();
    for path in [
        "/status/fe%00dora",
        "/status/fedora%00/feed.atom",
        "/status/fedora/releases/3%004",
        "/dists/re%00calbox",
        "/dists/recalbox/devices/%00",
        "/api/v1/dists/a%00b/versions",
        "/api/v1/dists/a%1bb/releases/34/history",
        "/v1/dists/x%00",
        "/legacy/x%00/stable/rpi3/recalbox.version",
        "/v1/upgrade?arch=rpi3&boardversion=4.1&uuid=a%00b",
        "/release.json?dist=%00",
    ] {
        for client in [&admin, &anonymous] {
            let response = client.get(app.at(path)).send().await.unwrap();
            assert_refused(path, response.status());
        }
    }
    let login = app
        .browser()
        .post(app.at("/login"))
        .form(&[("username", "ad\0min"), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_refused("sign-in", login.status());
    let rpc = app
        .rpc(
            &admin,
            "users/create",
            &[("username", "a\0b"), ("password", "x"), ("role", "viewer")],
        )
        .await;
    assert_refused("rpc", rpc.status());
    let rm = app.api(&app.token(Role::ReleaseManager).await);
    let event = rm
        .post(app.at("/api/v1/events"))
        .json(&json!({"dist":"fedora","release":"3\u{0}4","state":"active","action":"entered"}))
        .send()
        .await
        .unwrap();
    assert_eq!(event.status(), StatusCode::BAD_REQUEST);
    let body: Value = event.json().await.unwrap();
    assert_eq!(body["error"]["field"], "release");
    let report = anonymous
        .post(app.at("/v1/log"))
        .header("content-type", "application/json")
        .body(r#"{"board":"rpi3","uuid":"a\u0000","boardversion":"1","branch":"stable","status":"OK"}"#)
        .send()
        .await
        .unwrap();
    assert_refused("report", report.status());
}

async fn an_oversized_server_function_body_answers_413(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signed_in("admin", Role::Admin).await;
    let huge = "x".repeat(3 * 1024 * 1024);
    let response = app
        .rpc(
            &admin,
            "users/create",
            &[("username", &huge), ("password", "x"), ("role", "viewer")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

async fn a_client_that_never_finishes_its_headers_is_disconnected(backend: Backend) {
    let app = TestApp::spawn_configured(backend, |config| {
        config.connections.header_read_timeout = Duration::from_secs(1);
    })
    .await;
    let address = app.url.trim_start_matches("http://").to_string();
    let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let mut buffer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut buffer)).await;
    assert!(read.is_ok(), "the server closed the connection within 5 s");
}

async fn connections_beyond_the_bound_wait_until_one_closes(backend: Backend) {
    let app = TestApp::spawn_configured(backend, |config| {
        config.connections.max_connections = 2;
    })
    .await;
    let address = app.url.trim_start_matches("http://").to_string();
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
        socket
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut answer = [0u8; 12];
        socket.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"HTTP/1.1 200");
        held.push(socket);
    }
    // Both slots are held by open keep-alive connections: a third is not served...
    let third = reqwest::Client::builder()
        .timeout(Duration::from_millis(700))
        .build()
        .unwrap();
    assert!(third.get(app.at("/healthz")).send().await.is_err());
    // ...until one closes.
    drop(held.pop());
    let answer = crate::harness::get(app.at("/healthz")).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
}

async fn the_report_url_never_comes_from_the_host_header(backend: Backend) {
    let old = OLD_0824;
    let (app, _) = recalbox_with_two_builds(backend, NEW_0826).await;
    let offer: Value = crate::harness::client()
        .get(app.at(&format!(
            "/v1/upgrade?arch=rpi3&branch=stable&boardversion={old}&uuid=d1&user=u"
        )))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(offer["report_url"], format!("{}/v1/log", app.url));
}

async fn a_private_dist_of_the_release_stream_is_not_shown_to_devices(backend: Backend) {
    let (app, rm) = with_release_manager(backend).await;
    post_form(&app, &rm, "dist=secret&release=1&state=active&reached=1").await;
    let response = crate::harness::get(app.at("/v1/dists/secret"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let unknown = crate::harness::get(app.at("/v1/dists/nothing"))
        .await
        .unwrap();
    let (a, b): (Value, Value) = (
        response.json().await.unwrap(),
        unknown.json().await.unwrap(),
    );
    assert_eq!(
        a["error"]["message"]
            .as_str()
            .unwrap()
            .replace("secret", "x"),
        b["error"]["message"]
            .as_str()
            .unwrap()
            .replace("nothing", "x"),
        "an existing private dist and no dist look the same"
    );
}

async fn a_cookie_write_must_come_from_this_origin(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signed_in("admin", Role::Admin).await;
    let create = |origin: Option<&str>| {
        let mut request = admin
            .post(app.at("/rpc/tokens/create"))
            .form(&[("name", "t"), ("role", "viewer")]);
        // The browser client sends this app's origin unless told otherwise.
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    let other_scheme = app.url.replace("http://", "https://");
    for origin in ["https://evil.example", "null", other_scheme.as_str()] {
        let response = create(Some(origin)).await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin}");
    }
    // Neither Origin nor Sec-Fetch-Site: not a browser's same-site form.
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed_in = bare
        .post(app.at("/login"))
        .header("origin", &app.url)
        .form(&[
            ("username", "admin"),
            ("password", crate::harness::PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sluice_session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_string();
    let response = bare
        .post(app.at("/rpc/tokens/create"))
        .header("cookie", cookie)
        .form(&[("name", "t"), ("role", "viewer")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(create(None).await.unwrap().status().is_success());
}

async fn a_typed_username_cannot_forge_audit_lines(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.add_user("admin", Role::Admin).await;
    app.login(&app.browser(), "admin\nsession.login ok", "x")
        .await;
    app.login(&app.browser(), "evil\u{202e}nimda", "x").await;
    let admin = app.api(&app.token(Role::Admin).await);
    let audit: Value = app
        .get_json(&admin, "/api/v1/audit?action=session.login_failed")
        .await;
    let text = audit.to_string();
    assert!(
        !text.contains("admin\\nsession"),
        "a raw line break: {text}"
    );
    assert!(text.contains("admin\\\\nsession.login ok"), "{text}");
    assert!(!text.contains('\u{202e}'), "{text}");
    assert!(text.contains("evil\\\\u{202e}nimda"), "{text}");
}

async fn the_older_entries_link_of_the_audit_page_is_encoded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signed_in("admin", Role::Admin).await;
    let actor = app::backend::infra::audit::Actor {
        name: "a&b=c".into(),
        address: "198.51.100.1".into(),
    };
    let mut conn = app.db.pool.acquire().await.unwrap();
    for _ in 0..=app::backend::infra::audit::PAGE_SIZE {
        app::backend::infra::audit::record(&mut conn, &actor, "test.entry", "t", "")
            .await
            .unwrap();
    }
    drop(conn);
    let page = admin
        .get(app.at("/admin/audit?actor=a%26b%3Dc"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Older entries"), "{page}");
    assert!(
        page.contains("/admin/audit?actor=a%26b%3Dc&amp;action=&amp;before="),
        "{page}"
    );
}

async fn parse_errors_of_paths_and_queries_keep_the_json_error_shape(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let reader = app.api(&app.token(Role::Viewer).await);
    for path in ["/api/v1/builds/not-a-number", "/api/v1/rollouts/x/history"] {
        let response = reader.get(app.at(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        let body: Value = response.json().await.expect("a JSON error");
        assert!(body["error"]["message"].is_string(), "{path}: {body}");
    }
}

crate::on_both_backends!(
    a_nul_or_control_character_anywhere_answers_400_or_404,
    an_oversized_server_function_body_answers_413,
    a_client_that_never_finishes_its_headers_is_disconnected,
    connections_beyond_the_bound_wait_until_one_closes,
    the_report_url_never_comes_from_the_host_header,
    a_private_dist_of_the_release_stream_is_not_shown_to_devices,
    a_cookie_write_must_come_from_this_origin,
    a_typed_username_cannot_forge_audit_lines,
    the_older_entries_link_of_the_audit_page_is_encoded,
    parse_errors_of_paths_and_queries_keep_the_json_error_shape,
);
