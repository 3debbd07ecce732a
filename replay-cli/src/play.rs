//! `replay play FILE`: the events as JSON lines on stdout, at the recorded pace.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use replay_events::{EventFilter, EventReplayer, Speed, render_event_line};

use super::{CliError, CliResult};

/// Print each event as one JSON line on stdout, at the recorded pace divided by `--speed`
/// (a progress bar goes to stderr when it is a terminal).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The event recording (`.json` or `.jsonl`, streamed).
    file: PathBuf,
    /// Multiplier of the recorded pace, 0.1 to 100 (`10`, `10x`), or `max` for no waiting.
    #[arg(long, default_value = "1", value_name = "X", value_parser = parse_speed)]
    speed: Speed,
    /// Only events whose name matches this glob; repeat for several.
    #[arg(long = "event", value_name = "GLOB")]
    events: Vec<String>,
    /// Only events whose source matches this glob; repeat for several.
    #[arg(long = "source", value_name = "GLOB")]
    sources: Vec<String>,
}

fn parse_speed(s: &str) -> Result<Speed, String> {
    s.parse::<Speed>().map_err(|e| {
        let message = e.to_string();
        // clap prints "invalid value 'X' for '--speed <X>': …": keep only what follows.
        match message.split_once(": ") {
            Some((_, expected)) => expected.to_owned(),
            None => message,
        }
    })
}

pub(crate) fn run(args: Args) -> CliResult {
    super::detect::require_events(&args.file, "play")?;
    let filter = EventFilter::names(&args.events)?.sources(&args.sources)?;
    let mut replayer = EventReplayer::open(&args.file)?
        .speed(args.speed)
        .filter(filter);
    let bar = if io::stderr().is_terminal() {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} events  {elapsed_precise}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let progress = bar.clone();
        replayer = replayer.on_progress(move |current, total| {
            progress.set_length(total as u64);
            progress.set_position(current as u64);
        });
        Some(bar)
    } else {
        None
    };
    let control = replayer.control();
    let paced = args.speed.multiplier().is_some();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| CliError::new(format!("failed to start the async runtime: {e}")))?;
    let mut stdout = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let mut line = String::with_capacity(512);
    let mut write_error: Option<io::Error> = None;
    let report = runtime.block_on(replayer.replay(|event| {
        line.clear();
        render_event_line(&event.as_ref(), &mut line);
        let written = stdout
            .write_all(line.as_bytes())
            .and_then(|()| if paced { stdout.flush() } else { Ok(()) });
        if let Err(e) = written {
            write_error.get_or_insert(e);
            control.stop();
        }
        std::future::ready(())
    }));
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let flushed = stdout.flush();
    report?;
    match write_error.map_or(flushed, Err) {
        // The reader went away (`replay play … | head`): not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e.into()),
        Ok(()) => Ok(ExitCode::SUCCESS),
    }
}
