//! The error type of the event-stream tools.

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

pub use replay_support::Malformed;
pub(crate) use replay_support::strip_location;

/// A `Result` whose error is [`replay_events::Error`](Error).
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while recording, replaying or analysing event streams.
///
/// `Display` is a complete message that ends with what to do next; `Debug` prints the same
/// message followed by the `caused by:` chain.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A recording could not be read, written or created.
    #[error("failed to {action} `{}`", path.display())]
    File {
        /// What we were doing (`read recording`, `write recording`).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: io::Error,
    },

    /// A recording is malformed.
    #[error("{0}")]
    Malformed(Box<Malformed>),

    /// An event recording does not exist.
    #[error(
        "recording `{}` does not exist\n\
         check the path; recordings are saved as `<dir>/<session name>_<UTC timestamp>.json`",
        path.display()
    )]
    RecordingNotFound {
        /// The missing file.
        path: PathBuf,
    },

    /// An event recording is well-formed JSON but cannot be used for what was asked.
    #[error("recording `{}` cannot be used: {message}", path.display())]
    Recording {
        /// The recording.
        path: PathBuf,
        /// What is wrong and what to do next.
        message: String,
    },

    /// An option of the event recorder, replayer or analysis is out of range or malformed.
    #[error("invalid {what} `{value}`: {expected}")]
    InvalidOption {
        /// The option (`replay speed`, `event name glob`).
        what: &'static str,
        /// The value given.
        value: String,
        /// The valid values, formatted for people.
        expected: String,
    },

    /// An event could not be written as JSON while recording.
    #[error(
        "failed to record event `{name}`: it cannot be written as JSON\n\
         make its `Serialize` produce JSON (maps need string keys)"
    )]
    EventEncode {
        /// The event name.
        name: String,
        /// The serializer's failure.
        #[source]
        source: serde_json::Error,
    },

    /// A replayed event does not decode into the type its target needs.
    #[error(
        "event #{index} `{name}` does not decode into `{type_name}`\n\
         replay into a handler (`EventReplayer::replay_typed`) to receive undecodable events as raw JSON"
    )]
    EventDecode {
        /// 1-based position of the event in the recording.
        index: usize,
        /// The event name.
        name: String,
        /// The Rust type it was decoded into.
        type_name: &'static str,
        /// The deserializer's failure.
        #[source]
        source: serde_json::Error,
    },

    /// The user's system panicked or returned an error in a what-if run.
    #[error(
        "the system failed in the what-if run with parameters `{parameters}`: {message}\n\
         fix the system or the parameters; a sweep (`WhatIf::sweep`) reports such runs in \
         its table and runs the others"
    )]
    WhatIfRunFailed {
        /// The run's parameters, as JSON.
        parameters: String,
        /// The panic message or the system's error.
        message: String,
    },

    /// The channel a replay was delivering into was closed by its receivers.
    #[error(
        "replay stopped at event #{index}: every receiver of the channel was dropped\n\
         keep a receiver alive for the whole replay, or stop it with `ReplayControl::stop`"
    )]
    ReplayTargetClosed {
        /// 1-based position of the event that could not be delivered.
        index: usize,
    },
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        replay_support::causes::fmt_with_causes(self, f)
    }
}

impl Error {
    /// Builds a [`Error::Malformed`] from the offending line alone (`None`: no snippet),
    /// for readers that stream and do not hold the whole text.
    pub(crate) fn malformed_line(
        what: &'static str,
        path: impl Into<PathBuf>,
        line: usize,
        column: usize,
        line_text: Option<&str>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Error {
        Error::Malformed(Box::new(Malformed::at_line(
            what, path, line, column, line_text, message, hint,
        )))
    }
}

/// [`replay_support::fs::write_atomic`], failing with [`Error::File`].
pub(crate) fn write_atomic(path: &Path, contents: &[u8], action: &'static str) -> Result<()> {
    replay_support::fs::write_atomic(path, contents).map_err(|source| Error::File {
        action,
        path: path.to_owned(),
        source,
    })
}

/// [`replay_support::fs::write_atomic_with`], failing with [`Error::File`].
pub(crate) fn write_atomic_with(
    path: &Path,
    action: &'static str,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> Result<()> {
    replay_support::fs::write_atomic_with(path, write).map_err(|source| Error::File {
        action,
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_display_and_causes() {
        let err = Error::File {
            action: "read recording",
            path: "a/b.json".into(),
            source: io::Error::new(io::ErrorKind::PermissionDenied, "permission denied"),
        };
        let debug = format!("{err:?}");
        assert!(
            debug.starts_with("failed to read recording `a/b.json`"),
            "{debug}"
        );
        assert!(
            debug.contains("caused by:\n  - permission denied"),
            "{debug}"
        );
    }
}
