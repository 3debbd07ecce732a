//! Event recording files: the seeds' JSON round trip, JSON Lines streaming, errors.

use std::path::Path;

use replay_events::{
    EventFilter, EventStream, Format, JsonlReader, Recording, filter_file, render_json, summarize,
};

/// A recording written the way the Python tool writes one (`json.dump(…, indent=2)`), with
/// numbers no float holds exactly, escapes, unicode and nesting.
const SEED_STYLE: &str = r#"{
  "session_name": "bull_run_2025",
  "start_time": "2025-10-17T10:00:00+00:00",
  "duration_ms": 45000,
  "total_events": 3,
  "events": [
    {
      "timestamp_offset_ms": 0,
      "event_name": "MarketDataReceived",
      "event_data": {
        "symbol": "BTC/USDT",
        "price": 67500.0,
        "volume": 1234.56,
        "huge": 1e400,
        "big_int": 123456789012345678901234567890,
        "precise": 0.10000000000000000555
      },
      "source": "MarketDataAgent"
    },
    {
      "timestamp_offset_ms": 523,
      "event_name": "Note",
      "event_data": {
        "text": "caf\u00e9 \u2192 \ud83d\ude80, d\u00e9j\u00e0 \"vu\"",
        "raw_utf8": "日本語 ✓",
        "nested": {
          "list": [
            1,
            [],
            {},
            {
              "deep": null
            }
          ]
        }
      },
      "source": "Orchestrator"
    },
    {
      "timestamp_offset_ms": 1000,
      "event_name": "PositionOpened",
      "event_data": "plain string data",
      "source": "TradingBot"
    }
  ]
}"#;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn seed_style_json_round_trips_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "seed.json", SEED_STYLE);
    let recording = Recording::load(&input).unwrap();
    assert_eq!(recording.session_name, "bull_run_2025");
    assert_eq!(recording.events.len(), 3);
    let data = recording.events[0].event_data.get();
    assert!(data.contains("\"price\": 67500.0"), "{data}");
    assert!(data.contains("1e400"), "{data}");
    assert!(data.contains("123456789012345678901234567890"), "{data}");
    assert!(data.contains("0.10000000000000000555"), "{data}");

    let output = dir.path().join("out.json");
    recording.save(&output).unwrap();
    let written = std::fs::read_to_string(&output).unwrap();
    // Same bytes; we end the file with a newline, Python's json.dump does not.
    assert_eq!(written, format!("{SEED_STYLE}\n"));
}

#[test]
fn keys_are_written_in_the_seed_order() {
    let recording = replay_events::parse_json(Path::new("s.json"), SEED_STYLE).unwrap();
    let text = render_json(&recording);
    let top: Vec<usize> = [
        "\"session_name\"",
        "\"start_time\"",
        "\"duration_ms\"",
        "\"total_events\"",
        "\"events\"",
    ]
    .iter()
    .map(|k| text.find(k).unwrap())
    .collect();
    assert!(top.windows(2).all(|w| w[0] < w[1]), "{top:?}");
    let event = &text[text.find("\"events\"").unwrap()..];
    let keys: Vec<usize> = [
        "\"timestamp_offset_ms\"",
        "\"event_name\"",
        "\"event_data\"",
        "\"source\"",
    ]
    .iter()
    .map(|k| event.find(k).unwrap())
    .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
}

#[test]
fn json_to_jsonl_and_back_keeps_meaning_and_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "seed.json", SEED_STYLE);
    let recording = Recording::load(&input).unwrap();
    let lines = dir.path().join("seed.jsonl");
    recording.save(&lines).unwrap();
    let text = std::fs::read_to_string(&lines).unwrap();
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.lines().next().unwrap().starts_with(
        "{\"session_name\":\"bull_run_2025\",\"start_time\":\"2025-10-17T10:00:00+00:00\",\"duration_ms\":45000,\"total_events\":3}"
    ));
    assert!(text.contains("\"price\":67500.0"), "{text}");
    assert!(text.contains("\"huge\":1e400"), "{text}");

    let back = Recording::load(&lines).unwrap();
    assert_eq!(back.session_name, recording.session_name);
    assert_eq!(back.events.len(), recording.events.len());
    for (a, b) in recording.events.iter().zip(&back.events) {
        assert_eq!(a.event_name, b.event_name);
        assert_eq!(a.timestamp_offset_ms, b.timestamp_offset_ms);
        let va: serde_json::Value =
            serde_json::from_str(&a.event_data.get().replace("1e400", "0")).unwrap();
        let vb: serde_json::Value =
            serde_json::from_str(&b.event_data.get().replace("1e400", "0")).unwrap();
        assert_eq!(va, vb);
    }
    // And back to the indented JSON: the original bytes again.
    let again = dir.path().join("again.json");
    back.save(&again).unwrap();
    assert_eq!(
        std::fs::read_to_string(&again).unwrap(),
        format!("{SEED_STYLE}\n")
    );
}

#[test]
fn unknown_keys_are_kept() {
    let text = r#"{"session_name":"s","start_time":"t","duration_ms":1.5,"total_events":1,"events":[{"timestamp_offset_ms":2,"event_name":"A","event_data":{},"source":"S","trace_id":"abc"}],"metadata":{"host":"lab-3"}}"#;
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "x.json", text);
    let recording = Recording::load(&path).unwrap();
    let rendered = render_json(&recording);
    assert!(rendered.contains("\"trace_id\": \"abc\""), "{rendered}");
    assert!(
        rendered.contains("\"metadata\": {\n    \"host\": \"lab-3\"\n  }"),
        "{rendered}"
    );
    assert!(rendered.contains("\"duration_ms\": 1.5"), "{rendered}");
    let out = dir.path().join("y.json");
    recording.save(&out).unwrap();
    assert_eq!(render_json(&Recording::load(&out).unwrap()), rendered);
}

#[test]
fn malformed_files_report_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let broken = SEED_STYLE.replace("\"price\": 67500.0,", "\"price\": 67500.0,,");
    let path = write(dir.path(), "broken.json", &broken);
    let err = Recording::load(&path).unwrap_err().to_string();
    assert!(err.contains("broken.json:12:26"), "{err}");
    assert!(err.contains("12 |"), "{err}");

    let missing = SEED_STYLE.replace("\"source\": \"TradingBot\"", "\"sauce\": \"TradingBot\"");
    let path = write(dir.path(), "missing.json", &missing);
    let err = Recording::load(&path).unwrap_err().to_string();
    assert!(err.contains("missing field `source`"), "{err}");

    let nan = SEED_STYLE.replace("67500.0", "NaN");
    let path = write(dir.path(), "nan.json", &nan);
    let err = Recording::load(&path).unwrap_err().to_string();
    assert!(err.contains("nan.json:"), "{err}");
    assert!(err.contains("allow_nan=False"), "{err}");

    let err = Recording::load(dir.path().join("nope.json"))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("recording `"), "{err}");
    assert!(err.contains("does not exist"), "{err}");

    let lines = write(
        dir.path(),
        "bad.jsonl",
        "{\"session_name\":\"s\",\"start_time\":\"t\",\"duration_ms\":1,\"total_events\":2}\n\
         {\"timestamp_offset_ms\":0,\"event_name\":\"A\",\"event_data\":1,\"source\":\"S\"}\n\
         {\"timestamp_offset_ms\":1,\"event_name\":\"B\",\"event_data\":tru,\"source\":\"S\"}\n",
    );
    let err = Recording::load(&lines).unwrap_err().to_string();
    assert!(err.contains("bad.jsonl:3:"), "{err}");
}

fn big_jsonl(dir: &Path, events: usize) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("big.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(f, "{{\"session_name\":\"big\",\"start_time\":\"2025-01-01T00:00:00+00:00\",\"duration_ms\":{events},\"total_events\":{events}}}").unwrap();
    for i in 0..events {
        let name = if i % 10 == 0 { "OrderFailed" } else { "Tick" };
        writeln!(
            f,
            "{{\"timestamp_offset_ms\":{i},\"event_name\":\"{name}\",\"event_data\":{{\"i\":{i},\"price\":100.50}},\"source\":\"feed\"}}"
        )
        .unwrap();
    }
    path
}

#[test]
fn jsonl_is_streamed_for_summary_and_filter() {
    let dir = tempfile::tempdir().unwrap();
    let path = big_jsonl(dir.path(), 20_000);
    assert_eq!(Format::of_file(&path).unwrap(), Format::JsonLines);
    let mut stream = EventStream::open(&path).unwrap();
    assert!(stream.is_streamed());
    let summary = summarize(&mut stream).unwrap();
    assert_eq!(summary.total_events, 20_000);
    assert_eq!(summary.events[0].name, "Tick");
    assert_eq!(summary.events[0].count, 18_000);
    assert_eq!(summary.events[1].count, 2_000);

    let out = dir.path().join("failed.jsonl");
    let outcome =
        filter_file(&path, &out, &EventFilter::names(["*Failed"]).unwrap(), None).unwrap();
    assert_eq!((outcome.read, outcome.kept), (20_000, 2_000));
    let mut reader = JsonlReader::open(&out).unwrap();
    assert_eq!(reader.header().total_events, 2_000);
    let mut n = 0;
    while let Some(e) = reader.next_event().unwrap() {
        // Original offsets are kept: event i was recorded at offset i.
        assert_eq!(e.timestamp_offset_ms.as_u64().unwrap(), (n * 10) as u64);
        n += 1;
    }
    assert_eq!(n, 2_000);
}

#[test]
fn format_is_chosen_by_extension_then_content() {
    let dir = tempfile::tempdir().unwrap();
    let json = write(dir.path(), "noext-json", SEED_STYLE);
    assert_eq!(Format::of_file(&json).unwrap(), Format::Json);
    let lines = big_jsonl(dir.path(), 3);
    let noext = dir.path().join("noext-lines");
    std::fs::copy(&lines, &noext).unwrap();
    assert_eq!(Format::of_file(&noext).unwrap(), Format::JsonLines);
    assert_eq!(Recording::load(&noext).unwrap().events.len(), 3);
}
