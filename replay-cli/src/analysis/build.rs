//! Building a [`Report`] from a cassette or an event recording.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use replay_core::diff::{Change, DiffOptions, Presence, SessionDiff, parse_scpi_number};
use replay_core::session::{InteractionKind, Session, read_session};
use replay_events::{FileKind, Format, Recording, compare, sniff};

use super::whatif::whatif_section;
use super::{CountTable, Report, Timeline, TimingStats, Tolerances, Validation};

/// Time bins of the timeline.
const BINS: usize = 60;
/// Names drawn as their own series; the rest are `(other)`.
const SERIES: usize = 8;
/// Differences listed before "… and N more".
const MAX_LISTED: usize = 30;

/// Why a report could not be made. `Debug` prints the full message with its causes.
#[derive(thiserror::Error)]
pub enum ReportError {
    /// The file could not be read as a recording.
    #[error(transparent)]
    Events(#[from] replay_events::Error),
    /// The file could not be read as a cassette.
    #[error(transparent)]
    Cassette(#[from] replay_core::Error),
    /// A cassette given with a recording, or the other way round.
    #[error("cannot validate {0} `{1}` against {2} `{3}`; give the original of the same kind")]
    KindMismatch(&'static str, PathBuf, &'static str, PathBuf),
}

impl std::fmt::Debug for ReportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReportError::Events(e) => write!(f, "{e:?}"),
            ReportError::Cassette(e) => write!(f, "{e:?}"),
            other => write!(f, "{other}"),
        }
    }
}

enum Input {
    Recording(Recording),
    Cassette(Session),
}

fn open(path: &Path) -> Result<Input, ReportError> {
    let is_events = match Format::from_extension(path) {
        Some(_) => true,
        None => {
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if matches!(ext.to_ascii_lowercase().as_str(), "yaml" | "yml") {
                false
            } else {
                matches!(sniff(path)?, FileKind::Events(_))
            }
        }
    };
    Ok(if is_events {
        Input::Recording(Recording::load(path)?)
    } else {
        Input::Cassette(read_session(path)?)
    })
}

/// The report of the file at `path` (kind detected as `replay diff` does), validated
/// against `against` when given.
pub fn report_file(
    path: &Path,
    against: Option<&Path>,
    tolerances: &Tolerances,
) -> Result<Report, ReportError> {
    let input = open(path)?;
    let original = against.map(open).transpose()?;
    match (input, original) {
        (Input::Recording(r), None) => Ok(report_recording(path, &r, None, tolerances)),
        (Input::Recording(r), Some(Input::Recording(o))) => Ok(report_recording(
            path,
            &r,
            Some((against.unwrap_or(path), &o)),
            tolerances,
        )),
        (Input::Cassette(s), None) => Ok(report_cassette(path, &s, None, tolerances)),
        (Input::Cassette(s), Some(Input::Cassette(o))) => Ok(report_cassette(
            path,
            &s,
            Some((against.unwrap_or(path), &o)),
            tolerances,
        )),
        (Input::Recording(_), Some(Input::Cassette(_))) => Err(ReportError::KindMismatch(
            "the recording",
            path.to_owned(),
            "the cassette",
            against.unwrap_or(path).to_owned(),
        )),
        (Input::Cassette(_), Some(Input::Recording(_))) => Err(ReportError::KindMismatch(
            "the cassette",
            path.to_owned(),
            "the recording",
            against.unwrap_or(path).to_owned(),
        )),
    }
}

/// Whether an event name reads as an error (`…Error…`, `…Failed…`, `…Exception…`,
/// `…Timeout…`, case-insensitive).
pub(crate) fn is_error_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["error", "fail", "exception", "timeout"]
        .iter()
        .any(|w| lower.contains(w))
}

/// The report of an event recording (and its validation against `original`).
pub fn report_recording(
    path: &Path,
    recording: &Recording,
    original: Option<(&Path, &Recording)>,
    tolerances: &Tolerances,
) -> Report {
    let events = &recording.events;
    let offsets: Vec<f64> = events.iter().map(|e| e.offset_ms()).collect();
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    let mut by_source: HashMap<&str, usize> = HashMap::new();
    for e in events {
        *by_name.entry(&e.event_name).or_insert(0) += 1;
        *by_source.entry(&e.source).or_insert(0) += 1;
    }
    let errors: Vec<String> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| is_error_name(&e.event_name))
        .map(|(i, e)| {
            format!(
                "#{} at {} ms: {} from {} {}",
                i + 1,
                super::svg::number(e.offset_ms()),
                e.event_name,
                e.source,
                replay_support::text::shorten(e.event_data.get(), 80)
            )
        })
        .collect();
    let error_count = errors.len();
    let span = offsets.iter().copied().fold(0.0, f64::max);
    let duration = recording.duration_ms.as_f64().unwrap_or(0.0).max(span);
    let names = sorted(by_name);
    let timeline = timeline(
        events
            .iter()
            .map(|e| (e.event_name.as_str(), e.offset_ms())),
        &names,
        duration,
        "ms",
    );
    let mut totals = vec![
        ("session".to_owned(), recording.session_name.clone()),
        ("start".to_owned(), recording.start_time.clone()),
        ("events".to_owned(), events.len().to_string()),
        (
            "duration".to_owned(),
            replay_events::format_offset(duration),
        ),
        ("event names".to_owned(), names.len().to_string()),
        (
            "error events".to_owned(),
            format!("{error_count} ({})", percent(error_count, events.len())),
        ),
    ];
    totals.retain(|(_, v)| !v.is_empty());
    let validation = original.map(|(opath, o)| validate_recording(opath, o, recording, tolerances));
    Report {
        kind: "recording",
        path: path.to_owned(),
        name: recording.session_name.clone(),
        totals,
        counts: vec![
            CountTable {
                title: "Events by name".to_owned(),
                rows: names.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect(),
            },
            CountTable {
                title: "Events by source".to_owned(),
                rows: sorted(by_source)
                    .into_iter()
                    .map(|(n, c)| (n.to_owned(), c))
                    .collect(),
            },
        ],
        timing: timing(&offsets, 1.0),
        errors: limit(errors),
        timeline,
        measurements: Vec::new(),
        validation,
        whatif: whatif_section(path),
    }
}

fn validate_recording(
    original_path: &Path,
    original: &Recording,
    replay: &Recording,
    tolerances: &Tolerances,
) -> Validation {
    let comparison = compare(original, replay);
    let mut differences = Vec::new();
    for change in &comparison.count_changes {
        differences.push(format!(
            "`{}`: {} in the original, {} in the replay ({:+})",
            change.name, change.before, change.after, change.delta
        ));
    }
    for e in &comparison.removed {
        differences.push(format!(
            "missing from the replay: #{} `{}` at {} ms",
            e.index, e.event_name, e.timestamp_offset_ms
        ));
    }
    for e in &comparison.added {
        differences.push(format!(
            "only in the replay: #{} `{}` at {} ms",
            e.index, e.event_name, e.timestamp_offset_ms
        ));
    }
    let mut late = 0usize;
    let mut worst = 0f64;
    if comparison.equal {
        for (i, (a, b)) in original.events.iter().zip(&replay.events).enumerate() {
            let delta = b.offset_ms() - a.offset_ms();
            worst = worst.max(delta.abs());
            if delta.abs() > tolerances.timing_ms {
                late += 1;
                differences.push(format!(
                    "#{} `{}`: at {} ms in the replay, {} ms in the original ({}{} ms)",
                    i + 1,
                    a.event_name,
                    super::svg::number(b.offset_ms()),
                    super::svg::number(a.offset_ms()),
                    if delta >= 0.0 { "+" } else { "" },
                    super::svg::number(delta)
                ));
            }
        }
    }
    let passed = comparison.equal && late == 0;
    let summary = if !comparison.equal {
        format!(
            "FAILED: the replay's events differ from the original's ({} vs {} events)",
            replay.events.len(),
            original.events.len()
        )
    } else if late > 0 {
        format!(
            "FAILED: same {} events in the same order, but {late} off by more than {} ms (worst {} ms)",
            replay.events.len(),
            super::svg::number(tolerances.timing_ms),
            super::svg::number(worst)
        )
    } else {
        format!(
            "PASSED: same {} events in the same order, timing within {} ms (worst {} ms)",
            replay.events.len(),
            super::svg::number(tolerances.timing_ms),
            super::svg::number(worst)
        )
    };
    Validation {
        original: original_path.to_owned(),
        passed,
        summary,
        differences: limit(differences),
        detail: None,
    }
}

/// The report of a cassette (and its validation against `original`).
pub fn report_cassette(
    path: &Path,
    session: &Session,
    original: Option<(&Path, &Session)>,
    tolerances: &Tolerances,
) -> Report {
    let mut by_type: HashMap<&str, usize> = HashMap::new();
    let mut by_instrument = Vec::new();
    let mut errors = Vec::new();
    let mut all: Vec<(&str, f64)> = Vec::new();
    let mut measurements: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for (alias, log) in &session.instruments {
        by_instrument.push((alias.clone(), log.log.len()));
        for (i, interaction) in log.log.iter().enumerate() {
            *by_type.entry(interaction.kind.as_str()).or_insert(0) += 1;
            all.push((alias.as_str(), interaction.timestamp));
            if let Some(error) = &interaction.error {
                errors.push(format!(
                    "`{alias}` #{}: {} `{}` failed: {} ({})",
                    i + 1,
                    interaction.kind,
                    interaction.command,
                    error.message,
                    error.kind.as_str()
                ));
            }
            if matches!(interaction.kind, InteractionKind::Query)
                && let Some(v) = interaction
                    .response
                    .as_deref()
                    .and_then(|r| parse_scpi_number(r.trim()))
                && v.is_finite()
            {
                let label = format!("{alias}: {}", interaction.command);
                match measurements.iter_mut().find(|(l, _)| *l == label) {
                    Some((_, points)) => points.push((interaction.timestamp, v)),
                    None => measurements.push((label, vec![(interaction.timestamp, v)])),
                }
            }
        }
    }
    measurements.retain(|(_, points)| points.len() > 1);
    measurements.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
    measurements.truncate(SERIES);
    let total = session.len();
    let mut times: Vec<f64> = all.iter().map(|(_, t)| *t).collect();
    times.sort_by(f64::total_cmp);
    let start = times.first().copied().unwrap_or(0.0);
    let end = times.last().copied().unwrap_or(0.0);
    let instruments_sorted: Vec<(&str, usize)> = by_instrument
        .iter()
        .map(|(a, n)| (a.as_str(), *n))
        .collect();
    let timeline = timeline(
        all.iter().map(|(a, t)| (*a, t - start)),
        &instruments_sorted,
        end - start,
        "s",
    );
    let error_count = errors.len();
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ms: Vec<f64> = times.iter().map(|t| t * 1000.0).collect();
    let validation =
        original.map(|(opath, o)| validate_cassette(opath, o, path, session, tolerances));
    Report {
        kind: "cassette",
        path: path.to_owned(),
        name,
        totals: vec![
            (
                "instruments".to_owned(),
                session.instruments.len().to_string(),
            ),
            ("interactions".to_owned(), total.to_string()),
            ("duration".to_owned(), format!("{:.3} s", end - start)),
            (
                "recorded errors".to_owned(),
                format!("{error_count} ({})", percent(error_count, total)),
            ),
        ],
        counts: vec![
            CountTable {
                title: "Interactions by type".to_owned(),
                rows: sorted(by_type)
                    .into_iter()
                    .map(|(n, c)| (n.to_owned(), c))
                    .collect(),
            },
            CountTable {
                title: "Interactions by instrument".to_owned(),
                rows: by_instrument,
            },
        ],
        timing: timing(&ms, 1.0),
        errors: limit(errors),
        timeline,
        measurements,
        validation,
        whatif: None,
    }
}

fn validate_cassette(
    original_path: &Path,
    original: &Session,
    path: &Path,
    session: &Session,
    tolerances: &Tolerances,
) -> Validation {
    let options = DiffOptions {
        tolerance: tolerances.relative,
        ..DiffOptions::default()
    };
    let diff = SessionDiff::compute(original, session, &options);
    let mut differences = Vec::new();
    let mut blocking = 0usize;
    for inst in &diff.instruments {
        match inst.presence {
            Presence::Added => {
                blocking += 1;
                differences.push(format!("instrument `{}` only in the replay", inst.alias));
            }
            Presence::Removed => {
                blocking += 1;
                differences.push(format!(
                    "instrument `{}` missing from the replay",
                    inst.alias
                ));
            }
            Presence::Both => {}
        }
    }
    for (alias, change) in diff.changes() {
        let tolerated = matches!(
            change,
            Change::ResponseChanged { drift: Some(d), .. } if !d.beyond_tolerance
        ) || matches!(change, Change::TimestampChanged { .. });
        if !tolerated {
            blocking += 1;
        }
        differences.push(format!(
            "`{alias}`: {}{}",
            describe(change),
            if tolerated { " (within tolerance)" } else { "" }
        ));
    }
    let passed = blocking == 0;
    let summary = format!(
        "{}: {} (relative tolerance {})",
        if passed { "PASSED" } else { "FAILED" },
        diff.summary(),
        super::svg::number(tolerances.relative)
    );
    Validation {
        original: original_path.to_owned(),
        passed,
        summary,
        differences: limit(differences),
        detail: (!diff.is_empty()).then(|| {
            diff.render(
                &original_path.display().to_string(),
                &path.display().to_string(),
            )
        }),
    }
}

fn describe(change: &Change) -> String {
    match change {
        Change::Added { new, kind, command } => format!("#{new} {kind} `{command}` added"),
        Change::Removed { old, kind, command } => format!("#{old} {kind} `{command}` removed"),
        Change::CommandChanged {
            old,
            old_command,
            new_command,
            ..
        } => format!("#{old} `{old_command}` became `{new_command}`"),
        Change::ResponseChanged {
            old,
            command,
            old_response,
            new_response,
            ..
        } => format!(
            "#{old} `{command}` answered `{}` instead of `{}`",
            new_response.as_deref().unwrap_or(""),
            old_response.as_deref().unwrap_or("")
        ),
        Change::BinaryChanged {
            old,
            command,
            first_difference,
            ..
        } => format!("#{old} `{command}` binary block differs from byte {first_difference}"),
        Change::ErrorChanged {
            old,
            command,
            old_error,
            new_error,
            ..
        } => format!(
            "#{old} `{command}` error `{}` instead of `{}`",
            new_error.as_deref().unwrap_or("none"),
            old_error.as_deref().unwrap_or("none")
        ),
        Change::TimestampChanged {
            old,
            command,
            old_timestamp,
            new_timestamp,
            ..
        } => format!("#{old} `{command}` at {new_timestamp} s instead of {old_timestamp} s"),
    }
}

fn sorted<K: Ord + Copy>(map: HashMap<K, usize>) -> Vec<(K, usize)> {
    let mut v: Vec<_> = map.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        "0 %".to_owned()
    } else {
        format!("{:.2} %", part as f64 * 100.0 / whole as f64)
    }
}

fn limit(mut lines: Vec<String>) -> Vec<String> {
    if lines.len() > MAX_LISTED {
        let more = lines.len() - MAX_LISTED;
        lines.truncate(MAX_LISTED);
        lines.push(format!("… and {more} more"));
    }
    lines
}

/// Gap statistics over sorted-or-not `times` (ms), scaled by `scale`.
fn timing(times: &[f64], scale: f64) -> Option<TimingStats> {
    if times.len() < 2 {
        return None;
    }
    let mut sorted_times = times.to_vec();
    sorted_times.sort_by(f64::total_cmp);
    let mut gaps: Vec<f64> = sorted_times
        .windows(2)
        .map(|w| (w[1] - w[0]) * scale)
        .collect();
    gaps.sort_by(f64::total_cmp);
    let n = gaps.len();
    let pick = |q: f64| gaps[((n - 1) as f64 * q).round() as usize];
    let span_s = (sorted_times[sorted_times.len() - 1] - sorted_times[0]) * scale / 1000.0;
    Some(TimingStats {
        count: n,
        min: gaps[0],
        mean: gaps.iter().sum::<f64>() / n as f64,
        p50: pick(0.5),
        p95: pick(0.95),
        max: gaps[n - 1],
        rate_per_s: if span_s > 0.0 {
            times.len() as f64 / span_s
        } else {
            0.0
        },
    })
}

/// Counts per bin for the `SERIES` largest names (in `names` order) and `(other)`.
fn timeline<'a>(
    entries: impl Iterator<Item = (&'a str, f64)>,
    names: &[(&str, usize)],
    span: f64,
    unit: &'static str,
) -> Timeline {
    let shown: Vec<&str> = names.iter().take(SERIES).map(|(n, _)| *n).collect();
    let other = names.len() > SERIES;
    let mut series: Vec<(String, Vec<usize>)> = shown
        .iter()
        .map(|n| ((*n).to_owned(), vec![0; BINS]))
        .collect();
    if other {
        series.push(("(other)".to_owned(), vec![0; BINS]));
    }
    let width = if span > 0.0 { span / BINS as f64 } else { 1.0 };
    for (name, t) in entries {
        let bin = ((t / width).max(0.0) as usize).min(BINS - 1);
        let row = shown
            .iter()
            .position(|n| *n == name)
            .unwrap_or(series.len().saturating_sub(1));
        if let Some((_, counts)) = series.get_mut(row) {
            counts[bin] += 1;
        }
    }
    Timeline {
        bin_width: width,
        unit,
        series,
    }
}
