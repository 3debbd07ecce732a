//! One what-if run: the recording split into inputs and outcomes, the user's system fed the
//! inputs in its own tokio runtime (paused clock or full speed), its outcomes collected and
//! compared with the recorded ones.

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde_json::Number;
use serde_json::value::RawValue;

use super::metrics::{Metric, MetricComparison, compare_metrics, render_comparison};
use super::results::{self, WhatIfResult};
use crate::compare::{Comparison, compare};
use crate::error::{Error, Result};
use crate::filter::EventFilter;
use crate::model::{RecordedEvent, Recording};
use crate::recorder::encode_event;
use crate::replayer::blocking;

/// How inputs reach the system.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Timing {
    /// At their recorded offsets on tokio's paused clock: the system sees the recorded
    /// timing (timers, timeouts, `Instant::now()` differences) but no time is spent waiting.
    /// Millisecond resolution, as tokio's timers.
    #[default]
    Virtual,
    /// One after the other, without waiting and without a paused clock; an outcome is
    /// stamped with the offset of the last input delivered (the runtime's other tasks run
    /// before the next input is delivered, so a worker task's reaction to an input is
    /// stamped with it; a longer pipeline may stamp later; [`Timing::Virtual`] is exact).
    FullSpeed,
}

/// What a what-if run writes next to its recording (see [`WhatIf::save`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Save {
    /// Nothing.
    Nothing,
    /// A result document (parameters, metrics) per run in `<recording>.whatif/`.
    Results,
    /// A result document and the run's outcome recording, which the result points to.
    ResultsAndOutcomes,
}

/// What the user's system returns: `()` or a `Result` whose error is reported for the run.
pub trait SystemOutput {
    /// `Err` with a message when the run failed.
    fn into_run_result(self) -> std::result::Result<(), String>;
}

impl SystemOutput for () {
    fn into_run_result(self) -> std::result::Result<(), String> {
        Ok(())
    }
}

impl<E: fmt::Display> SystemOutput for std::result::Result<(), E> {
    fn into_run_result(self) -> std::result::Result<(), String> {
        self.map_err(|e| e.to_string())
    }
}

/// Replays a recording's inputs through the user's system with other parameters, and
/// compares the outcomes with the recorded ones.
///
/// Events whose name or source match the [outcome filter](WhatIf::outcomes) are the
/// recording's *outcomes* (what the system decided: alarms, orders, commands), kept intact
/// with any state recorded with them (keys such as `decision_metadata`, `market_state`);
/// every other event is an *input* (sensor readings, market data, instrument answers).
///
/// Each run gets its own single-threaded tokio runtime on the blocking pool (the system's
/// spawned tasks live and die with the run), so runs are isolated, a panic ends only its run,
/// and under [`Timing::Virtual`] the runtime's clock is paused. The runtime has timers but
/// no I/O driver: a what-if replays recorded inputs through logic.
///
/// ```
/// use replay_events::whatif::{Inputs, Outcomes, WhatIf};
/// use replay_events::{EventFilter, Recording, RecordedEvent};
/// # use serde_json::value::RawValue;
///
/// async fn alarm(threshold: f64, mut inputs: Inputs, outcomes: Outcomes) -> replay_events::Result<()> {
///     while let Some(reading) = inputs.next().await {
///         let celsius = reading.data_value().ok().and_then(|v| v["celsius"].as_f64());
///         if celsius.is_some_and(|c| c > threshold) {
///             outcomes.emit_as("Alarm", &serde_json::json!({"celsius": celsius}))?;
///         }
///     }
///     Ok(())
/// }
///
/// # async fn demo() -> replay_events::Result<()> {
/// # let mut recording = Recording::new("lab", "2025-10-17T10:00:00+00:00");
/// # for (t, c) in [(0, 20.0), (10, 31.0)] {
/// #     let data = RawValue::from_string(format!("{{\"celsius\":{c}}}")).unwrap();
/// #     recording.events.push(RecordedEvent::new(t, "Reading", data, "probe"));
/// # }
/// let whatif = WhatIf::from_recording(recording).outcomes(EventFilter::names(["Alarm"])?);
/// let run = whatif.run(25.0, alarm).await?;
/// println!("{run}"); // metric, original, replayed, change
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct WhatIf {
    pub(crate) path: Option<PathBuf>,
    pub(crate) header: Recording,
    pub(crate) inputs: Arc<[RecordedEvent]>,
    pub(crate) original: Arc<Recording>,
    pub(crate) filter: EventFilter,
    pub(crate) timing: Timing,
    pub(crate) metrics: Vec<Metric>,
    pub(crate) save: Option<Save>,
    pub(crate) description: Option<String>,
    all: Arc<[RecordedEvent]>,
}

impl fmt::Debug for WhatIf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WhatIf")
            .field("path", &self.path)
            .field("inputs", &self.inputs.len())
            .field("outcomes", &self.original.events.len())
            .field("timing", &self.timing)
            .field("metrics", &self.metrics)
            .finish_non_exhaustive()
    }
}

impl WhatIf {
    /// Loads the recording at `path` (either format; blocking file I/O). Runs save their
    /// results next to it by default (see [`WhatIf::save`]).
    pub fn open(path: impl AsRef<Path>) -> Result<WhatIf> {
        let path = path.as_ref();
        let mut whatif = WhatIf::from_recording(Recording::load(path)?);
        whatif.path = Some(path.to_owned());
        Ok(whatif)
    }

    /// A what-if over a recording in memory (nothing is saved unless asked for).
    pub fn from_recording(recording: Recording) -> WhatIf {
        let mut header = recording.clone();
        let all: Arc<[RecordedEvent]> = std::mem::take(&mut header.events).into();
        let mut whatif = WhatIf {
            path: None,
            original: Arc::new(header.clone()),
            header,
            inputs: Vec::new().into(),
            filter: EventFilter::all(),
            timing: Timing::Virtual,
            metrics: Vec::new(),
            save: None,
            description: None,
            all,
        };
        whatif.split(EventFilter::all());
        whatif
    }

    /// Which events are outcomes (by name and/or source globs, or a predicate); all others
    /// are inputs. By default (and with [`EventFilter::all`], the empty filter) there are
    /// no outcomes: every event is an input.
    pub fn outcomes(mut self, filter: EventFilter) -> WhatIf {
        self.split(filter);
        self
    }

    fn split(&mut self, filter: EventFilter) {
        let (mut inputs, mut outcomes) = (Vec::new(), Vec::new());
        let is_outcome = |e: &RecordedEvent| !filter.is_all() && filter.matches(&e.as_ref());
        for event in self.all.iter() {
            if is_outcome(event) {
                outcomes.push(event.clone());
            } else {
                inputs.push(event.clone());
            }
        }
        let mut original = self.header.clone();
        original.events = outcomes;
        self.original = Arc::new(original);
        self.inputs = inputs.into();
        self.filter = filter;
    }

    /// How inputs are delivered (default [`Timing::Virtual`]).
    pub fn timing(mut self, timing: Timing) -> WhatIf {
        self.timing = timing;
        self
    }

    /// Adds a metric to compare (counts per outcome name are always there).
    pub fn metric(mut self, metric: Metric) -> WhatIf {
        self.metrics.push(metric);
        self
    }

    /// What runs write next to the recording. Default: [`Save::Results`] for a recording
    /// opened from a file, [`Save::Nothing`] for one in memory (there is no "next to").
    pub fn save(mut self, save: Save) -> WhatIf {
        self.save = Some(save);
        self
    }

    /// A description stored in the result documents ("testing a lower threshold").
    pub fn description(mut self, description: impl Into<String>) -> WhatIf {
        self.description = Some(description.into());
        self
    }

    /// The recording's file, if it came from one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The input events, in recorded order.
    pub fn inputs(&self) -> &[RecordedEvent] {
        &self.inputs
    }

    /// The recording's original outcomes as a recording (same header), intact.
    pub fn original_outcomes(&self) -> &Recording {
        &self.original
    }

    pub(crate) fn effective_save(&self) -> Save {
        match (self.save, &self.path) {
            (Some(save), Some(_)) => save,
            (None, Some(_)) => Save::Results,
            (_, None) => Save::Nothing,
        }
    }

    /// Runs the system once with `params` and compares its outcomes with the recorded ones;
    /// saves the result as configured. A panic or error of the system is an
    /// [`Error::WhatIfRunFailed`].
    pub async fn run<P, F, Fut>(&self, params: P, system: F) -> Result<WhatIfRun>
    where
        P: Serialize + Send + 'static,
        F: Fn(P, Inputs, Outcomes) -> Fut + Send + Sync + 'static,
        Fut: Future,
        Fut::Output: SystemOutput,
    {
        let stamp = results::stamp_now();
        let (parameters, outcome) = self.execute(params, Arc::new(system)).await;
        let save = self.effective_save();
        let (outcome, saved) = if save == Save::Nothing {
            (outcome, None)
        } else {
            let whatif = self.clone();
            let json = parameters.clone();
            blocking(move || {
                let run = outcome.as_ref().map_err(|f| f.message.as_str());
                let file = whatif.save_run(&stamp, 0, &json, run, save)?;
                Ok((outcome, Some(file)))
            })
            .await?
        };
        match outcome {
            Ok(mut run) => {
                run.result_file = saved;
                Ok(run)
            }
            Err(failure) => Err(Error::WhatIfRunFailed {
                parameters: parameters.to_string(),
                message: failure.message,
            }),
        }
    }

    /// Runs the system in its own runtime on the blocking pool; never fails as a whole: a
    /// panic or error is the run's outcome.
    pub(crate) async fn execute<P, F, Fut>(
        &self,
        params: P,
        system: Arc<F>,
    ) -> (
        serde_json::Value,
        std::result::Result<WhatIfRun, super::RunFailure>,
    )
    where
        P: Serialize + Send + 'static,
        F: Fn(P, Inputs, Outcomes) -> Fut + Send + Sync + 'static,
        Fut: Future,
        Fut::Output: SystemOutput,
    {
        let parameters = match serde_json::to_value(&params) {
            Ok(v) => v,
            Err(e) => {
                return (
                    serde_json::Value::Null,
                    Err(super::RunFailure::error(format!(
                        "the parameters cannot be written as JSON: {e}"
                    ))),
                );
            }
        };
        let inputs = self.inputs.clone();
        let timing = self.timing;
        let original = self.original.clone();
        let metrics = self.metrics.clone();
        let json = parameters.clone();
        // The run, its metrics and its comparison all happen off the caller's runtime, so
        // the runs of a sweep use every core they are given.
        let joined = tokio::task::spawn_blocking(move || {
            let events = drive(params, inputs.clone(), timing, &*system)?;
            let mut replayed = (*original).clone();
            replayed.session_name = format!("{}-whatif", original.session_name);
            replayed.events = events;
            Ok(WhatIfRun {
                parameters: json,
                inputs_delivered: inputs.len(),
                metrics: compare_metrics(&metrics, &original.events, &replayed.events),
                comparison: compare(&original, &replayed),
                outcomes: replayed,
                result_file: None,
            })
        })
        .await;
        let outcome = match joined {
            Ok(Ok(run)) => Ok(run),
            Ok(Err(message)) => Err(super::RunFailure::error(message)),
            Err(e) => Err(super::RunFailure::from_join(e)),
        };
        (parameters, outcome)
    }

    /// Writes a run's result (and outcomes) next to the recording; returns the result file.
    pub(crate) fn save_run(
        &self,
        stamp: &str,
        index: usize,
        parameters: &serde_json::Value,
        run: std::result::Result<&WhatIfRun, &str>,
        save: Save,
    ) -> Result<PathBuf> {
        let Some(path) = &self.path else {
            return Err(Error::InvalidOption {
                what: "what-if save",
                value: format!("{save:?}"),
                expected: "`Save::Nothing` for a recording in memory; open the recording \
                           from a file (`WhatIf::open`) to save results next to it"
                    .to_owned(),
            });
        };
        let result = WhatIfResult::new(path, parameters.clone(), self.description.clone(), run);
        let outcomes = match (save, run) {
            (Save::ResultsAndOutcomes, Ok(run)) => Some(&run.outcomes),
            _ => None,
        };
        results::write(path, stamp, index, result, outcomes)
    }
}

/// The system's side of the inputs: the next input, at its recorded time.
#[derive(Debug)]
pub struct Inputs {
    events: Arc<[RecordedEvent]>,
    next: usize,
    timing: Timing,
    origin: tokio::time::Instant,
    now_ms: Arc<AtomicU64>,
}

impl Inputs {
    /// The next input event, delivered at its recorded offset under [`Timing::Virtual`];
    /// `None` once all were delivered.
    pub async fn next(&mut self) -> Option<&RecordedEvent> {
        let event = self.events.get(self.next)?;
        self.next += 1;
        match self.timing {
            Timing::Virtual => {
                let ms = event.offset_ms();
                let offset = match event.timestamp_offset_ms.as_u64() {
                    Some(whole) => Duration::from_millis(whole),
                    None => Duration::try_from_secs_f64(ms / 1000.0).unwrap_or(Duration::MAX),
                };
                if let Some(due) = self.origin.checked_add(offset) {
                    tokio::time::sleep_until(due).await;
                }
            }
            Timing::FullSpeed => {
                // Let the tasks the previous input woke run first, so that what they emit is
                // stamped with that input's offset.
                tokio::task::yield_now().await;
                self.now_ms
                    .store(event.offset_ms().to_bits(), Ordering::Relaxed);
            }
        }
        Some(event)
    }

    /// How many inputs are left.
    pub fn remaining(&self) -> usize {
        self.events.len() - self.next
    }
}

/// The system's side of the outcomes: emit each decision as an event, stamped with the
/// run's current recorded time. Cheap to clone (clones emit into the same run), `Send`.
#[derive(Clone, Debug)]
pub struct Outcomes {
    events: Arc<Mutex<Vec<RecordedEvent>>>,
    source: Arc<str>,
    timing: Timing,
    origin: tokio::time::Instant,
    now_ms: Arc<AtomicU64>,
}

impl Outcomes {
    /// A handle that emits with `source` as the events' source (default `whatif`).
    pub fn with_source(&self, source: &str) -> Outcomes {
        Outcomes {
            source: source.into(),
            ..self.clone()
        }
    }

    /// Emits an enum value: the event name is the variant's name (as
    /// [`EventRecorder::record`](crate::EventRecorder::record)).
    pub fn emit<E: Serialize + ?Sized>(&self, event: &E) -> Result<()> {
        let (name, data) = encode_event(event)?;
        self.push(name, data, Vec::new());
        Ok(())
    }

    /// Emits `data` under the event name `name`.
    pub fn emit_as<T: Serialize + ?Sized>(&self, name: &str, data: &T) -> Result<()> {
        let data = to_raw(name, data)?;
        self.push(name.to_owned(), data, Vec::new());
        Ok(())
    }

    /// Emits an enum value with the state it was decided in, as extra keys of the event
    /// (`decision_metadata`, `market_state`), kept intact in the outcome recording.
    pub fn emit_with_state<E, S>(&self, event: &E, state: &[(&str, &S)]) -> Result<()>
    where
        E: Serialize + ?Sized,
        S: Serialize + ?Sized,
    {
        let (name, data) = encode_event(event)?;
        let extra = state
            .iter()
            .map(|(key, value)| Ok(((*key).to_owned(), to_raw(&name, value)?)))
            .collect::<Result<Vec<_>>>()?;
        self.push(name, data, extra);
        Ok(())
    }

    fn push(&self, name: String, data: Box<RawValue>, extra: crate::ExtraKeys) {
        let offset = match self.timing {
            Timing::Virtual => offset_number(self.origin.elapsed()),
            Timing::FullSpeed => ms_number(f64::from_bits(self.now_ms.load(Ordering::Relaxed))),
        };
        let mut event = RecordedEvent::new(0, name, data, &*self.source);
        event.timestamp_offset_ms = offset;
        event.extra = extra;
        self.events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(event);
    }
}

fn to_raw<T: Serialize + ?Sized>(name: &str, data: &T) -> Result<Box<RawValue>> {
    serde_json::value::to_raw_value(data).map_err(|source| Error::EventEncode {
        name: name.to_owned(),
        source,
    })
}

/// Milliseconds as a JSON number: an integer when whole (the recorder writes integers).
fn ms_number(ms: f64) -> Number {
    if ms.fract() == 0.0 && (0.0..9.0e15).contains(&ms) {
        Number::from(ms as u64)
    } else {
        Number::from_f64(ms).unwrap_or_else(|| Number::from(0u64))
    }
}

/// An elapsed virtual time as milliseconds, to the microsecond.
fn offset_number(elapsed: Duration) -> Number {
    let micros = elapsed.as_micros();
    if micros.is_multiple_of(1000) {
        Number::from(u64::try_from(micros / 1000).unwrap_or(u64::MAX))
    } else {
        ms_number(micros as f64 / 1000.0)
    }
}

/// Runs `system` in a fresh single-threaded runtime (paused under [`Timing::Virtual`]) and
/// returns its outcomes, or its error message. Panics propagate to the caller's join.
fn drive<P, F, Fut>(
    params: P,
    inputs: Arc<[RecordedEvent]>,
    timing: Timing,
    system: &F,
) -> std::result::Result<Vec<RecordedEvent>, String>
where
    F: Fn(P, Inputs, Outcomes) -> Fut,
    Fut: Future,
    Fut::Output: SystemOutput,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(timing == Timing::Virtual)
        .build()
        .map_err(|e| format!("failed to start the run's tokio runtime: {e}"))?;
    runtime.block_on(async {
        let origin = tokio::time::Instant::now();
        let now_ms = Arc::new(AtomicU64::new(0f64.to_bits()));
        let events = Arc::new(Mutex::new(Vec::new()));
        let outcomes = Outcomes {
            events: events.clone(),
            source: "whatif".into(),
            timing,
            origin,
            now_ms: now_ms.clone(),
        };
        let inputs = Inputs {
            events: inputs,
            next: 0,
            timing,
            origin,
            now_ms,
        };
        system(params, inputs, outcomes).await.into_run_result()?;
        let events = std::mem::take(
            &mut *events
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        Ok(events)
    })
}

/// One run: its parameters, outcome recording, metrics and comparison with the original.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WhatIfRun {
    /// The parameters, as JSON.
    pub parameters: serde_json::Value,
    /// How many inputs the run had.
    pub inputs_delivered: usize,
    /// The outcome events the system emitted, as a recording (the original's header).
    pub outcomes: Recording,
    /// Counts per outcome name, then the user's metrics: original, replayed, difference.
    pub metrics: Vec<MetricComparison>,
    /// Event-by-event comparison of the original outcomes with the replayed ones.
    pub comparison: Comparison,
    /// The result document written for this run, if any.
    pub result_file: Option<PathBuf>,
}

impl WhatIfRun {
    /// The comparison of the metric named `name`.
    pub fn metric(&self, name: &str) -> Option<&MetricComparison> {
        self.metrics.iter().find(|m| m.name == name)
    }

    /// Whether the replay reproduced the original outcomes (same names and data, in order).
    pub fn is_unchanged(&self) -> bool {
        self.comparison.equal
    }
}

/// The seed's comparison: one line per metric with original, replayed and change.
impl fmt::Display for WhatIfRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        render_comparison(&mut out, &self.metrics);
        f.write_str(&out)
    }
}
