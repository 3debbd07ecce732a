//! Replaying a recording: recorded gaps at a speed multiplier, filters, progress, typed
//! reconstruction, and pause / resume / stop from another task.

use std::fmt;
use std::future::Future;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;

use super::control::ReplayControl;
use super::filter::EventFilter;
use super::model::{RecordedEvent, Recording, decode_event};
use super::stream::{EventStream, count_in_file};
use crate::error::{Error, Result};

/// How fast a replay runs: a multiplier of the recorded pace (0.1x to 100x), or as fast as
/// possible.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Speed(Option<f64>);

impl Speed {
    /// The slowest multiplier accepted.
    pub const MIN_MULTIPLIER: f64 = 0.1;
    /// The fastest multiplier accepted.
    pub const MAX_MULTIPLIER: f64 = 100.0;
    /// The recorded pace.
    pub const REAL_TIME: Speed = Speed(Some(1.0));
    /// No waiting between events.
    pub const AS_FAST_AS_POSSIBLE: Speed = Speed(None);

    /// `multiplier` times the recorded pace; an error outside 0.1 to 100.
    pub fn times(multiplier: f64) -> Result<Speed> {
        if (Speed::MIN_MULTIPLIER..=Speed::MAX_MULTIPLIER).contains(&multiplier) {
            Ok(Speed(Some(multiplier)))
        } else {
            Err(invalid_speed(&multiplier.to_string()))
        }
    }

    /// The multiplier, or `None` for as fast as possible.
    pub fn multiplier(self) -> Option<f64> {
        self.0
    }
}

fn invalid_speed(value: &str) -> Error {
    Error::InvalidOption {
        what: "replay speed",
        value: value.to_owned(),
        expected:
            "a multiplier from 0.1 to 100 (`0.5`, `10`, `10x`), or `max` for as fast as possible"
                .to_owned(),
    }
}

impl Default for Speed {
    fn default() -> Speed {
        Speed::REAL_TIME
    }
}

impl FromStr for Speed {
    type Err = Error;

    /// Parses `10`, `10x`, `0.5`, or `max` (also `asap`, `fast`).
    fn from_str(s: &str) -> Result<Speed> {
        let t = s.trim();
        if matches!(t.to_ascii_lowercase().as_str(), "max" | "asap" | "fast") {
            return Ok(Speed::AS_FAST_AS_POSSIBLE);
        }
        let number = t.strip_suffix(['x', 'X']).unwrap_or(t);
        match number.parse::<f64>() {
            Ok(x) if x.is_finite() => Speed::times(x).map_err(|_| invalid_speed(s)),
            _ => Err(invalid_speed(s)),
        }
    }
}

impl fmt::Display for Speed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(x) => write!(f, "{x}x"),
            None => f.write_str("max"),
        }
    }
}

/// What a replay did.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ReplayReport {
    /// Events delivered.
    pub delivered: usize,
    /// Events the filter left out.
    pub filtered_out: usize,
    /// Events the replay set out to deliver (the `total` the progress callback saw).
    pub total: usize,
    /// Whether [`ReplayControl::stop`] ended the replay early.
    pub stopped: bool,
    /// Wall time the replay took.
    pub elapsed: Duration,
}

/// An event reconstructed into the user's type, or its raw JSON when that failed.
#[derive(Debug)]
pub struct TypedEvent<E> {
    /// 1-based position of the event in the recording.
    pub index: usize,
    /// Milliseconds since the recording started.
    pub offset_ms: f64,
    /// The event name.
    pub name: String,
    /// The event source.
    pub source: String,
    /// The reconstructed event, or the raw data.
    pub payload: Payload<E>,
}

/// The payload of a [`TypedEvent`].
#[derive(Debug)]
pub enum Payload<E> {
    /// Decoded into the user's type (see [`decode_event`](super::decode_event)).
    Typed(E),
    /// The type could not hold this event (unknown name, other fields); the data as recorded.
    Raw {
        /// The event data, exactly as recorded.
        data: Box<RawValue>,
        /// Why decoding failed.
        error: String,
    },
}

impl<E> Payload<E> {
    /// The decoded event, if decoding worked.
    pub fn typed(self) -> Option<E> {
        match self {
            Payload::Typed(e) => Some(e),
            Payload::Raw { .. } => None,
        }
    }
}

type Progress = Box<dyn FnMut(usize, usize) + Send>;

/// Replays a recording into an async handler, an mpsc sender or a broadcast channel,
/// preserving the recorded gaps divided by the [`Speed`].
///
/// ```no_run
/// use replay_events::{EventFilter, EventReplayer, Payload, Speed};
/// # #[derive(serde::Deserialize)] enum BotEvent { MarketDataReceived { price: f64 } }
///
/// # async fn demo() -> replay_events::Result<()> {
/// let replayer = EventReplayer::open("recordings/bull_run_2025_20251017_100000.json")?
///     .speed(Speed::times(10.0)?)
///     .filter(EventFilter::names(["MarketData*"])?)
///     .on_progress(|current, total| eprintln!("{current}/{total}"));
/// let control = replayer.control(); // pause / resume / stop from another task
/// let report = replayer
///     .replay_typed(|event: replay_events::TypedEvent<BotEvent>| async move {
///         match event.payload {
///             Payload::Typed(BotEvent::MarketDataReceived { price }) => { /* … */ }
///             Payload::Raw { data, .. } => eprintln!("{}: {data}", event.name),
///         }
///     })
///     .await?;
/// # Ok(()) }
/// ```
pub struct EventReplayer {
    stream: EventStream,
    speed: Speed,
    filter: EventFilter,
    progress: Option<Progress>,
    control: ReplayControl,
}

impl fmt::Debug for EventReplayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventReplayer")
            .field("header", self.stream.header())
            .field("speed", &self.speed)
            .field("filter", &self.filter)
            .finish_non_exhaustive()
    }
}

impl EventReplayer {
    /// Opens the recording at `path` (a `.jsonl` file is streamed, not loaded).
    pub fn open(path: impl AsRef<Path>) -> Result<EventReplayer> {
        Ok(EventReplayer::from_stream(EventStream::open(path)?))
    }

    /// Replays a recording held in memory.
    pub fn from_recording(recording: Recording) -> EventReplayer {
        EventReplayer::from_stream(EventStream::from_recording(recording))
    }

    /// Replays an opened stream.
    pub fn from_stream(stream: EventStream) -> EventReplayer {
        EventReplayer {
            stream,
            speed: Speed::REAL_TIME,
            filter: EventFilter::all(),
            progress: None,
            control: ReplayControl::new(),
        }
    }

    /// The recording's header.
    pub fn header(&self) -> &super::Header {
        self.stream.header()
    }

    /// Sets the speed (default: the recorded pace).
    pub fn speed(mut self, speed: Speed) -> EventReplayer {
        self.speed = speed;
        self
    }

    /// Replays only the events `filter` keeps; they keep their recorded offsets.
    pub fn filter(mut self, filter: EventFilter) -> EventReplayer {
        self.filter = filter;
        self
    }

    /// Calls `progress(current, total)` after each delivered event (`current` from 1 to
    /// `total`, the number of events the filter keeps).
    pub fn on_progress(
        mut self,
        progress: impl FnMut(usize, usize) + Send + 'static,
    ) -> EventReplayer {
        self.progress = Some(Box::new(progress));
        self
    }

    /// Uses `control` (created elsewhere) to pause, resume and stop this replay.
    pub fn with_control(mut self, control: ReplayControl) -> EventReplayer {
        self.control = control;
        self
    }

    /// A handle that pauses, resumes and stops this replay from another task.
    pub fn control(&self) -> ReplayControl {
        self.control.clone()
    }

    /// Replays each event, as recorded, into `handler`.
    ///
    /// Fails, after delivering the events before it, on an event whose offset is too far in
    /// the future to wait for at the chosen speed (`1e300` ms: the clock cannot reach it);
    /// such a file was edited or written by another tool. [`Speed::AS_FAST_AS_POSSIBLE`]
    /// does not wait and replays it.
    pub async fn replay<F, Fut>(self, mut handler: F) -> Result<ReplayReport>
    where
        F: FnMut(RecordedEvent) -> Fut,
        Fut: Future<Output = ()>,
    {
        self.run(|_, event| {
            let fut = handler(event);
            async move {
                fut.await;
                Ok(())
            }
        })
        .await
    }

    /// Replays each event into `handler`, reconstructed into `E` with serde (see
    /// [`decode_event`](super::decode_event)), or as raw JSON when `E` cannot hold it.
    pub async fn replay_typed<E, F, Fut>(self, mut handler: F) -> Result<ReplayReport>
    where
        E: DeserializeOwned,
        F: FnMut(TypedEvent<E>) -> Fut,
        Fut: Future<Output = ()>,
    {
        self.run(|index, event| {
            let payload = match decode_event::<E>(&event.event_name, &event.event_data) {
                Ok(typed) => Payload::Typed(typed),
                Err(e) => Payload::Raw {
                    data: event.event_data,
                    error: e.to_string(),
                },
            };
            let fut = handler(TypedEvent {
                index,
                offset_ms: super::model::number_f64(&event.timestamp_offset_ms).max(0.0),
                name: event.event_name,
                source: event.source,
                payload,
            });
            async move {
                fut.await;
                Ok(())
            }
        })
        .await
    }

    /// Sends each event, reconstructed into `E`, on `sender`. An event `E` cannot hold is
    /// an [`Error::EventDecode`]; all receivers gone is [`Error::ReplayTargetClosed`].
    pub async fn replay_to_sender<E>(self, sender: &mpsc::Sender<E>) -> Result<ReplayReport>
    where
        E: DeserializeOwned,
    {
        self.run(|index, event| {
            let decoded = decode_strict::<E>(index, &event);
            async move {
                sender
                    .send(decoded?)
                    .await
                    .map_err(|_| Error::ReplayTargetClosed { index })
            }
        })
        .await
    }

    /// Publishes each event, reconstructed into `E`, on a broadcast channel. Errors as for
    /// [`EventReplayer::replay_to_sender`].
    pub async fn replay_to_broadcast<E>(self, sender: &broadcast::Sender<E>) -> Result<ReplayReport>
    where
        E: DeserializeOwned,
    {
        self.run(|index, event| {
            let sent = decode_strict::<E>(index, &event).and_then(|decoded| {
                sender
                    .send(decoded)
                    .map(|_| ())
                    .map_err(|_| Error::ReplayTargetClosed { index })
            });
            std::future::ready(sent)
        })
        .await
    }

    async fn run<F, Fut>(self, mut deliver: F) -> Result<ReplayReport>
    where
        F: FnMut(usize, RecordedEvent) -> Fut,
        Fut: Future<Output = Result<()>>,
    {
        let EventReplayer {
            stream,
            speed,
            filter,
            mut progress,
            control,
        } = self;
        let path = stream.path().map(Path::to_path_buf);
        let total = if progress.is_some() || !stream.is_streamed() || filter.is_all() {
            match (&path, stream.is_streamed() && !filter.is_all()) {
                // Counting what a filter keeps reads the JSON Lines file once more: off the
                // runtime's threads.
                (Some(path), true) => {
                    let (path, filter) = (path.clone(), filter.clone());
                    blocking(move || count_in_file(&path, &filter)).await?
                }
                _ => stream.count_matching(&filter)?,
            }
        } else {
            0
        };
        let started = Instant::now();
        let mut origin = started;
        let mut report = ReplayReport {
            delivered: 0,
            filtered_out: 0,
            total,
            stopped: false,
            elapsed: Duration::ZERO,
        };
        let mut source = Source::new(stream, filter);
        while let Some((position, event)) = source.next(&mut report.filtered_out).await? {
            let waited = match speed.multiplier() {
                Some(x) => {
                    // An offset the clock cannot reach is an error, not a panic or an
                    // endless wait: the file was edited or written by something else.
                    let due = Duration::try_from_secs_f64(event.offset_ms() / 1000.0 / x)
                        .ok()
                        .and_then(|gap| origin.checked_add(gap));
                    let Some(due) = due else {
                        return Err(unschedulable(path.as_deref(), position, &event, speed));
                    };
                    control.sleep_until(due).await
                }
                None => control.checkpoint().await,
            };
            match waited {
                Ok(paused) => origin += paused,
                Err(()) => {
                    report.stopped = true;
                    break;
                }
            }
            deliver(position, event).await?;
            report.delivered += 1;
            if let Some(progress) = progress.as_mut() {
                progress(report.delivered, total.max(report.delivered));
            }
        }
        if report.total < report.delivered {
            report.total = report.delivered;
        }
        report.elapsed = started.elapsed();
        Ok(report)
    }
}

fn decode_strict<E: DeserializeOwned>(index: usize, event: &RecordedEvent) -> Result<E> {
    decode_event(&event.event_name, &event.event_data).map_err(|source| Error::EventDecode {
        index,
        name: event.event_name.clone(),
        type_name: std::any::type_name::<E>(),
        source,
    })
}

/// The error for an event whose offset is too far in the future to wait for.
fn unschedulable(
    path: Option<&Path>,
    position: usize,
    event: &RecordedEvent,
    speed: Speed,
) -> Error {
    Error::Recording {
        path: path.map_or_else(|| "<in memory>".into(), Path::to_path_buf),
        message: format!(
            "event {position} (`{}`) is at {} ms, too far in the future to wait for at {speed}\n\
             fix its `timestamp_offset_ms`, or replay as fast as possible (`--speed max`)",
            event.event_name, event.timestamp_offset_ms
        ),
    }
}

/// Events read from a JSON Lines file per message of the reader thread.
const BATCH: usize = 256;

/// A batch of events the reader thread kept, with their 1-based positions, and how many it
/// left out before the last of them.
struct Batch {
    events: Vec<(usize, RecordedEvent)>,
    filtered_out: usize,
}

/// Where a replay takes its events from: memory directly, or a JSON Lines file read on
/// tokio's blocking pool (file reads never run on the runtime's threads), a few batches
/// ahead of the replay.
enum Source {
    Memory {
        stream: Box<EventStream>,
        filter: EventFilter,
        position: usize,
    },
    Lines {
        batches: mpsc::Receiver<Result<Batch>>,
        current: std::vec::IntoIter<(usize, RecordedEvent)>,
    },
}

impl Source {
    fn new(stream: EventStream, filter: EventFilter) -> Source {
        if !stream.is_streamed() {
            return Source::Memory {
                stream: Box::new(stream),
                filter,
                position: 0,
            };
        }
        let (tx, batches) = mpsc::channel(4);
        tokio::task::spawn_blocking(move || read_batches(stream, &filter, &tx));
        Source::Lines {
            batches,
            current: Vec::new().into_iter(),
        }
    }

    async fn next(&mut self, filtered_out: &mut usize) -> Result<Option<(usize, RecordedEvent)>> {
        match self {
            Source::Memory {
                stream,
                filter,
                position,
            } => Ok(stream
                .next_matching(filter, position, filtered_out)?
                .map(|event| (*position, event))),
            Source::Lines { batches, current } => loop {
                if let Some(next) = current.next() {
                    return Ok(Some(next));
                }
                match batches.recv().await {
                    Some(batch) => {
                        let batch = batch?;
                        *filtered_out += batch.filtered_out;
                        *current = batch.events.into_iter();
                    }
                    None => return Ok(None),
                }
            },
        }
    }
}

/// The reader thread: sends batches until the file ends, an error, or the replay drops its
/// receiver (stopped early).
fn read_batches(mut stream: EventStream, filter: &EventFilter, tx: &mpsc::Sender<Result<Batch>>) {
    let mut position = 0;
    loop {
        let mut batch = Batch {
            events: Vec::with_capacity(BATCH),
            filtered_out: 0,
        };
        let mut end = false;
        while batch.events.len() < BATCH {
            match stream.next_matching(filter, &mut position, &mut batch.filtered_out) {
                Ok(Some(event)) => batch.events.push((position, event)),
                Ok(None) => {
                    end = true;
                    break;
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
        if (!batch.events.is_empty() || batch.filtered_out > 0)
            && tx.blocking_send(Ok(batch)).is_err()
        {
            return;
        }
        if end {
            return;
        }
    }
}

/// Runs blocking work (file I/O) on tokio's blocking pool and waits for it.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(_) => Err(Error::Recording {
                path: "<background read>".into(),
                message: "the tokio runtime shut down during the read; \
                          keep the runtime alive until the replay returns"
                    .to_owned(),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_accepts_range_and_max() {
        assert_eq!("10".parse::<Speed>().unwrap().multiplier(), Some(10.0));
        assert_eq!("0.1x".parse::<Speed>().unwrap().multiplier(), Some(0.1));
        assert_eq!("100".parse::<Speed>().unwrap().multiplier(), Some(100.0));
        assert_eq!("max".parse::<Speed>().unwrap(), Speed::AS_FAST_AS_POSSIBLE);
        for bad in ["0", "0.05", "101", "-1", "NaN", "inf", "fast-ish", ""] {
            let err = bad.parse::<Speed>().unwrap_err().to_string();
            assert!(err.starts_with("invalid replay speed"), "{bad}: {err}");
            assert!(err.contains("from 0.1 to 100"), "{err}");
        }
        assert_eq!(Speed::times(2.5).unwrap().to_string(), "2.5x");
    }
}
