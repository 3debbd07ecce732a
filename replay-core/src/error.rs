//! The one error type of the runtime.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

pub use replay_support::Malformed;
pub(crate) use replay_support::strip_location;

/// A `Result` whose error is [`replay_core::Error`](Error).
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while recording or replaying.
///
/// `Display` is a complete message that ends with what to do next; `Debug` prints the same
/// message followed by the `caused by:` chain, so a test that unwraps or returns the error
/// reads as well as one that prints it.
#[non_exhaustive]
pub enum Error {
    /// A session or bench file could not be read, written or created.
    File {
        /// What we were doing (`read session`, `write session`, `read bench config`).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        source: io::Error,
    },

    /// A session file does not exist.
    SessionNotFound {
        /// The missing file.
        path: PathBuf,
    },

    /// A session, bench config or recording is malformed.
    Malformed(Box<Malformed>),

    /// An instrument alias that the bench config or the session does not know.
    UnknownInstrument {
        /// The alias the test asked for.
        alias: String,
        /// Where aliases come from (`bench config \`bench.yaml\``, `session \`x.yaml\``).
        where_: String,
        /// The aliases that exist there.
        known: Vec<String>,
        /// What to do next.
        hint: String,
    },

    /// An instrument address that cannot be used.
    Address {
        /// The instrument alias.
        alias: String,
        /// The address as written in the bench config.
        address: String,
        /// What is wrong and which forms are supported.
        reason: String,
    },

    /// Connecting to an instrument failed.
    Connect {
        /// The instrument alias.
        alias: String,
        /// Its address.
        address: String,
        /// The failure.
        source: io::Error,
    },

    /// The connection to an instrument failed during an exchange (live, or as recorded).
    Io {
        /// The instrument alias.
        alias: String,
        /// The command being exchanged.
        command: String,
        /// Whether this error is being replayed from the session.
        recorded: bool,
        /// The failure.
        source: io::Error,
    },

    /// An instrument did not answer within its timeout (live, or as recorded).
    Timeout {
        /// The instrument alias.
        alias: String,
        /// The command that got no answer.
        command: String,
        /// The timeout that expired; `None` when replaying a recorded timeout whose
        /// message does not say how long it was (a hand-written or imported session).
        after: Option<Duration>,
        /// Whether this error is being replayed from the session.
        recorded: bool,
    },

    /// A binary response was not a valid IEEE 488.2 block.
    BinaryBlock {
        /// The instrument alias.
        alias: String,
        /// The command.
        command: String,
        /// What was wrong.
        reason: String,
    },

    /// A command refused by a safety limit (`limits:`) before it reached the instrument
    /// (recording) or the replayer (replay, with the limits stored in the cassette).
    LimitExceeded {
        /// The instrument alias.
        alias: String,
        /// The command the test sent (redacted).
        command: String,
        /// Which limit refused which value.
        refusal: Box<crate::safety::Refusal>,
    },

    /// A response exceeded the instrument's maximum response size (live, or as recorded).
    ResponseTooLarge {
        /// The instrument alias.
        alias: String,
        /// The command (redacted).
        command: String,
        /// The limit in bytes; `None` when replaying a recorded error.
        limit: Option<usize>,
        /// What exceeded it.
        detail: String,
        /// Whether this error is being replayed from the session.
        recorded: bool,
    },

    /// A command uses the placeholder of a declared secret whose variable is not set.
    SecretUnset {
        /// The instrument alias.
        alias: String,
        /// The command as the test wrote it (with the placeholder).
        command: String,
        /// The variable.
        name: String,
    },

    /// A secret given to [`RecordOptions::secrets`](crate::RecordOptions::secrets) is not
    /// an environment variable name.
    InvalidSecretName {
        /// What is wrong and what to write instead.
        message: String,
    },

    /// Persisting refused: the value of a declared secret would have been written.
    SecretLeak {
        /// The session file.
        path: PathBuf,
        /// The secret's variable.
        name: String,
        /// Where it was found (`in the profile of \`psu\``).
        location: String,
    },

    /// The test deviated from the recorded interactions (or ran past their end).
    Mismatch(Box<crate::report::MismatchReport>),

    /// Recorded interactions were never replayed.
    Unused(Box<crate::report::UnusedReport>),

    /// A transport given in [`RecordOptions::transport`](crate::RecordOptions::transport)
    /// was given up after an exchange left it out of step, and cannot be reopened.
    Unusable {
        /// The instrument alias.
        alias: String,
        /// What left the transport out of step (`` `MEAS:VOLT?` timed out ``).
        reason: String,
    },

    /// The matching rules of an instrument are invalid (set for the test, the instrument,
    /// the workspace, or stored in the cassette).
    MatchingRules {
        /// The instrument.
        alias: String,
        /// What is wrong and what to write instead.
        message: String,
    },

    /// An environment variable has a value we do not accept.
    Env {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
        /// The valid values, formatted for people.
        expected: String,
    },

    /// The bench was used after [`Bench::finish`](crate::Bench::finish).
    Finished {
        /// The session file.
        path: PathBuf,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::File { action, path, .. } => {
                write!(f, "failed to {action} `{}`", path.display())
            }
            Error::SessionNotFound { path } => write!(
                f,
                "session `{}` does not exist\n\
         record it on the bench first (with `Bench::record`, or `RECORD=1 cargo test` for a `#[recorded_test]`)",
                path.display()
            ),
            Error::Malformed(inner) => write!(f, "{inner}"),
            Error::UnknownInstrument {
                alias,
                where_,
                known,
                hint,
            } => write!(
                f,
                "unknown instrument `{alias}`: {where_} {}\n{hint}",
                known_list(known)
            ),
            Error::Address {
                alias,
                address,
                reason,
            } => write!(
                f,
                "invalid address `{address}` for instrument `{alias}`: {reason}"
            ),
            Error::Connect { alias, address, .. } => write!(
                f,
                "failed to connect to instrument `{alias}` at `{address}`\n\
         check that it is powered, reachable from this machine and not held by another program, \
         or fix its `address` in the bench config"
            ),
            Error::Io {
                alias,
                command,
                recorded,
                ..
            } => write!(
                f,
                "i/o error talking to instrument `{alias}` during `{command}`{}",
                recorded_suffix(*recorded)
            ),
            Error::Timeout {
                alias,
                command,
                after,
                recorded,
            } => write!(
                f,
                "instrument `{alias}` did not answer `{command}`{}{}\n\
         an instrument never answers a command it does not know or that is not a query; \
         check the command, or raise `timeout` for `{alias}` in the bench config if it is slow",
                within(*after),
                recorded_suffix(*recorded)
            ),
            Error::BinaryBlock {
                alias,
                command,
                reason,
            } => write!(
                f,
                "instrument `{alias}` answered `{command}` with an invalid binary block: {reason}\ncheck that the command returns a definite-length block (`#<n><len><bytes>`)"
            ),
            Error::LimitExceeded {
                alias,
                command,
                refusal,
            } => write!(
                f,
                "refused `{command}` for instrument `{alias}`: {refusal}\n\
         nothing was sent to the instrument; fix the value in the test, or if the circuit allows it \
         change the limit under `limits:` of `{alias}` in the bench config and re-record \
         (replay enforces the limits stored in the cassette)"
            ),
            Error::ResponseTooLarge {
                alias,
                command,
                detail,
                recorded,
                ..
            } => write!(
                f,
                "instrument `{alias}` answered `{command}` with a response that is too large: {detail}{}\n\
         the connection was dropped so that nothing stale is read next; if such a response is expected, \
         raise `max_response` (bytes) for `{alias}` in the bench config",
                recorded_suffix(*recorded)
            ),
            Error::SecretUnset {
                alias,
                command,
                name,
            } => write!(
                f,
                "`{command}` for instrument `{alias}` uses the secret `${{{name}}}`, but the environment variable `{name}` is not set\n\
         set it before recording (`{name}=… RECORD=1 cargo test …`); replay needs no value"
            ),
            Error::InvalidSecretName { message } => write!(f, "{message}"),
            Error::SecretLeak {
                path,
                name,
                location,
            } => write!(
                f,
                "refusing to write session `{}`: the value of the secret `{name}` would be written ({location})\n\
         the previous file was left untouched; add a `redact` rule or keep the value out of the bench config, \
         so that only `${{{name}}}` is recorded",
                path.display()
            ),
            Error::Mismatch(inner) => write!(f, "{inner}"),
            Error::Unused(inner) => write!(f, "{inner}"),
            Error::Unusable { alias, reason } => write!(
                f,
                "instrument `{alias}` cannot be used any more in this recording: {reason}, and its \
         transport, given in `RecordOptions::transport`, cannot be reopened or cleared\n\
         a late answer must never be recorded as the next command's response: implement \
         `Transport::clear` for it, or register a `RecordOptions::connector` so the recorder \
         can reconnect"
            ),
            Error::MatchingRules { alias, message } => write!(
                f,
                "invalid matching rules for instrument `{alias}`: {message}"
            ),
            Error::Env {
                name,
                value,
                expected,
            } => write!(
                f,
                "invalid value `{value}` for `{name}`: expected one of {expected}"
            ),
            Error::Finished { path } => write!(
                f,
                "the bench for session `{}` is already finished; create a new `Bench` to talk to instruments again",
                path.display()
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::File { source, .. }
            | Error::Connect { source, .. }
            | Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "has no instruments".to_owned()
    } else {
        let names: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
        format!("has {}", names.join(", "))
    }
}

fn recorded_suffix(recorded: bool) -> &'static str {
    if recorded {
        " (replayed from the session: it happened this way when it was recorded)"
    } else {
        ""
    }
}

fn within(after: Option<Duration>) -> String {
    after.map_or_else(String::new, |d| format!(" within {}", fmt_duration(d)))
}

pub(crate) fn fmt_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 1.0 {
        format!("{} ms", (secs * 1000.0).round())
    } else {
        format!("{secs} s")
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        replay_support::causes::fmt_with_causes(self, f)
    }
}

impl Error {
    /// Whether this is a replay deviation ([`Error::Mismatch`]).
    pub fn is_mismatch(&self) -> bool {
        matches!(self, Error::Mismatch(_))
    }

    /// Builds a [`Error::Malformed`] for `path`, quoting the offending line of `text`.
    pub(crate) fn malformed(
        what: &'static str,
        path: impl Into<PathBuf>,
        text: &str,
        line: usize,
        column: usize,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Error {
        Error::Malformed(Box::new(Malformed::in_text(
            what, path, text, line, column, message, hint,
        )))
    }

    /// Builds a [`Error::Malformed`] for a YAML parse error of `text`, at the error's
    /// line and column (1:1 when it has none), quoting the offending line.
    pub(crate) fn from_yaml(
        what: &'static str,
        path: impl Into<PathBuf>,
        text: &str,
        error: &yaml_serde::Error,
        hint: impl Into<String>,
    ) -> Error {
        let (line, column) = error
            .location()
            .map_or((1, 1), |loc| (loc.line(), loc.column()));
        let message = strip_location(&error.to_string());
        Error::malformed(what, path, text, line, column, message, hint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_display_and_causes() {
        let err = Error::File {
            action: "read session",
            path: "a/b.yaml".into(),
            source: io::Error::new(io::ErrorKind::PermissionDenied, "permission denied"),
        };
        let debug = format!("{err:?}");
        assert!(debug.starts_with(&err.to_string()));
        assert!(
            debug.contains("caused by:\n  - permission denied"),
            "{debug}"
        );
    }

    #[test]
    fn paths_print_as_paths_and_sources_chain() {
        use std::error::Error as _;
        let cases = [
            (
                Error::File {
                    action: "write session",
                    path: "sessions/a b.yaml".into(),
                    source: io::Error::other("disk full"),
                },
                "failed to write session `sessions/a b.yaml`",
                true,
            ),
            (
                Error::SessionNotFound {
                    path: "s/x.yaml".into(),
                },
                "session `s/x.yaml` does not exist\nrecord it on the bench first (with `Bench::record`, or `RECORD=1 cargo test` for a `#[recorded_test]`)",
                false,
            ),
            (
                Error::Finished {
                    path: "s/x.yaml".into(),
                },
                "the bench for session `s/x.yaml` is already finished; create a new `Bench` to talk to instruments again",
                false,
            ),
            (
                Error::Connect {
                    alias: "psu".into(),
                    address: "TCPIP0::h::5025::SOCKET".into(),
                    source: io::Error::other("refused"),
                },
                "failed to connect to instrument `psu` at `TCPIP0::h::5025::SOCKET`\ncheck that it is powered, reachable from this machine and not held by another program, or fix its `address` in the bench config",
                true,
            ),
            (
                Error::SecretUnset {
                    alias: "psu".into(),
                    command: "PASS ${PIN}".into(),
                    name: "PIN".into(),
                },
                "`PASS ${PIN}` for instrument `psu` uses the secret `${PIN}`, but the environment variable `PIN` is not set\nset it before recording (`PIN=… RECORD=1 cargo test …`); replay needs no value",
                false,
            ),
            (
                Error::UnknownInstrument {
                    alias: "dmm".into(),
                    where_: "bench config `bench.yaml`".into(),
                    known: vec!["psu".into()],
                    hint: "add it".into(),
                },
                "unknown instrument `dmm`: bench config `bench.yaml` has `psu`\nadd it",
                false,
            ),
        ];
        for (error, message, has_source) in cases {
            assert_eq!(error.to_string(), message);
            assert_eq!(error.source().is_some(), has_source, "{message}");
        }
    }

    #[test]
    fn timeout_mentions_next_step() {
        let err = Error::Timeout {
            alias: "dmm".into(),
            command: "FOO?".into(),
            after: Some(Duration::from_millis(500)),
            recorded: true,
        };
        let msg = err.to_string();
        assert!(msg.contains("within 500 ms"), "{msg}");
        assert!(msg.contains("replayed from the session"), "{msg}");
        let unknown = Error::Timeout {
            alias: "dmm".into(),
            command: "FOO?".into(),
            after: None,
            recorded: true,
        };
        let msg = unknown.to_string();
        assert!(msg.contains("did not answer `FOO?` (replayed"), "{msg}");
        assert!(!msg.contains("within"), "{msg}");
        assert!(msg.contains("raise `timeout`"), "{msg}");
    }
}
