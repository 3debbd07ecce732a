//! `replay timeline FILE`: the events in order, one line each.

use std::path::PathBuf;
use std::process::ExitCode;

use replay_events::{EventFilter, EventStream, timeline};

use super::output::{print_json, print_stdout};
use super::{CliResult, OutputFormat};

/// Print the events in order: position, offset, name, source and data.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The event recording (`.json` or `.jsonl`).
    file: PathBuf,
    /// Show at most this many events.
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_events: usize,
    /// Only events whose name matches this glob (`Order*`); repeat for several.
    #[arg(long = "event", value_name = "GLOB")]
    events: Vec<String>,
    /// Only events whose source matches this glob; repeat for several.
    #[arg(long = "source", value_name = "GLOB")]
    sources: Vec<String>,
    /// Characters of event data shown per line.
    #[arg(long, default_value_t = 80, value_name = "N")]
    data_width: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
}

pub(crate) fn run(args: Args) -> CliResult {
    super::detect::require_events(&args.file, "timeline")?;
    let filter = EventFilter::names(&args.events)?.sources(&args.sources)?;
    let mut stream = EventStream::open(&args.file)?;
    let timeline = timeline(&mut stream, &filter, Some(args.max_events))?;
    match args.format {
        OutputFormat::Json => print_json(&timeline)?,
        OutputFormat::Text => print_stdout(&timeline.render(args.data_width))?,
    }
    Ok(ExitCode::SUCCESS)
}
