//! Opening a recording of either format, loading and saving whole recordings.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use super::format::Format;
use super::json::{read_json, render_json};
use super::jsonl::{JsonlReader, JsonlWriter, render_jsonl};
use super::model::{EventRef, Header, RecordedEvent, Recording};
use crate::error::Result;
use crate::error::write_atomic;

/// A recording opened for reading: a JSON document is read whole, a JSON Lines file is read
/// one line at a time (bounded memory).
///
/// Iterating yields owned events; [`EventStream::for_each_ref`] visits borrowed ones, the
/// cheapest way through a large JSON Lines file.
#[derive(Debug)]
pub struct EventStream {
    path: Option<PathBuf>,
    header: Header,
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Memory(std::vec::IntoIter<RecordedEvent>),
    Lines(Box<JsonlReader>),
}

impl EventStream {
    /// Opens the recording at `path`; its format comes from the extension (`.json`,
    /// `.jsonl`), or from its first line when the extension says nothing.
    pub fn open(path: impl AsRef<Path>) -> Result<EventStream> {
        let path = path.as_ref();
        match Format::of_file(path)? {
            Format::Json => {
                let recording = read_json(path)?;
                let mut stream = EventStream::from_recording(recording);
                stream.path = Some(path.to_owned());
                Ok(stream)
            }
            Format::JsonLines => {
                let reader = JsonlReader::open(path)?;
                Ok(EventStream {
                    path: Some(path.to_owned()),
                    header: reader.header().clone(),
                    inner: Inner::Lines(Box::new(reader)),
                })
            }
        }
    }

    /// A stream over a recording already in memory.
    pub fn from_recording(recording: Recording) -> EventStream {
        let header = recording.header();
        EventStream {
            path: None,
            header,
            inner: Inner::Memory(recording.events.into_iter()),
        }
    }

    /// The recording's header. For JSON Lines, `total_events` is what the header line says.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The file this stream reads, if it came from one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Whether the events are read from the file as the stream advances (JSON Lines).
    pub fn is_streamed(&self) -> bool {
        matches!(self.inner, Inner::Lines(_))
    }

    /// The next event, owned.
    pub fn next_event(&mut self) -> Result<Option<RecordedEvent>> {
        match &mut self.inner {
            Inner::Memory(events) => Ok(events.next()),
            Inner::Lines(reader) => Ok(reader.next_event()?.map(|e| e.to_owned_event())),
        }
    }

    /// Visits the remaining events, borrowed, until `f` breaks or the events end.
    pub fn for_each_ref(
        &mut self,
        mut f: impl FnMut(&EventRef<'_>) -> Result<ControlFlow<()>>,
    ) -> Result<()> {
        match &mut self.inner {
            Inner::Memory(events) => {
                for event in events {
                    if f(&event.as_ref())?.is_break() {
                        break;
                    }
                }
            }
            Inner::Lines(reader) => {
                while let Some(event) = reader.next_event()? {
                    if f(&event)?.is_break() {
                        break;
                    }
                }
            }
        }
        Ok(())
    }
}

impl Iterator for EventStream {
    type Item = Result<RecordedEvent>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_event().transpose()
    }
}

impl Recording {
    /// Reads the whole recording at `path` (either format) into memory.
    pub fn load(path: impl AsRef<Path>) -> Result<Recording> {
        let path = path.as_ref();
        let mut stream = EventStream::open(path)?;
        match std::mem::replace(&mut stream.inner, Inner::Memory(Vec::new().into_iter())) {
            Inner::Memory(events) => {
                let mut recording = Recording::from_header(stream.header);
                recording.events = events.collect();
                Ok(recording)
            }
            Inner::Lines(mut reader) => {
                let mut recording = Recording::from_header(stream.header);
                while let Some(event) = reader.next_event()? {
                    recording.events.push(event.to_owned_event());
                }
                Ok(recording)
            }
        }
    }

    /// Writes this recording to `path` atomically, in the format its extension names
    /// (`.jsonl` → JSON Lines, anything else → the seeds' JSON).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        self.save_as(path, Format::for_output(path))
    }

    /// Writes this recording to `path` atomically in `format`.
    pub fn save_as(&self, path: impl AsRef<Path>, format: Format) -> Result<()> {
        let text = match format {
            Format::Json => render_json(self),
            Format::JsonLines => render_jsonl(self),
        };
        write_atomic(path.as_ref(), text.as_bytes(), "write recording")
    }
}

/// Where events are written: a recording in memory (saved at the end) or a JSON Lines file
/// written as it goes (bounded memory).
#[derive(Debug)]
pub(crate) enum EventSink {
    Memory(Recording, PathBuf),
    Lines(JsonlWriter),
}

impl EventSink {
    /// A sink for `path` in the format its extension names.
    pub(crate) fn create(path: &Path, header: Header) -> Result<EventSink> {
        Ok(match Format::for_output(path) {
            Format::Json => EventSink::Memory(Recording::from_header(header), path.to_owned()),
            Format::JsonLines => EventSink::Lines(JsonlWriter::create(path, header)?),
        })
    }

    pub(crate) fn push(&mut self, event: &EventRef<'_>) -> Result<()> {
        match self {
            EventSink::Memory(recording, _) => {
                recording.events.push(event.to_owned_event());
                Ok(())
            }
            EventSink::Lines(writer) => writer.write_event(event),
        }
    }

    /// Saves; returns the number of events written.
    pub(crate) fn finish(self) -> Result<u64> {
        match self {
            EventSink::Memory(recording, path) => {
                recording.save(&path)?;
                Ok(recording.events.len() as u64)
            }
            EventSink::Lines(writer) => writer.finish(),
        }
    }
}

impl EventStream {
    /// The next event that `filter` keeps, with its 1-based position in the recording.
    /// Events are filtered before they are copied out of a JSON Lines line.
    pub(crate) fn next_matching(
        &mut self,
        filter: &super::EventFilter,
        position: &mut usize,
        filtered_out: &mut usize,
    ) -> Result<Option<RecordedEvent>> {
        loop {
            let event = match &mut self.inner {
                Inner::Memory(events) => events.next(),
                Inner::Lines(reader) => match reader.next_event()? {
                    None => None,
                    Some(event) => {
                        *position += 1;
                        if filter.is_all() || filter.matches(&event) {
                            return Ok(Some(event.to_owned_event()));
                        }
                        *filtered_out += 1;
                        continue;
                    }
                },
            };
            let Some(event) = event else {
                return Ok(None);
            };
            *position += 1;
            if filter.is_all() || filter.matches(&event.as_ref()) {
                return Ok(Some(event));
            }
            *filtered_out += 1;
        }
    }

    /// How many of the remaining events `filter` keeps. For a JSON Lines file with a filter
    /// this reads the file once more (in bounded memory); without a filter it trusts the
    /// header's `total_events`.
    pub(crate) fn count_matching(&self, filter: &super::EventFilter) -> Result<usize> {
        match &self.inner {
            Inner::Memory(events) => Ok(if filter.is_all() {
                events.len()
            } else {
                events
                    .as_slice()
                    .iter()
                    .filter(|e| filter.matches(&e.as_ref()))
                    .count()
            }),
            Inner::Lines(_) if filter.is_all() => {
                Ok(usize::try_from(self.header.total_events).unwrap_or(usize::MAX))
            }
            Inner::Lines(_) => match &self.path {
                Some(path) => count_in_file(path, filter),
                None => Ok(0),
            },
        }
    }
}

/// How many events of the JSON Lines file at `path` `filter` keeps (reads the whole file, in
/// bounded memory; blocking).
pub(crate) fn count_in_file(path: &Path, filter: &super::EventFilter) -> Result<usize> {
    let mut reader = JsonlReader::open(path)?;
    let mut count = 0;
    while let Some(event) = reader.next_event()? {
        if filter.matches(&event) {
            count += 1;
        }
    }
    Ok(count)
}
