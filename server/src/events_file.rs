//! `sluice events export FILE` / `sluice events import FILE`: the release stream as JSON Lines,
//! one event a line, exactly as `GET /api/v1/events?format=jsonl` writes it. Importing an export
//! into an empty installation reproduces every view at every time.

use app::backend::infra::audit::Actor;
use app::backend::{release_stream::events as release_stream, Db};
use app::model::release_stream::{check_label, check_note, ReleaseEvent};
use app::AppError;
use clap::Subcommand;
use std::io::{BufRead, BufReader, BufWriter, Write};

#[derive(Subcommand)]
pub enum EventsCommand {
    /// Write every release event to FILE (`-` for standard output), one JSON object a line.
    Export { file: String },
    /// Append the events of an export; a malformed line stops it before anything is written.
    Import { file: String },
}

pub async fn run(db: &Db, actor: &Actor, command: EventsCommand) -> Result<(), AppError> {
    match command {
        EventsCommand::Export { file } => export(db, &file).await,
        EventsCommand::Import { file } => import(db, actor, &file).await,
    }
}

fn io_error(what: &str, e: std::io::Error) -> AppError {
    AppError::validation("file", format!("{what}: {e}"))
}

async fn export(db: &Db, file: &str) -> Result<(), AppError> {
    let out: Box<dyn Write> = if file == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::fs::File::create(file).map_err(|e| io_error(file, e))?)
    };
    let mut out = BufWriter::new(out);
    let (mut after, mut count) = (0, 0usize);
    loop {
        let page = release_stream::events_since(db, after, 10_000, None).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        for event in &page {
            let line = serde_json::to_string(event).map_err(|_| AppError::Internal)?;
            writeln!(out, "{line}").map_err(|e| io_error(file, e))?;
        }
        count += page.len();
    }
    out.flush().map_err(|e| io_error(file, e))?;
    eprintln!("exported {count} events");
    Ok(())
}

/// Reads and checks every line first: one bad line (named by its number) imports nothing.
pub fn parse_lines(reader: impl BufRead) -> Result<Vec<ReleaseEvent>, AppError> {
    let mut events = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let number = index + 1;
        let bad = |message: String| AppError::validation(format!("line {number}"), message);
        let line = line.map_err(|e| bad(e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let event: ReleaseEvent = serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
        app::model::dist::check_slug("dist", &event.dist)
            .and_then(|_| check_label("release", &event.release))
            .and_then(|_| check_label("state", &event.state))
            .and_then(|_| check_note(&event.note))
            .map_err(|(field, message)| bad(format!("{field} {message}")))?;
        events.push(event);
    }
    Ok(events)
}

async fn import(db: &Db, actor: &Actor, file: &str) -> Result<(), AppError> {
    let reader = BufReader::new(std::fs::File::open(file).map_err(|e| io_error(file, e))?);
    let events = parse_lines(reader)?;
    let total = events.len();
    eprintln!("read {total} events from {file}; importing");
    let step = (total / 20).max(1000);
    let mut shown = 0;
    let imported = release_stream::import(db, actor, &events, |done| {
        if done - shown >= step || done == total {
            shown = done;
            eprintln!("  {done}/{total}");
        }
    })
    .await?;
    println!("imported {imported} events");
    Ok(())
}
