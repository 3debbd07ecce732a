//! The session model: what a cassette holds, independent of the file format.

use std::fmt;
use std::time::Duration;

/// A recorded session (a *cassette*): one interaction log per instrument alias, in file order.
///
/// The order of instruments is the order of the file (PyTestLab's dict order) or, for a
/// session we recorded, the order of the instruments in `bench.yaml`, so that re-recording
/// an unchanged procedure writes the same file.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Session {
    /// Instrument logs keyed by alias, in file order. Aliases are unique.
    pub instruments: Vec<(String, InstrumentLog)>,
}

impl Session {
    /// A session holding `instruments` (alias and log, in file order).
    pub fn new(instruments: Vec<(String, InstrumentLog)>) -> Session {
        Session { instruments }
    }

    /// The log recorded for `alias`, if any.
    pub fn instrument(&self, alias: &str) -> Option<&InstrumentLog> {
        self.instruments
            .iter()
            .find(|(name, _)| name == alias)
            .map(|(_, log)| log)
    }

    /// The aliases in file order.
    pub fn aliases(&self) -> impl Iterator<Item = &str> {
        self.instruments.iter().map(|(name, _)| name.as_str())
    }

    /// Total number of interactions over all instruments.
    pub fn len(&self) -> usize {
        self.instruments.iter().map(|(_, log)| log.log.len()).sum()
    }

    /// Whether no instrument recorded any interaction.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The interactions recorded for one instrument.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct InstrumentLog {
    /// The instrument profile from the bench config (`keysight/EDU36311A`), if one was given.
    pub profile: Option<String>,
    /// Limits, redaction rules and secret names recorded with the log.
    pub rules: super::InstrumentRules,
    /// Interactions in the order the instrument saw them.
    pub log: Vec<Interaction>,
}

impl InstrumentLog {
    /// The log of an instrument with `profile`, holding `log`.
    pub fn new(profile: Option<String>, log: Vec<Interaction>) -> InstrumentLog {
        InstrumentLog {
            profile,
            rules: super::InstrumentRules::default(),
            log,
        }
    }

    /// The same log with `rules` (limits, redaction rules, secret names) recorded with it.
    #[must_use]
    pub fn with_rules(mut self, rules: super::InstrumentRules) -> InstrumentLog {
        self.rules = rules;
        self
    }
}

/// What kind of exchange an interaction was. Serialized as the entry's `type`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum InteractionKind {
    /// A command with no response (`type: write`).
    Write,
    /// A command answered by one text message (`type: query`).
    Query,
    /// A command answered by a binary block (`type: query_raw`, PyTestLab's name).
    QueryRaw,
    /// A response read without sending a command (`type: read`).
    Read,
    /// Any other type a newer writer may use; kept verbatim so it round-trips.
    Other(String),
}

impl InteractionKind {
    /// The name written in the session file's `type` key.
    pub fn as_str(&self) -> &str {
        match self {
            InteractionKind::Write => "write",
            InteractionKind::Query => "query",
            InteractionKind::QueryRaw => "query_raw",
            InteractionKind::Read => "read",
            InteractionKind::Other(other) => other,
        }
    }

    /// Parses a `type` value; unknown names become [`InteractionKind::Other`].
    pub fn parse(name: &str) -> InteractionKind {
        match name {
            "write" => InteractionKind::Write,
            "query" => InteractionKind::Query,
            "query_raw" => InteractionKind::QueryRaw,
            "read" => InteractionKind::Read,
            other => InteractionKind::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for InteractionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One recorded exchange with an instrument.
///
/// File keys, in the order the writer emits them: `type`, `command`, `response`,
/// `response_base64`, `error`, `error_message`, `timeout_s`, `timestamp`. Keys PyTestLab
/// does not know (`response_base64`, `error`, `error_message`, `timeout_s`) are additive:
/// PyTestLab ignores them.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Interaction {
    /// The entry's `type`.
    pub kind: InteractionKind,
    /// The command sent, without terminator (empty for a `read`).
    pub command: String,
    /// The text response (queries) as PyTestLab stores it. For binary responses this is a
    /// lossy text rendering kept for PyTestLab; the exact bytes are in [`Interaction::binary`].
    pub response: Option<String>,
    /// The exact bytes of a binary response (the whole IEEE 488.2 block, header included),
    /// stored as `response_base64`.
    pub binary: Option<Vec<u8>>,
    /// An error the instrument produced instead of a response while recording.
    pub error: Option<RecordedError>,
    /// Seconds since the session started (one clock for the whole session).
    pub timestamp: f64,
}

impl Interaction {
    /// An interaction with no response and no error yet.
    pub fn new(kind: InteractionKind, command: impl Into<String>, timestamp: f64) -> Interaction {
        Interaction {
            kind,
            command: command.into(),
            response: None,
            binary: None,
            error: None,
            timestamp,
        }
    }
}

/// An instrument failure seen while recording, replayed as the same error.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedError {
    /// What failed.
    pub kind: RecordedErrorKind,
    /// The human-readable detail (`error_message`), for people: never parsed back.
    pub message: String,
    /// For a timeout, how long the recorder waited (`timeout_s`, seconds). `None` for other
    /// errors and for timeouts recorded without it (by older versions, by hand, by other
    /// tools).
    pub timeout: Option<Duration>,
}

impl RecordedError {
    /// An error of `kind` with its human-readable `message`.
    pub fn new(kind: RecordedErrorKind, message: impl Into<String>) -> RecordedError {
        RecordedError {
            kind,
            message: message.into(),
            timeout: None,
        }
    }

    /// A timeout after waiting `after`: kind [`RecordedErrorKind::Timeout`], the duration
    /// stored as `timeout_s` and described in the message.
    pub fn timed_out(after: Duration) -> RecordedError {
        RecordedError {
            kind: RecordedErrorKind::Timeout,
            message: format!("no answer within {} s", after.as_secs_f64()),
            timeout: Some(after),
        }
    }

    /// This error with `timeout` as its [`RecordedError::timeout`].
    #[must_use]
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> RecordedError {
        self.timeout = timeout;
        self
    }
}

/// The class of a [`RecordedError`]. Serialized as the entry's `error` key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RecordedErrorKind {
    /// The instrument did not answer within its timeout (`error: timeout`).
    Timeout,
    /// The connection failed while talking to the instrument (`error: io`).
    Io,
    /// The response exceeded the maximum response size (`error: response_too_large`).
    ResponseTooLarge,
    /// Any other class a newer writer may use, kept verbatim.
    Other(String),
}

impl RecordedErrorKind {
    /// The name written in the session file's `error` key.
    pub fn as_str(&self) -> &str {
        match self {
            RecordedErrorKind::Timeout => "timeout",
            RecordedErrorKind::Io => "io",
            RecordedErrorKind::ResponseTooLarge => "response_too_large",
            RecordedErrorKind::Other(other) => other,
        }
    }

    /// Parses an `error` value; unknown names become [`RecordedErrorKind::Other`].
    pub fn parse(name: &str) -> RecordedErrorKind {
        match name {
            "timeout" => RecordedErrorKind::Timeout,
            "io" => RecordedErrorKind::Io,
            "response_too_large" => RecordedErrorKind::ResponseTooLarge,
            other => RecordedErrorKind::Other(other.to_owned()),
        }
    }
}
