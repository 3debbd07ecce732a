//! `replay`: the command line of **replay** — compare and show instrument cassettes, and
//! inspect, filter, play, merge and compare event recordings. One file per subcommand,
//! shared output helpers. Run `replay --help` for the commands.
//!
//! ```sh
//! cargo install --path replay-cli
//! replay diff sessions/old.yaml sessions/new.yaml
//! replay info recordings/bug_1234_20261130T101500Z.json
//! ```
//!
//! # Known limitations
//!
//! A JSON (not JSON Lines) recording is read whole.

#![forbid(unsafe_code)]

mod detect;
mod diff;
mod filter;
mod info;
mod merge;
mod output;
mod play;
mod report;
mod serve;
mod sim;
mod textconv;
mod timeline;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub(crate) use output::{CliError, CliResult, OutputFormat};

/// Inspect, filter, play, merge and compare event recordings (`.json`, `.jsonl`) and
/// instrument cassettes (`.yaml`).
#[derive(Debug, Parser)]
#[command(
    name = "replay",
    version,
    about = "Inspect, filter, play, merge and compare event recordings and instrument cassettes",
    long_about = None,
    propagate_version = true
)]
#[command(
    after_help = "Exit status: 0 on success (for `diff`: equal), 1 when `diff` finds differences, 2 on error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Info(info::Args),
    Timeline(timeline::Args),
    Filter(filter::Args),
    Play(play::Args),
    Merge(merge::Args),
    Diff(diff::Args),
    Textconv(textconv::Args),
    Sim(sim::Args),
    Serve(serve::Args),
    Report(report::Args),
}

/// Parses the command line, runs the command, and turns any error into exit status 2.
fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let result = match cli.command {
        Command::Info(args) => info::run(args),
        Command::Timeline(args) => timeline::run(args),
        Command::Filter(args) => filter::run(args),
        Command::Play(args) => play::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Textconv(args) => textconv::run(args),
        Command::Sim(args) => sim::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Report(args) => report::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            output::print_error(&e);
            ExitCode::from(2)
        }
    }
}
