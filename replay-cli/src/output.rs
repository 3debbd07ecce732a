//! Output shared by the subcommands: formats, colour, errors, stdout that tolerates a
//! closed pipe.

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;

/// An error the CLI prints as `error: …` (with its `caused by:` chain) before exiting 2.
#[derive(Debug)]
pub(crate) struct CliError(String);

/// The result of a subcommand: the exit code, or an error (exit 2).
pub(crate) type CliResult<T = ExitCode> = Result<T, CliError>;

impl CliError {
    pub(crate) fn new(message: impl Into<String>) -> CliError {
        CliError(message.into())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<replay_core::Error> for CliError {
    fn from(e: replay_core::Error) -> CliError {
        // `Debug` is the full message followed by the `caused by:` list.
        CliError(format!("{e:?}"))
    }
}

impl From<replay_events::Error> for CliError {
    fn from(e: replay_events::Error) -> CliError {
        CliError(format!("{e:?}"))
    }
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> CliError {
        CliError(format!("failed to write the output: {e}"))
    }
}

impl From<serde_json::Error> for CliError {
    fn from(e: serde_json::Error) -> CliError {
        CliError(format!("failed to render JSON output: {e}"))
    }
}

pub(crate) fn print_error(e: &CliError) {
    let color = color_enabled(&io::stderr());
    let label = if color {
        "\x1b[1;31merror\x1b[0m"
    } else {
        "error"
    };
    let _ = writeln!(io::stderr(), "{label}: {e}");
}

/// Text for people, or JSON for programs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OutputFormat {
    /// Text for people.
    #[default]
    Text,
    /// JSON, one document on stdout.
    Json,
}

pub(crate) use replay_support::term::color_enabled;

/// Writes `text` to stdout; a closed pipe (`replay … | head`) is not an error.
pub(crate) fn print_stdout(text: &str) -> CliResult<()> {
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// Writes `value` as pretty JSON on stdout.
pub(crate) fn print_json(value: &impl serde::Serialize) -> CliResult<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    print_stdout(&text)
}
