//! Recording typed events: taps, wrapped senders and sinks, the guard, file naming.

use std::pin::Pin;
use std::task::{Context, Poll};

use replay_events::{EventRecorder, Recording};
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
enum BotEvent {
    MarketDataReceived { symbol: String, price: f64 },
    PositionOpened { size: f64 },
    Heartbeat,
    Count(u32),
}

fn price(p: f64) -> BotEvent {
    BotEvent::MarketDataReceived {
        symbol: "BTC/USDT".into(),
        price: p,
    }
}

#[tokio::test(start_paused = true)]
async fn records_names_sources_data_and_offsets() {
    let recorder = EventRecorder::new("unit", "unused");
    recorder.record(&price(67500.0), "Feed").unwrap();
    tokio::time::advance(std::time::Duration::from_millis(250)).await;
    recorder.record(&BotEvent::Heartbeat, "Clock").unwrap();
    recorder.record(&BotEvent::Count(3), "Clock").unwrap();
    recorder.record_as("Custom", "Test", &[1, 2, 3]).unwrap();
    let r = recorder.recording();
    let got: Vec<(u64, &str, &str, &str)> = r
        .events
        .iter()
        .map(|e| {
            (
                e.timestamp_offset_ms.as_u64().unwrap(),
                e.event_name.as_str(),
                e.source.as_str(),
                e.event_data.get(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                0,
                "MarketDataReceived",
                "Feed",
                r#"{"symbol":"BTC/USDT","price":67500.0}"#
            ),
            (250, "Heartbeat", "Clock", "null"),
            (250, "Count", "Clock", "3"),
            (250, "Custom", "Test", "[1,2,3]"),
        ]
    );
    assert!(r.start_time.ends_with("+00:00"), "{}", r.start_time);

    // Not an externally tagged enum: a clear error pointing at record_as.
    let err = recorder.record(&[1, 2], "x").unwrap_err().to_string();
    assert!(err.contains("record_as"), "{err}");
    // Not representable in JSON: named in the error.
    let mut bad = std::collections::HashMap::new();
    bad.insert((1, 2), 3);
    let err = recorder
        .record_as("Bad", "x", &bad)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("failed to record event `Bad`"), "{err}");

    recorder.stop();
    recorder.record(&BotEvent::Heartbeat, "late").unwrap();
    assert_eq!(recorder.len(), 4, "nothing is recorded after stop");
}

#[tokio::test]
async fn broadcast_tap_records_without_changing_the_publisher() {
    let (bus, mut consumer) = tokio::sync::broadcast::channel::<BotEvent>(64);
    let recorder = EventRecorder::new("tap", "unused");
    recorder.tap_broadcast(&bus, "ServiceBus");
    // The publishing code: unchanged.
    for i in 0..5 {
        bus.send(price(100.0 + f64::from(i))).unwrap();
    }
    bus.send(BotEvent::PositionOpened { size: 0.1 }).unwrap();
    for _ in 0..6 {
        consumer.recv().await.unwrap();
    }
    let stats = recorder.stop_and_drain().await;
    assert_eq!(stats.recorded, 6);
    assert_eq!(stats.lagged, 0);
    let r = recorder.recording();
    assert_eq!(r.events.len(), 6);
    assert!(r.events.iter().all(|e| e.source == "ServiceBus"));
    assert_eq!(r.events[5].event_name, "PositionOpened");
    assert_eq!(
        r.events[4].event_data.get(),
        r#"{"symbol":"BTC/USDT","price":104.0}"#
    );
}

#[tokio::test]
async fn wrapped_sender_records_then_forwards() {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<BotEvent>(8);
    let recorder = EventRecorder::new("wrap", "unused");
    let tx = recorder.wrap_sender(tx, "TradingBot");
    tx.send(BotEvent::PositionOpened { size: 2.0 })
        .await
        .unwrap();
    tx.try_send(BotEvent::Heartbeat).unwrap();
    assert!(matches!(
        rx.recv().await,
        Some(BotEvent::PositionOpened { .. })
    ));
    assert!(matches!(rx.recv().await, Some(BotEvent::Heartbeat)));
    let names: Vec<String> = recorder
        .recording()
        .events
        .into_iter()
        .map(|e| e.event_name)
        .collect();
    assert_eq!(names, ["PositionOpened", "Heartbeat"]);
}

/// A minimal sink that collects what it is sent.
struct VecSink(Vec<BotEvent>);

impl futures_sink::Sink<BotEvent> for VecSink {
    type Error = std::convert::Infallible;
    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
    fn start_send(self: Pin<&mut Self>, item: BotEvent) -> Result<(), Self::Error> {
        self.get_mut().0.push(item);
        Ok(())
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn wrapped_sink_records_then_forwards() {
    use futures_sink::Sink;
    let recorder = EventRecorder::new("sink", "unused");
    let mut sink = recorder.wrap_sink(VecSink(Vec::new()), "Strategy");
    Pin::new(&mut sink).start_send(price(1.0)).unwrap();
    Pin::new(&mut sink).start_send(BotEvent::Count(9)).unwrap();
    assert_eq!(sink.into_inner().0.len(), 2);
    let r = recorder.recording();
    assert_eq!(r.events[1].event_name, "Count");
    assert_eq!(r.events[1].source, "Strategy");
}

fn files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_dropped_guard_saves_and_a_discarded_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    {
        let guard = EventRecorder::new("bug_position_not_closing", dir.path()).guard();
        guard.record(&price(1.5), "Feed").unwrap();
        // Dropped here, like leaving a `with EventRecorder(...)` block.
    }
    let saved = files(dir.path());
    assert_eq!(saved.len(), 1, "{saved:?}");
    let name = &saved[0];
    // <name>_<YYYYMMDD_HHMMSS>.json
    let stamp = name
        .strip_prefix("bug_position_not_closing_")
        .and_then(|s| s.strip_suffix(".json"))
        .unwrap();
    assert_eq!(stamp.len(), 15, "{name}");
    assert!(
        stamp
            .chars()
            .enumerate()
            .all(|(i, c)| if i == 8 { c == '_' } else { c.is_ascii_digit() }),
        "{name}"
    );
    let r = Recording::load(dir.path().join(name)).unwrap();
    assert_eq!(r.session_name, "bug_position_not_closing");
    assert_eq!(r.events.len(), 1);

    {
        let guard = EventRecorder::new("discarded", dir.path()).guard();
        guard.record(&BotEvent::Heartbeat, "x").unwrap();
        guard.discard();
    }
    {
        let mut guard = EventRecorder::new("discarded_on_drop", dir.path()).guard();
        guard.record(&BotEvent::Heartbeat, "x").unwrap();
        guard.discard_on_drop(true);
    }
    assert_eq!(files(dir.path()).len(), 1, "{:?}", files(dir.path()));
}

#[tokio::test]
async fn finish_returns_the_path_and_names_never_clobber() {
    let dir = tempfile::tempdir().unwrap();
    let a = EventRecorder::new("same/name", dir.path()).guard();
    let b = EventRecorder::new("same/name", dir.path()).guard();
    a.record(&BotEvent::Count(1), "x").unwrap();
    b.record(&BotEvent::Count(2), "x").unwrap();
    let pa = a.finish().await.unwrap();
    let pb = b.finish_now().unwrap();
    assert_ne!(pa, pb);
    assert!(
        pa.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("same_name_"),
        "{pa:?}"
    );
    assert_eq!(
        Recording::load(&pa).unwrap().events[0].event_data.get(),
        "1"
    );
    assert_eq!(
        Recording::load(&pb).unwrap().events[0].event_data.get(),
        "2"
    );
    assert_eq!(files(dir.path()).len(), 2);
}

#[test]
fn concurrent_saves_of_the_same_name_never_clobber() {
    const N: usize = 8;
    let dir = tempfile::tempdir().unwrap();
    // Created together, so they share the name and (all but always) the second.
    let guards: Vec<_> = (0..N)
        .map(|_| EventRecorder::new("race", dir.path()).guard())
        .collect();
    let barrier = std::sync::Barrier::new(N);
    let paths: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = guards
            .into_iter()
            .enumerate()
            .map(|(i, guard)| {
                let barrier = &barrier;
                scope.spawn(move || {
                    guard.record(&BotEvent::Count(i as u32), "x").unwrap();
                    barrier.wait();
                    guard.finish_now().unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut unique = paths.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), N, "{paths:?}");
    assert_eq!(files(dir.path()).len(), N);
    let mut counts: Vec<String> = paths
        .iter()
        .map(|p| {
            Recording::load(p).unwrap().events[0]
                .event_data
                .get()
                .to_owned()
        })
        .collect();
    counts.sort();
    assert_eq!(counts, (0..N).map(|i| i.to_string()).collect::<Vec<_>>());
}
