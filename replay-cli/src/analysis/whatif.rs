//! The "What-if replays" section of a recording's report: every what-if result saved next to
//! the recording (`<recording>.whatif/`, written by `replay_events::whatif`), oldest first,
//! with its parameters and each metric original, replayed and changed. A result file that
//! cannot be read is one line naming the file and the reason; it never fails the report.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use replay_events::whatif::{
    MetricComparison, ResultStatus, WhatIfResult, format_metric, results_dir, scan_results,
};

use super::html_escape;
use super::render::md_cell;

/// The what-if results saved for a recording.
#[derive(Clone, Debug, PartialEq)]
pub struct WhatIfSection {
    /// The results directory (`<recording>.whatif/`).
    pub dir: PathBuf,
    /// The result files, oldest first.
    pub entries: Vec<WhatIfEntry>,
}

/// One result file of a [`WhatIfSection`].
#[derive(Clone, Debug, PartialEq)]
pub enum WhatIfEntry {
    /// A result that was read.
    Result {
        /// The result file.
        file: PathBuf,
        /// Its content.
        result: Box<WhatIfResult>,
    },
    /// A file (or the directory) that could not be read.
    Unreadable {
        /// The file.
        file: PathBuf,
        /// Why, on one line, with what to do next.
        reason: String,
    },
}

/// The section for the recording at `recording`; `None` when no what-if result was saved
/// for it.
pub fn whatif_section(recording: &Path) -> Option<WhatIfSection> {
    let dir = results_dir(recording);
    let entries: Vec<WhatIfEntry> = match scan_results(recording) {
        Ok(files) => files
            .into_iter()
            .map(|(file, result)| match result {
                Ok(result) => WhatIfEntry::Result {
                    file,
                    result: Box::new(result),
                },
                Err(e) => WhatIfEntry::Unreadable {
                    file,
                    reason: error_line(&e),
                },
            })
            .collect(),
        Err(e) => vec![WhatIfEntry::Unreadable {
            file: dir.clone(),
            reason: error_line(&e),
        }],
    };
    (!entries.is_empty()).then_some(WhatIfSection { dir, entries })
}

/// A what-if result file's error as one line: a malformed file's position, message and
/// hint (its path is shown beside it), or the message and its causes.
pub fn error_line(error: &replay_events::Error) -> String {
    if let replay_events::Error::Malformed(m) = error {
        let mut line = format!("line {}, column {}: {}", m.line, m.column, m.message);
        if !m.hint.is_empty() {
            let _ = write!(line, "; {}", m.hint);
        }
        return line;
    }
    let mut line = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let _ = write!(line, ": {cause}");
        source = cause.source();
    }
    line.replace(['\n', '\r'], " ")
}

/// How a run ended, in words.
fn status(result: &WhatIfResult) -> String {
    match result.status {
        ResultStatus::Failed => format!(
            "failed: {}",
            result.error.as_deref().unwrap_or("no reason recorded")
        ),
        ResultStatus::Ok => {
            let mut text = "ran to the end".to_owned();
            if let Some(n) = result.outcome_events {
                let _ = write!(text, ", {n} outcome event{}", if n == 1 { "" } else { "s" });
            }
            match result.unchanged {
                Some(true) => text.push_str("; outcomes unchanged"),
                Some(false) => text.push_str("; outcomes changed"),
                None => {}
            }
            text
        }
    }
}

/// The parameters as compact JSON.
fn parameters(result: &WhatIfResult) -> String {
    serde_json::to_string(&result.parameters).unwrap_or_else(|_| "null".to_owned())
}

/// A metric's row as reports and the dashboard show it: name, original, replayed, change.
pub fn metric_cells(m: &MetricComparison) -> [String; 4] {
    [
        m.name.clone(),
        format_metric(m.original, false),
        format_metric(m.replayed, false),
        format_metric(m.diff, true),
    ]
}

/// "N what-if replays of this recording in DIR, oldest first", `dir` already rendered.
fn count_line(section: &WhatIfSection, dir: &str) -> String {
    let total = section.entries.len();
    let unreadable = section
        .entries
        .iter()
        .filter(|e| matches!(e, WhatIfEntry::Unreadable { .. }))
        .count();
    let mut line = format!(
        "{total} what-if replay{} of this recording in {dir}, oldest first",
        if total == 1 { "" } else { "s" }
    );
    if unreadable > 0 {
        let _ = write!(line, "; {unreadable} unreadable");
    }
    line.push('.');
    line
}

/// `text` as a Markdown code span, fenced with more backticks than it contains.
fn md_code(text: &str) -> String {
    let text = md_cell(text);
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if longest == 0 {
        format!("{fence}{text}{fence}")
    } else {
        format!("{fence} {text} {fence}")
    }
}

/// Markdown text outside code: table-safe, and no raw HTML.
fn md_text(text: &str) -> String {
    md_cell(text).replace('<', "&lt;").replace('>', "&gt;")
}

/// Appends the section as Markdown.
pub(super) fn markdown(out: &mut String, section: &WhatIfSection) {
    let dir = md_code(&section.dir.display().to_string());
    let _ = writeln!(out, "\n## What-if replays\n\n{}", count_line(section, &dir));
    for entry in &section.entries {
        match entry {
            WhatIfEntry::Unreadable { file, reason } => {
                let _ = writeln!(
                    out,
                    "\n**Unreadable result** {}: {}",
                    md_code(&file.display().to_string()),
                    md_text(reason)
                );
            }
            WhatIfEntry::Result { file, result } => {
                let _ = write!(out, "\n### {}", md_code(&result.replay_id));
                if let Some(d) = &result.description {
                    let _ = write!(out, ": {}", md_text(d));
                }
                let _ = writeln!(
                    out,
                    "\n\n- parameters: {}\n- status: {}",
                    md_code(&parameters(result)),
                    md_text(&status(result))
                );
                if let Some(outcomes) = result.outcomes_path(file) {
                    let _ = writeln!(
                        out,
                        "- outcome recording: {}",
                        md_code(&outcomes.display().to_string())
                    );
                }
                if !result.metrics.is_empty() {
                    out.push_str(
                        "\n| metric | original | replayed | change |\n|---|---:|---:|---:|\n",
                    );
                    for m in &result.metrics {
                        let [name, original, replayed, change] = metric_cells(m);
                        let _ = writeln!(
                            out,
                            "| {} | {original} | {replayed} | {change} |",
                            md_code(&name)
                        );
                    }
                }
            }
        }
    }
}

/// Appends the section as HTML.
pub(super) fn html(out: &mut String, section: &WhatIfSection) {
    let dir = format!(
        "<code>{}</code>",
        html_escape(&section.dir.display().to_string())
    );
    let _ = writeln!(
        out,
        "<h2>What-if replays</h2><p>{}</p>",
        count_line(section, &dir)
    );
    for entry in &section.entries {
        match entry {
            WhatIfEntry::Unreadable { file, reason } => {
                let _ = writeln!(
                    out,
                    "<p class=\"fail unreadable\"><strong>Unreadable result</strong> <code>{}</code>: {}</p>",
                    html_escape(&file.display().to_string()),
                    html_escape(reason)
                );
            }
            WhatIfEntry::Result { file, result } => {
                let _ = write!(
                    out,
                    "<section class=\"whatif\"><h3><code>{}</code>",
                    html_escape(&result.replay_id)
                );
                if let Some(d) = &result.description {
                    let _ = write!(out, ": {}", html_escape(d));
                }
                let class = if result.status == ResultStatus::Failed {
                    " class=\"fail\""
                } else {
                    ""
                };
                let _ = write!(
                    out,
                    "</h3><ul><li>parameters: <code>{}</code></li><li{class}>status: {}</li>",
                    html_escape(&parameters(result)),
                    html_escape(&status(result))
                );
                if let Some(outcomes) = result.outcomes_path(file) {
                    let _ = write!(
                        out,
                        "<li>outcome recording: <code>{}</code></li>",
                        html_escape(&outcomes.display().to_string())
                    );
                }
                out.push_str("</ul>");
                if !result.metrics.is_empty() {
                    out.push_str("<table class=\"metrics\"><tr><th>metric</th><th>original</th><th>replayed</th><th>change</th></tr>");
                    for m in &result.metrics {
                        let [name, original, replayed, change] = metric_cells(m);
                        let _ = write!(
                            out,
                            "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                            html_escape(&name),
                            html_escape(&original),
                            html_escape(&replayed),
                            html_escape(&change)
                        );
                    }
                    out.push_str("</table>");
                }
                out.push_str("</section>\n");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_fence_backticks() {
        assert_eq!(md_code("a|b"), "`a\\|b`");
        assert_eq!(md_code("x`y"), "`` x`y ``");
    }

    #[test]
    fn no_results_directory_is_no_section() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(whatif_section(&dir.path().join("r.json")), None);
    }

    #[test]
    fn an_unlistable_results_directory_is_an_unreadable_line() {
        let dir = tempfile::tempdir().unwrap();
        let recording = dir.path().join("r.json");
        // A file where the directory should be cannot be listed.
        std::fs::write(results_dir(&recording), "not a directory").unwrap();
        let section = whatif_section(&recording).unwrap();
        let [WhatIfEntry::Unreadable { file, reason }] = section.entries.as_slice() else {
            panic!("{section:?}");
        };
        assert_eq!(file, &results_dir(&recording));
        assert!(reason.contains("list what-if results"), "{reason}");
    }
}
