//! Running one `#[recorded_test]` end to end: mode, paths, bench, body, verdict.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use replay_core::diff::{DiffOptions, SessionDiff};
use replay_core::session::{self, Session};
use replay_core::{Bench, RecordOptions, ReplayOptions, Timing};
use tracing::Instrument as _;

use super::config::ReplayConfig;
use super::describe::{chain, plural};
use super::lock::{ClaimError, claim_cassette, lock_bench};
use super::mode::{Env, RecordMode, is_ci};
use super::paths::{TestPaths, relative_to};
use super::rules::ReplaySettings;
use crate::registry::{BodyFuture, TestDef};

/// Why a test failed, for a harness that wants to group or colour failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// The environment or a config file is invalid (`RECORD=yes`, a malformed
    /// `.config/replay.toml`, a `session = "…"` that escapes its root).
    Setup,
    /// Replay found no cassette.
    MissingCassette,
    /// The bench could not be opened: unreadable cassette, bad bench config.
    Bench,
    /// The body returned an error (an instrument error, its own check) that is not a
    /// deviation from the cassette.
    Body,
    /// Replay deviated from the cassette (a mismatch), whether the body returned that
    /// error, wrapped it or panicked on it: the behaviour changed since the recording.
    Regression,
    /// The body passed but left recorded interactions unused (replay).
    Unused,
    /// The body passed but the cassette could not be written (record).
    Persist,
}

/// What became of one test.
#[non_exhaustive]
pub enum Outcome {
    /// Replayed from its cassette and passed.
    Replayed {
        /// The cassette, as shown to people.
        cassette: PathBuf,
    },
    /// Recorded against the live bench and passed; the cassette was written.
    Recorded {
        /// The cassette, as shown to people.
        cassette: PathBuf,
        /// What changed against the previous cassette (`None`: there was none).
        changes: Option<String>,
        /// Ready-to-print lines: `recorded `…`: …`.
        summary: String,
        /// The previous cassette against the new one, with `REPLAY_DIFF_TOLERANCE`
        /// (`None`: there was none).
        diff: Option<Box<SessionDiff>>,
        /// The previous cassette (`None`: there was none).
        #[cfg_attr(
            not(feature = "__test"),
            expect(
                dead_code,
                reason = "read through `run_test_with` by the runtime tests only"
            )
        )]
        previous: Option<Box<Session>>,
        /// The session just written.
        #[cfg_attr(
            not(feature = "__test"),
            expect(
                dead_code,
                reason = "read through `run_test_with` by the runtime tests only"
            )
        )]
        session: Box<Session>,
        /// Whether the re-record changed nothing and the committed file was kept byte for
        /// byte.
        kept: bool,
        /// How long the recording waited for another one to release the bench.
        waited: Option<std::time::Duration>,
    },
    /// Failed; `message` is complete and ends with what to do next.
    Failed {
        /// Why.
        kind: FailureKind,
        /// The full message.
        message: String,
    },
    /// The body panicked. The panic hook already printed its message; nothing was written.
    Panicked {
        /// The panic payload, to resume it or describe it.
        payload: Box<dyn Any + Send + 'static>,
        /// What happened to the cassette (`the cassette was not written` …); for a
        /// regression it ends with the re-record command.
        note: String,
        /// Whether replay deviated from the cassette before the panic (a regression).
        regression: bool,
    },
}

impl Outcome {
    /// Whether the test passed (replayed or recorded).
    #[cfg(feature = "__test")]
    pub fn passed(&self) -> bool {
        matches!(self, Outcome::Replayed { .. } | Outcome::Recorded { .. })
    }

    /// The failure message, for a failed or panicked test.
    #[cfg(feature = "__test")]
    pub fn failure_message(&self) -> Option<String> {
        match self {
            Outcome::Failed { message, .. } => Some(message.clone()),
            Outcome::Panicked { payload, note, .. } => {
                Some(format!("test panicked: {}\n{note}", panic_message(payload)))
            }
            _ => None,
        }
    }
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Replayed { cassette } => f
                .debug_struct("Replayed")
                .field("cassette", cassette)
                .finish(),
            Outcome::Recorded {
                cassette, changes, ..
            } => f
                .debug_struct("Recorded")
                .field("cassette", cassette)
                .field("changes", changes)
                .finish_non_exhaustive(),
            Outcome::Failed { kind, message } => f
                .debug_struct("Failed")
                .field("kind", kind)
                .field("message", message)
                .finish(),
            Outcome::Panicked {
                payload,
                note,
                regression,
            } => f
                .debug_struct("Panicked")
                .field("payload", &panic_message(payload))
                .field("note", note)
                .field("regression", regression)
                .finish(),
        }
    }
}

/// The text of a panic payload (`&str` or `String`), or a placeholder.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}

/// How to run a test; [`RunOptions::from_process`] reads the real environment.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// `RECORD`, `CI`, `REPLAY_BENCH`.
    pub env: Env,
    /// Paths in messages are shown relative to this directory when close to it (cargo runs
    /// tests in the package root); `None` shows them absolute.
    pub display_base: Option<PathBuf>,
}

impl RunOptions {
    /// The process environment and current directory.
    pub fn from_process() -> RunOptions {
        RunOptions {
            env: Env::from_process(),
            display_base: std::env::current_dir().ok(),
        }
    }
}

/// Runs one test with an explicit environment on a fresh current-thread tokio runtime.
///
/// Never panics on a test failure: a panic of the body is caught and returned as
/// [`Outcome::Panicked`] so the caller decides how to report it.
///
/// A replay under `timing = "virtual"` runs on a runtime whose clock starts paused;
/// recording never pauses the clock.
pub fn run_test_with(def: &TestDef, options: &RunOptions) -> Outcome {
    // `REPLAY_LOG`: the subscriber is installed before anything can fail.
    match super::parse_log_level(options.env.log.as_deref()) {
        Ok(Some(level)) => super::log::install(level),
        Ok(None) => {}
        Err(message) => {
            return Outcome::Failed {
                kind: FailureKind::Setup,
                message,
            };
        }
    }
    let prepared = match prepare(def, options) {
        Ok(prepared) => prepared,
        Err(outcome) => return outcome,
    };
    let mut builder = tokio::runtime::Builder::new_current_thread();
    builder.enable_all();
    if !prepared.records && prepared.settings.timing == Timing::Virtual {
        builder.start_paused(true);
    }
    let runtime = match builder.build() {
        Ok(rt) => rt,
        Err(e) => {
            return Outcome::Failed {
                kind: FailureKind::Setup,
                message: format!("failed to start the tokio runtime for the test: {e}"),
            };
        }
    };
    runtime.block_on(run_async(def, options, prepared))
}

/// Runs one test inside a `test` span.
async fn run_async(def: &TestDef, options: &RunOptions, prepared: Prepared) -> Outcome {
    let span = tracing::info_span!("test", name = %def.test_name());
    let outcome = execute(def, options, prepared)
        .instrument(span.clone())
        .await;
    span.in_scope(|| match &outcome {
        Outcome::Replayed { .. } => tracing::info!("replayed"),
        Outcome::Recorded { .. } => tracing::info!("recorded"),
        Outcome::Failed { kind, .. } => tracing::info!(?kind, "failed"),
        Outcome::Panicked { .. } => tracing::info!("panicked"),
    });
    outcome
}

/// What is decided before the runtime starts.
struct Prepared {
    records: bool,
    /// `REPLAY_REWRITE` with `RECORD=1`: rewrite cassettes that did not change.
    rewrite: bool,
    exists: bool,
    tolerance: f64,
    paths: TestPaths,
    config: Option<ReplayConfig>,
    settings: ReplaySettings,
}

fn prepare(def: &TestDef, options: &RunOptions) -> Result<Prepared, Outcome> {
    let setup = |message: String| Outcome::Failed {
        kind: FailureKind::Setup,
        message,
    };
    let mode = RecordMode::parse(options.env.record.as_deref()).map_err(setup)?;
    let tolerance = options.env.diff_tolerance().map_err(setup)?;
    let config = ReplayConfig::find(Path::new(def.manifest_dir))
        .map_err(|message| setup(format!("{message}\n  test: {}", location(def))))?;
    let paths = TestPaths::resolve_with(def, &options.env, config.as_ref())
        .map_err(|message| setup(format!("{message}\n  test: {}", location(def))))?;
    let settings = ReplaySettings::resolve(&def.rules, config.as_ref(), &options.env)
        .map_err(|message| setup(format!("{message}\n  test: {}", location(def))))?;
    let exists = paths.cassette.exists();
    let records = mode.records(exists);
    let rewrite = records && options.env.rewrite().map_err(setup)? && mode == RecordMode::All;
    Ok(Prepared {
        records,
        rewrite,
        exists,
        tolerance,
        paths,
        config,
        settings,
    })
}

async fn execute(def: &TestDef, options: &RunOptions, prepared: Prepared) -> Outcome {
    let Prepared {
        records,
        rewrite,
        exists,
        tolerance,
        paths,
        config,
        settings,
    } = prepared;
    let show = |p: &Path| match &options.display_base {
        Some(base) => relative_to(p, base),
        None => p.to_owned(),
    };
    let cassette = show(&paths.cassette);
    tracing::info!(
        mode = if records { "record" } else { "replay" },
        cassette = %cassette.display(),
        timing = %settings.timing,
        "start"
    );

    if records {
        let diff_options = DiffOptions {
            tolerance,
            ..DiffOptions::default()
        };
        // `.config/replay.toml`'s redaction rules and secrets apply to every instrument.
        let record_options = match config {
            Some(config) => RecordOptions::default()
                .redact(config.redact)
                .secrets(config.secrets),
            None => RecordOptions::default(),
        };
        let shown = Shown {
            cassette,
            bench: show(&paths.bench),
        };
        record(
            def,
            &paths,
            shown,
            exists,
            rewrite,
            &diff_options,
            record_options,
        )
        .await
    } else if !exists {
        Outcome::Failed {
            kind: FailureKind::MissingCassette,
            message: missing_message(&cassette, &paths.rerecord, is_ci(options.env.ci.as_deref())),
        }
    } else {
        replay(def, &paths, cassette, settings).await
    }
}

fn location(def: &TestDef) -> String {
    format!("{} ({}:{})", def.test_name(), def.file, def.line)
}

fn missing_message(cassette: &Path, rerecord: &str, ci: bool) -> String {
    let mut message = format!(
        "no cassette for this test: `{}` does not exist\n",
        cassette.display()
    );
    if ci {
        message.push_str(
            "CI is set, so nothing is recorded implicitly; record it on the bench and commit it:\n",
        );
    } else {
        message.push_str("record it on the bench (then commit it):\n");
    }
    message.push_str(&format!("    {rerecord}\n"));
    message
        .push_str("or record every test that has no cassette yet:\n    RECORD=missing cargo test");
    message
}

async fn replay(
    def: &TestDef,
    paths: &TestPaths,
    cassette: PathBuf,
    settings: ReplaySettings,
) -> Outcome {
    let options = ReplayOptions::default()
        .rerecord_command(paths.rerecord.clone())
        .rules(settings.test)
        .default_rules(settings.workspace)
        .timing(settings.timing)
        .speed(settings.speed);
    // Read the absolute path; reports name the cassette as people see it.
    let path = paths.cassette.clone();
    let session =
        match tokio::task::spawn_blocking(move || session::read_session(path).map_err(Box::new))
            .await
        {
            Ok(Ok(session)) => session,
            Ok(Err(e)) => {
                return Outcome::Failed {
                    kind: FailureKind::Bench,
                    message: chain(&e),
                };
            }
            Err(join) => std::panic::resume_unwind(join.into_panic()),
        };
    let bench = Bench::replay_session(&cassette, session, options);
    let result = run_body(def, &bench).await;
    // A deviation the body returned, wrapped, swallowed or unwrapped: a regression, and
    // its message always ends with how to re-record.
    let regression = bench.first_deviation().is_some();
    let rerecord = |text: String| {
        if text.trim_end().ends_with(&paths.rerecord) {
            text
        } else {
            format!(
                "{}\nthe test deviated from its cassette; if the new behaviour is intended, re-record it on the bench:\n    {}",
                text.trim_end(),
                paths.rerecord
            )
        }
    };
    match result {
        Err(payload) => {
            let note = format!("replayed from `{}`", cassette.display());
            Outcome::Panicked {
                payload,
                note: if regression { rerecord(note) } else { note },
                regression,
            }
        }
        Ok(Err(message)) if regression => Outcome::Failed {
            kind: FailureKind::Regression,
            message: rerecord(message),
        },
        Ok(Err(message)) => Outcome::Failed {
            kind: FailureKind::Body,
            message,
        },
        Ok(Ok(())) => match bench.finish().await {
            Ok(()) => Outcome::Replayed { cassette },
            Err(e) => Outcome::Failed {
                kind: FailureKind::Unused,
                message: chain(&e),
            },
        },
    }
}

/// Paths as shown to people.
struct Shown {
    cassette: PathBuf,
    bench: PathBuf,
}

async fn record(
    def: &TestDef,
    paths: &TestPaths,
    shown: Shown,
    existed: bool,
    rewrite: bool,
    diff_options: &DiffOptions,
    record_options: RecordOptions,
) -> Outcome {
    let Shown {
        cassette,
        bench: bench_shown,
    } = shown;
    let not_written = if existed {
        format!("the cassette `{}` was left untouched", cassette.display())
    } else {
        format!("no cassette was written to `{}`", cassette.display())
    };
    let test_name = def.test_name();
    // One recording per cassette: claimed before waiting for the bench, so a second test
    // recording the same file fails at once instead of replacing the first one's recording.
    let _claim = match claim_cassette(&paths.cassette, &test_name) {
        Ok(claim) => claim,
        Err(ClaimError::Claimed(holder)) => {
            return Outcome::Failed {
                kind: FailureKind::Setup,
                message: format!(
                    "two tests record the cassette `{}` at once: `{test_name}` and {}; one would replace the other's recording, so `{test_name}` did not record\ngive each test its own cassette (`#[recorded_test(session = \"…\")]`), or record them one at a time:\n    {}",
                    cassette.display(),
                    holder.as_deref().unwrap_or("another test"),
                    paths.rerecord
                ),
            };
        }
        Err(ClaimError::Io(message)) => {
            return Outcome::Failed {
                kind: FailureKind::Setup,
                message,
            };
        }
    };
    // One recording at a time per bench, across threads and processes.
    let lock = match lock_bench(&paths.bench, |_| {
        print_uncaptured(&format!(
            "replay: `{test_name}` waits for the bench `{}`: another test is recording on it",
            bench_shown.display()
        ))
    })
    .await
    {
        Ok(lock) => lock,
        Err(message) => {
            return Outcome::Failed {
                kind: FailureKind::Bench,
                message,
            };
        }
    };
    let bench = match Bench::record_with(&paths.bench, &paths.cassette, record_options).await {
        Ok(bench) => bench,
        Err(e) => {
            return Outcome::Failed {
                kind: FailureKind::Bench,
                message: format!(
                    "{}\n\nrecording needs the bench config `{}`",
                    chain(&e),
                    bench_shown.display()
                ),
            };
        }
    };
    // Read the previous cassette before the new one replaces it, to show the drift and to
    // keep it byte for byte when nothing changed.
    let previous = if existed {
        let path = paths.cassette.clone();
        tokio::task::spawn_blocking(move || {
            let bytes = std::fs::read(&path).ok()?;
            let text = String::from_utf8(bytes.clone()).ok()?;
            let session = session::parse_session(&path, &text).ok()?;
            Some((bytes, session))
        })
        .await
        .ok()
        .flatten()
    } else {
        None
    };
    crate::harness::snapshot::discard_recorded();
    let result = run_body(def, &bench).await;
    if !matches!(result, Ok(Ok(()))) {
        // Snapshots belong to the cassette: a failed recording writes neither.
        crate::harness::snapshot::discard_recorded();
    }
    match result {
        Err(payload) => Outcome::Panicked {
            payload,
            note: format!("recording: {not_written}"),
            regression: false,
        },
        Ok(Err(message)) => Outcome::Failed {
            kind: FailureKind::Body,
            message: format!("{message}\n\nrecording failed: {not_written}"),
        },
        Ok(Ok(())) => {
            let new = bench.session();
            if let Err(e) = bench.finish().await {
                crate::harness::snapshot::discard_recorded();
                return Outcome::Failed {
                    kind: FailureKind::Persist,
                    message: chain(&e),
                };
            }
            let diff = previous
                .as_ref()
                .map(|(_, old)| Box::new(SessionDiff::compute(old, &new, diff_options)));
            // Nothing changed (timestamps within the jitter tolerance): keep the committed
            // bytes, so `git status` stays clean.
            let kept = match (&previous, &diff) {
                (Some((bytes, old)), Some(diff))
                    if !rewrite && diff.is_empty() && timestamps_within_jitter(old, &new) =>
                {
                    let path = paths.cassette.clone();
                    let bytes = bytes.clone();
                    let restored = tokio::task::spawn_blocking(move || {
                        replay_support::fs::write_atomic(&path, &bytes)
                    })
                    .await;
                    match restored {
                        Ok(Ok(())) => true,
                        Ok(Err(e)) => {
                            return Outcome::Failed {
                                kind: FailureKind::Persist,
                                message: format!(
                                    "could not keep the unchanged cassette `{}`: {e}",
                                    cassette.display()
                                ),
                            };
                        }
                        Err(join) => std::panic::resume_unwind(join.into_panic()),
                    }
                }
                _ => false,
            };
            if let Err(message) = crate::harness::snapshot::write_recorded() {
                return Outcome::Failed {
                    kind: FailureKind::Persist,
                    message: format!(
                        "{message}\n\nthe cassette `{}` was written, its snapshots were not",
                        cassette.display()
                    ),
                };
            }
            let changes = diff.as_ref().map(|diff| diff.summary());
            let mut summary = match &changes {
                Some(_) if kept => format!(
                    "re-recorded `{}`: unchanged, the committed file was kept (REPLAY_REWRITE=1 with RECORD=all rewrites it)",
                    cassette.display()
                ),
                Some(changes) => format!("re-recorded `{}`: {changes}", cassette.display()),
                None => format!(
                    "recorded `{}`: {} on {}",
                    cassette.display(),
                    plural(new.len(), "interaction", "interactions"),
                    plural(new.instruments.len(), "instrument", "instruments"),
                ),
            };
            if let Some(waited) = lock.waited {
                summary.push_str(&format!(
                    " (waited {:.1} s for the bench)",
                    waited.as_secs_f64()
                ));
            }
            Outcome::Recorded {
                cassette,
                changes,
                summary,
                diff,
                kept,
                waited: lock.waited,
                previous: previous.map(|(_, old)| Box::new(old)),
                session: Box::new(new),
            }
        }
    }
}

/// How far a re-recorded timestamp may move and still count as unchanged: 0.25 s plus 25 %
/// of the recorded time since the session started (a bench never answers at exactly the
/// same microsecond twice).
pub const TIMESTAMP_JITTER: (f64, f64) = (0.25, 0.25);

/// Whether every interaction of `new` happened at about the time it did in `old`
/// ([`TIMESTAMP_JITTER`]); the logs are assumed aligned one to one (an empty semantic diff).
fn timestamps_within_jitter(old: &Session, new: &Session) -> bool {
    let (absolute, relative) = TIMESTAMP_JITTER;
    old.instruments.iter().all(|(alias, log)| {
        let Some(other) = new.instrument(alias) else {
            return false;
        };
        log.log.len() == other.log.len()
            && log.log.iter().zip(&other.log).all(|(a, b)| {
                (a.timestamp - b.timestamp).abs() <= absolute + relative * a.timestamp.abs()
            })
    })
}

/// Runs the body, catching a panic so the caller can decide about the cassette first.
async fn run_body(
    def: &TestDef,
    bench: &Bench,
) -> Result<Result<(), String>, Box<dyn Any + Send + 'static>> {
    let future = match catch_unwind(AssertUnwindSafe(|| (def.body)(bench))) {
        Ok(future) => future,
        Err(payload) => return Err(payload),
    };
    CatchUnwind(future).await
}

/// A future that turns a panic while polling into `Err(payload)`.
struct CatchUnwind<'a>(BodyFuture<'a>);

impl Future for CatchUnwind<'_> {
    type Output = Result<Result<(), String>, Box<dyn Any + Send + 'static>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let future = self.get_mut().0.as_mut();
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(result)) => Poll::Ready(Ok(result)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

/// What the `#[test]` wrapper does with an outcome: print the recording summary past
/// libtest's capture, panic with the failure message, or resume the body's panic.
///
/// `#[track_caller]`: the panic names the user's test (the `#[test]` the attribute
/// generated), never a line of this library; the message is the whole report.
#[track_caller]
pub fn run_as_libtest(def: &TestDef) {
    let options = RunOptions::from_process();
    let outcome = run_test_with(def, &options);
    if std::env::var_os("GITHUB_STEP_SUMMARY").is_some_and(|p| !p.is_empty()) {
        let paths = TestPaths::resolve(def, &options.env).ok();
        let show = |p: &Path| match &options.display_base {
            Some(base) => relative_to(p, base).display().to_string(),
            None => p.display().to_string(),
        };
        let rerecord = paths.as_ref().map(|p| p.rerecord.clone());
        let cassette = paths.as_ref().map(|p| show(&p.cassette));
        let mut tally = super::collect::Tally::default();
        tally.note(
            &def.test_name(),
            &outcome,
            rerecord.as_deref().unwrap_or_default(),
            cassette.as_deref().unwrap_or_default(),
            &[],
        );
        super::summary::publish_to_github(&tally);
    }
    match outcome {
        Outcome::Replayed { .. } => {}
        Outcome::Recorded { summary, .. } => {
            // With one test thread libtest has printed `test name ... ` and waits for the
            // verdict: start on a line of our own.
            let lead = if libtest_runs_serially() { "\n" } else { "" };
            print_uncaptured(&format!("{lead}replay: {summary}"));
        }
        Outcome::Failed { message, .. } => panic!("{message}"),
        Outcome::Panicked { payload, note, .. } => {
            eprintln!("{note}");
            std::panic::resume_unwind(payload)
        }
    }
}

/// Whether libtest runs one test at a time (`--test-threads=1`, `RUST_TEST_THREADS=1`, a
/// single CPU), printing `test name ... ` before each test rather than a whole line after.
fn libtest_runs_serially() -> bool {
    let mut args = std::env::args();
    while let Some(arg) = args.next() {
        if arg == "--test-threads" {
            return args.next().as_deref() == Some("1");
        }
        if let Some(n) = arg.strip_prefix("--test-threads=") {
            return n == "1";
        }
    }
    if let Ok(n) = std::env::var("RUST_TEST_THREADS") {
        return n.trim() == "1";
    }
    std::thread::available_parallelism().is_ok_and(|n| n.get() == 1)
}

/// Writes one block to stderr directly: libtest captures `print!`/`eprint!` of passing
/// tests, but a bench engineer must see what a re-record changed.
fn print_uncaptured(text: &str) {
    use std::io::Write as _;
    let mut stderr = std::io::stderr().lock();
    // Best effort: a closed stderr must not fail a test that passed.
    let _ = writeln!(stderr, "{text}");
}
