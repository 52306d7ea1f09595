//! The page's `<title>`, made safe in one place. leptos_meta writes the title's text into the
//! server's HTML unescaped, so route and query parameters in a title would be markup; and it
//! reads a reactive title only after the page has rendered, when the page's owner may be gone.
//! So on the server a title is read once, while the page is being built, and escaped; in the
//! browser it stays reactive (the browser sets `document.title` as text, which needs no escape).

use leptos::prelude::*;
use leptos::text_prop::TextProp;
use leptos_meta::Title;

/// Every page's title goes through this component, never through `leptos_meta::Title`.
#[component]
pub fn PageTitle(#[prop(into)] text: TextProp) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let text = TextProp::from(escape_title(&untrack(|| text.get())));
    view! { <Title text/> }
}

/// The text of the document's title: the page's own, then the product's name.
pub fn format_title(text: String) -> String {
    if text.is_empty() {
        "Sluice".to_string()
    } else {
        format!("{text} · Sluice")
    }
}

/// Escapes text written between `<title>` and `</title>`. The browser decodes these entities,
/// so the visible title is unchanged.
pub fn escape_title(text: &str) -> String {
    html_escape::encode_text(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_a_title_is_text() {
        assert_eq!(
            escape_title("</title><script>alert(1)</script>"),
            "&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            escape_title("\"><svg onload=x>"),
            "\"&gt;&lt;svg onload=x&gt;"
        );
    }

    #[test]
    fn an_entity_is_escaped_once_more_so_it_shows_as_typed() {
        assert_eq!(escape_title("a &amp; b"), "a &amp;amp; b");
    }

    #[test]
    fn a_page_title_names_the_product() {
        assert_eq!(format_title("Dists".into()), "Dists · Sluice");
        assert_eq!(format_title(String::new()), "Sluice");
    }
}
