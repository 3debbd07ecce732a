//! The seeds' JSON document: read whole, written indented like Python's
//! `json.dump(…, indent=2)` so that a file the Python tool wrote is written back unchanged.

use std::path::Path;

use serde::de::DeserializeSeed;

use super::format::{self, write_indented};
use super::model::{HeaderSeed, RecordedEvent, Recording, push_json_string};
use crate::error::{Error, Result};

/// Reads a whole JSON recording from `path`.
pub(crate) fn read_json(path: &Path) -> Result<Recording> {
    let bytes = std::fs::read(path).map_err(|e| format::not_found_or(path, e))?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
            let column = valid.len() - line_start + 1;
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let line_text = text.lines().nth(line - 1).unwrap_or("").to_owned();
            return Err(format::malformed_at(
                path,
                line,
                column,
                &line_text,
                "the file is not valid UTF-8",
            ));
        }
    };
    parse_json(path, &text)
}

/// Parses a JSON recording; `path` is used in error messages only.
pub fn parse_json(path: &Path, text: &str) -> Result<Recording> {
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = HeaderSeed { with_events: true }
        .deserialize(&mut de)
        .and_then(|fields| de.end().map(|()| fields));
    match parsed {
        Ok(fields) => {
            let mut recording = Recording::from_header(fields.header);
            recording.events = fields.events.unwrap_or_default();
            Ok(recording)
        }
        Err(e) => Err(json_error(path, text, &e)),
    }
}

/// The `path:line:column` error for a serde_json failure on `text`.
pub(crate) fn json_error(path: &Path, text: &str, e: &serde_json::Error) -> Error {
    let (line, column) = if e.line() == 0 {
        (1, 1)
    } else {
        (e.line(), e.column().max(1))
    };
    let line_text = text.lines().nth(line - 1).unwrap_or("");
    let mut message = crate::error::strip_location(&e.to_string());
    if line_text.contains("NaN") || line_text.contains("Infinity") {
        message.push_str(
            " (`NaN` and `Infinity` are not JSON: Python writes them for non-finite floats \
             unless `allow_nan=False`; replace them with `null` or a string)",
        );
    }
    format::malformed_at(path, line, column, line_text, message)
}

/// Renders a recording as the seeds' JSON document, keys in the seeds' order, indented by
/// two spaces like Python's `json.dump(…, indent=2)`. Event data is reindented the same
/// way; its strings and numbers are copied byte for byte. Ends with a newline.
pub fn render_json(recording: &Recording) -> String {
    let mut out = String::with_capacity(256 + recording.events.len() * 160);
    out.push_str("{\n  \"session_name\": ");
    push_json_string(&mut out, &recording.session_name);
    out.push_str(",\n  \"start_time\": ");
    push_json_string(&mut out, &recording.start_time);
    out.push_str(",\n  \"duration_ms\": ");
    out.push_str(&recording.duration_ms.to_string());
    out.push_str(",\n  \"total_events\": ");
    out.push_str(&recording.events.len().to_string());
    out.push_str(",\n  \"events\": ");
    if recording.events.is_empty() {
        out.push_str("[]");
    } else {
        out.push('[');
        for (i, event) in recording.events.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("\n    ");
            render_event_indented(event, &mut out);
        }
        out.push_str("\n  ]");
    }
    for (key, value) in &recording.extra {
        out.push_str(",\n  ");
        push_json_string(&mut out, key);
        out.push_str(": ");
        write_indented(value.get(), 1, &mut out);
    }
    out.push_str("\n}\n");
    out
}

fn render_event_indented(event: &RecordedEvent, out: &mut String) {
    out.push_str("{\n      \"timestamp_offset_ms\": ");
    out.push_str(&event.timestamp_offset_ms.to_string());
    out.push_str(",\n      \"event_name\": ");
    push_json_string(out, &event.event_name);
    out.push_str(",\n      \"event_data\": ");
    write_indented(event.event_data.get(), 3, out);
    out.push_str(",\n      \"source\": ");
    push_json_string(out, &event.source);
    for (key, value) in &event.extra {
        out.push_str(",\n      ");
        push_json_string(out, key);
        out.push_str(": ");
        write_indented(value.get(), 3, out);
    }
    out.push_str("\n    }");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `events_json` fuzz target: without serde_json's `float_roundtrip`, an
    /// offset written back and read again changed in its last digit.
    #[test]
    fn offsets_survive_reading_and_writing_exactly() {
        let text = r#"{"session_name": "s", "start_time": "t", "duration_ms": 1520.5, "total_events": 1, "events": [{"timestamp_offset_ms": 2.333333333333343e+45, "event_name": "E", "event_data": {}, "source": "x"}]}"#;
        let path = std::path::Path::new("s.json");
        let once = render_json(&parse_json(path, text).unwrap());
        let twice = render_json(&parse_json(path, &once).unwrap());
        assert_eq!(once, twice);
        assert!(once.contains("2.333333333333343e+45"), "{once}");
    }

    const PYTHON_WRITTEN: &str = r#"{
  "session_name": "bull_run_2025",
  "start_time": "2025-10-17T10:00:00Z",
  "duration_ms": 45000,
  "total_events": 2,
  "events": [
    {
      "timestamp_offset_ms": 0,
      "event_name": "MarketDataReceived",
      "event_data": {
        "symbol": "BTC/USDT",
        "price": 67500.0,
        "volume": 1234.56,
        "nested": {
          "levels": [
            1e400,
            12345678901234567890123
          ],
          "empty": {}
        }
      },
      "source": "MarketDataAgent"
    },
    {
      "timestamp_offset_ms": 1000,
      "event_name": "PositionOpened",
      "event_data": {
        "symbol": "BTC/USDT",
        "note": "caf\u00e9 \u2192 \ud83d\ude80",
        "size": 0.1
      },
      "source": "TradingBot"
    }
  ]
}"#;

    #[test]
    fn python_layout_round_trips_byte_for_byte() {
        let recording = parse_json(Path::new("x.json"), PYTHON_WRITTEN).unwrap();
        assert_eq!(recording.events.len(), 2);
        assert_eq!(render_json(&recording), format!("{PYTHON_WRITTEN}\n"));
    }

    #[test]
    fn error_has_line_and_column() {
        let text = "{\n  \"session_name\": \"x\",\n  \"start_time\": 3\n}";
        let err = parse_json(Path::new("bad.json"), text).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("bad.json:3:"), "{msg}");
        assert!(msg.contains("invalid type"), "{msg}");
    }
}
