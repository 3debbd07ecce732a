//! `sim-bench`: serves the simulated SCPI bench (psu, dmm, scope) on loopback TCP and
//! writes a `bench.yaml` pointing at it, so `RECORD=1 cargo test` can record against it.
//!
//! ```text
//! cargo run -p replay-tests --bin sim-bench -- --config bench.yaml --seed 42
//! RECORD=1 REPLAY_BENCH=$PWD/bench.yaml cargo test
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use replay_tests::sim::SimBench;

/// Serve simulated SCPI instruments (psu, dmm, scope) on 127.0.0.1 until Ctrl-C.
#[derive(Debug, Parser)]
#[command(name = "sim-bench", version)]
struct Args {
    /// Listen on fixed ports: psu on N, dmm on N+1, scope on N+2 (default: ephemeral ports).
    #[arg(long, value_name = "N")]
    port_base: Option<u16>,
    /// Add deterministic measurement noise from this seed (default: exact readings).
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// End answers with CRLF instead of LF.
    #[arg(long)]
    crlf: bool,
    /// Write the bench config (`instruments: {alias: {address, profile, timeout}}`) here.
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// The `timeout` written to the config, in seconds.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    timeout: Option<Duration>,
    /// Wait this many milliseconds before the first answer on each connection.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    first_reply_delay_ms: u64,
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    match text.parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs < 1.0e6 => {
            Ok(Duration::from_secs_f64(secs))
        }
        _ => Err(format!(
            "`{text}` is not a positive number of seconds, e.g. `2.5`"
        )),
    }
}

/// Ctrl-C (and SIGTERM on Unix), listened for from the moment this is created.
struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(windows)]
    ctrl_c: tokio::signal::windows::CtrlC,
}

impl StopSignals {
    fn new() -> std::io::Result<StopSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(StopSignals {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(windows)]
        {
            Ok(StopSignals {
                ctrl_c: tokio::signal::windows::ctrl_c()?,
            })
        }
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(windows)]
        self.ctrl_c.recv().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut builder = SimBench::builder()
        .noise(args.seed)
        .crlf(args.crlf)
        .first_reply_delay(Duration::from_millis(args.first_reply_delay_ms));
    if let Some(base) = args.port_base {
        builder = builder.port_base(base);
    }
    if let Some(timeout) = args.timeout {
        builder = builder.timeout(timeout);
    }
    let bench = match builder.start().await {
        Ok(bench) => bench,
        Err(e) => {
            eprintln!("error: failed to start the simulated bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(path) = &args.config {
        if let Err(e) = bench.write_config(path) {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
    }
    for alias in bench.aliases() {
        println!("{alias:<6} {}", bench.address(alias));
    }
    match bench.seed() {
        Some(seed) => println!("noise seed {seed}"),
        None => println!("noiseless"),
    }
    // Listen before saying "serving": a Ctrl-C from then on stops the bench cleanly.
    let mut stop = match StopSignals::new() {
        Ok(stop) => stop,
        Err(e) => {
            eprintln!("error: cannot listen for Ctrl-C: {e}");
            bench.shutdown().await;
            return ExitCode::FAILURE;
        }
    };
    println!("serving; press Ctrl-C to stop");
    stop.recv().await;
    bench.shutdown().await;
    println!("stopped");
    ExitCode::SUCCESS
}
