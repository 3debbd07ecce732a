//! `replay diff A B`: compare two event recordings, or two cassettes, or a recording with
//! one of its what-if replays. The kind of each file is detected from its content; exit
//! status 0 when equal, 1 when different, 2 on error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use replay_events::{Recording, compare};

use super::detect::{Kind, detect};
use super::output::{color_enabled, print_json, print_stdout};
use super::{CliError, CliResult, OutputFormat};

/// Compare two event recordings (per-name count changes, events added and removed, first
/// divergence), two cassettes, or a recording with a what-if result of it
/// (`<recording>.whatif/<id>.result.json`: its metrics, and its outcomes against the recorded
/// ones). Exit status: 0 equal, 1 different, 2 error.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The original recording or cassette.
    old: PathBuf,
    /// The new one.
    new: PathBuf,
    /// Event recordings: show at most this many changed events (text output; default 100).
    /// Rejected for cassettes.
    #[arg(long, value_name = "N")]
    max_changes: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
    /// Cassettes: relative tolerance for numeric drift (`0.001` = 0.1 %, the default);
    /// readings that moved less are reported as drift within tolerance. Rejected for event
    /// recordings.
    #[arg(long, value_name = "RATIO", value_parser = parse_tolerance)]
    tolerance: Option<f64>,
    /// Cassettes: compare timestamps too (ignored by default). Rejected for event
    /// recordings.
    #[arg(long)]
    timestamps: bool,
}

use replay_core::diff::parse_tolerance;

/// Changed events shown by default (`--max-changes`).
const DEFAULT_MAX_CHANGES: usize = 100;

pub(crate) fn run(args: Args) -> CliResult {
    if is_whatif_result(&args.new) {
        return diff_whatif(&args);
    }
    match (detect(&args.old)?, detect(&args.new)?) {
        (Kind::Events(_), Kind::Events(_)) => diff_recordings(&args),
        (Kind::Cassette, Kind::Cassette) => diff_cassettes(&args),
        (old, new) => Err(CliError::new(format!(
            "cannot compare {} `{}` with {} `{}`; give two event recordings or two cassettes",
            describe(old),
            args.old.display(),
            describe(new),
            args.new.display()
        ))),
    }
}

fn describe(kind: Kind) -> &'static str {
    match kind {
        Kind::Events(_) => "the event recording",
        Kind::Cassette => "the cassette",
    }
}

fn exit(equal: bool) -> ExitCode {
    if equal {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// An option that does not apply to the kind of files given: an error, not ignored.
fn reject(option: &str, applies_to: &str, args: &Args, kind: &str) -> CliResult {
    Err(CliError::new(format!(
        "`{option}` applies to {applies_to} only, but `{}` and `{}` are {kind}; drop it",
        args.old.display(),
        args.new.display()
    )))
}

fn diff_recordings(args: &Args) -> CliResult {
    if args.tolerance.is_some() {
        return reject("--tolerance", "cassettes", args, "event recordings");
    }
    if args.timestamps {
        return reject("--timestamps", "cassettes", args, "event recordings");
    }
    let old = Recording::load(&args.old)?;
    let new = Recording::load(&args.new)?;
    let comparison = compare(&old, &new);
    match args.format {
        OutputFormat::Json => print_json(&comparison)?,
        OutputFormat::Text => print_stdout(&comparison.render(
            &label(&args.old),
            &label(&args.new),
            color_enabled(&std::io::stdout()),
            args.max_changes.unwrap_or(DEFAULT_MAX_CHANGES),
        ))?,
    }
    Ok(exit(comparison.equal))
}

/// Two cassettes: the semantic session diff of `replay_core::diff`.
fn diff_cassettes(args: &Args) -> CliResult {
    use replay_core::diff::{DEFAULT_TOLERANCE, DiffOptions, RenderOptions, SessionDiff};
    if args.max_changes.is_some() {
        return reject("--max-changes", "event recordings", args, "cassettes");
    }
    let old = replay_core::session::read_session(&args.old)?;
    let new = replay_core::session::read_session(&args.new)?;
    let options = DiffOptions {
        ignore_timestamps: !args.timestamps,
        tolerance: args.tolerance.unwrap_or(DEFAULT_TOLERANCE),
        ..DiffOptions::default()
    };
    let diff = SessionDiff::compute(&old, &new, &options);
    match args.format {
        OutputFormat::Json => print_json(&diff)?,
        OutputFormat::Text => {
            let options = RenderOptions {
                color: color_enabled(&std::io::stdout()),
                ..RenderOptions::default()
            };
            print_stdout(&diff.render_with(&label(&args.old), &label(&args.new), &options))?;
        }
    }
    Ok(exit(diff.is_empty()))
}

fn is_whatif_result(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".result.json"))
}

/// A recording against one of its what-if runs: the metrics (original, replayed, change),
/// then the run's outcomes against the recording's.
fn diff_whatif(args: &Args) -> CliResult {
    if args.tolerance.is_some() {
        return reject(
            "--tolerance",
            "cassettes",
            args,
            "a recording and a what-if result",
        );
    }
    if args.timestamps {
        return reject(
            "--timestamps",
            "cassettes",
            args,
            "a recording and a what-if result",
        );
    }
    let result = replay_events::whatif::WhatIfResult::load(&args.new)?;
    let Some(outcomes) = result.outcomes_path(&args.new) else {
        return Err(CliError::new(format!(
            "what-if result `{}` has no saved outcomes (its run saved the result only)\n\
             run it again with `Save::ResultsAndOutcomes` to compare its outcomes event by event",
            args.new.display()
        )));
    };
    let recording = Recording::load(&args.old)?;
    let original = result.original_outcomes(&recording);
    let replayed = Recording::load(&outcomes)?;
    let comparison = compare(&original, &replayed);
    match args.format {
        OutputFormat::Json => print_json(&serde_json::json!({
            "result": result,
            "comparison": comparison,
        }))?,
        OutputFormat::Text => {
            let mut out = format!(
                "what-if {} of {} with {}\n",
                result.replay_id,
                label(&args.old),
                serde_json::to_string(&result.parameters).unwrap_or_default()
            );
            out.push_str(&replay_events::whatif::render_metrics(&result.metrics));
            out.push('\n');
            out.push_str(&comparison.render(
                &format!("{} (recorded outcomes)", label(&args.old)),
                &label(&outcomes),
                color_enabled(&std::io::stdout()),
                args.max_changes.unwrap_or(DEFAULT_MAX_CHANGES),
            ));
            print_stdout(&out)?;
        }
    }
    Ok(exit(comparison.equal))
}

fn label(path: &Path) -> String {
    path.display().to_string()
}
