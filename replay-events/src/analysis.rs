//! Analysing recordings: per-name summary, timeline, filtered copies, merges.
//!
//! Summary, timeline and filtered copies read a JSON Lines recording as a stream, so they
//! run in bounded memory whatever its length.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::ControlFlow;
use std::path::Path;

use serde::Serialize;
use serde_json::Number;
use serde_json::value::RawValue;

use super::clock::{millis_between, parse_start_time};
use super::filter::EventFilter;
use super::format::compact;
use super::model::{EventRef, Recording, number_f64};
use super::stream::{EventSink, EventStream};
use crate::error::{Error, Result};
use replay_support::text::shorten;

/// How often one name (or source) occurs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NameCount {
    /// The event name or source.
    pub name: String,
    /// How many events have it.
    pub count: usize,
}

/// What a recording holds, at a glance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// The session name.
    pub session_name: String,
    /// When recording started, as written.
    pub start_time: String,
    /// How long the recording ran, in milliseconds, as written.
    pub duration_ms: Number,
    /// Events counted in the file.
    pub total_events: usize,
    /// Offset of the first event, if any.
    pub first_offset_ms: Option<f64>,
    /// Offset of the last event, if any.
    pub last_offset_ms: Option<f64>,
    /// Events per name, most frequent first, ties by name.
    pub events: Vec<NameCount>,
    /// Events per source, most frequent first, ties by name.
    pub sources: Vec<NameCount>,
}

/// Summarises the remaining events of `stream` (streamed: bounded memory for JSON Lines).
pub fn summarize(stream: &mut EventStream) -> Result<Summary> {
    let header = stream.header().clone();
    let mut counter = Counter::default();
    stream.for_each_ref(|event| {
        counter.add(event);
        Ok(ControlFlow::Continue(()))
    })?;
    Ok(counter.finish(header))
}

#[derive(Default)]
struct Counter {
    names: HashMap<String, usize>,
    sources: HashMap<String, usize>,
    total: usize,
    first: Option<f64>,
    last: Option<f64>,
}

impl Counter {
    fn add(&mut self, event: &EventRef<'_>) {
        self.total += 1;
        bump(&mut self.names, &event.event_name);
        bump(&mut self.sources, &event.source);
        let offset = event.offset_ms();
        self.first.get_or_insert(offset);
        self.last = Some(offset);
    }

    fn finish(self, header: super::Header) -> Summary {
        Summary {
            session_name: header.session_name,
            start_time: header.start_time,
            duration_ms: header.duration_ms,
            total_events: self.total,
            first_offset_ms: self.first,
            last_offset_ms: self.last,
            events: ranked(self.names),
            sources: ranked(self.sources),
        }
    }
}

fn bump(counts: &mut HashMap<String, usize>, key: &str) {
    match counts.get_mut(key) {
        Some(count) => *count += 1,
        None => {
            counts.insert(key.to_owned(), 1);
        }
    }
}

/// Counts sorted most frequent first, ties by name.
pub(crate) fn ranked(counts: HashMap<String, usize>) -> Vec<NameCount> {
    let mut ranked: Vec<NameCount> = counts
        .into_iter()
        .map(|(name, count)| NameCount { name, count })
        .collect();
    ranked.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    ranked
}

impl Recording {
    /// The summary of this recording (see [`summarize`]).
    pub fn summary(&self) -> Summary {
        let mut counter = Counter::default();
        for event in &self.events {
            counter.add(&event.as_ref());
        }
        counter.finish(self.header())
    }

    /// The events `filter` keeps, as a new recording with the same header; every event
    /// keeps its original offset.
    pub fn filtered(&self, filter: &EventFilter) -> Recording {
        let mut recording = Recording {
            session_name: self.session_name.clone(),
            start_time: self.start_time.clone(),
            duration_ms: self.duration_ms.clone(),
            extra: self.extra.clone(),
            events: Vec::new(),
        };
        recording.events = self
            .events
            .iter()
            .filter(|e| filter.matches(&e.as_ref()))
            .cloned()
            .collect();
        recording
    }
}

/// One line of a timeline.
#[derive(Clone, Debug, Serialize)]
pub struct TimelineEntry {
    /// 1-based position in the recording.
    pub index: usize,
    /// Milliseconds since the recording started, as written.
    pub timestamp_offset_ms: Number,
    /// The event name.
    pub event_name: String,
    /// The event source.
    pub source: String,
    /// The event data, exactly as recorded.
    pub event_data: Box<RawValue>,
}

/// The first events of a recording (or of those a filter keeps), in order.
#[derive(Clone, Debug, Serialize)]
pub struct Timeline {
    /// The session name.
    pub session_name: String,
    /// The events shown.
    pub entries: Vec<TimelineEntry>,
    /// How many events the filter kept in all (shown or not).
    pub matched: usize,
}

/// Builds a timeline of at most `max_events` events that `filter` keeps (streamed).
pub fn timeline(
    stream: &mut EventStream,
    filter: &EventFilter,
    max_events: Option<usize>,
) -> Result<Timeline> {
    let mut entries = Vec::new();
    let mut matched = 0;
    let mut index = 0;
    stream.for_each_ref(|event| {
        index += 1;
        if filter.matches(event) {
            matched += 1;
            if max_events.is_none_or(|max| entries.len() < max) {
                entries.push(TimelineEntry {
                    index,
                    timestamp_offset_ms: event.timestamp_offset_ms.clone(),
                    event_name: event.event_name.clone().into_owned(),
                    source: event.source.clone().into_owned(),
                    event_data: event.event_data.to_owned(),
                });
            }
        }
        Ok(ControlFlow::Continue(()))
    })?;
    Ok(Timeline {
        session_name: stream.header().session_name.clone(),
        entries,
        matched,
    })
}

impl Timeline {
    /// The timeline as text: one line per event (`#index  offset  name  source  data`),
    /// data shortened to `data_width` characters, and how many events were left out.
    pub fn render(&self, data_width: usize) -> String {
        let name_width = self
            .entries
            .iter()
            .map(|e| e.event_name.chars().count())
            .max()
            .unwrap_or(0);
        let source_width = self
            .entries
            .iter()
            .map(|e| e.source.chars().count())
            .max()
            .unwrap_or(0);
        let index_width = self.entries.last().map_or(1, |e| e.index.to_string().len());
        let mut out = String::new();
        for e in &self.entries {
            let data = shorten(&compact(e.event_data.get()), data_width);
            let _ = writeln!(
                out,
                "#{:<index_width$}  {:>12}  {:<name_width$}  {:<source_width$}  {}",
                e.index,
                format_offset(number_f64(&e.timestamp_offset_ms)),
                e.event_name,
                e.source,
                data
            );
        }
        let hidden = self.matched - self.entries.len();
        if hidden > 0 {
            let _ = writeln!(
                out,
                "… {hidden} more event{} (raise --max-events to see them)",
                if hidden == 1 { "" } else { "s" }
            );
        }
        if self.matched == 0 {
            out.push_str("no events\n");
        }
        out
    }
}

/// `12.345 s` style offsets for people.
pub fn format_offset(ms: f64) -> String {
    format!("{:.3} s", ms / 1000.0)
}

/// What [`filter_file`] wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FilterOutcome {
    /// Events in the input.
    pub read: usize,
    /// Events written (kept by the filter).
    pub kept: usize,
}

/// Writes the events of `input` that `filter` keeps to `output` as a new recording with the
/// same header (same start time and duration; `session_name` replaced if given); every
/// event keeps its original offset. Streamed when `output` is JSON Lines and `input` is too.
pub fn filter_file(
    input: &Path,
    output: &Path,
    filter: &EventFilter,
    session_name: Option<&str>,
) -> Result<FilterOutcome> {
    let mut stream = EventStream::open(input)?;
    let mut header = stream.header().clone();
    if let Some(name) = session_name {
        header.session_name = name.to_owned();
    }
    let mut sink = EventSink::create(output, header)?;
    let mut read = 0;
    stream.for_each_ref(|event: &EventRef<'_>| {
        read += 1;
        if filter.matches(event) {
            sink.push(event)?;
        }
        Ok(ControlFlow::Continue(()))
    })?;
    let kept = sink.finish()?;
    Ok(FilterOutcome {
        read,
        kept: usize::try_from(kept).unwrap_or(usize::MAX),
    })
}

/// How [`merge`] places recordings on one time line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MergeAlign {
    /// By wall clock: each recording's events are shifted by the time between the earliest
    /// `start_time` and its own (rounded to the millisecond). Every `start_time` must parse
    /// as ISO 8601 (without an offset it is taken as UTC).
    #[default]
    StartTime,
    /// All recordings start together at offset 0 (for recordings of separate runs).
    Zero,
}

/// Merges recordings into one, ordered by time.
///
/// The result starts at the earliest `start_time` (as written there); offsets are shifted
/// as [`MergeAlign`] says; events at the same offset keep the order of the inputs, then of
/// their recording. `session_name` is the inputs' names joined by `+`, `duration_ms` the
/// latest end. Top-level keys this model does not know are not carried over.
pub fn merge(recordings: &[Recording], align: MergeAlign) -> Result<Recording> {
    let Some(first) = recordings.first() else {
        return Err(Error::InvalidOption {
            what: "list of recordings to merge",
            value: "[]".to_owned(),
            expected: "at least one recording".to_owned(),
        });
    };
    let shifts: Vec<f64> = match align {
        MergeAlign::Zero => vec![0.0; recordings.len()],
        MergeAlign::StartTime => {
            let mut starts = Vec::with_capacity(recordings.len());
            for r in recordings {
                let start = parse_start_time(&r.start_time).ok_or_else(|| Error::InvalidOption {
                    what: "start_time",
                    value: r.start_time.clone(),
                    expected: format!(
                        "an ISO 8601 time such as `2025-10-17T10:00:00+00:00` (in recording `{}`); \
                         or merge with the recordings starting together (`MergeAlign::Zero`, `--align zero`)",
                        r.session_name
                    ),
                })?;
                starts.push(start);
            }
            let earliest = starts.iter().copied().min().unwrap_or(starts[0]);
            starts
                .iter()
                .map(|&s| millis_between(earliest, s).round())
                .collect()
        }
    };
    let earliest_index = shifts
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i);
    let mut keyed = Vec::with_capacity(recordings.iter().map(|r| r.events.len()).sum());
    for (r, &shift) in recordings.iter().zip(&shifts) {
        for event in &r.events {
            let mut event = event.clone();
            if shift != 0.0 {
                event.timestamp_offset_ms = shift_number(&event.timestamp_offset_ms, shift);
            }
            keyed.push((number_f64(&event.timestamp_offset_ms), event));
        }
    }
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
    let duration = recordings
        .iter()
        .zip(&shifts)
        .map(|(r, &shift)| shift + r.duration_ms_f64())
        .fold(0.0_f64, f64::max);
    Ok(Recording {
        session_name: recordings
            .iter()
            .map(|r| r.session_name.as_str())
            .collect::<Vec<_>>()
            .join("+"),
        start_time: recordings[earliest_index].start_time.clone(),
        duration_ms: float_or_int(duration, first.duration_ms.is_f64()),
        extra: Vec::new(),
        events: keyed.into_iter().map(|(_, e)| e).collect(),
    })
}

fn shift_number(n: &Number, shift: f64) -> Number {
    match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => {
            let shifted = u as f64 + shift;
            float_or_int(shifted, false)
        }
        (None, Some(i)) => float_or_int(i as f64 + shift, false),
        _ => float_or_int(number_f64(n) + shift, true),
    }
}

fn float_or_int(value: f64, float: bool) -> Number {
    if !float && value >= 0.0 && value.fract() == 0.0 && value < 9.0e15 {
        Number::from(value as u64)
    } else {
        Number::from_f64(value).unwrap_or_else(|| Number::from(0u64))
    }
}
