pub mod error_panel;
pub mod layout;
pub mod live;
pub mod page_title;
pub mod setup_form;
pub mod shown_once;
pub mod time;
pub mod timeline;
