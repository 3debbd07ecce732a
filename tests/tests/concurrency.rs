//! Concurrency under recording: many cassettes recorded at once against one simulated
//! bench stay apart, and an event recorder fed by many producers while it saves never
//! writes a torn or reordered file.

use std::collections::HashMap;
use std::sync::Arc;

use replay_harness::Bench;
use replay_harness::session::read_session;
use replay_tests::sim::SimBench;

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_cassettes_recorded_at_once_stay_apart() -> TestResult {
    let sim = SimBench::builder().psu("psu").noise(None).start().await?;
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("bench.yaml");
    sim.write_config(&config)?;
    let mut tasks = tokio::task::JoinSet::new();
    for test in 0..16 {
        let config = config.clone();
        let path = dir.path().join(format!("sessions/t{test}.yaml"));
        tasks.spawn(async move {
            let bench = Bench::record(&config, &path).await?;
            let psu = bench.instrument("psu")?;
            for step in 0..25 {
                psu.write(&format!("VOLT {test}.{step:02}, (@1)")).await?;
                let idn = psu.query("*IDN?").await?;
                assert!(idn.contains("EDU36311A"), "{idn}");
            }
            bench.finish().await?;
            Ok::<_, replay_harness::Error>(path)
        });
    }
    let mut seen = 0;
    while let Some(done) = tasks.join_next().await {
        let path = done??;
        let test: usize = path.file_stem().unwrap().to_str().unwrap()[1..].parse()?;
        let session = read_session(&path)?;
        let log = &session.instrument("psu").expect("psu").log;
        assert_eq!(log.len(), 50, "{}", path.display());
        for (step, pair) in log.chunks(2).enumerate() {
            assert_eq!(pair[0].command, format!("VOLT {test}.{step:02}, (@1)"));
            assert_eq!(pair[1].command, "*IDN?");
            assert!(pair[1].response.as_deref().unwrap().contains("EDU36311A"));
        }
        let times: Vec<f64> = log.iter().map(|i| i.timestamp).collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "timestamps in order"
        );
        seen += 1;
    }
    assert_eq!(seen, 16);
    sim.shutdown().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn event_recorder_fed_by_many_producers_while_saving() -> TestResult {
    const PRODUCERS: u32 = 8;
    const EACH: u32 = 5_000;
    let dir = tempfile::tempdir()?;
    let recorder = Arc::new(replay_events::EventRecorder::new("busy", dir.path()));
    let mut producers = tokio::task::JoinSet::new();
    for producer in 0..PRODUCERS {
        let recorder = recorder.clone();
        producers.spawn(async move {
            for seq in 0..EACH {
                recorder
                    .record_as("Tick", &format!("p{producer}"), &seq)
                    .expect("a number is JSON");
                if seq % 512 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        });
    }
    // Save again and again while they publish.
    let mut snapshots = Vec::new();
    while !producers.is_empty() {
        tokio::select! {
            Some(done) = producers.join_next() => done?,
            () = tokio::time::sleep(std::time::Duration::from_millis(2)) => {
                let path = dir.path().join(format!("snapshot_{}.json", snapshots.len()));
                let saver = recorder.clone();
                let target = path.clone();
                tokio::task::spawn_blocking(move || saver.save_to(&target)).await??;
                snapshots.push(path);
            }
        }
    }
    let last = dir.path().join("final.json");
    recorder.save_to(&last)?;
    snapshots.push(last);

    let mut previous_len = 0;
    for path in &snapshots {
        let text = std::fs::read_to_string(path)?;
        let recording = replay_events::parse_json(path, &text)?;
        let events = &recording.events;
        assert!(
            events.len() >= previous_len,
            "a later save has fewer events"
        );
        previous_len = events.len();
        // Each producer's events appear whole and in its own order.
        let mut next: HashMap<&str, u32> = HashMap::new();
        for event in events {
            let seq: u32 = event.event_data.get().parse()?;
            let expected = next.entry(event.source.as_str()).or_insert(0);
            assert_eq!(
                seq,
                *expected,
                "{}: {} out of order",
                path.display(),
                event.source
            );
            *expected += 1;
        }
    }
    assert_eq!(
        previous_len,
        (PRODUCERS * EACH) as usize,
        "the final save has every event"
    );
    println!(
        "{} saves while {PRODUCERS} producers published {EACH} events each",
        snapshots.len()
    );
    Ok(())
}
