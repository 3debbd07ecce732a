//! Peak memory of streaming a JSON Lines recording: writes an N-event recording, then
//! replays it at full speed, summarises it and filters it, and prints the process's peak
//! resident memory (`VmHWM` from `/proc/self/status`, Linux).
//!
//! ```text
//! cargo run --release -p replay-core --example events_peak_memory -- 100000
//! cargo run --release -p replay-core --example events_peak_memory -- 1000000
//! ```
//! The peak should not grow with N.

use std::io::Write;
use std::time::Instant;

use replay_events::{EventFilter, EventReplayer, EventStream, Speed, filter_file, summarize};

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time of this (single-threaded) process's main thread, from `/proc/self/schedstat`:
/// the rate per CPU second does not depend on what else the machine is running.
fn cpu_time() -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string("/proc/self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(std::time::Duration::from_nanos(ns))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let events: u64 = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 1_000_000,
    };
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("recording.jsonl");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
        writeln!(
            f,
            "{{\"session_name\":\"peak\",\"start_time\":\"2025-10-17T10:00:00+00:00\",\"duration_ms\":{events},\"total_events\":{events}}}"
        )?;
        for i in 0..events {
            let name = if i % 10 == 0 {
                "OrderFailed"
            } else {
                "MarketDataReceived"
            };
            writeln!(
                f,
                "{{\"timestamp_offset_ms\":{i},\"event_name\":\"{name}\",\"event_data\":{{\"symbol\":\"BTC/USDT\",\"price\":67500.5,\"i\":{i}}},\"source\":\"Feed\"}}"
            )?;
        }
    }
    let before = peak_rss_kib();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    let started = Instant::now();
    let cpu_started = cpu_time();
    let report = runtime.block_on(
        EventReplayer::open(&path)?
            .speed(Speed::AS_FAST_AS_POSSIBLE)
            .replay(|event| {
                std::hint::black_box(event);
                async {}
            }),
    )?;
    let replay = started.elapsed();
    let replay_cpu = cpu_time()
        .zip(cpu_started)
        .map(|(end, start)| end - start)
        .unwrap_or(replay);

    let started = Instant::now();
    let summary = summarize(&mut EventStream::open(&path)?)?;
    let summary_time = started.elapsed();

    let started = Instant::now();
    let out = dir.path().join("failed.jsonl");
    let outcome = filter_file(&path, &out, &EventFilter::names(["*Failed"])?, None)?;
    let filter_time = started.elapsed();

    println!(
        "events: {events}\nreplay: {} events in {replay:.2?} wall ({:.2} M events/s), {replay_cpu:.2?} CPU ({:.2} M events per CPU second)\nsummary: {} events in {summary_time:.2?}\nfilter: kept {} of {} in {filter_time:.2?}\npeak RSS after writing the file: {} KiB\npeak RSS after replay, summary, filter: {} KiB",
        report.delivered,
        report.delivered as f64 / replay.as_secs_f64() / 1e6,
        report.delivered as f64 / replay_cpu.as_secs_f64() / 1e6,
        summary.total_events,
        outcome.kept,
        outcome.read,
        before.map_or("?".into(), |v| v.to_string()),
        peak_rss_kib().map_or("?".into(), |v| v.to_string()),
    );
    Ok(())
}
