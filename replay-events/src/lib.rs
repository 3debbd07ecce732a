//! Event streams: record typed events with their timing, replay them at any speed with
//! filters and progress, analyse and compare recordings — the seeds' event recorder for
//! tokio applications.
//!
//! ```no_run
//! use replay_events::{EventRecorder, EventReplayer, Speed};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Clone, Debug, Serialize, Deserialize)]
//! enum BotEvent {
//!     MarketDataReceived { symbol: String, price: f64 },
//!     PositionOpened { symbol: String, size: f64 },
//! }
//!
//! # async fn demo() -> replay_events::Result<()> {
//! // Record what goes through the bus, without touching the code that publishes.
//! let (bus, _) = tokio::sync::broadcast::channel::<BotEvent>(1024);
//! let recording = EventRecorder::new("bug_position_not_closing", "recordings").guard();
//! recording.tap_broadcast(&bus, "ServiceBus");
//! // ... the bot runs ...
//! let path = recording.finish().await?;
//!
//! // Later: replay it into the same bus, ten times faster.
//! EventReplayer::open(&path)?
//!     .speed(Speed::times(10.0)?)
//!     .replay_to_broadcast(&bus)
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! # Files
//!
//! The seeds' JSON document (`session_name`, `start_time`, `duration_ms`, `total_events`,
//! `events[{timestamp_offset_ms, event_name, event_data, source}]`), keys in that order,
//! indented like Python's `json.dump(…, indent=2)`; or JSON Lines (`.jsonl`): that header
//! on the first line, then one event per line, read as a stream in bounded memory. The
//! reader picks the format by extension. Event data is kept as written
//! ([`RawValue`](serde_json::value::RawValue)): numbers keep their digits (`67500.0` stays `67500.0`,
//! `1e400` stays `1e400`), strings their escapes; only whitespace is laid out anew. Keys the
//! model does not know are kept and written back after the known ones.
//!
//! # What-if replays
//!
//! [`whatif`] replays a recording's inputs through your code with other parameters and
//! compares the outcomes with the recorded ones by metrics, in sweeps of many parameter sets
//! at once; see `docs/what-if.md`.
//!
//! # Known limitations
//!
//! - `NaN` and `Infinity` (which Python writes for non-finite floats by default) are not
//!   JSON; such a file is reported as malformed at their line and column.
//! - A JSON document is read whole; use JSON Lines for recordings that do not fit in memory.
//!   Comparison and merge load their inputs whole.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod analysis;
mod clock;
mod compare;
mod control;
mod error;
mod filter;
mod format;
mod json;
mod jsonl;
mod model;
mod recorder;
mod replayer;
mod stream;
pub mod whatif;

pub use analysis::{
    FilterOutcome, MergeAlign, NameCount, Summary, Timeline, TimelineEntry, filter_file,
    format_offset, merge, summarize, timeline,
};
pub use compare::{Comparison, CountChange, DiffEvent, Divergence, Side, compare};
pub use control::{ReplayControl, ReplayState};
pub use error::{Error, Malformed, Result};
pub use filter::EventFilter;
pub use format::{FileKind, Format, sniff};
pub use json::{parse_json, render_json};
pub use jsonl::{JsonlReader, JsonlWriter, render_event_line, render_jsonl};
pub use model::{EventRef, ExtraKeys, Header, RecordedEvent, Recording, decode_event};
pub use recorder::{EventRecorder, RecordingGuard, RecordingSender, RecordingSink, TapStats};
pub use replayer::{EventReplayer, Payload, ReplayReport, Speed, TypedEvent};
pub use stream::EventStream;

#[cfg(doctest)]
#[doc = include_str!("../../docs/what-if.md")]
struct WhatIfGuideDoctests;

// The event-stream guide is compiled as doctests: every example a user pastes builds.
#[cfg(doctest)]
#[doc = include_str!("../../docs/events.md")]
struct EventsGuideDoctests;
