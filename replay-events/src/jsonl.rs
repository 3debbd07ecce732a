//! JSON Lines recordings: a header line, then one event per line, read and written as a
//! stream so that a recording of any length is handled in bounded memory.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use serde::de::DeserializeSeed;

use super::format::{self, write_compact};
use super::model::{EventRef, Header, HeaderSeed, Recording, push_json_string};
use crate::error::write_atomic_with;
use crate::error::{Error, Result};

/// Reads a JSON Lines recording one event at a time.
///
/// Memory use is one line, whatever the length of the recording.
#[derive(Debug)]
pub struct JsonlReader<R = BufReader<File>> {
    reader: R,
    path: PathBuf,
    line: usize,
    buf: Vec<u8>,
    header: Header,
}

impl JsonlReader {
    /// Opens `path` and reads its header line.
    pub fn open(path: impl AsRef<Path>) -> Result<JsonlReader> {
        let path = path.as_ref();
        let file = format::open(path)?;
        JsonlReader::from_reader(BufReader::with_capacity(1 << 16, file), path)
    }
}

impl<R: BufRead> JsonlReader<R> {
    /// Reads the header line from `reader`; `path` is used in error messages only.
    pub fn from_reader(reader: R, path: impl Into<PathBuf>) -> Result<JsonlReader<R>> {
        let mut this = JsonlReader {
            reader,
            path: path.into(),
            line: 0,
            buf: Vec::with_capacity(512),
            header: Header {
                session_name: String::new(),
                start_time: String::new(),
                duration_ms: 0u64.into(),
                total_events: 0,
                extra: Vec::new(),
            },
        };
        if !this.next_line()? {
            return Err(format::malformed_at(
                &this.path,
                1,
                1,
                "",
                "the file is empty; a JSON Lines recording starts with a header line \
                 (`{\"session_name\": …, \"start_time\": …, \"duration_ms\": …, \"total_events\": …}`)",
            ));
        }
        let text = this.line_text()?;
        let mut de = serde_json::Deserializer::from_str(text);
        let header = HeaderSeed { with_events: false }
            .deserialize(&mut de)
            .and_then(|fields| de.end().map(|()| fields.header));
        match header {
            Ok(header) => this.header = header,
            Err(e) => return Err(this.line_error(text, &e)),
        }
        Ok(this)
    }

    /// The header line.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The 1-based line number of the last line read.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The next event, or `None` at the end of the file. Blank lines are skipped.
    pub fn next_event(&mut self) -> Result<Option<EventRef<'_>>> {
        if !self.next_line()? {
            return Ok(None);
        }
        let text = self.line_text()?;
        match serde_json::from_str::<EventRef<'_>>(text) {
            Ok(event) => Ok(Some(event)),
            Err(e) => Err(self.line_error(text, &e)),
        }
    }

    /// Reads the next non-blank line into `buf`; false at the end of the file.
    fn next_line(&mut self) -> Result<bool> {
        loop {
            self.buf.clear();
            let n = self
                .reader
                .read_until(b'\n', &mut self.buf)
                .map_err(|source| Error::File {
                    action: "read recording",
                    path: self.path.clone(),
                    source,
                })?;
            if n == 0 {
                return Ok(false);
            }
            self.line += 1;
            if self.buf.iter().any(|b| !b.is_ascii_whitespace()) {
                return Ok(true);
            }
        }
    }

    fn line_text(&self) -> Result<&str> {
        std::str::from_utf8(&self.buf).map_err(|e| {
            format::malformed_at(
                &self.path,
                self.line,
                e.valid_up_to() + 1,
                &String::from_utf8_lossy(&self.buf),
                "the line is not valid UTF-8",
            )
        })
    }

    fn line_error(&self, text: &str, e: &serde_json::Error) -> Error {
        let message = crate::error::strip_location(&e.to_string());
        format::malformed_at(&self.path, self.line, e.column().max(1), text, message)
    }
}

/// Renders a whole recording as JSON Lines.
pub fn render_jsonl(recording: &Recording) -> String {
    let mut out = String::with_capacity(256 + recording.events.len() * 128);
    render_header_line(&recording.header(), &mut out);
    for event in &recording.events {
        render_event_line(&event.as_ref(), &mut out);
    }
    out
}

/// Appends the header line (with its newline).
pub(crate) fn render_header_line(header: &Header, out: &mut String) {
    out.push_str("{\"session_name\":");
    push_json_string(out, &header.session_name);
    out.push_str(",\"start_time\":");
    push_json_string(out, &header.start_time);
    out.push_str(",\"duration_ms\":");
    out.push_str(&header.duration_ms.to_string());
    out.push_str(",\"total_events\":");
    out.push_str(&header.total_events.to_string());
    for (key, value) in &header.extra {
        out.push(',');
        push_json_string(out, key);
        out.push(':');
        write_compact(value.get(), out);
    }
    out.push_str("}\n");
}

/// Appends one event as a line (with its newline). This is also what `replay play` prints.
pub fn render_event_line(event: &EventRef<'_>, out: &mut String) {
    out.push_str("{\"timestamp_offset_ms\":");
    out.push_str(&event.timestamp_offset_ms.to_string());
    out.push_str(",\"event_name\":");
    push_json_string(out, &event.event_name);
    out.push_str(",\"event_data\":");
    write_compact(event.event_data.get(), out);
    out.push_str(",\"source\":");
    push_json_string(out, &event.source);
    for (key, value) in &event.extra {
        out.push(',');
        push_json_string(out, key);
        out.push(':');
        write_compact(value.get(), out);
    }
    out.push_str("}\n");
}

/// Writes a JSON Lines recording event by event, in bounded memory, atomically.
///
/// Events go to a temporary file; [`JsonlWriter::finish`] writes the header (whose
/// `total_events` is only known then) and the events to a second temporary file in the
/// target's directory and renames it over the target. Until then the target is untouched.
#[derive(Debug)]
pub struct JsonlWriter {
    path: PathBuf,
    header: Header,
    body: BufWriter<tempfile::NamedTempFile>,
    count: u64,
    line: String,
}

impl JsonlWriter {
    /// Starts writing `path` with this header (its `total_events` is replaced by the count).
    pub fn create(path: impl Into<PathBuf>, header: Header) -> Result<JsonlWriter> {
        let path = path.into();
        let dir = parent_dir(&path);
        std::fs::create_dir_all(&dir).map_err(|source| write_error(&path, source))?;
        let body = tempfile::Builder::new()
            .prefix(".replay-body-")
            .tempfile_in(&dir)
            .map_err(|source| write_error(&path, source))?;
        Ok(JsonlWriter {
            path,
            header,
            body: BufWriter::with_capacity(1 << 16, body),
            count: 0,
            line: String::with_capacity(512),
        })
    }

    /// Appends one event.
    pub fn write_event(&mut self, event: &EventRef<'_>) -> Result<()> {
        self.line.clear();
        render_event_line(event, &mut self.line);
        self.count += 1;
        self.body
            .write_all(self.line.as_bytes())
            .map_err(|source| write_error(&self.path, source))
    }

    /// How many events were written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Writes the header and the events to the target, atomically; returns the event count.
    pub fn finish(mut self) -> Result<u64> {
        let path = self.path.clone();
        let fail = |source| write_error(&path, source);
        self.body.flush().map_err(fail)?;
        let mut body = self
            .body
            .into_inner()
            .map_err(|e| write_error(&path, e.into_error()))?;
        body.as_file_mut().rewind().map_err(fail)?;
        self.header.total_events = self.count;
        let mut head = String::new();
        render_header_line(&self.header, &mut head);
        write_atomic_with(&path, "write recording", |out| {
            out.write_all(head.as_bytes())?;
            io::copy(body.as_file_mut(), out)?;
            Ok(())
        })?;
        Ok(self.count)
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn write_error(path: &Path, source: io::Error) -> Error {
    Error::File {
        action: "write recording",
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_header_and_events_with_line_numbers_in_errors() {
        let text = "{\"session_name\":\"s\",\"start_time\":\"t\",\"duration_ms\":5,\"total_events\":2}\n\
                    {\"timestamp_offset_ms\":0,\"event_name\":\"A\",\"event_data\":{\"x\":1.50},\"source\":\"S\"}\n\
                    \n\
                    {\"timestamp_offset_ms\":3,\"event_name\":\"B\",\"event_data\":[1,}\n";
        let mut reader = JsonlReader::from_reader(text.as_bytes(), "r.jsonl").unwrap();
        assert_eq!(reader.header().session_name, "s");
        let first = reader.next_event().unwrap().unwrap();
        assert_eq!(first.event_data.get(), "{\"x\":1.50}");
        let err = reader.next_event().unwrap_err().to_string();
        assert!(err.contains("r.jsonl:4:"), "{err}");
    }

    #[test]
    fn header_without_required_key_is_an_error() {
        let err = JsonlReader::from_reader("{\"session_name\":\"s\"}\n".as_bytes(), "h.jsonl")
            .unwrap_err()
            .to_string();
        assert!(err.contains("h.jsonl:1:"), "{err}");
        assert!(err.contains("missing field `start_time`"), "{err}");
    }
}
