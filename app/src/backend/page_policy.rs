//! The Content-Security-Policy of a console page. Its only inline scripts are the ones Leptos
//! writes (hydration and resolved resources), and Leptos gives each of them this response's
//! nonce; any other script in the page, such as one smuggled in through a parameter, does not
//! run.

use http::header::CONTENT_SECURITY_POLICY;
use http::HeaderValue;
use leptos::prelude::use_context;

/// What a page may load: its own scripts by nonce, the WebAssembly they compile, its own styles
/// and images, and nothing framed, posted elsewhere or re-based.
pub fn for_nonce(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// The policy for answers that are not pages (JSON, feeds, files): nothing runs in them.
pub const NOT_A_PAGE: &str =
    "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Sets the page's policy on the response being rendered.
pub fn set_for_this_page() {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&for_nonce(&nonce)) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_runs_only_scripts_with_its_nonce() {
        let policy = for_nonce("abc");
        assert!(policy.contains("script-src 'nonce-abc'"));
        assert!(!policy.contains("'unsafe-inline' ") && !policy.contains("script-src 'self'"));
        assert!(policy.contains("frame-ancestors 'none'"));
    }
}
