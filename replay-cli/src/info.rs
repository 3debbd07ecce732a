//! `replay info FILE`: what a recording or a cassette holds.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use replay_core::session::read_session;
use replay_events::whatif::{WhatIfResult, format_metric, results_dir, scan_results};
use replay_events::{EventStream, Format, NameCount, format_offset, summarize};
use replay_support::text::escape;
use serde::Serialize;

use super::detect::{Kind, detect};
use super::output::{print_json, print_stdout};
use super::{CliResult, OutputFormat};

/// Show a recording's name, start, duration, total and per-name counts, and the what-if
/// replays of it (for a cassette: per-instrument interaction counts, profile and duration).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The event recording (`.json`, `.jsonl`) or cassette (`.yaml`).
    file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: OutputFormat,
}

pub(crate) fn run(args: Args) -> CliResult {
    match detect(&args.file)? {
        Kind::Events(format) => events(&args.file, format, args.format),
        Kind::Cassette => cassette(&args.file, args.format),
    }
}

#[derive(Serialize)]
struct EventsInfo<'a> {
    kind: &'static str,
    path: &'a Path,
    format: &'static str,
    #[serde(flatten)]
    summary: replay_events::Summary,
    /// The what-if runs of this recording (`<file>.whatif/*.result.json`).
    replays: Vec<ReplayInfo>,
    /// Result files that could not be read, with the reason (the others are still listed).
    unreadable: Vec<Unreadable>,
}

#[derive(Serialize)]
struct Unreadable {
    file: PathBuf,
    error: String,
}

#[derive(Serialize)]
struct ReplayInfo {
    file: PathBuf,
    #[serde(flatten)]
    result: WhatIfResult,
}

fn events(path: &Path, format: Format, output: OutputFormat) -> CliResult {
    let mut stream = EventStream::open(path)?;
    let summary = summarize(&mut stream)?;
    // One corrupt result file must not hide the recording or the other results.
    let mut replays = Vec::new();
    let mut unreadable = Vec::new();
    for (file, result) in scan_results(path)? {
        match result {
            Ok(result) => replays.push((file, result)),
            Err(error) => unreadable.push(Unreadable {
                file,
                error: error.to_string(),
            }),
        }
    }
    let format_name = match format {
        Format::Json => "json",
        Format::JsonLines => "jsonl",
    };
    if output == OutputFormat::Json {
        print_json(&EventsInfo {
            kind: "events",
            path,
            format: format_name,
            summary,
            replays: replays
                .into_iter()
                .map(|(file, result)| ReplayInfo { file, result })
                .collect(),
            unreadable,
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = String::new();
    let _ = writeln!(out, "recording: {} ({format_name})", path.display());
    let _ = writeln!(out, "session:   {}", summary.session_name);
    let _ = writeln!(out, "start:     {}", summary.start_time);
    let duration = summary.duration_ms.as_f64().unwrap_or(0.0);
    let _ = writeln!(out, "duration:  {}", format_offset(duration));
    let _ = writeln!(out, "events:    {}", summary.total_events);
    if let (Some(first), Some(last)) = (summary.first_offset_ms, summary.last_offset_ms) {
        let _ = writeln!(
            out,
            "span:      {} → {}",
            format_offset(first),
            format_offset(last)
        );
    }
    counts(&mut out, "by event name:", &summary.events);
    counts(&mut out, "by source:", &summary.sources);
    replays_of(&mut out, path, &replays);
    for Unreadable { file, error } in &unreadable {
        let first = error.lines().next().unwrap_or("");
        let _ = writeln!(
            out,
            "unreadable what-if result `{}`: {first}",
            replay_support::text::escape(&file.display().to_string())
        );
    }
    print_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// The what-if replays of the recording: id, status, parameters, and the user metrics
/// (replayed value and change; counts per outcome name are in the result files).
fn replays_of(out: &mut String, recording: &Path, replays: &[(PathBuf, WhatIfResult)]) {
    if replays.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "replays of this recording: {} (in {})",
        replays.len(),
        results_dir(recording).display()
    );
    for (_, r) in replays {
        let params = serde_json::to_string(&r.parameters).unwrap_or_default();
        let detail = match &r.error {
            Some(error) => format!("failed: {}", error.lines().next().unwrap_or("")),
            None => r
                .metrics
                .iter()
                .filter(|m| !m.name.starts_with('#'))
                .map(|m| {
                    format!(
                        "{} {} ({})",
                        m.name,
                        format_metric(m.replayed, false),
                        format_metric(m.diff, true)
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
        };
        let unchanged = if r.unchanged == Some(true) {
            "  unchanged"
        } else {
            ""
        };
        let _ = writeln!(out, "  {}  {params}  {detail}{unchanged}", r.replay_id);
    }
}

fn counts(out: &mut String, title: &str, counts: &[NameCount]) {
    if counts.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title}");
    let width = counts
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0);
    for c in counts {
        let _ = writeln!(out, "  {:<width$}  {:>8}", c.name, c.count);
    }
}

#[derive(Serialize)]
struct CassetteInfo<'a> {
    kind: &'static str,
    path: &'a Path,
    total_interactions: usize,
    /// Seconds from the first to the last timestamp.
    duration_s: f64,
    instruments: Vec<InstrumentInfo>,
}

#[derive(Serialize)]
struct InstrumentInfo {
    alias: String,
    profile: Option<String>,
    interactions: usize,
    by_type: BTreeMap<String, usize>,
    first_timestamp: Option<f64>,
    last_timestamp: Option<f64>,
    /// Errors (timeouts, i/o failures) recorded for this instrument.
    errors: Vec<ErrorInfo>,
}

/// One recorded error: where, on what, and what it said.
#[derive(Serialize)]
struct ErrorInfo {
    /// 1-based position in the instrument's log.
    position: usize,
    #[serde(rename = "type")]
    kind: String,
    command: String,
    error: String,
    message: String,
}

fn cassette(path: &Path, output: OutputFormat) -> CliResult {
    let session = read_session(path)?;
    let mut instruments = Vec::new();
    let mut min = f64::INFINITY;
    let mut max = f64::NEG_INFINITY;
    for (alias, log) in &session.instruments {
        let mut by_type = BTreeMap::new();
        for i in &log.log {
            *by_type.entry(i.kind.as_str().to_owned()).or_insert(0) += 1;
            min = min.min(i.timestamp);
            max = max.max(i.timestamp);
        }
        instruments.push(InstrumentInfo {
            alias: alias.clone(),
            profile: log.profile.clone(),
            interactions: log.log.len(),
            by_type,
            first_timestamp: log.log.iter().map(|i| i.timestamp).reduce(f64::min),
            last_timestamp: log.log.iter().map(|i| i.timestamp).reduce(f64::max),
            errors: log
                .log
                .iter()
                .enumerate()
                .filter_map(|(k, i)| {
                    let e = i.error.as_ref()?;
                    Some(ErrorInfo {
                        position: k + 1,
                        kind: i.kind.as_str().to_owned(),
                        command: i.command.clone(),
                        error: e.kind.as_str().to_owned(),
                        message: e.message.clone(),
                    })
                })
                .collect(),
        });
    }
    let duration_s = if max >= min { max - min } else { 0.0 };
    let info = CassetteInfo {
        kind: "cassette",
        path,
        total_interactions: session.len(),
        duration_s,
        instruments,
    };
    if output == OutputFormat::Json {
        print_json(&info)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = String::new();
    let _ = writeln!(out, "cassette:     {}", path.display());
    let _ = writeln!(out, "instruments:  {}", info.instruments.len());
    let _ = writeln!(out, "interactions: {}", info.total_interactions);
    let _ = writeln!(out, "duration:     {:.3} s", info.duration_s);
    let width = info
        .instruments
        .iter()
        .map(|i| i.alias.chars().count())
        .max()
        .unwrap_or(0);
    for i in &info.instruments {
        let types: Vec<String> = i.by_type.iter().map(|(t, n)| format!("{n} {t}")).collect();
        let _ = writeln!(
            out,
            "  {:<width$}  {:<24}  {:>6} {}  ({})",
            i.alias,
            i.profile.as_deref().unwrap_or("(no profile)"),
            i.interactions,
            if i.interactions == 1 {
                "interaction "
            } else {
                "interactions"
            },
            types.join(", ")
        );
        for e in &i.errors {
            let _ = writeln!(
                out,
                "  {:<width$}    #{} {} {}  ⚠ {}: {}",
                "",
                e.position,
                e.kind,
                escape(&e.command),
                e.error,
                escape(&e.message)
            );
        }
    }
    let errors: usize = info.instruments.iter().map(|i| i.errors.len()).sum();
    if errors > 0 {
        let _ = writeln!(
            out,
            "recorded errors: {errors} (replayed as the same errors; `replay textconv` shows them in place)"
        );
    }
    print_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}
