//! Sweeps: many parameter sets run concurrently (at most `jobs` at once, each isolated),
//! results in a table sorted by a chosen metric, best first.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;

use super::metrics::{format_metric, render_columns};
use super::results;
use super::run::{Inputs, Outcomes, Save, SystemOutput, WhatIf, WhatIfRun};
use crate::error::{Error, Result};

/// Which end of a metric is best.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Best {
    /// The highest value first (P&L, score).
    Highest,
    /// The lowest value first (false alarms, drawdown).
    Lowest,
}

/// How a sweep runs and orders its table.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    jobs: usize,
    sort_by: Option<(String, Best)>,
}

impl Default for SweepOptions {
    fn default() -> Self {
        SweepOptions::new()
    }
}

impl SweepOptions {
    /// As many runs at once as the machine has cores; table in parameter order.
    pub fn new() -> SweepOptions {
        SweepOptions {
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            sort_by: None,
        }
    }

    /// At most `jobs` runs at once (at least 1).
    pub fn jobs(mut self, jobs: usize) -> SweepOptions {
        self.jobs = jobs.max(1);
        self
    }

    /// Sorts the table by the metric `name` (a user metric, or `#Name` for a count), best
    /// first; runs where it is undefined come after, failed runs last.
    pub fn sort_by(mut self, name: impl Into<String>, best: Best) -> SweepOptions {
        self.sort_by = Some((name.into(), best));
        self
    }
}

/// Why a run of a sweep failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunFailure {
    /// The panic message or the system's error.
    pub message: String,
    /// Whether the system panicked (rather than returned an error).
    pub panicked: bool,
}

impl RunFailure {
    pub(crate) fn error(message: String) -> RunFailure {
        RunFailure {
            message,
            panicked: false,
        }
    }

    pub(crate) fn from_join(e: tokio::task::JoinError) -> RunFailure {
        match e.try_into_panic() {
            Ok(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic with a non-string payload".to_owned());
                RunFailure {
                    message: format!("panicked: {message}"),
                    panicked: true,
                }
            }
            Err(_) => RunFailure::error("cancelled: the tokio runtime shut down".to_owned()),
        }
    }
}

impl fmt::Display for RunFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// One row of a sweep.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SweepRow {
    /// 0-based position of the parameter set in the list given to [`WhatIf::sweep`].
    pub index: usize,
    /// The parameters, as JSON.
    pub parameters: serde_json::Value,
    /// The run, or why it failed.
    pub outcome: std::result::Result<WhatIfRun, RunFailure>,
}

impl SweepRow {
    /// The replayed value of metric `name` (`None` for a failed run or an undefined value).
    pub fn value(&self, name: &str) -> Option<f64> {
        self.outcome.as_ref().ok()?.metric(name)?.replayed
    }
}

/// The result of a sweep: every parameter set's row, sorted as asked (best first).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Sweep {
    /// The rows, best first (or in parameter order without a sort metric); failed runs last.
    pub rows: Vec<SweepRow>,
    /// The metric the rows are sorted by.
    pub sorted_by: Option<(String, Best)>,
    /// The original outcomes' metrics (the baseline row of the table).
    pub original: Vec<super::MetricComparison>,
}

impl Sweep {
    /// The best successful run (the first row, if it succeeded).
    pub fn best(&self) -> Option<&SweepRow> {
        self.rows.iter().find(|r| r.outcome.is_ok())
    }

    /// The failed runs.
    pub fn failures(&self) -> impl Iterator<Item = &SweepRow> {
        self.rows.iter().filter(|r| r.outcome.is_err())
    }
}

/// The table: a baseline row for the recording's original outcomes, then one row per
/// parameter set (rank, parameters, every metric's replayed value, status).
impl fmt::Display for Sweep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.original.iter().map(|m| m.name.as_str()).collect();
        for row in &self.rows {
            if let Ok(run) = &row.outcome {
                for m in &run.metrics {
                    if !names.contains(&m.name.as_str()) {
                        names.push(&m.name);
                    }
                }
            }
        }
        // The sort metric first after the parameters, then user metrics, then counts.
        names.sort_by_key(|n| {
            (
                self.sorted_by.as_ref().is_none_or(|(s, _)| s != n),
                n.starts_with('#'),
            )
        });
        let mut header = vec!["rank", "parameters"];
        header.extend(names.iter().copied());
        header.push("status");
        let mut rows = Vec::with_capacity(self.rows.len() + 1);
        let mut baseline = vec!["-".to_owned(), "(recorded)".to_owned()];
        for name in &names {
            let value = match self.original.iter().find(|m| m.name == *name) {
                Some(m) => m.original,
                // A count of a name only the replays emitted: none recorded.
                None if name.starts_with('#') => Some(0.0),
                None => None,
            };
            baseline.push(format_metric(value, false));
        }
        baseline.push("original".to_owned());
        rows.push(baseline);
        for (rank, row) in self.rows.iter().enumerate() {
            let mut cells = vec![(rank + 1).to_string(), compact_json(&row.parameters)];
            match &row.outcome {
                Ok(run) => {
                    for name in &names {
                        let value = match run.metric(name) {
                            Some(m) => m.replayed,
                            None if name.starts_with('#') => Some(0.0),
                            None => None,
                        };
                        cells.push(format_metric(value, false));
                    }
                    cells.push(
                        if run.is_unchanged() {
                            "unchanged"
                        } else {
                            "ok"
                        }
                        .to_owned(),
                    );
                }
                Err(failure) => {
                    cells.extend(names.iter().map(|_| "—".to_owned()));
                    cells.push(format!("failed: {}", first_line(&failure.message)));
                }
            }
            rows.push(cells);
        }
        let last = header.len() - 1;
        let mut out = String::new();
        render_columns(&mut out, &header, &[0, 1, last], &rows);
        f.write_str(&out)
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

fn compact_json(v: &serde_json::Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

impl WhatIf {
    /// Runs `system` once per parameter set, at most `options.jobs` at once, each in its own
    /// runtime; a run that panics or errors is reported in its row and the others go on.
    /// Results (and outcomes) are saved as configured by [`WhatIf::save`], one result file
    /// per run.
    ///
    /// Fails as a whole only when the sort metric is unknown or a result cannot be written.
    pub async fn sweep<P, F, Fut>(
        &self,
        params: impl IntoIterator<Item = P>,
        system: F,
        options: SweepOptions,
    ) -> Result<Sweep>
    where
        P: Serialize + Send + 'static,
        F: Fn(P, Inputs, Outcomes) -> Fut + Send + Sync + 'static,
        Fut: Future,
        Fut::Output: SystemOutput,
    {
        let known = self
            .metrics
            .iter()
            .map(|m| m.name().to_owned())
            .collect::<Vec<_>>();
        if let Some((name, _)) = &options.sort_by
            && !name.starts_with('#')
            && !known.contains(name)
        {
            return Err(Error::InvalidOption {
                what: "sweep sort metric",
                value: name.clone(),
                expected: format!(
                    "one of the metrics added with `WhatIf::metric` ({}), or `#<event name>` \
                     for a count of outcome events",
                    if known.is_empty() {
                        "none yet".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            });
        }
        let system = Arc::new(system);
        let permits = Arc::new(Semaphore::new(options.jobs));
        let stamp = results::stamp_now();
        let save = self.effective_save();
        let mut tasks = tokio::task::JoinSet::new();
        for (index, p) in params.into_iter().enumerate() {
            let (whatif, system, permits) = (self.clone(), system.clone(), permits.clone());
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let (parameters, outcome) = whatif.execute(p, system).await;
                (index, parameters, outcome)
            });
        }
        let mut rows = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            // `execute` catches the system's panics; a panic here is ours.
            let (index, parameters, outcome) = joined.unwrap_or_else(|e| {
                std::panic::resume_unwind(e.into_panic());
            });
            rows.push(SweepRow {
                index,
                parameters,
                outcome,
            });
        }
        rows.sort_by_key(|r| r.index);
        if save != Save::Nothing {
            let whatif = self.clone();
            rows = crate::replayer::blocking(move || {
                for row in &mut rows {
                    let run = row.outcome.as_ref().map_err(|f| f.message.as_str());
                    let file = whatif.save_run(&stamp, row.index, &row.parameters, run, save)?;
                    if let Ok(run) = &mut row.outcome {
                        run.result_file = Some(file);
                    }
                }
                Ok(rows)
            })
            .await?;
        }
        if let Some((name, best)) = &options.sort_by {
            rows.sort_by(|a, b| {
                let key = |r: &SweepRow| (r.outcome.is_err(), r.value(name).is_none());
                key(a).cmp(&key(b)).then_with(|| {
                    let (x, y) = (a.value(name), b.value(name));
                    let order = x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal);
                    match best {
                        Best::Highest => order.reverse(),
                        Best::Lowest => order,
                    }
                    .then(a.index.cmp(&b.index))
                })
            });
        } else {
            rows.sort_by_key(|r| (r.outcome.is_err(), r.index));
        }
        let original = super::metrics::compare_metrics(
            &self.metrics,
            &self.original.events,
            &self.original.events,
        );
        Ok(Sweep {
            rows,
            sorted_by: options.sort_by,
            original,
        })
    }
}

/// A grid of parameter sets: every combination of the values given per field, each
/// combination deserialized into the parameter type.
///
/// ```
/// use replay_events::whatif::Grid;
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Params { threshold: f64, hold_ms: u64 }
///
/// let sets: Vec<Params> = Grid::new()
///     .axis("threshold", [30.0, 35.0, 40.0])
///     .axis("hold_ms", [0, 500])
///     .build()?;
/// assert_eq!(sets.len(), 6);
/// # Ok::<(), replay_events::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Grid {
    axes: Vec<(String, Vec<serde_json::Value>)>,
}

impl Grid {
    /// An empty grid (one combination: no fields).
    pub fn new() -> Grid {
        Grid::default()
    }

    /// Adds a field and the values it takes.
    pub fn axis<T: Serialize>(mut self, field: &str, values: impl IntoIterator<Item = T>) -> Grid {
        let values = values
            .into_iter()
            .map(|v| serde_json::to_value(v).unwrap_or(serde_json::Value::Null))
            .collect();
        self.axes.push((field.to_owned(), values));
        self
    }

    /// Every combination (the last axis varying fastest), as `P`.
    pub fn build<P: DeserializeOwned>(&self) -> Result<Vec<P>> {
        let mut combos = vec![serde_json::Map::new()];
        for (field, values) in &self.axes {
            let mut next = Vec::with_capacity(combos.len() * values.len());
            for combo in &combos {
                for value in values {
                    let mut c = combo.clone();
                    c.insert(field.clone(), value.clone());
                    next.push(c);
                }
            }
            combos = next;
        }
        combos
            .into_iter()
            .map(|c| {
                let value = serde_json::Value::Object(c);
                serde_json::from_value(value.clone()).map_err(|e| Error::InvalidOption {
                    what: "parameter set",
                    value: value.to_string(),
                    expected: format!(
                        "fields the parameter type `{}` accepts: {e}",
                        std::any::type_name::<P>()
                    ),
                })
            })
            .collect()
    }
}
