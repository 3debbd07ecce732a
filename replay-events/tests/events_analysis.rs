//! Analysing recordings: summary, timeline, filtered copies, merge, comparison.

use replay_events::{
    EventFilter, EventStream, MergeAlign, RecordedEvent, Recording, compare, merge, summarize,
    timeline,
};
use serde_json::value::RawValue;

fn rec(name: &str, start: &str, events: &[(u64, &str, &str)]) -> Recording {
    let mut r = Recording::new(name, start);
    r.duration_ms = events.last().map_or(0, |e| e.0 + 10).into();
    for (offset, event, data) in events {
        r.events.push(RecordedEvent::new(
            *offset,
            *event,
            RawValue::from_string((*data).to_owned()).unwrap(),
            "src",
        ));
    }
    r
}

#[test]
fn summary_is_most_frequent_first_ties_by_name() {
    let r = rec(
        "s",
        "t",
        &[
            (0, "B", "1"),
            (1, "A", "1"),
            (2, "C", "1"),
            (3, "C", "1"),
            (4, "A", "1"),
        ],
    );
    let s = r.summary();
    let counts: Vec<(&str, usize)> = s
        .events
        .iter()
        .map(|c| (c.name.as_str(), c.count))
        .collect();
    assert_eq!(counts, [("A", 2), ("C", 2), ("B", 1)]);
    assert_eq!(s.total_events, 5);
    assert_eq!(
        (s.first_offset_ms, s.last_offset_ms),
        (Some(0.0), Some(4.0))
    );
    let mut stream = EventStream::from_recording(r);
    assert_eq!(summarize(&mut stream).unwrap(), s);
}

#[test]
fn timeline_shows_first_matching_events_and_counts_the_rest() {
    let r = rec(
        "s",
        "t",
        &[
            (0, "Tick", "1"),
            (1500, "OrderFailed", "{\"why\": \"margin\"}"),
            (2000, "Tick", "2"),
            (2500, "OrderFailed", "3"),
        ],
    );
    let mut stream = EventStream::from_recording(r);
    let t = timeline(
        &mut stream,
        &EventFilter::names(["Order*"]).unwrap(),
        Some(1),
    )
    .unwrap();
    assert_eq!(t.matched, 2);
    assert_eq!(t.entries.len(), 1);
    assert_eq!(t.entries[0].index, 2);
    let text = t.render(80);
    assert_eq!(
        text,
        "#2       1.500 s  OrderFailed  src  {\"why\":\"margin\"}\n… 1 more event (raise --max-events to see them)\n"
    );
}

#[test]
fn filtered_copy_keeps_offsets_and_header() {
    let r = rec(
        "s",
        "2025-01-01T00:00:00Z",
        &[(0, "A", "1"), (10, "B", "2"), (20, "A", "3")],
    );
    let f = r.filtered(&EventFilter::names(["A"]).unwrap());
    assert_eq!(f.events.len(), 2);
    assert_eq!(f.events[1].timestamp_offset_ms.as_u64(), Some(20));
    assert_eq!(
        (f.start_time.as_str(), &f.duration_ms),
        (r.start_time.as_str(), &r.duration_ms)
    );
}

#[test]
fn merge_aligns_on_start_time_and_keeps_input_order_on_ties() {
    let a = rec(
        "a",
        "2025-10-17T10:00:00+00:00",
        &[(0, "A1", "1"), (250, "A2", "2")],
    );
    // Starts 150 ms later, written with another offset and no fraction.
    let b = rec(
        "b",
        "2025-10-17T12:00:00.150+02:00",
        &[(0, "B1", "1"), (100, "B2", "2")],
    );
    let m = merge(&[b.clone(), a.clone()], MergeAlign::StartTime).unwrap();
    let order: Vec<(&str, u64)> = m
        .events
        .iter()
        .map(|e| {
            (
                e.event_name.as_str(),
                e.timestamp_offset_ms.as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(order, [("A1", 0), ("B1", 150), ("B2", 250), ("A2", 250)]);
    assert_eq!(m.start_time, "2025-10-17T10:00:00+00:00");
    assert_eq!(m.session_name, "b+a");
    assert_eq!(m.duration_ms.as_u64(), Some(260));

    let z = merge(&[a, b], MergeAlign::Zero).unwrap();
    let order: Vec<&str> = z.events.iter().map(|e| e.event_name.as_str()).collect();
    assert_eq!(order, ["A1", "B1", "B2", "A2"]);

    let bad = rec("c", "not a time", &[]);
    let err = merge(&[bad.clone(), bad], MergeAlign::StartTime)
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid start_time `not a time`"), "{err}");
    assert!(merge(&[], MergeAlign::Zero).is_err());
}

#[test]
fn comparison_counts_aligns_and_finds_the_first_divergence() {
    let original = rec(
        "orig",
        "t",
        &[
            (0, "Signal", "{\"rsi\": 28}"),
            (10, "Order", "1"),
            (20, "Fill", "1"),
            (30, "Close", "{\"pnl\": 5.0}"),
        ],
    );
    // What-if: same start, one extra order and a different close; offsets differ (ignored),
    // whitespace in data differs (ignored).
    let whatif = rec(
        "whatif",
        "t",
        &[
            (0, "Signal", "{\"rsi\":28}"),
            (12, "Order", "1"),
            (15, "Order", "2"),
            (22, "Fill", "1"),
            (31, "Close", "{\"pnl\": 7.5}"),
        ],
    );
    let c = compare(&original, &whatif);
    assert!(!c.equal);
    let changes: Vec<(&str, usize, usize, i64)> = c
        .count_changes
        .iter()
        .map(|x| (x.name.as_str(), x.before, x.after, x.delta))
        .collect();
    assert_eq!(changes, [("Order", 1, 2, 1)]);
    let added: Vec<usize> = c.added.iter().map(|e| e.index).collect();
    let removed: Vec<usize> = c.removed.iter().map(|e| e.index).collect();
    assert_eq!(added, [3, 5]);
    assert_eq!(removed, [4]);
    let d = c.first_divergence.as_ref().unwrap();
    assert_eq!((d.left_index, d.right_index), (Some(3), Some(3)));
    assert_eq!(d.right.as_ref().unwrap().event_data.get(), "2");
    let text = c.render("a.json", "b.json", false, 50);
    // The layout of every diff in the crate: old/new gutter, `-`/`+`, rules.
    assert!(
        text.contains("    3 │+    0.015 s  Order  [src]  2"),
        "{text}"
    );
    assert!(
        text.contains("4     │-    0.030 s  Close  [src]  {\"pnl\":5.0}"),
        "{text}"
    );
    assert!(text.contains("───┬───"), "{text}");
    assert!(!text.contains('\x1b'), "{text}");
    assert!(c.render("a", "b", true, 50).contains("\x1b[31m"));

    assert!(compare(&original, &original).equal);
    // Numbers are compared as written: 5.0 and 5 differ.
    let five = rec("x", "t", &[(0, "Close", "{\"pnl\": 5}")]);
    let five_0 = rec("x", "t", &[(0, "Close", "{\"pnl\": 5.0}")]);
    assert!(!compare(&five, &five_0).equal);
    // A recording that ends early diverges at its end.
    let short = rec("s", "t", &[(0, "Signal", "{\"rsi\": 28}")]);
    let d = compare(&short, &original).first_divergence.unwrap();
    assert_eq!((d.left_index, d.right_index), (None, Some(2)));
}
