//! Loads and replays a 100,000-interaction session and prints the wall time and the
//! process's peak memory (`VmHWM` from `/proc/self/status`, Linux).
//!
//! ```text
//! cargo run --release -p replay-core --example replay_100k -- write /tmp/session_100k.yaml
//! cargo run --release -p replay-core --example replay_100k -- replay /tmp/session_100k.yaml
//! ```
//!
//! `write` renders the session the `session_load` benchmark uses; `replay` runs
//! `Bench::replay`, every call of the test and `finish()` in a fresh process, so the peak
//! memory is the replay's own. An optional third argument sets the number of interactions
//! (default 100000).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[path = "../benches/support/workload.rs"]
mod workload;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(mode), Some(path)) = (args.first(), args.get(1)) else {
        eprintln!("usage: replay_100k <write|replay> <session.yaml> [interactions]");
        return ExitCode::from(2);
    };
    let path = PathBuf::from(path);
    let count = match args.get(2).map(|c| c.parse::<usize>()) {
        None => 100_000,
        Some(Ok(count)) => count,
        Some(Err(e)) => {
            eprintln!("error: the number of interactions must be a whole number: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match mode.as_str() {
        "write" => write(&path, count),
        "replay" => replay(&path, count),
        other => Err(format!(
            "unknown mode `{other}`; expected `write` or `replay`"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn write(path: &std::path::Path, count: usize) -> Result<(), String> {
    let session = workload::session(count);
    let text = replay_core::session::render_session(&session);
    replay_core::session::write_session(path, &session).map_err(|e| e.to_string())?;
    println!(
        "wrote {count} interactions ({} bytes) to {}",
        text.len(),
        path.display()
    );
    Ok(())
}

fn replay(path: &std::path::Path, count: usize) -> Result<(), String> {
    // The calls a test makes are code in a real test; here they are built before measuring.
    let steps = workload::steps(count);
    let before = peak_rss_kib();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("failed to start tokio: {e}"))?;
    let cpu_before = cpu_seconds();
    let start = Instant::now();
    let bytes = runtime
        .block_on(workload::replay(path, &steps))
        .map_err(|e| e.to_string())?;
    let elapsed = start.elapsed();
    let cpu = cpu_seconds()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    let show = |kib: Option<u64>| {
        kib.map_or_else(
            || "unknown".to_owned(),
            |k| format!("{:.1} MiB", k as f64 / 1024.0),
        )
    };
    println!(
        "load + replay of {} interactions ({bytes} response bytes) + finish: {:.1} ms wall, {} CPU",
        steps.len(),
        elapsed.as_secs_f64() * 1e3,
        cpu.map_or_else(|| "unknown".to_owned(), |s| format!("{:.0} ms", s * 1e3)),
    );
    println!(
        "peak RSS (VmHWM) of the whole process: {} ({} before loading, with the test's calls built)",
        show(peak_rss_kib()),
        show(before)
    );
    Ok(())
}

/// The process's peak resident set size in KiB, from `/proc/self/status`.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User + system CPU time of the process in seconds, from `/proc/self/stat` (clock ticks of
/// 1/100 s, Linux's `USER_HZ`).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}
