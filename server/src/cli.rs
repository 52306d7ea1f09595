//! The `sluice` command line. Every subcommand reads the same configuration as `serve` and works
//! while a server runs on the same database.

use crate::config::{Config, DatabaseArgs, ServeArgs};
use crate::startup;
use app::backend::infra::audit::Actor;
use app::backend::{accounts::tokens, accounts::users, Db};
use app::model::time_fmt::format_millis;
use app::model::Role;
use clap::{Parser, Subcommand};
use std::io::{BufRead, IsTerminal};

#[derive(Parser)]
#[command(name = "sluice", version, about = "Sluice release control plane")]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// With no subcommand, `sluice` serves with these.
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Start the service (the default).
    Serve(ServeArgs),
    /// Manage console users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Rehearse a rollout: virtual devices polling and reporting like real ones.
    Simulate(crate::simulate::SimulateArgs),
    /// Export or import the release stream as JSON Lines.
    #[command(subcommand)]
    Events(crate::events_file::EventsCommand),
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user; asks for the password unless --password-stdin is given.
    Add {
        name: String,
        #[arg(long)]
        role: Role,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Change a user's role.
    SetRole { name: String, role: Role },
    /// Disable a user: their sessions stop working at once.
    Disable { name: String },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token; its secret is printed once, as the last line.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: Role,
    },
    /// List active tokens.
    List,
    /// Revoke a token by name.
    Revoke { name: String },
}

pub async fn run(cli: Cli) -> Result<(), String> {
    let command = cli.command.unwrap_or(Command::Serve(cli.serve));
    let command = match command {
        Command::Serve(args) => return serve(&Config::new(&cli.database, &args)).await,
        Command::Simulate(args) => return crate::simulate::run(args).await,
        other => other,
    };
    let db = Db::connect(&cli.database.database_url)
        .await
        .map_err(|e| e.to_string())?;
    let actor = Actor::cli();
    let result = match command {
        Command::Serve(_) | Command::Simulate(_) => unreachable!("handled above"),
        Command::User(command) => user(&db, &actor, command).await,
        Command::Token(command) => token(&db, &actor, command).await,
        Command::Events(command) => crate::events_file::run(&db, &actor, command).await,
    };
    result.map_err(|e| e.to_string())
}

async fn serve(config: &Config) -> Result<(), String> {
    let server = startup::build(config).await.map_err(|e| e.to_string())?;
    tracing::info!("Sluice listens on http://{}", server.local_addr());
    server.run_until_stopped().await.map_err(|e| e.to_string())
}

async fn user(db: &Db, actor: &Actor, command: UserCommand) -> Result<(), app::AppError> {
    match command {
        UserCommand::Add {
            name,
            role,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            let user = users::create(db, actor, &name, &password, role).await?;
            println!("added {} ({})", user.username, user.role);
        }
        UserCommand::List => {
            println!("{:<24} {:<16} {:<9} created", "username", "role", "status");
            for user in users::list(db).await? {
                let status = if user.disabled { "disabled" } else { "active" };
                println!(
                    "{:<24} {:<16} {:<9} {}",
                    user.username,
                    user.role.as_str(),
                    status,
                    format_millis(user.created_at)
                );
            }
        }
        UserCommand::SetRole { name, role } => {
            let user = users::set_role(db, actor, &name, role).await?;
            println!("{} is now {}", user.username, user.role);
        }
        UserCommand::Disable { name } => {
            let user = users::set_disabled(db, actor, &name, true).await?;
            println!("disabled {}", user.username);
        }
    }
    Ok(())
}

async fn token(db: &Db, actor: &Actor, command: TokenCommand) -> Result<(), app::AppError> {
    match command {
        TokenCommand::Create { name, role } => {
            let created = tokens::create(db, actor, &name, role).await?;
            println!(
                "created token {} ({}); it is shown only once:",
                created.token.name, created.token.role
            );
            println!("{}", created.secret);
        }
        TokenCommand::List => {
            println!(
                "{:<24} {:<16} {:<20} last used",
                "name", "role", "created by"
            );
            for token in tokens::list(db).await? {
                println!(
                    "{:<24} {:<16} {:<20} {}",
                    token.name,
                    token.role.as_str(),
                    token.created_by,
                    token
                        .last_used_at
                        .map(format_millis)
                        .unwrap_or_else(|| "never".into())
                );
            }
        }
        TokenCommand::Revoke { name } => {
            tokens::revoke(db, actor, &name).await?;
            println!("revoked {name}");
        }
    }
    Ok(())
}

fn read_password(from_stdin: bool) -> Result<String, app::AppError> {
    let invalid = |message: &str| app::AppError::validation("password", message);
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|_| invalid("cannot read standard input"))?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    if !std::io::stdin().is_terminal() {
        return Err(invalid("no terminal to ask on; use --password-stdin"));
    }
    let first = rpassword::prompt_password("Password: ")
        .map_err(|_| invalid("cannot read the password"))?;
    let second = rpassword::prompt_password("Password, again: ")
        .map_err(|_| invalid("cannot read the password"))?;
    if first != second {
        return Err(invalid("the two passwords differ"));
    }
    Ok(first)
}
