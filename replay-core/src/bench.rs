//! The bench: the set of instruments a test talks to, recording or replaying.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::config::BenchConfig;
use crate::error::{Error, Result};
use crate::instrument::{Backend, Instrument};
use crate::recorder::{LiveInstrument, RecordOptions, Recorder, Route};
use crate::replayer::{ReplayInstrument, ReplayOptions, Replayer};
use crate::report::MismatchReport;
use crate::session::{self, Session};
use replay_support::sync::lock;

/// Whether a bench talks to live instruments or replays a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Live instruments, every exchange recorded.
    Record,
    /// Answers come from the session file; deviations are errors.
    Replay,
}

/// The instruments of one test run, recording or replaying one session file.
///
/// ```no_run
/// # async fn demo() -> replay_core::Result<()> {
/// use replay_core::Bench;
/// let bench = Bench::replay("sessions/psu.yaml").await?;
/// let psu = bench.instrument("psu")?;
/// assert!(psu.query("*IDN?").await?.starts_with("Keysight"));
/// bench.finish().await?; // fails if recorded interactions were never replayed
/// # Ok(()) }
/// ```
pub struct Bench {
    session_path: PathBuf,
    finished: Arc<AtomicBool>,
    instruments: Mutex<HashMap<String, Instrument>>,
    state: State,
}

enum State {
    Record {
        recorder: Arc<Recorder>,
        options: Mutex<RecordOptions>,
    },
    Replay(Arc<Replayer>),
}

impl std::fmt::Debug for Bench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bench")
            .field("mode", &self.mode())
            .field("session", &self.session_path)
            .finish()
    }
}

impl Bench {
    /// Records against the live instruments of `bench_config`; [`Bench::finish`] writes the
    /// session to `session_path` (atomically).
    ///
    /// Nothing is connected until an instrument is first used; addresses are validated now.
    pub async fn record(
        bench_config: impl AsRef<Path>,
        session_path: impl AsRef<Path>,
    ) -> Result<Bench> {
        Bench::record_with(bench_config, session_path, RecordOptions::default()).await
    }

    /// [`Bench::record`] with custom transports or connectors.
    pub async fn record_with(
        bench_config: impl AsRef<Path>,
        session_path: impl AsRef<Path>,
        options: RecordOptions,
    ) -> Result<Bench> {
        // Off the runtime thread: a bench config on a slow or network file system must not
        // stall the other tasks of a current-thread runtime (every `#[recorded_test]`'s).
        let path = bench_config.as_ref().to_owned();
        let config = tokio::task::spawn_blocking(move || BenchConfig::load(path))
            .await
            .unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()))?;
        Bench::record_config(config, session_path, options)
    }

    /// Records against an already loaded bench config.
    pub fn record_config(
        config: BenchConfig,
        session_path: impl AsRef<Path>,
        options: RecordOptions,
    ) -> Result<Bench> {
        for name in &options.secrets {
            crate::safety::check_secret_name(name)
                .map_err(|message| Error::InvalidSecretName { message })?;
        }
        // Validate every address up front: a typo fails before any instrument is touched.
        let base = config.path.parent();
        for (alias, inst) in &config.instruments {
            Route::of(alias, inst, base, &options)?;
        }
        Ok(Bench {
            session_path: session_path.as_ref().to_owned(),
            finished: Arc::new(AtomicBool::new(false)),
            instruments: Mutex::new(HashMap::new()),
            state: State::Record {
                recorder: Arc::new(Recorder::new(config)),
                options: Mutex::new(options),
            },
        })
    }

    /// Replays the session at `session_path`.
    pub async fn replay(session_path: impl AsRef<Path>) -> Result<Bench> {
        Bench::replay_with(session_path, ReplayOptions::default()).await
    }

    /// [`Bench::replay`] with a re-record command for reports, or another matcher.
    pub async fn replay_with(
        session_path: impl AsRef<Path>,
        options: ReplayOptions,
    ) -> Result<Bench> {
        let path = session_path.as_ref().to_owned();
        let reader_path = path.clone();
        let session = tokio::task::spawn_blocking(move || session::read_session(reader_path))
            .await
            .unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()))?;
        Ok(Bench::replay_session(path, session, options))
    }

    /// Replays an already loaded session; `session_path` is used in reports.
    pub fn replay_session(
        session_path: impl AsRef<Path>,
        session: Session,
        options: ReplayOptions,
    ) -> Bench {
        let path = session_path.as_ref().to_owned();
        Bench {
            session_path: path.clone(),
            finished: Arc::new(AtomicBool::new(false)),
            instruments: Mutex::new(HashMap::new()),
            state: State::Replay(Arc::new(Replayer::new(path, session, options))),
        }
    }

    /// Whether this bench records or replays.
    pub fn mode(&self) -> Mode {
        match self.state {
            State::Record { .. } => Mode::Record,
            State::Replay(_) => Mode::Replay,
        }
    }

    /// The first replay mismatch of this bench, whether or not the test returned that
    /// error: a harness tells a regression from other failures with it. Always `None` when
    /// recording.
    pub fn first_deviation(&self) -> Option<&MismatchReport> {
        match &self.state {
            State::Record { .. } => None,
            State::Replay(replayer) => replayer.first_deviation.get(),
        }
    }

    /// The session file this bench writes or reads.
    pub fn session_path(&self) -> &Path {
        &self.session_path
    }

    /// The instrument called `alias` in the bench config (record) or the session (replay).
    ///
    /// Every call for one alias returns a handle to the same instrument.
    pub fn instrument(&self, alias: &str) -> Result<Instrument> {
        let mut instruments = lock(&self.instruments);
        if let Some(inst) = instruments.get(alias) {
            return Ok(inst.clone());
        }
        let backend = match &self.state {
            State::Record { recorder, options } => Backend::Live(Box::new(LiveInstrument::new(
                alias,
                recorder.clone(),
                self.session_path.clone(),
                &mut lock(options),
            )?)),
            State::Replay(replayer) => Backend::Replay(ReplayInstrument::new(
                alias,
                replayer.clone(),
                self.finished.clone(),
            )?),
        };
        let inst = Instrument::new(alias, backend);
        instruments.insert(alias.to_owned(), inst.clone());
        Ok(inst)
    }

    /// The session recorded so far (record mode), or the session being replayed.
    pub fn session(&self) -> Session {
        match &self.state {
            State::Record { recorder, .. } => recorder.session(),
            State::Replay(replayer) => replayer.session.clone(),
        }
    }

    /// Ends the run. Safe to call more than once.
    ///
    /// - **record**: waits for exchanges still in flight (a spawned task talking to an
    ///   instrument) to complete, then writes the session atomically (a temp file in the same
    ///   directory, then a rename; an identical file is left untouched), every completed
    ///   exchange included. Instruments cannot be used after: a later exchange fails with
    ///   [`Error::Finished`].
    /// - **replay**: fails when recorded interactions were never replayed, listing the
    ///   first few.
    pub async fn finish(&self) -> Result<()> {
        match &self.state {
            State::Record { recorder, .. } => {
                let session = recorder.close().await;
                if self.finished.load(Ordering::SeqCst) {
                    return Ok(());
                }
                let path = self.session_path.clone();
                // A declared secret's value never reaches the file; the old one stays.
                crate::safety::check_no_secret(&path, &session)?;
                tokio::task::spawn_blocking(move || session::write_session(path, &session))
                    .await
                    .unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()))?;
                self.finished.store(true, Ordering::SeqCst);
                Ok(())
            }
            State::Replay(replayer) => {
                self.finished.store(true, Ordering::SeqCst);
                match replayer.unused() {
                    Some(report) => Err(Error::Unused(Box::new(report))),
                    None => Ok(()),
                }
            }
        }
    }
}
