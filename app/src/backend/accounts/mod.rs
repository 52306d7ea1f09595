pub mod login;
pub mod passwords;
pub mod tokens;
pub mod users;
