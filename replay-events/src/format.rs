//! File formats of event recordings, how a file's format is chosen, and whitespace-only
//! reformatting of raw JSON (numbers and strings are copied byte for byte).

use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use crate::error::{Error, Result};

/// The two file formats of an event recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// The seeds' JSON document (`.json`), indented like Python's `json.dump(…, indent=2)`.
    Json,
    /// JSON Lines (`.jsonl`): a header line, then one event per line; read as a stream.
    JsonLines,
}

impl Format {
    /// The format an extension names: `.jsonl` / `.ndjson` are JSON Lines, `.json` is JSON.
    pub fn from_extension(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "json" => Some(Format::Json),
            "jsonl" | "ndjson" => Some(Format::JsonLines),
            _ => None,
        }
    }

    /// The format to write `path` in: by extension, JSON when the extension says nothing.
    pub fn for_output(path: &Path) -> Format {
        Format::from_extension(path).unwrap_or(Format::Json)
    }

    /// The format of an existing file: by extension, else by its first line.
    pub fn of_file(path: &Path) -> Result<Format> {
        if let Some(format) = Format::from_extension(path) {
            return Ok(format);
        }
        match sniff(path)? {
            FileKind::Events(format) => Ok(format),
            FileKind::Other => Ok(Format::Json),
        }
    }
}

/// What a file holds, judged from its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// An event recording in this format.
    Events(Format),
    /// Something else (for example a YAML cassette).
    Other,
}

/// Judges from its first line whether `path` is an event recording, and in which format.
///
/// A file whose first non-blank line opens a JSON object is a recording when that line
/// holds `"session_name"` or is just `{` followed by a `"session_name"` key (the indented
/// JSON layout). A first line that is a complete object without `events` is a JSON Lines
/// header.
pub fn sniff(path: &Path) -> Result<FileKind> {
    let file = open(path)?;
    let mut reader = BufReader::new(file);
    let mut first = String::new();
    let mut second = String::new();
    let fail = |source| Error::File {
        action: "read recording",
        path: path.to_owned(),
        source,
    };
    loop {
        first.clear();
        if read_line_limited(&mut reader, &mut first).map_err(fail)? == 0 {
            return Ok(FileKind::Other);
        }
        if !first.trim().is_empty() {
            break;
        }
    }
    let line = first.trim();
    if !line.starts_with('{') {
        return Ok(FileKind::Other);
    }
    if line == "{" {
        read_line_limited(&mut reader, &mut second).map_err(fail)?;
        return Ok(if second.trim_start().starts_with("\"session_name\"") {
            FileKind::Events(Format::Json)
        } else {
            FileKind::Other
        });
    }
    if !line.contains("\"session_name\"") {
        return Ok(FileKind::Other);
    }
    match serde_json::from_str::<serde::de::IgnoredAny>(line) {
        Ok(_) if !line.contains("\"events\"") => Ok(FileKind::Events(Format::JsonLines)),
        _ => Ok(FileKind::Events(Format::Json)),
    }
}

/// Reads one line, at most 1 MiB of it (enough to judge a file's kind).
fn read_line_limited(reader: &mut impl BufRead, out: &mut String) -> io::Result<usize> {
    let mut bytes = Vec::new();
    let n = reader.take(1 << 20).read_until(b'\n', &mut bytes)?;
    out.push_str(&String::from_utf8_lossy(&bytes));
    Ok(n)
}

/// Opens a recording for reading, with the errors users see for a missing file.
pub(crate) fn open(path: &Path) -> Result<std::fs::File> {
    std::fs::File::open(path).map_err(|source| not_found_or(path, source))
}

pub(crate) fn not_found_or(path: &Path, source: io::Error) -> Error {
    if source.kind() == io::ErrorKind::NotFound {
        Error::RecordingNotFound {
            path: path.to_owned(),
        }
    } else {
        Error::File {
            action: "read recording",
            path: path.to_owned(),
            source,
        }
    }
}

pub(crate) const MALFORMED_HINT: &str = "fix the file or re-record it; a recording is the seeds' JSON document (`.json`) or JSON Lines (`.jsonl`)";

/// Builds the error for a malformed recording at `line:column`, quoting `line_text`.
pub(crate) fn malformed_at(
    path: &Path,
    line: usize,
    column: usize,
    line_text: &str,
    message: impl Into<String>,
) -> Error {
    Error::malformed_line(
        "recording",
        path,
        line,
        column,
        Some(line_text),
        message,
        MALFORMED_HINT,
    )
}

/// Writes valid JSON `raw` reindented the way Python's `json.dumps(indent=2)` lays it out,
/// as a value starting on a line indented `level` steps. Only whitespace between tokens
/// changes: strings and numbers are copied byte for byte.
pub(crate) fn write_indented(raw: &str, level: usize, out: &mut String) {
    let bytes = raw.as_bytes();
    let mut depth = level;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' => {
                let end = string_end(bytes, i);
                out.push_str(&raw[i..end]);
                i = end;
                continue;
            }
            b' ' | b'\n' | b'\r' | b'\t' => {}
            b'{' | b'[' => {
                let close = if b == b'{' { b'}' } else { b']' };
                let next = skip_ws(bytes, i + 1);
                if next < bytes.len() && bytes[next] == close {
                    out.push(b as char);
                    out.push(close as char);
                    i = next + 1;
                    continue;
                }
                depth += 1;
                out.push(b as char);
                newline(out, depth);
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(out, depth);
                out.push(b as char);
            }
            b',' => {
                out.push(',');
                newline(out, depth);
            }
            b':' => out.push_str(": "),
            _ => {
                let start = i;
                while i < bytes.len()
                    && !matches!(
                        bytes[i],
                        b' ' | b'\n' | b'\r' | b'\t' | b',' | b':' | b'}' | b']' | b'"'
                    )
                {
                    i += 1;
                }
                out.push_str(&raw[start..i]);
                continue;
            }
        }
        i += 1;
    }
}

/// Writes valid JSON `raw` without whitespace between tokens.
pub(crate) fn write_compact(raw: &str, out: &mut String) {
    let bytes = raw.as_bytes();
    if !bytes
        .iter()
        .any(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
    {
        out.push_str(raw);
        return;
    }
    let mut i = 0;
    let mut start = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = string_end(bytes, i),
            b' ' | b'\n' | b'\r' | b'\t' => {
                out.push_str(&raw[start..i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&raw[start..]);
}

/// The compact form of valid JSON `raw` (borrowed when it has no whitespace to remove).
pub(crate) fn compact(raw: &str) -> std::borrow::Cow<'_, str> {
    let mut out = String::new();
    write_compact(raw, &mut out);
    if out.len() == raw.len() {
        std::borrow::Cow::Borrowed(raw)
    } else {
        std::borrow::Cow::Owned(out)
    }
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn skip_ws(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\n' | b'\r' | b'\t') {
        i += 1;
    }
    i
}

/// Index just past the string literal starting at `start` (which is a `"`).
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indented(raw: &str, level: usize) -> String {
        let mut out = String::new();
        write_indented(raw, level, &mut out);
        out
    }

    #[test]
    fn indents_like_python() {
        let raw = r#"{"a":1,"b":[1, 2.50,{}],"c":{"d":"x, y: {z}"},"e":[]}"#;
        assert_eq!(
            indented(raw, 0),
            "{\n  \"a\": 1,\n  \"b\": [\n    1,\n    2.50,\n    {}\n  ],\n  \"c\": {\n    \"d\": \"x, y: {z}\"\n  },\n  \"e\": []\n}"
        );
        assert_eq!(indented("{\"a\":1}", 2), "{\n      \"a\": 1\n    }");
        assert_eq!(indented("1e400", 3), "1e400");
    }

    #[test]
    fn reindenting_is_idempotent_and_keeps_escapes() {
        let raw =
            r#"{ "s" : "quote \" and \\ and \u00e9", "n": [ -0.0, 12345678901234567890123 ] }"#;
        let once = indented(raw, 1);
        assert_eq!(indented(&once, 1), once);
        assert!(once.contains(r#""quote \" and \\ and \u00e9""#));
        assert!(once.contains("12345678901234567890123"));
        assert_eq!(
            compact(&once),
            r#"{"s":"quote \" and \\ and \u00e9","n":[-0.0,12345678901234567890123]}"#
        );
    }
}
