//! `replay merge A B… -o OUT`: several recordings on one time line.

use std::path::PathBuf;
use std::process::ExitCode;

use replay_events::{MergeAlign, Recording, merge};

use super::output::{print_json, print_stdout};
use super::{CliError, CliResult, OutputFormat};

/// Merge recordings into one, ordered by time. By default recordings are placed by their
/// `start_time` (wall clock); `--align zero` starts them all together.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The recordings to merge (`.json` or `.jsonl`), at least two.
    #[arg(required = true, num_args = 2.., value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The recording to write (`.jsonl` → JSON Lines, otherwise JSON).
    #[arg(short, long, value_name = "OUT")]
    output: PathBuf,
    /// How to place the recordings on one time line.
    #[arg(long, value_enum, default_value_t = Align::Start)]
    align: Align,
    /// Session name of the merged recording (default: the names joined by `+`).
    #[arg(long)]
    name: Option<String>,
    /// Output format of the report.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Align {
    /// Shift each recording by its `start_time` relative to the earliest.
    Start,
    /// Start every recording at offset 0.
    Zero,
}

pub(crate) fn run(args: Args) -> CliResult {
    let mut recordings = Vec::with_capacity(args.files.len());
    for file in &args.files {
        super::detect::require_events(file, "merge")?;
        recordings.push(Recording::load(file)?);
    }
    let align = match args.align {
        Align::Start => MergeAlign::StartTime,
        Align::Zero => MergeAlign::Zero,
    };
    let mut merged = merge(&recordings, align)
        .map_err(|e| CliError::new(format!("{e:?}\nwhile merging {}", list(&args.files))))?;
    if let Some(name) = args.name {
        merged.session_name = name;
    }
    merged.save(&args.output)?;
    match args.format {
        OutputFormat::Json => print_json(&serde_json::json!({
            "inputs": args.files,
            "output": args.output,
            "session_name": merged.session_name,
            "start_time": merged.start_time,
            "total_events": merged.events.len(),
        }))?,
        OutputFormat::Text => print_stdout(&format!(
            "merged {} recordings ({} events) → {}\n",
            args.files.len(),
            merged.events.len(),
            args.output.display()
        ))?,
    }
    Ok(ExitCode::SUCCESS)
}

fn list(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|f| format!("`{}`", f.display()))
        .collect::<Vec<_>>()
        .join(", ")
}
