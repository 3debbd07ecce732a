//! `replay report`: the analysis of a cassette or an event recording — totals, duration,
//! per-type and per-name counts, error rate, timing statistics, plots — and, given the
//! original, the validation of a replay against it; for a recording, the what-if replays
//! saved next to it. Rendered as Markdown (fit for a GitHub step summary) or as
//! self-contained HTML with SVG plots.

mod build;
mod render;
pub mod svg;
mod whatif;

use std::path::PathBuf;

pub use build::{ReportError, report_cassette, report_file, report_recording};
pub use render::{render_html, render_markdown};
pub use whatif::{WhatIfEntry, WhatIfSection, error_line, metric_cells, whatif_section};

/// How a replay is validated against its original.
#[derive(Clone, Debug, PartialEq)]
pub struct Tolerances {
    /// Event recordings: the largest difference of an event's offset, in milliseconds.
    pub timing_ms: f64,
    /// Cassettes: the relative tolerance of numeric responses (`0.001` = 0.1 %).
    pub relative: f64,
}

impl Default for Tolerances {
    fn default() -> Tolerances {
        Tolerances {
            timing_ms: 100.0,
            relative: replay_core::diff::DEFAULT_TOLERANCE,
        }
    }
}

/// An analysis report, ready to render.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// `recording` or `cassette`.
    pub kind: &'static str,
    /// The file analysed.
    pub path: PathBuf,
    /// The session name (recordings) or file stem (cassettes).
    pub name: String,
    /// Label and value rows: totals, duration, error rate.
    pub totals: Vec<(String, String)>,
    /// Count tables (by name, by source, by type, by instrument).
    pub counts: Vec<CountTable>,
    /// Statistics of the gaps between consecutive events or interactions.
    pub timing: Option<TimingStats>,
    /// The errors found (at most a few dozen), as lines.
    pub errors: Vec<String>,
    /// Events (or interactions) per time bin, by name, for the timeline plot and sparkline.
    pub timeline: Timeline,
    /// Measured values over the session (cassettes): `(label, [(seconds, value)])`.
    pub measurements: Vec<(String, Vec<(f64, f64)>)>,
    /// The validation against the original, when one was given.
    pub validation: Option<Validation>,
    /// Recordings: the what-if results saved next to the recording, if any.
    pub whatif: Option<WhatIfSection>,
}

/// One table of counts.
#[derive(Clone, Debug, PartialEq)]
pub struct CountTable {
    /// Its title.
    pub title: String,
    /// `(name, count)`, largest first.
    pub rows: Vec<(String, usize)>,
}

/// Statistics of gaps between consecutive entries, in milliseconds.
#[derive(Clone, Debug, PartialEq)]
pub struct TimingStats {
    /// Number of gaps.
    pub count: usize,
    /// Smallest gap.
    pub min: f64,
    /// Mean gap.
    pub mean: f64,
    /// Median gap.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Largest gap.
    pub max: f64,
    /// Entries per second over the whole span.
    pub rate_per_s: f64,
}

/// Counts per time bin, by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// The width of one bin, in `unit`.
    pub bin_width: f64,
    /// `ms` or `s`.
    pub unit: &'static str,
    /// `(name, counts per bin)`.
    pub series: Vec<(String, Vec<usize>)>,
}

/// The validation of a replay against its original.
#[derive(Clone, Debug, PartialEq)]
pub struct Validation {
    /// The original file.
    pub original: PathBuf,
    /// Whether the replay matches within the tolerances.
    pub passed: bool,
    /// One line: what was checked and the outcome.
    pub summary: String,
    /// The differences, one per line (at most a few dozen, then a count).
    pub differences: Vec<String>,
    /// A rendered diff (cassettes), shown as a code block.
    pub detail: Option<String>,
}

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML text and attributes.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
