//! Replaying: answering the test from the session, in strict per-instrument order.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, Result};
use crate::matcher::{ExactMatcher, Matcher, Request};
use crate::outcome::Outcome;
use crate::report::{DEFAULT_RERECORD, MismatchReport, UnusedInstrument, UnusedReport};
use crate::safety::Guard;
use crate::session::{InstrumentLog, InteractionKind, RecordedErrorKind, Session};
use replay_support::sync::lock;

/// Options for [`Bench::replay_with`](crate::Bench::replay_with).
#[derive(Clone)]
pub struct ReplayOptions {
    pub(crate) rerecord: String,
    pub(crate) matcher: Arc<dyn Matcher>,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            rerecord: DEFAULT_RERECORD.to_owned(),
            matcher: Arc::new(ExactMatcher),
        }
    }
}

impl std::fmt::Debug for ReplayOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayOptions")
            .field("rerecord", &self.rerecord)
            .finish_non_exhaustive()
    }
}

impl ReplayOptions {
    /// The command that re-records this session, printed at the end of every report
    /// (`RECORD=1 cargo test --test bench psu_ramp -- --exact`).
    pub fn rerecord_command(mut self, command: impl Into<String>) -> Self {
        self.rerecord = command.into();
        self
    }

    /// Decides what matches what (default: [`ExactMatcher`]).
    pub fn matcher(mut self, matcher: impl Matcher) -> Self {
        self.matcher = Arc::new(matcher);
        self
    }
}

/// The session being replayed, shared by every instrument of the bench.
pub(crate) struct Replayer {
    pub(crate) path: PathBuf,
    pub(crate) session: Session,
    pub(crate) options: ReplayOptions,
    /// Next position per instrument, in session order.
    cursors: Vec<Mutex<usize>>,
    /// The first mismatch seen, even if the test swallowed or unwrapped the error.
    pub(crate) first_deviation: OnceLock<MismatchReport>,
}

impl Replayer {
    pub(crate) fn new(path: PathBuf, session: Session, options: ReplayOptions) -> Replayer {
        let cursors = session.instruments.iter().map(|_| Mutex::new(0)).collect();
        Replayer {
            path,
            session,
            options,
            cursors,
            first_deviation: OnceLock::new(),
        }
    }

    pub(crate) fn index_of(&self, alias: &str) -> Result<usize> {
        self.session
            .instruments
            .iter()
            .position(|(a, _)| a == alias)
            .ok_or_else(|| Error::UnknownInstrument {
                alias: alias.to_owned(),
                where_: format!("session `{}`", self.path.display()),
                known: self.session.aliases().map(str::to_owned).collect(),
                hint: format!(
                    "the test uses an instrument the session did not record; re-record it on the bench:\n    {}",
                    self.options.rerecord
                ),
            })
    }

    /// Interactions never replayed, if any.
    pub(crate) fn unused(&self) -> Option<UnusedReport> {
        let instruments: Vec<UnusedInstrument> = self
            .session
            .instruments
            .iter()
            .zip(&self.cursors)
            .filter_map(|((alias, log), cursor)| {
                let used = *lock(cursor);
                (used < log.log.len()).then(|| UnusedInstrument::new(alias, &log.log, used))
            })
            .collect();
        (!instruments.is_empty()).then(|| UnusedReport {
            session: self.path.clone(),
            instruments,
            rerecord: self.options.rerecord.clone(),
        })
    }
}

/// One instrument's view of the replayed session.
pub(crate) struct ReplayInstrument {
    alias: String,
    index: usize,
    replayer: Arc<Replayer>,
    finished: Arc<AtomicBool>,
    /// The limits and redaction stored with the instrument's log.
    guard: Guard,
}

impl ReplayInstrument {
    pub(crate) fn new(
        alias: &str,
        replayer: Arc<Replayer>,
        finished: Arc<AtomicBool>,
    ) -> Result<Self> {
        let index = replayer.index_of(alias)?;
        let guard = Guard::new(&replayer.session.instruments[index].1.rules);
        Ok(ReplayInstrument {
            alias: alias.to_owned(),
            index,
            replayer,
            finished,
            guard,
        })
    }

    fn log(&self) -> &InstrumentLog {
        &self.replayer.session.instruments[self.index].1
    }

    pub(crate) fn profile(&self) -> Option<&str> {
        self.log().profile.as_deref()
    }

    pub(crate) fn guard(&self) -> &Guard {
        &self.guard
    }

    /// Answers one exchange; `command` is the test's command already redacted with the
    /// cassette's rules (secret values as `${NAME}`), as it was recorded.
    pub(crate) fn exchange(&self, kind: InteractionKind, command: &str) -> Result<Outcome> {
        if self.finished.load(Ordering::SeqCst) {
            return Err(Error::Finished {
                path: self.replayer.path.clone(),
            });
        }
        let log = &self.log().log;
        let recorded = {
            let mut cursor = lock(&self.replayer.cursors[self.index]);
            let position = *cursor;
            let request = Request {
                kind: &kind,
                command,
            };
            match log.get(position) {
                Some(recorded) if self.replayer.options.matcher.matches(recorded, &request) => {
                    *cursor += 1;
                    tracing::debug!(decision = "matched", position = position + 1, "replayed");
                    recorded
                }
                _ => {
                    tracing::debug!(
                        decision = "mismatch",
                        position = position + 1,
                        recorded = log.get(position).map(|r| r.command.as_str()),
                        "deviation"
                    );
                    // Recorded later: the interactions in between were removed from the test?
                    let later = log
                        .iter()
                        .enumerate()
                        .skip(position + 1)
                        .find(|(_, r)| self.replayer.options.matcher.matches(r, &request))
                        .map(|(q, _)| q);
                    let report = MismatchReport::new(
                        &self.alias,
                        self.replayer.path.clone(),
                        log,
                        position,
                        later,
                        kind,
                        command,
                        &self.replayer.options.rerecord,
                    );
                    let _ = self.replayer.first_deviation.set(report.clone());
                    return Err(Error::Mismatch(Box::new(report)));
                }
            }
        };
        if let Some(err) = &recorded.error {
            return Err(match err.kind {
                RecordedErrorKind::Timeout => Error::Timeout {
                    alias: self.alias.clone(),
                    command: command.to_owned(),
                    after: err.timeout,
                    recorded: true,
                },
                RecordedErrorKind::ResponseTooLarge => Error::ResponseTooLarge {
                    alias: self.alias.clone(),
                    command: command.to_owned(),
                    limit: None,
                    detail: err.message.clone(),
                    recorded: true,
                },
                RecordedErrorKind::Io | RecordedErrorKind::Other(_) => Error::Io {
                    alias: self.alias.clone(),
                    command: command.to_owned(),
                    recorded: true,
                    source: std::io::Error::other(err.message.clone()),
                },
            });
        }
        Ok(match kind {
            InteractionKind::Write => Outcome::Done,
            InteractionKind::QueryRaw => match &recorded.binary {
                Some(raw) => Outcome::Block(raw.clone()),
                // A PyTestLab `query_raw` entry: its stored string, bytes unchanged.
                None => Outcome::Raw(recorded.response.clone().unwrap_or_default().into_bytes()),
            },
            _ => Outcome::Text(recorded.response.clone().unwrap_or_default()),
        })
    }
}
