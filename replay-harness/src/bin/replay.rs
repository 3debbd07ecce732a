//! `replay`: inspect, filter, play, merge and compare event recordings and instrument
//! cassettes. Run `replay --help` for the commands.

#![forbid(unsafe_code)]

#[path = "../cli/mod.rs"]
mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
