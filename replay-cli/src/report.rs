//! `replay report FILE [--against ORIGINAL]`: an analysis report of a cassette or an event
//! recording, as Markdown (GitHub step summaries) or self-contained HTML with SVG plots.

use std::path::PathBuf;
use std::process::ExitCode;

use replay_cli::analysis::{Tolerances, render_html, render_markdown, report_file};

use super::output::print_stdout;
use super::{CliError, CliResult};

/// Report on a cassette (`.yaml`) or an event recording (`.json`, `.jsonl`): totals,
/// duration, counts, error rate, timing, plots; with `--against`, validate it against the
/// original. Exit status: 0, or 1 when the validation fails, 2 on error.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The cassette or recording to report on (for a validation: the replay's).
    file: PathBuf,
    /// The original to validate against (same kind as FILE).
    #[arg(long, value_name = "ORIGINAL")]
    against: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
    format: ReportFormat,
    /// Write the report to FILE (atomically) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Recordings: the largest difference of an event's offset from the original's, in
    /// milliseconds (default 100).
    #[arg(long, value_name = "MS", default_value_t = 100.0)]
    tolerance_ms: f64,
    /// Cassettes: relative tolerance of numeric responses (`0.001` = 0.1 %, the default).
    #[arg(long, value_name = "RATIO", value_parser = replay_core::diff::parse_tolerance)]
    tolerance: Option<f64>,
}

/// The formats of `replay report`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ReportFormat {
    /// Markdown (tables and a sparkline timeline).
    Md,
    /// HTML with embedded SVG plots.
    Html,
}

pub(crate) fn run(args: Args) -> CliResult {
    if !args.tolerance_ms.is_finite() || args.tolerance_ms < 0.0 {
        return Err(CliError::new(format!(
            "`--tolerance-ms` is {}; give a non-negative number of milliseconds",
            args.tolerance_ms
        )));
    }
    for path in std::iter::once(&args.file).chain(args.against.as_ref()) {
        if !path.is_file() {
            return Err(CliError::new(format!(
                "file `{}` does not exist; give a cassette (`.yaml`) or a recording (`.json`, `.jsonl`)",
                path.display()
            )));
        }
    }
    let tolerances = Tolerances {
        timing_ms: args.tolerance_ms,
        relative: args
            .tolerance
            .unwrap_or(replay_core::diff::DEFAULT_TOLERANCE),
    };
    let report = report_file(&args.file, args.against.as_deref(), &tolerances)
        .map_err(|e| CliError::new(format!("{e:?}")))?;
    let text = match args.format {
        ReportFormat::Md => render_markdown(&report),
        ReportFormat::Html => render_html(&report),
    };
    match &args.output {
        Some(path) => replay_support::fs::write_atomic(path, text.as_bytes()).map_err(|e| {
            CliError::new(format!(
                "cannot write the report to `{}`: {e}; check the directory",
                path.display()
            ))
        })?,
        None => print_stdout(&text)?,
    }
    let passed = report.validation.as_ref().is_none_or(|v| v.passed);
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
