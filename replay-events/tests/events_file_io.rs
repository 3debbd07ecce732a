//! File I/O of the event tools stays off the runtime's threads, and nothing half-made is
//! ever visible under a recording's final name (issue 8, defects 4 and 7).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use replay_events::{EventRecorder, EventReplayer, Recording, Speed};

/// A recorder holding `n` events with some payload, so that a save takes a while.
fn busy_recorder(dir: &std::path::Path, n: usize) -> EventRecorder {
    let recorder = EventRecorder::new("big", dir);
    for i in 0..n {
        recorder
            .record_as(
                "Reading",
                "sensor",
                &serde_json::json!({"i": i, "celsius": 20.5, "note": "x".repeat(64)}),
            )
            .unwrap();
    }
    recorder
}

/// `finish` saves on the blocking pool: another task of a single-threaded runtime keeps
/// running while the recording is written and synced. (Before the fix the save ran inline
/// and the other task could not run at all until it was done.)
#[tokio::test(flavor = "current_thread")]
async fn finish_does_not_block_the_runtime_thread() {
    let dir = tempfile::tempdir().unwrap();
    let guard = busy_recorder(dir.path(), 20_000).guard();
    let ticks = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let ticker = tokio::spawn({
        let (ticks, stop) = (ticks.clone(), stop.clone());
        async move {
            while !stop.load(Ordering::Relaxed) {
                ticks.fetch_add(1, Ordering::Relaxed);
                tokio::task::yield_now().await;
            }
        }
    });
    let before = ticks.load(Ordering::Relaxed);
    let path = guard.finish().await.unwrap();
    let during = ticks.load(Ordering::Relaxed) - before;
    stop.store(true, Ordering::Relaxed);
    ticker.await.unwrap();
    assert!(
        during > 0,
        "the runtime's other task never ran while the recording was saved"
    );
    assert_eq!(Recording::load(&path).unwrap().events.len(), 20_000);
}

/// A JSON Lines recording is read on the blocking pool: a replay waiting on a slow file (a
/// FIFO whose writer waits for a signal from a task of the same single-threaded runtime)
/// does not stop that task from running. Before the fix the replay read the FIFO on the
/// runtime's only thread, the task never ran, and the writer gave up waiting.
#[cfg(unix)]
#[tokio::test(flavor = "current_thread")]
async fn jsonl_replay_reads_off_the_runtime_thread() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("slow.jsonl");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let writer = std::thread::spawn({
        let fifo = fifo.clone();
        move || {
            use std::io::Write as _;
            let mut out = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
            out.write_all(
                b"{\"session_name\":\"slow\",\"start_time\":\"2025-10-17T10:00:00+00:00\",\
                  \"duration_ms\":2,\"total_events\":2}\n",
            )
            .unwrap();
            out.flush().unwrap();
            // The events come only once a task of the replay's runtime said so.
            let signalled = go_rx.recv_timeout(Duration::from_secs(20)).is_ok();
            out.write_all(
                b"{\"timestamp_offset_ms\":1,\"event_name\":\"A\",\"event_data\":1,\"source\":\"s\"}\n\
                  {\"timestamp_offset_ms\":2,\"event_name\":\"B\",\"event_data\":2,\"source\":\"s\"}\n",
            )
            .unwrap();
            signalled
        }
    });
    let replayer = EventReplayer::open(&fifo)
        .unwrap()
        .speed(Speed::AS_FAST_AS_POSSIBLE);
    tokio::spawn(async move {
        let _ = go_tx.send(());
    });
    let mut names = Vec::new();
    let report = replayer
        .replay(|event| {
            names.push(event.event_name);
            async {}
        })
        .await
        .unwrap();
    assert!(
        writer.join().unwrap(),
        "the signalling task could not run while the replay read the file"
    );
    assert_eq!(names, ["A", "B"]);
    assert_eq!(report.delivered, 2);
}

/// While a recording is saved, its final name holds either nothing or the complete file:
/// never an empty placeholder (before the fix the name was reserved by creating the final
/// file empty, and a crash during the save left a 0-byte `.json`).
#[test]
fn no_empty_or_partial_file_is_ever_visible_under_the_final_name() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = busy_recorder(dir.path(), 60_000);
    let target = recorder.default_path();
    let done = Arc::new(AtomicBool::new(false));
    let watching = Arc::new(std::sync::Barrier::new(2));
    let watcher = std::thread::spawn({
        let (done, target, watching) = (done.clone(), target.clone(), watching.clone());
        move || {
            let mut looks = 0u64;
            let mut bad = Vec::new();
            let mut started = false;
            while !done.load(Ordering::Relaxed) {
                if !started {
                    // Only now may the save begin: the watcher is looking.
                    started = true;
                    watching.wait();
                }
                looks += 1;
                if let Ok(meta) = std::fs::metadata(&target)
                    && meta.len() == 0
                {
                    bad.push(meta.len());
                }
            }
            (looks, bad)
        }
    });
    watching.wait();
    let path = recorder.save().unwrap();
    done.store(true, Ordering::Relaxed);
    let (looks, bad) = watcher.join().unwrap();
    assert_eq!(path, target);
    assert!(looks > 0);
    assert!(
        bad.is_empty(),
        "an empty file was visible under the final name"
    );
    assert_eq!(Recording::load(&path).unwrap().events.len(), 60_000);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != target.file_name().unwrap())
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
