//! `replay diff A B`: compare two event recordings, or two cassettes. The kind of each file
//! is detected from its content; exit status 0 when equal, 1 when different, 2 on error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use replay_core::events::{Recording, compare};

use super::detect::{Kind, detect};
use super::output::{color_enabled, print_json, print_stdout};
use super::{CliError, CliResult, OutputFormat};

/// Compare two event recordings (per-name count changes, events added and removed, first
/// divergence) or two cassettes. Exit status: 0 equal, 1 different, 2 error.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The original recording or cassette.
    old: PathBuf,
    /// The new one.
    new: PathBuf,
    /// Show at most this many changed events (text output).
    #[arg(long, default_value_t = 100, value_name = "N")]
    max_changes: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
    /// Cassettes: relative tolerance for numeric drift (`0.001` = 0.1 %, the default);
    /// readings that moved less are reported as drift within tolerance.
    #[arg(long, value_name = "RATIO", default_value_t = replay_core::diff::DEFAULT_TOLERANCE, value_parser = parse_tolerance)]
    tolerance: f64,
    /// Cassettes: compare timestamps too (ignored by default).
    #[arg(long)]
    timestamps: bool,
}

use replay_harness::__private::parse_tolerance;

pub(crate) fn run(args: Args) -> CliResult {
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

fn diff_recordings(args: &Args) -> CliResult {
    let old = Recording::load(&args.old)?;
    let new = Recording::load(&args.new)?;
    let comparison = compare(&old, &new);
    match args.format {
        OutputFormat::Json => print_json(&comparison)?,
        OutputFormat::Text => print_stdout(&comparison.render(
            &label(&args.old),
            &label(&args.new),
            color_enabled(&std::io::stdout()),
            args.max_changes,
        ))?,
    }
    Ok(exit(comparison.equal))
}

/// Two cassettes: the semantic session diff of `replay_core::diff`.
fn diff_cassettes(args: &Args) -> CliResult {
    use replay_core::diff::{DiffOptions, RenderOptions, SessionDiff};
    let old = replay_core::session::read_session(&args.old)?;
    let new = replay_core::session::read_session(&args.new)?;
    let options = DiffOptions {
        ignore_timestamps: !args.timestamps,
        tolerance: args.tolerance,
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

fn label(path: &Path) -> String {
    path.display().to_string()
}
