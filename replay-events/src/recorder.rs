//! Recording typed events: the recorder, its non-invasive taps, and the guard that saves on
//! drop (the seeds' context manager).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;
use time::OffsetDateTime;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::clock::{file_stamp, format_start_time};
use super::json::render_json;
use super::model::{RecordedEvent, Recording};
use crate::error::{Error, Result};

/// Records events with their name, source and the milliseconds since recording started.
///
/// Cheap to clone; clones record into the same recording. Capture is non-invasive: tap a
/// [`broadcast`] channel ([`EventRecorder::tap_broadcast`]) or wrap the sender the code
/// already publishes through ([`EventRecorder::wrap_sender`], [`EventRecorder::wrap_sink`]),
/// and the publishing code does not change.
///
/// ```no_run
/// use replay_events::EventRecorder;
/// use serde::Serialize;
///
/// #[derive(Clone, Serialize)]
/// enum BotEvent {
///     MarketDataReceived { symbol: String, price: f64 },
///     PositionOpened { symbol: String, size: f64 },
/// }
///
/// # async fn demo() -> replay_events::Result<()> {
/// let (bus, _) = tokio::sync::broadcast::channel::<BotEvent>(1024);
/// let recording = EventRecorder::new("bull_run_2025", "recordings").guard();
/// recording.tap_broadcast(&bus, "ServiceBus");
/// // ... the bot publishes on `bus` as before ...
/// let path = recording.finish().await?; // recordings/bull_run_2025_<UTC stamp>.json
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct EventRecorder {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    session_name: String,
    dir: PathBuf,
    started: Instant,
    start_wall: OffsetDateTime,
    stop: watch::Sender<bool>,
    state: Mutex<State>,
    /// Serialises saves of this recorder. Publishers never take it, so a save (rendering,
    /// writing, fsync) never holds up a publisher.
    saving: Mutex<()>,
}

#[derive(Debug, Default)]
struct State {
    events: Vec<RecordedEvent>,
    stopped_at_ms: Option<u64>,
    saved_to: Option<PathBuf>,
    taps: Vec<JoinHandle<TapStats>>,
}

/// What a tap saw, returned by its task when it ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TapStats {
    /// Events recorded.
    pub recorded: u64,
    /// Events the tap missed because the channel overflowed (`broadcast` lag); raise the
    /// channel's capacity if this is not zero.
    pub lagged: u64,
}

impl EventRecorder {
    /// Starts a recording named `session_name`, to be saved under `dir`. The clock starts now.
    pub fn new(session_name: impl Into<String>, dir: impl Into<PathBuf>) -> EventRecorder {
        let (stop, _) = watch::channel(false);
        EventRecorder {
            inner: Arc::new(Inner {
                session_name: session_name.into(),
                dir: dir.into(),
                started: Instant::now(),
                start_wall: OffsetDateTime::now_utc(),
                stop,
                state: Mutex::new(State::default()),
                saving: Mutex::new(()),
            }),
        }
    }

    /// The session name.
    pub fn session_name(&self) -> &str {
        &self.inner.session_name
    }

    /// Milliseconds since the recording started.
    pub fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.inner.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the event list half-updated (pushes
        // are atomic), so a poisoned lock is still usable.
        replay_support::sync::lock(&self.inner.state)
    }

    /// Records an enum value: the event name is the variant's name and the data its
    /// content, as serde writes an externally tagged enum (serde's default). A unit
    /// variant's data is `null`.
    ///
    /// For any other type use [`EventRecorder::record_as`]. Does nothing once stopped.
    pub fn record<E: Serialize + ?Sized>(&self, event: &E, source: &str) -> Result<()> {
        let (name, data) = encode_event(event)?;
        self.record_raw(name, source, data);
        Ok(())
    }

    /// Records `data` under the event name `name`. Does nothing once stopped.
    pub fn record_as<T: Serialize + ?Sized>(
        &self,
        name: &str,
        source: &str,
        data: &T,
    ) -> Result<()> {
        let data = serde_json::value::to_raw_value(data).map_err(|source| Error::EventEncode {
            name: name.to_owned(),
            source,
        })?;
        self.record_raw(name, source, data);
        Ok(())
    }

    /// Records an event whose data is already JSON. Does nothing once stopped.
    pub fn record_raw(&self, name: impl Into<String>, source: &str, data: Box<RawValue>) {
        let offset = self.elapsed_ms();
        let mut state = self.state();
        if state.stopped_at_ms.is_none() {
            state
                .events
                .push(RecordedEvent::new(offset, name, data, source));
        }
    }

    /// Records for a tap or a wrapper: failures are logged, never returned, so publishing
    /// never fails because of the recorder.
    fn capture<E: Serialize + ?Sized>(&self, event: &E, source: &str) -> bool {
        match self.record(event, source) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(session = %self.session_name(), "event not recorded: {e}");
                false
            }
        }
    }

    /// Subscribes to `sender` now and records every event sent on it, from a spawned task,
    /// until the channel closes or the recorder stops. Must be called within a tokio runtime.
    pub fn tap_broadcast<E>(&self, sender: &broadcast::Sender<E>, source: &str)
    where
        E: Serialize + Clone + Send + 'static,
    {
        self.tap_receiver(sender.subscribe(), source);
    }

    /// Records every event `receiver` receives, from a spawned task (see
    /// [`EventRecorder::tap_broadcast`]).
    pub fn tap_receiver<E>(&self, mut receiver: broadcast::Receiver<E>, source: &str)
    where
        E: Serialize + Clone + Send + 'static,
    {
        let recorder = self.clone();
        let source = source.to_owned();
        let mut stop = self.inner.stop.subscribe();
        let task = tokio::spawn(async move {
            let mut stats = TapStats::default();
            loop {
                let received = tokio::select! {
                    biased;
                    received = receiver.recv() => received,
                    _ = stop.wait_for(|stopped| *stopped) => {
                        // Record what was published before the stop and is still queued.
                        while let Ok(event) = receiver.try_recv() {
                            if recorder.capture(&event, &source) {
                                stats.recorded += 1;
                            }
                        }
                        break;
                    }
                };
                match received {
                    Ok(event) => {
                        if recorder.capture(&event, &source) {
                            stats.recorded += 1;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        stats.lagged += n;
                        tracing::warn!(
                            session = %recorder.session_name(),
                            "the recorder's tap missed {n} events: raise the broadcast channel's capacity"
                        );
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
            stats
        });
        self.state().taps.push(task);
    }

    /// Wraps an mpsc sender: every event sent through the wrapper is recorded, then
    /// forwarded unchanged.
    pub fn wrap_sender<E: Serialize>(
        &self,
        sender: mpsc::Sender<E>,
        source: &str,
    ) -> RecordingSender<E> {
        RecordingSender {
            sender,
            recorder: self.clone(),
            source: source.into(),
        }
    }

    /// Wraps any [`futures_sink::Sink`]: every item sent through it is recorded, then
    /// forwarded unchanged.
    pub fn wrap_sink<S>(&self, sink: S, source: &str) -> RecordingSink<S> {
        RecordingSink {
            sink,
            recorder: self.clone(),
            source: source.into(),
        }
    }

    /// Stops recording now: later events are ignored, taps end (events still queued in a
    /// tapped channel are dropped; [`EventRecorder::stop_and_drain`] records them first).
    /// The duration is fixed now.
    pub fn stop(&self) {
        let now = self.elapsed_ms();
        {
            let mut state = self.state();
            state.stopped_at_ms.get_or_insert(now);
        }
        self.inner.stop.send_replace(true);
    }

    /// Stops recording once every tap has recorded the events published before this call
    /// (still queued in their channels); returns what the taps recorded in all. The
    /// duration is fixed at the call.
    pub async fn stop_and_drain(&self) -> TapStats {
        let now = self.elapsed_ms();
        self.inner.stop.send_replace(true);
        let taps = std::mem::take(&mut self.state().taps);
        let mut total = TapStats::default();
        for tap in taps {
            if let Ok(stats) = tap.await {
                total.recorded += stats.recorded;
                total.lagged += stats.lagged;
            }
        }
        self.state().stopped_at_ms.get_or_insert(now);
        total
    }

    /// Whether the recorder still records.
    pub fn is_recording(&self) -> bool {
        self.state().stopped_at_ms.is_none()
    }

    /// How many events were recorded.
    pub fn len(&self) -> usize {
        self.state().events.len()
    }

    /// Whether no event was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of the recording so far (`duration_ms` up to now, or up to the stop).
    pub fn recording(&self) -> Recording {
        let now = self.elapsed_ms();
        let state = self.state();
        let mut recording = Recording::new(
            self.inner.session_name.clone(),
            format_start_time(self.inner.start_wall),
        );
        recording.duration_ms = state.stopped_at_ms.unwrap_or(now).into();
        recording.events = state.events.clone();
        recording
    }

    /// The path [`EventRecorder::save`] writes: `<dir>/<session name>_<UTC start stamp>.json`.
    /// Characters that do not belong in a file name become `_`.
    pub fn default_path(&self) -> PathBuf {
        let name: String = self
            .inner
            .session_name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let name = if name.is_empty() {
            "recording".to_owned()
        } else {
            name
        };
        self.inner
            .dir
            .join(format!("{name}_{}.json", file_stamp(self.inner.start_wall)))
    }

    /// Saves the recording so far atomically as `<dir>/<session name>_<UTC timestamp>.json`
    /// and returns the path. A later save of the same recorder overwrites that file; a file
    /// of another recording at that path is never overwritten (a `_2`, `_3`… suffix is added).
    ///
    /// Nothing half-made is ever visible under the final name: the recording is written to a
    /// temporary file that is renamed into place (refusing to replace another recording's
    /// file) only once complete and synced.
    ///
    /// This is blocking file I/O (write and fsync). Publishers are never held up by it, but
    /// from async code prefer [`RecordingGuard::finish`], which saves on tokio's blocking
    /// pool, or call this inside [`tokio::task::spawn_blocking`].
    pub fn save(&self) -> Result<PathBuf> {
        let _saving = self
            .inner
            .saving
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let recording = self.recording();
        let saved_to = self.state().saved_to.clone();
        if let Some(path) = saved_to {
            recording.save(&path)?;
            return Ok(path);
        }
        let path = save_new(&recording, self.default_path())?;
        self.state().saved_to = Some(path.clone());
        Ok(path)
    }

    /// Saves the recording so far atomically to `path` (`.jsonl` → JSON Lines, else JSON).
    pub fn save_to(&self, path: impl AsRef<Path>) -> Result<()> {
        self.recording().save(path)
    }

    /// A guard that stops and saves the recording when dropped (or discards it, if asked).
    pub fn guard(self) -> RecordingGuard {
        RecordingGuard {
            recorder: self,
            discard: false,
            done: false,
        }
    }
}

/// Writes `recording` under `path`, or `<stem>_2.json`, `<stem>_3.json`… if taken, and
/// returns the name it got. Each attempt is an atomic write that refuses to replace an
/// existing file, so two recorders saving the same name at the same second never overwrite
/// each other, and a crash never leaves an empty or partial file under a final name.
fn save_new(recording: &Recording, path: PathBuf) -> Result<PathBuf> {
    let text = render_json(recording);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut candidate = path.clone();
    for n in 2u64.. {
        match replay_support::fs::write_atomic_new(&candidate, |out| out.write_all(text.as_bytes()))
        {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                candidate = path.with_file_name(format!("{stem}_{n}.json"));
            }
            Err(source) => {
                return Err(Error::File {
                    action: "write recording",
                    path: candidate,
                    source,
                });
            }
        }
    }
    unreachable!("some numbered file name is free")
}

/// An enum value as an event name (the variant's name) and data (its content, `null` for a
/// unit variant), as serde writes an externally tagged enum.
pub(crate) fn encode_event<E: Serialize + ?Sized>(event: &E) -> Result<(String, Box<RawValue>)> {
    let value = serde_json::to_value(event).map_err(|source| Error::EventEncode {
        name: std::any::type_name::<E>().to_owned(),
        source,
    })?;
    let (name, data) = match value {
        Value::String(name) => (name, Value::Null),
        Value::Object(map) if map.len() == 1 => match map.into_iter().next() {
            Some(entry) => entry,
            None => unreachable!("a map of length 1 has an entry"),
        },
        _ => {
            return Err(Error::InvalidOption {
                what: "event for `EventRecorder::record`",
                value: std::any::type_name::<E>().to_owned(),
                expected: "an externally tagged enum (serde's default for enums); \
                           name other events with `EventRecorder::record_as`"
                    .to_owned(),
            });
        }
    };
    let data = serde_json::value::to_raw_value(&data).map_err(|source| Error::EventEncode {
        name: name.clone(),
        source,
    })?;
    Ok((name, data))
}

/// Stops and saves its recording when dropped, like the seeds' `with EventRecorder(...)`.
///
/// Dereferences to the [`EventRecorder`]. [`RecordingGuard::finish`] saves explicitly and
/// returns the path (and any error); [`RecordingGuard::discard`] drops without saving.
/// A save that fails in `drop` is logged with `tracing::error!`. Saving in `drop` is
/// blocking file I/O on the dropping thread; in async code end with `finish().await`.
#[derive(Debug)]
pub struct RecordingGuard {
    recorder: EventRecorder,
    discard: bool,
    done: bool,
}

impl RecordingGuard {
    /// Stops, waits for the taps to drain, saves, and returns the path.
    ///
    /// The save (rendering, writing, fsync) runs on tokio's blocking pool, so the runtime's
    /// other tasks keep running meanwhile.
    pub async fn finish(mut self) -> Result<PathBuf> {
        self.done = true;
        self.recorder.stop_and_drain().await;
        let recorder = self.recorder.clone();
        match tokio::task::spawn_blocking(move || recorder.save()).await {
            Ok(saved) => saved,
            Err(e) => match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                // The runtime is shutting down: save here rather than lose the recording.
                Err(_) => self.recorder.save(),
            },
        }
    }

    /// Stops and saves now, without waiting for taps (usable outside async code; blocking
    /// file I/O, see [`EventRecorder::save`]).
    pub fn finish_now(mut self) -> Result<PathBuf> {
        self.done = true;
        self.recorder.stop();
        self.recorder.save()
    }

    /// Stops and drops the recording without saving it.
    pub fn discard(mut self) {
        self.discard = true;
        self.recorder.stop();
    }

    /// Makes the drop discard instead of save (for example once a test has passed).
    pub fn discard_on_drop(&mut self, discard: bool) {
        self.discard = discard;
    }
}

impl std::ops::Deref for RecordingGuard {
    type Target = EventRecorder;

    fn deref(&self) -> &EventRecorder {
        &self.recorder
    }
}

impl Drop for RecordingGuard {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        self.recorder.stop();
        if self.discard {
            return;
        }
        if let Err(e) = self.recorder.save() {
            tracing::error!(session = %self.recorder.session_name(), "failed to save the recording: {e:?}");
        }
    }
}

/// An mpsc sender that records every event it sends (see [`EventRecorder::wrap_sender`]).
#[derive(Debug)]
pub struct RecordingSender<E> {
    sender: mpsc::Sender<E>,
    recorder: EventRecorder,
    source: Arc<str>,
}

impl<E> Clone for RecordingSender<E> {
    fn clone(&self) -> Self {
        RecordingSender {
            sender: self.sender.clone(),
            recorder: self.recorder.clone(),
            source: self.source.clone(),
        }
    }
}

impl<E: Serialize> RecordingSender<E> {
    /// Records `event`, then sends it like [`mpsc::Sender::send`].
    pub async fn send(&self, event: E) -> Result<(), mpsc::error::SendError<E>> {
        self.recorder.capture(&event, &self.source);
        self.sender.send(event).await
    }

    /// Records `event`, then sends it like [`mpsc::Sender::try_send`] (recorded even if the
    /// channel is full: it was published).
    pub fn try_send(&self, event: E) -> Result<(), mpsc::error::TrySendError<E>> {
        self.recorder.capture(&event, &self.source);
        self.sender.try_send(event)
    }

    /// The wrapped sender.
    pub fn inner(&self) -> &mpsc::Sender<E> {
        &self.sender
    }
}

/// A [`futures_sink::Sink`] that records every item it sends (see [`EventRecorder::wrap_sink`]).
#[derive(Debug)]
pub struct RecordingSink<S> {
    sink: S,
    recorder: EventRecorder,
    source: Arc<str>,
}

impl<S> RecordingSink<S> {
    /// The wrapped sink.
    pub fn into_inner(self) -> S {
        self.sink
    }
}

impl<E, S> futures_sink::Sink<E> for RecordingSink<S>
where
    E: Serialize,
    S: futures_sink::Sink<E> + Unpin,
{
    type Error = S::Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        Pin::new(&mut self.get_mut().sink).poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: E) -> Result<(), S::Error> {
        let this = self.get_mut();
        this.recorder.capture(&item, &this.source);
        Pin::new(&mut this.sink).start_send(item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        Pin::new(&mut self.get_mut().sink).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        Pin::new(&mut self.get_mut().sink).poll_close(cx)
    }
}
