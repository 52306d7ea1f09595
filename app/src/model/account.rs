use super::Role;
use serde::{Deserialize, Serialize};

/// Who is calling, as the console shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub username: String,
    pub role: Role,
}

/// What every page needs to know before it renders.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// No user exists yet: the console shows only the first-run form.
    pub setup_needed: bool,
    pub user: Option<CurrentUser>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub created_by: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A token just created: the secret is shown this once and never stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewToken {
    pub token: TokenView,
    pub secret: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub address: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    /// Only entries before this id (for paging back).
    pub before_id: Option<i64>,
}

pub const USERNAME_MAX: usize = 64;
pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 1024;
pub const TOKEN_NAME_MAX: usize = 64;

/// Usernames and token names: 1–64 characters of letters, digits, `.`, `_`, `-` and `@`,
/// so they read well in the audit log and on the command line.
pub fn check_name(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<(), (&'static str, String)> {
    if value.is_empty() {
        return Err((field, "must not be empty".into()));
    }
    if value.chars().count() > max {
        return Err((field, format!("must be at most {max} characters")));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err((
            field,
            "may contain only letters, digits, '.', '_', '-' and '@'".into(),
        ));
    }
    Ok(())
}

pub fn check_username(value: &str) -> Result<(), (&'static str, String)> {
    check_name("username", value, USERNAME_MAX)
}

pub fn check_password(value: &str) -> Result<(), (&'static str, String)> {
    let len = value.chars().count();
    if len < PASSWORD_MIN {
        return Err((
            "password",
            format!("must be at least {PASSWORD_MIN} characters"),
        ));
    }
    if len > PASSWORD_MAX {
        return Err((
            "password",
            format!("must be at most {PASSWORD_MAX} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_usernames_are_accepted() {
        assert!(check_username("alice").is_ok());
        assert!(check_username("ci-bot_2@example.org").is_ok());
    }

    #[test]
    fn empty_long_or_odd_usernames_are_refused_naming_the_field() {
        assert_eq!(check_username("").unwrap_err().0, "username");
        assert!(check_username(&"a".repeat(65)).is_err());
        assert!(check_username("a b").is_err());
        assert!(check_username("<script>").is_err());
    }

    #[test]
    fn short_passwords_are_refused() {
        assert_eq!(check_password("short").unwrap_err().0, "password");
        assert!(check_password("long enough pw").is_ok());
    }
}
