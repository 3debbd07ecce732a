//! `replay filter FILE -o OUT`: a new recording with the chosen events.

use std::path::PathBuf;
use std::process::ExitCode;

use replay_events::{EventFilter, filter_file};

use super::output::{print_json, print_stdout};
use super::{CliError, CliResult, OutputFormat};

/// Write the events matching the globs to a new recording; every event keeps its original
/// offset. `.jsonl` in and out runs in bounded memory.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The event recording to read (`.json` or `.jsonl`).
    file: PathBuf,
    /// Keep events whose name matches this glob (`*Failed`); repeat for several.
    #[arg(long = "event", value_name = "GLOB")]
    events: Vec<String>,
    /// Keep events whose source matches this glob; repeat for several.
    #[arg(long = "source", value_name = "GLOB")]
    sources: Vec<String>,
    /// The recording to write (`.jsonl` → JSON Lines, otherwise JSON).
    #[arg(short, long, value_name = "OUT")]
    output: PathBuf,
    /// Session name of the new recording (default: the original's).
    #[arg(long)]
    name: Option<String>,
    /// Output format of the report.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
}

pub(crate) fn run(args: Args) -> CliResult {
    super::detect::require_events(&args.file, "filter")?;
    if args.events.is_empty() && args.sources.is_empty() {
        return Err(CliError::new(
            "nothing to filter by: give `--event GLOB` and/or `--source GLOB`",
        ));
    }
    let filter = EventFilter::names(&args.events)?.sources(&args.sources)?;
    let outcome = filter_file(&args.file, &args.output, &filter, args.name.as_deref())?;
    match args.format {
        OutputFormat::Json => print_json(&serde_json::json!({
            "input": args.file,
            "output": args.output,
            "read": outcome.read,
            "kept": outcome.kept,
        }))?,
        OutputFormat::Text => print_stdout(&format!(
            "kept {} of {} events → {}\n",
            outcome.kept,
            outcome.read,
            args.output.display()
        ))?,
    }
    Ok(ExitCode::SUCCESS)
}
