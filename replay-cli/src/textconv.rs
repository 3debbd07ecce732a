//! `replay textconv FILE`: a cassette as one line per interaction, timestamps left out, for
//! git's `textconv` so that `git diff` on cassettes is semantic:
//!
//! ```text
//! # .gitattributes
//! sessions/**/*.yaml diff=replay
//! # once per clone
//! git config diff.replay.textconv "replay textconv"
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use replay_core::diff::session_text;

use super::detect::{Kind, detect};
use super::output::print_stdout;
use super::{CliError, CliResult};

/// Print a cassette as one line per interaction, without timestamps (a git textconv
/// filter: `git config diff.replay.textconv "replay textconv"`).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The cassette (git passes a temporary copy).
    file: PathBuf,
}

pub(crate) fn run(args: Args) -> CliResult {
    match detect(&args.file)? {
        Kind::Cassette => {
            let session = replay_core::session::read_session(&args.file)?;
            print_stdout(&session_text(&session))?;
            Ok(ExitCode::SUCCESS)
        }
        Kind::Events(_) => Err(CliError::new(format!(
            "`{}` is an event recording, not a cassette; `replay textconv` converts cassettes (use `replay info` or `replay timeline` for recordings)",
            args.file.display()
        ))),
    }
}
