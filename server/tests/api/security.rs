//! What an outsider would try: markup in parameters that reach a page, the headers that contain
//! what gets through anyway, and pages under concurrent load.

use crate::harness::{Backend, TestApp};
use app::model::Role;
use futures_util::stream::{self, StreamExt};
use reqwest::StatusCode;
use std::sync::atomic::{AtomicUsize, Ordering};

const PAYLOADS: [&str; 2] = [
    "</title><script>alert(1)</script>",
    "\"><svg onload=alert(1)>",
];

/// Every page that puts a route or query parameter into its title, with `{}` where the
/// parameter goes.
const TITLED_PAGES: [&str; 9] = [
    "/status/{}",
    "/status/{}/releases/34",
    "/status/fedora/releases/{}",
    "/status/{}/diff?from=2021-01-01",
    "/dists/{}",
    "/dists/{}/devices",
    "/dists/fedora/devices/{}",
    "/dists/{}/releases",
    "/dists/{}/rollouts",
];

fn encoded(payload: &str) -> String {
    payload
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn assert_inert(path: &str, html: &str) {
    for raw in ["</title><script>", "<script>alert", "<svg onload"] {
        assert!(
            !html.contains(raw),
            "{path} answers {raw} unescaped:\n{html}"
        );
    }
}

async fn markup_in_a_parameter_never_reaches_a_page_as_markup(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signed_in("admin", Role::Admin).await;
    let anonymous = app.browser();
    for page in TITLED_PAGES {
        for payload in PAYLOADS {
            let path = page.replace("{}", &encoded(payload));
            for client in [&admin, &anonymous] {
                let response = client.get(app.at(&path)).send().await.unwrap();
                assert!(response.status().as_u16() < 500, "{path}");
                assert_inert(&path, &response.text().await.unwrap());
            }
        }
    }
    // A query parameter that a page shows back.
    for payload in PAYLOADS {
        let path = format!("/status/fedora?at={}", encoded(payload));
        let response = admin.get(app.at(&path)).send().await.unwrap();
        assert_inert(&path, &response.text().await.unwrap());
    }
}

async fn pages_carry_a_script_policy_and_frame_and_sniffing_protection(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.signed_in("admin", Role::Admin).await;
    for path in ["/", "/login", "/status", "/dists", "/no-such-page"] {
        let response = admin.get(app.at(path)).send().await.unwrap();
        let headers = response.headers().clone();
        let policy = headers["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        let html = response.text().await.unwrap();
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("{path}: a nonce in {policy}"));
        let scripts = policy
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap_or_else(|| panic!("{path}: a script-src in {policy}"));
        assert!(
            !scripts.contains("'unsafe-inline'") && !scripts.contains("'unsafe-eval'"),
            "{scripts}"
        );
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        // Every inline script Leptos writes carries this response's nonce.
        for script in html.split("<script").skip(1) {
            let tag = script.split('>').next().unwrap_or_default();
            assert!(
                tag.contains(&format!(" nonce=\"{nonce}\"")),
                "{path}: a script without the nonce: <script{tag}>"
            );
        }
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
    }
    let json = admin.get(app.at("/api/v1/me")).send().await.unwrap();
    assert_eq!(json.headers()["x-content-type-options"], "nosniff");
    assert!(json.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("default-src 'none'"));
    // Two pages never share a nonce.
    let first = admin.get(app.at("/")).send().await.unwrap();
    let second = admin.get(app.at("/")).send().await.unwrap();
    assert_ne!(
        first.headers()["content-security-policy"],
        second.headers()["content-security-policy"]
    );
}

static PANICS: AtomicUsize = AtomicUsize::new(0);

/// Counts panics anywhere in this process from now on; the tests of other modules do not
/// panic unless they fail.
fn count_panics() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
    });
}

async fn titled_pages_loaded_concurrently_all_answer_without_a_panic(backend: Backend) {
    count_panics();
    let app = TestApp::spawn(backend).await;
    let admin = app.signed_in("admin", Role::Admin).await;
    let before = PANICS.load(Ordering::SeqCst);
    let paths: Vec<String> = (0..25)
        .flat_map(|i| {
            TITLED_PAGES
                .iter()
                .map(move |page| page.replace("{}", &format!("fedora{i}")))
        })
        .collect();
    let answers: Vec<Option<StatusCode>> = stream::iter(paths.iter())
        .map(|path| {
            let admin = admin.clone();
            let url = app.at(path);
            async move {
                let response = admin.get(url).send().await.ok()?;
                let status = response.status();
                response.text().await.ok()?;
                Some(status)
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert_eq!(answers.len(), paths.len());
    assert!(
        answers
            .iter()
            .all(|a| a.is_some_and(|status| status.as_u16() < 500)),
        "every load answered: {answers:?}"
    );
    assert_eq!(
        PANICS.load(Ordering::SeqCst),
        before,
        "no panic while rendering"
    );
}

crate::on_both_backends!(
    markup_in_a_parameter_never_reaches_a_page_as_markup,
    pages_carry_a_script_policy_and_frame_and_sniffing_protection,
    titled_pages_loaded_concurrently_all_answer_without_a_panic,
);
