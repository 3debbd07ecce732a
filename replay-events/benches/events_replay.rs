//! Replaying 1,000,000 events at full speed, from JSON Lines (streamed) and from memory,
//! and summarising a 1,000,000-event JSON Lines file.
//!
//! `cargo bench -p replay-core --bench events_replay`. Target: at least 2 million events
//! per second. Peak memory against recording length: `cargo run --release -p replay-core
//! --example events_peak_memory -- 100000` and `-- 1000000`.

use std::hint::black_box;
use std::io::Write;
use std::path::Path;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use replay_events::{EventReplayer, EventStream, Recording, Speed, summarize};

const EVENTS: u64 = 1_000_000;

/// A recording like a trading bot's: market data, orders, heartbeats, ~110 bytes per line.
fn write_jsonl(path: &Path, events: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(
        f,
        "{{\"session_name\":\"bench\",\"start_time\":\"2025-10-17T10:00:00+00:00\",\"duration_ms\":{events},\"total_events\":{events}}}"
    )
    .unwrap();
    for i in 0..events {
        match i % 4 {
            0 | 1 => writeln!(
                f,
                "{{\"timestamp_offset_ms\":{i},\"event_name\":\"MarketDataReceived\",\"event_data\":{{\"symbol\":\"BTC/USDT\",\"price\":67500.5}},\"source\":\"Feed\"}}"
            ),
            2 => writeln!(
                f,
                "{{\"timestamp_offset_ms\":{i},\"event_name\":\"OrderPlaced\",\"event_data\":{{\"id\":{i},\"size\":0.1}},\"source\":\"Bot\"}}"
            ),
            _ => writeln!(
                f,
                "{{\"timestamp_offset_ms\":{i},\"event_name\":\"Heartbeat\",\"event_data\":null,\"source\":\"Clock\"}}"
            ),
        }
        .unwrap();
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("million.jsonl");
    write_jsonl(&path, EVENTS);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();

    let mut group = c.benchmark_group("events");
    group.sample_size(10);
    group.throughput(Throughput::Elements(EVENTS));

    group.bench_function("replay_jsonl_1m_as_fast_as_possible", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let report = EventReplayer::open(&path)
                    .unwrap()
                    .speed(Speed::AS_FAST_AS_POSSIBLE)
                    .replay(|event| {
                        black_box(event);
                        async {}
                    })
                    .await
                    .unwrap();
                assert_eq!(report.delivered as u64, EVENTS);
            })
        })
    });

    let recording = Recording::load(&path).unwrap();
    group.bench_function("replay_memory_1m_as_fast_as_possible", |b| {
        b.iter_batched(
            || recording.clone(),
            |recording| {
                runtime.block_on(async {
                    let report = EventReplayer::from_recording(recording)
                        .speed(Speed::AS_FAST_AS_POSSIBLE)
                        .replay(|event| {
                            black_box(event);
                            async {}
                        })
                        .await
                        .unwrap();
                    assert_eq!(report.delivered as u64, EVENTS);
                })
            },
            BatchSize::PerIteration,
        )
    });

    group.bench_function("summary_jsonl_1m", |b| {
        b.iter(|| {
            let mut stream = EventStream::open(&path).unwrap();
            let summary = summarize(&mut stream).unwrap();
            assert_eq!(summary.total_events as u64, EVENTS);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
