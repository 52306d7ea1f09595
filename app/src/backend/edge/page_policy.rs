//! The Content-Security-Policy of a console page. Its only inline scripts are the ones Leptos
//! writes (hydration and resolved resources), each with this response's nonce; any other
//! script in the page, such as one smuggled in through a parameter, does not run. The console's
//! router makes the nonce for each request and sets the header from it on HTML answers
//! (`server::routes::page_nonce`); the shell hands the same nonce to Leptos (`app::shell`). Setting
//! the header from the page's render instead (through `ResponseOptions`) left it off now and
//! then, which the browser tests caught.

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

/// The nonce the edge made for this request, for the shell to give to Leptos.
pub fn request_nonce() -> Option<leptos::nonce::Nonce> {
    use_context::<http::request::Parts>()?
        .extensions
        .get::<leptos::nonce::Nonce>()
        .cloned()
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
