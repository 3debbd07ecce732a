//! Result documents: a small JSON file per what-if run in `<recording>.whatif/` next to the
//! recording (parameters, metrics, a pointer to the run's outcome recording), so tools list
//! "the replays of this recording" without the program that ran them.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::metrics::MetricComparison;
use super::run::WhatIfRun;
use crate::clock::{file_stamp, format_start_time};
use crate::error::{Error, Result};
use crate::json::render_json;
use crate::model::Recording;

/// The `format` of a result document.
const FORMAT: &str = "replay-whatif/1";
/// File name endings in a results directory.
const RESULT_SUFFIX: &str = ".result.json";
const OUTCOMES_SUFFIX: &str = ".outcomes.json";

/// Whether a run succeeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultStatus {
    /// The system ran to the end.
    Ok,
    /// The system panicked or returned an error (see [`WhatIfResult::error`]).
    Failed,
}

/// A what-if run's result document (`<recording>.whatif/<replay id>.result.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WhatIfResult {
    /// `replay-whatif/1`.
    pub format: String,
    /// The run's id: `<UTC stamp>_<index in its sweep>` (a `_2`… suffix if taken).
    pub replay_id: String,
    /// The recording's file name (it sits in the parent of the results directory).
    pub recording: String,
    /// When the run ended (ISO 8601, UTC).
    pub created: String,
    /// What the run was for, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The parameters, as JSON.
    pub parameters: serde_json::Value,
    /// Whether the system ran to the end.
    pub status: ResultStatus,
    /// The panic message or the system's error, for a failed run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether the replay reproduced the original outcomes (names and data, in order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unchanged: Option<bool>,
    /// Counts per outcome name, then the user's metrics: original, replayed, difference.
    #[serde(default)]
    pub metrics: Vec<MetricComparison>,
    /// How many outcome events the run emitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome_events: Option<usize>,
    /// The run's outcome recording, a file name in the same directory, if saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcomes: Option<String>,
}

impl WhatIfResult {
    pub(crate) fn new(
        recording: &Path,
        parameters: serde_json::Value,
        description: Option<String>,
        run: std::result::Result<&WhatIfRun, &str>,
    ) -> WhatIfResult {
        let (status, error, unchanged, metrics, outcome_events) = match run {
            Ok(run) => (
                ResultStatus::Ok,
                None,
                Some(run.is_unchanged()),
                run.metrics.clone(),
                Some(run.outcomes.events.len()),
            ),
            Err(message) => (
                ResultStatus::Failed,
                Some(message.to_owned()),
                None,
                Vec::new(),
                None,
            ),
        };
        WhatIfResult {
            format: FORMAT.to_owned(),
            replay_id: String::new(),
            recording: recording
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            created: format_start_time(OffsetDateTime::now_utc()),
            description,
            parameters,
            status,
            error,
            unchanged,
            metrics,
            outcome_events,
            outcomes: None,
        }
    }

    /// Reads a result document.
    pub fn load(path: impl AsRef<Path>) -> Result<WhatIfResult> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::File {
            action: "read what-if result",
            path: path.to_owned(),
            source,
        })?;
        let result: WhatIfResult = serde_json::from_str(&text).map_err(|e| {
            Error::Malformed(Box::new(replay_support::Malformed::at_line(
                "what-if result",
                path,
                e.line(),
                e.column(),
                text.lines().nth(e.line().saturating_sub(1)),
                crate::error::strip_location(&e.to_string()),
                "a what-if result is written by `replay_events::whatif`; run the what-if again",
            )))
        })?;
        if result.format != FORMAT {
            return Err(Error::Recording {
                path: path.to_owned(),
                message: format!(
                    "its format is `{}`, this version reads `{FORMAT}`; run the what-if again \
                     with this version",
                    result.format
                ),
            });
        }
        Ok(result)
    }

    /// The outcome recording's path, given the result file's path.
    pub fn outcomes_path(&self, result_file: &Path) -> Option<PathBuf> {
        let name = self.outcomes.as_ref()?;
        Some(result_file.parent()?.join(name))
    }

    /// The outcome event names of the run: those its built-in counts (`#Name`) name, which
    /// cover every outcome name of the original and the replayed side.
    pub fn outcome_names(&self) -> Vec<&str> {
        self.metrics
            .iter()
            .filter_map(|m| m.name.strip_prefix('#'))
            .collect()
    }

    /// The recording's original outcomes as this run saw them: the events of `recording`
    /// named like the run's outcomes (see [`WhatIfResult::outcome_names`]).
    pub fn original_outcomes(&self, recording: &Recording) -> Recording {
        let names = self.outcome_names();
        let mut original = recording.clone();
        original
            .events
            .retain(|e| names.contains(&e.event_name.as_str()));
        original
    }

    /// The metric comparison named `name`.
    pub fn metric(&self, name: &str) -> Option<&MetricComparison> {
        self.metrics.iter().find(|m| m.name == name)
    }

    /// The seed's `POST …/replay` response for this result: `success`, `replay_id`,
    /// `recording_id`, each metric's replayed value under its name, and `comparison` with
    /// `<metric>_diff` and `original_<metric>` for each.
    pub fn api_response(&self) -> serde_json::Value {
        let mut body = serde_json::Map::new();
        body.insert("success".into(), (self.status == ResultStatus::Ok).into());
        body.insert("replay_id".into(), self.replay_id.clone().into());
        body.insert("recording_id".into(), self.recording.clone().into());
        body.insert("parameters".into(), self.parameters.clone());
        if let Some(error) = &self.error {
            body.insert("error".into(), error.clone().into());
        }
        let mut comparison = serde_json::Map::new();
        for m in &self.metrics {
            body.insert(m.name.clone(), json_number(m.replayed));
            comparison.insert(format!("{}_diff", m.name), json_number(m.diff));
            comparison.insert(format!("original_{}", m.name), json_number(m.original));
        }
        if let Some(unchanged) = self.unchanged {
            comparison.insert("unchanged".into(), unchanged.into());
        }
        body.insert("comparison".into(), comparison.into());
        body.into()
    }
}

fn json_number(v: Option<f64>) -> serde_json::Value {
    v.and_then(serde_json::Number::from_f64)
        .map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// The directory holding the results of `recording`'s what-if runs:
/// `<dir>/<file name>.whatif/`.
pub fn results_dir(recording: &Path) -> PathBuf {
    let mut name = recording
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".whatif");
    recording.with_file_name(name)
}

/// The result documents of `recording`'s what-if runs ("the replays of this recording"),
/// oldest first; empty when there are none. One unreadable result file fails the whole
/// list: [`scan_results`] reads each file on its own.
pub fn list_results(recording: &Path) -> Result<Vec<(PathBuf, WhatIfResult)>> {
    scan_results(recording)?
        .into_iter()
        .map(|(p, r)| r.map(|r| (p, r)))
        .collect()
}

/// Every result file of `recording`'s what-if runs, oldest first, each read on its own: a
/// corrupt or unreadable file is an `Err` in its place, so a report or a page can show the
/// others and say which file is wrong. `Err` overall only when the results directory exists
/// but cannot be listed.
pub fn scan_results(recording: &Path) -> Result<Vec<(PathBuf, Result<WhatIfResult>)>> {
    let dir = results_dir(recording);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(Error::File {
                action: "list what-if results in",
                path: dir,
                source,
            });
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(RESULT_SUFFIX) && !n.starts_with('.'))
        })
        .collect();
    files.sort();
    Ok(files
        .into_iter()
        .map(|p| {
            let result = WhatIfResult::load(&p);
            (p, result)
        })
        .collect())
}

/// The stamp shared by the runs of one sweep.
pub(crate) fn stamp_now() -> String {
    file_stamp(OffsetDateTime::now_utc())
}

/// Writes a result (and the outcome recording it points to) under a fresh replay id
/// `<stamp>_<index>` (or `<stamp>_<index>_<n>` if taken); returns the result file. Each file
/// is written atomically and never replaces another; the outcomes are written first, so a
/// result never points to a missing file.
pub(crate) fn write(
    recording: &Path,
    stamp: &str,
    index: usize,
    mut result: WhatIfResult,
    outcomes: Option<&Recording>,
) -> Result<PathBuf> {
    let dir = results_dir(recording);
    let outcomes_text = outcomes.map(render_json);
    for attempt in 1u32.. {
        let id = if attempt == 1 {
            format!("{stamp}_{index:03}")
        } else {
            format!("{stamp}_{index:03}_{attempt}")
        };
        let result_path = dir.join(format!("{id}{RESULT_SUFFIX}"));
        if let Some(text) = &outcomes_text {
            let name = format!("{id}{OUTCOMES_SUFFIX}");
            match write_new(&dir.join(&name), text.as_bytes()) {
                Ok(true) => result.outcomes = Some(name),
                Ok(false) => continue,
                Err(e) => return Err(e),
            }
        }
        result.replay_id = id;
        let mut text = serde_json::to_string_pretty(&result).map_err(|e| Error::Recording {
            path: result_path.clone(),
            message: format!("the result cannot be written as JSON: {e}"),
        })?;
        text.push('\n');
        match write_new(&result_path, text.as_bytes()) {
            Ok(true) => return Ok(result_path),
            Ok(false) => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("some replay id is free")
}

/// Writes `path` atomically unless it exists (`Ok(false)`).
fn write_new(path: &Path, bytes: &[u8]) -> Result<bool> {
    match replay_support::fs::write_atomic_new(path, |out| out.write_all(bytes)) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(source) => Err(Error::File {
            action: "write what-if result",
            path: path.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_dir_is_next_to_the_recording() {
        assert_eq!(
            results_dir(Path::new("rec/a.json")),
            Path::new("rec/a.json.whatif")
        );
        assert_eq!(
            results_dir(Path::new("a.jsonl")),
            Path::new("a.jsonl.whatif")
        );
    }
}
