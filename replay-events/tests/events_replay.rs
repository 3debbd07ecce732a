//! Replaying recordings: pacing, speed, filters, progress, typed reconstruction, control.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use replay_events::{
    EventFilter, EventReplayer, Payload, RecordedEvent, Recording, ReplayState, Speed, TypedEvent,
};
use serde::Deserialize;
use serde_json::value::RawValue;

fn raw(s: &str) -> Box<RawValue> {
    RawValue::from_string(s.to_owned()).unwrap()
}

/// `n` events spread evenly over `duration_ms`, alternating names.
fn recording(n: u64, duration_ms: u64) -> Recording {
    let mut r = Recording::new("paced", "2025-10-17T10:00:00+00:00");
    r.duration_ms = duration_ms.into();
    for i in 0..n {
        let offset = if n > 1 { i * duration_ms / (n - 1) } else { 0 };
        let (name, data) = if i % 2 == 0 {
            ("Price", format!("{{\"symbol\":\"BTC\",\"price\":{i}.5}}"))
        } else {
            ("Heartbeat", "null".to_owned())
        };
        r.events
            .push(RecordedEvent::new(offset, name, raw(&data), "feed"));
    }
    r
}

#[tokio::test(flavor = "current_thread")]
async fn ten_x_of_a_two_second_recording_takes_about_two_tenths() {
    let replayer =
        EventReplayer::from_recording(recording(21, 2000)).speed(Speed::times(10.0).unwrap());
    let started = std::time::Instant::now();
    let mut seen = 0;
    let report = replayer
        .replay(|_| {
            seen += 1;
            async {}
        })
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!((seen, report.delivered), (21, 21));
    assert!(
        elapsed >= Duration::from_millis(150) && elapsed <= Duration::from_millis(600),
        "10x of 2 s took {elapsed:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn gaps_are_preserved_and_divided_by_the_speed() {
    let start = tokio::time::Instant::now();
    let times = Arc::new(Mutex::new(Vec::new()));
    let sink = times.clone();
    EventReplayer::from_recording(recording(3, 1000))
        .speed(Speed::times(2.0).unwrap())
        .replay(move |_| {
            sink.lock().unwrap().push(start.elapsed());
            async {}
        })
        .await
        .unwrap();
    let times = times.lock().unwrap();
    assert_eq!(times.len(), 3);
    // Offsets 0, 500, 1000 ms at 2x: 0, 250, 500 ms (virtual clock).
    for (t, expected) in times.iter().zip([0, 250, 500]) {
        let ms = t.as_millis() as i64;
        assert!((ms - expected).abs() <= 2, "{times:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn as_fast_as_possible_does_not_wait() {
    let start = tokio::time::Instant::now();
    let report = EventReplayer::from_recording(recording(50, 60_000))
        .speed(Speed::AS_FAST_AS_POSSIBLE)
        .replay(|_| async {})
        .await
        .unwrap();
    assert_eq!(report.delivered, 50);
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn filter_keeps_original_offsets_and_progress_sees_every_event() {
    let progress = Arc::new(Mutex::new(Vec::new()));
    let seen = progress.clone();
    let mut delivered = Vec::new();
    let start = tokio::time::Instant::now();
    let report = EventReplayer::from_recording(recording(10, 900))
        .filter(EventFilter::names(["Pri*"]).unwrap())
        .on_progress(move |current, total| seen.lock().unwrap().push((current, total)))
        .replay(|e| {
            delivered.push((
                e.timestamp_offset_ms.as_u64().unwrap(),
                start.elapsed().as_millis(),
            ));
            async {}
        })
        .await
        .unwrap();
    assert_eq!(report.delivered, 5);
    assert_eq!(report.filtered_out, 5);
    // Events 0, 2, 4, 6, 8 at their recorded offsets, delivered at those times (1x).
    let offsets: Vec<u64> = delivered.iter().map(|d| d.0).collect();
    assert_eq!(offsets, [0, 200, 400, 600, 800]);
    for (offset, at) in &delivered {
        assert!((*at as i64 - *offset as i64).abs() <= 2, "{delivered:?}");
    }
    assert_eq!(
        *progress.lock().unwrap(),
        [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    );
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
enum Market {
    Price { symbol: String, price: f64 },
    Heartbeat,
}

#[tokio::test(start_paused = true)]
async fn typed_reconstruction_falls_back_to_raw_json() {
    let mut r = recording(2, 10);
    r.events.push(RecordedEvent::new(
        20,
        "Unknown",
        raw("{\"x\": 1e400}"),
        "other",
    ));
    let mut typed = Vec::new();
    let mut raw_events = Vec::new();
    EventReplayer::from_recording(r)
        .speed(Speed::AS_FAST_AS_POSSIBLE)
        .replay_typed(|e: TypedEvent<Market>| {
            match e.payload {
                Payload::Typed(m) => typed.push(m),
                Payload::Raw { data, error } => {
                    raw_events.push((e.index, e.name, data.get().to_owned(), error))
                }
            }
            async {}
        })
        .await
        .unwrap();
    assert_eq!(
        typed,
        [
            Market::Price {
                symbol: "BTC".into(),
                price: 0.5
            },
            Market::Heartbeat
        ]
    );
    assert_eq!(raw_events.len(), 1);
    assert_eq!(raw_events[0].0, 3);
    assert_eq!(raw_events[0].1, "Unknown");
    assert_eq!(raw_events[0].2, "{\"x\": 1e400}");
    assert!(
        raw_events[0].3.contains("unknown variant"),
        "{}",
        raw_events[0].3
    );
}

#[tokio::test(start_paused = true)]
async fn replays_into_mpsc_and_broadcast_channels() {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Market>(16);
    let report = EventReplayer::from_recording(recording(4, 30))
        .replay_to_sender(&tx)
        .await
        .unwrap();
    assert_eq!(report.delivered, 4);
    assert_eq!(
        rx.recv().await.unwrap(),
        Market::Price {
            symbol: "BTC".into(),
            price: 0.5
        }
    );
    assert_eq!(rx.recv().await.unwrap(), Market::Heartbeat);

    let (btx, mut brx) = tokio::sync::broadcast::channel::<Market>(16);
    EventReplayer::from_recording(recording(2, 0))
        .replay_to_broadcast(&btx)
        .await
        .unwrap();
    assert_eq!(
        brx.recv().await.unwrap(),
        Market::Price {
            symbol: "BTC".into(),
            price: 0.5
        }
    );

    // An event the type cannot hold is an error for a typed channel, with its position.
    let mut r = recording(1, 0);
    r.events
        .push(RecordedEvent::new(1, "Bogus", raw("{}"), "x"));
    let err = EventReplayer::from_recording(r)
        .replay_to_sender(&tx)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("event #2 `Bogus` does not decode into"),
        "{err}"
    );

    drop(rx);
    let err = EventReplayer::from_recording(recording(1, 0))
        .replay_to_sender(&tx)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("every receiver of the channel was dropped"),
        "{err}"
    );
}

#[tokio::test(start_paused = true)]
async fn pause_resume_and_stop_from_another_task() {
    let replayer = EventReplayer::from_recording(recording(11, 1000)); // one event per 100 ms
    let control = replayer.control();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(replayer.replay(move |e| {
        let _ = tx.send((
            e.timestamp_offset_ms.as_u64().unwrap(),
            tokio::time::Instant::now(),
        ));
        async {}
    }));

    // Two events, then pause for 5 s (virtual time).
    let (_, t0) = rx.recv().await.unwrap();
    let (second, _) = rx.recv().await.unwrap();
    assert_eq!(second, 100);
    control.pause();
    assert_eq!(control.state(), ReplayState::Paused);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(rx.try_recv().is_err(), "no event while paused");
    control.resume();
    let (third, t3) = rx.recv().await.unwrap();
    assert_eq!(third, 200);
    // The gap resumes where it left off: 200 ms of schedule plus the 5 s pause.
    let at = t3.duration_since(t0);
    assert!(
        at >= Duration::from_millis(5100) && at <= Duration::from_millis(5300),
        "{at:?}"
    );

    control.stop();
    let report = task.await.unwrap().unwrap();
    assert!(report.stopped);
    assert_eq!(report.delivered, 3);
    assert_eq!(control.state(), ReplayState::Stopped);
    control.resume();
    assert_eq!(
        control.state(),
        ReplayState::Stopped,
        "a stopped replay stays stopped"
    );
}

#[tokio::test(start_paused = true)]
async fn replays_jsonl_files_as_a_stream() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.jsonl");
    recording(100, 990).save(&path).unwrap();
    let mut names = Vec::new();
    let report = EventReplayer::open(&path)
        .unwrap()
        .speed(Speed::times(100.0).unwrap())
        .filter(EventFilter::names(["Heartbeat"]).unwrap())
        .on_progress(|_, total| assert_eq!(total, 50))
        .replay(|e| {
            names.push(e.event_name);
            async {}
        })
        .await
        .unwrap();
    assert_eq!(report.delivered, 50);
    assert!(names.iter().all(|n| n == "Heartbeat"));
}

#[tokio::test(start_paused = true)]
async fn an_offset_too_far_in_the_future_is_an_error_not_a_panic() {
    let mut r = recording(2, 1000);
    r.events[1].timestamp_offset_ms = serde_json::Number::from_f64(1e300).unwrap();
    assert_eq!(r.events[1].offset(), Duration::MAX);
    let mut delivered = 0;
    let err = EventReplayer::from_recording(r)
        .speed(Speed::times(10.0).unwrap())
        .replay(|_| {
            delivered += 1;
            async {}
        })
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        delivered, 1,
        "the first event is delivered before the bad one"
    );
    assert!(err.contains("event 2 (`Heartbeat`)"), "{err}");
    assert!(err.contains("too far in the future"), "{err}");
    assert!(err.contains("--speed max"), "{err}");
}
