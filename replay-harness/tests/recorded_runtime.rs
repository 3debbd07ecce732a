//! `#[recorded_test]` and its runtime in-process: the registered tests are run through
//! `run_test_with` against a package root in a temp dir and a small SCPI
//! instrument on loopback TCP, and every outcome is checked.
//!
//! The functions below are `#[ignore]`d so that libtest does not run them on their own;
//! they are still registered, which is what these tests use.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use replay_harness::__private::{TESTS, TestDef};
use replay_harness::__test::{Env, FailureKind, Outcome, RunOptions, run_test_with};
use replay_harness::{Bench, BenchExt, recorded_test};

#[recorded_test(session = "shared/talks.yaml")]
#[ignore = "run by the tests below"]
async fn talks(bench: &Bench) -> replay_harness::TestResult {
    let psu = bench.instrument("psu")?;
    assert!(psu.query("*IDN?").await?.starts_with("ACME"));
    psu.write("VOLT 5").await?;
    psu.query("MEAS:VOLT?").await?;
    Ok(())
}

#[recorded_test(session = "shared/talks.yaml")]
#[ignore = "run by the tests below"]
async fn talks_less(bench: &Bench) -> replay_harness::TestResult {
    bench.instrument("psu")?.query("*IDN?").await?;
    Ok(())
}

#[recorded_test(session = "shared/talks.yaml")]
#[ignore = "run by the tests below"]
async fn talks_then_fails(bench: &Bench) -> replay_harness::TestResult {
    bench.instrument("psu")?.query("*IDN?").await?;
    Err("own failure".into())
}

#[recorded_test(session = "shared/talks.yaml")]
#[ignore = "run by the tests below"]
async fn talks_then_panics(bench: &Bench) {
    let idn = bench
        .instrument("psu")
        .unwrap()
        .query("*IDN?")
        .await
        .unwrap();
    bench.snapshot("idn", &idn);
    panic!("the body panicked");
}

#[recorded_test(session = "shared/talks.yaml")]
#[ignore = "run by the tests below"]
async fn talks_with_snapshot(bench: &Bench) -> replay_harness::TestResult {
    let idn = bench.instrument("psu")?.query("*IDN?").await?;
    bench.snapshot("idn", &idn);
    Ok(())
}

#[recorded_test(session = "shared/talks.yaml")]
#[ignore = "run by the tests below"]
async fn unwraps_a_mismatch(bench: &Bench) {
    let psu = bench.instrument("psu").unwrap();
    psu.query("*IDN?").await.unwrap();
    psu.write("VOLT 9").await.unwrap();
}

#[recorded_test(session = "shared/talks.yaml")]
#[ignore = "run by the tests below"]
async fn sends_another_command(bench: &Bench) -> Result<(), replay_harness::Error> {
    bench.instrument("psu")?.query("*IDN?").await?;
    bench.instrument("psu")?.write("VOLT 3").await?;
    Ok(())
}

/// An error type with `Debug` only: described with `{:#?}`.
#[derive(Debug)]
#[expect(dead_code, reason = "read through Debug only")]
struct Code(u8);

#[recorded_test(session = "shared/talks.yaml")]
#[ignore = "run by the tests below"]
async fn returns_debug_only_error(bench: &Bench) -> Result<(), Code> {
    bench
        .instrument("psu")
        .unwrap()
        .query("*IDN?")
        .await
        .unwrap();
    Err(Code(7))
}

/// A `std::error::Error` with a source: described with `Display` and its causes.
#[recorded_test(session = "shared/talks.yaml")]
#[ignore = "run by the tests below"]
async fn returns_io_error_with_cause(bench: &Bench) -> Result<(), std::io::Error> {
    bench
        .instrument("psu")
        .unwrap()
        .query("*IDN?")
        .await
        .unwrap();
    let cause = std::io::Error::other("disk on fire");
    Err(std::io::Error::other(Wrapped(cause)))
}

#[derive(Debug)]
struct Wrapped(std::io::Error);

impl std::fmt::Display for Wrapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("could not save the trace")
    }
}

impl std::error::Error for Wrapped {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// A one-instrument SCPI server: `*IDN?` and `MEAS:VOLT?` answer, everything else is a
/// write. The reading is whatever `millivolts` holds.
struct Instrument {
    address: String,
    millivolts: Arc<AtomicU32>,
}

fn instrument() -> Instrument {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let millivolts = Arc::new(AtomicU32::new(5000));
    let reading = millivolts.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let reading = reading.clone();
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().unwrap();
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { return };
                    let answer = match line.trim() {
                        "*IDN?" => "ACME,PSU-1,0001,1.0".to_owned(),
                        "MEAS:VOLT?" => {
                            format!("{:.3}", f64::from(reading.load(Ordering::SeqCst)) / 1000.0)
                        }
                        _ => continue,
                    };
                    if writer.write_all(format!("{answer}\n").as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    Instrument {
        address: format!("TCPIP0::127.0.0.1::{port}::SOCKET"),
        millivolts,
    }
}

/// A package root in a temp dir with a `bench.yaml` for `instrument`.
struct Package {
    dir: tempfile::TempDir,
}

impl Package {
    fn new(instrument: &Instrument) -> Package {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("bench.yaml"),
            format!(
                "instruments:\n  psu:\n    address: \"{}\"\n",
                instrument.address
            ),
        )
        .unwrap();
        // Stops the `.config/replay.toml` search here.
        std::fs::write(dir.path().join("Cargo.lock"), "").unwrap();
        Package { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn cassette(&self) -> PathBuf {
        self.root().join("sessions/shared/talks.yaml")
    }

    fn run(&self, name: &str, record: Option<&str>, ci: Option<&str>) -> Outcome {
        self.run_env(
            name,
            Env {
                record: record.map(str::to_owned),
                ci: ci.map(str::to_owned),
                ..Env::default()
            },
        )
    }

    fn run_env(&self, name: &str, env: Env) -> Outcome {
        let mut def: TestDef = *TESTS.iter().find(|t| t.name == name).unwrap();
        def.manifest_dir = Box::leak(self.root().to_str().unwrap().to_owned().into_boxed_str());
        let options = RunOptions {
            env,
            display_base: Some(self.root().to_owned()),
        };
        run_test_with(&def, &options)
    }
}

fn failure(outcome: Outcome) -> (FailureKind, String) {
    match outcome {
        Outcome::Failed { kind, message } => (kind, message),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn registration_describes_the_test() {
    let def = TESTS.iter().find(|t| t.name == "talks").unwrap();
    assert_eq!(def.module_path, "recorded_runtime");
    assert_eq!(def.crate_name, "recorded_runtime");
    assert_eq!(def.package, "replay-harness");
    assert_eq!(def.session, Some("shared/talks.yaml"));
    assert_eq!(def.bench, None);
    assert!(def.file.ends_with("recorded_runtime.rs"), "{}", def.file);
    assert!(def.ignored);
    assert_eq!(def.ignore_reason, Some("run by the tests below"));
    assert_eq!(
        TESTS
            .iter()
            .filter(|t| t.module_path == "recorded_runtime")
            .count(),
        9
    );
}

#[test]
fn record_replay_and_rerecord_with_summary() {
    let inst = instrument();
    let pkg = Package::new(&inst);
    match pkg.run("talks", Some("1"), None) {
        Outcome::Recorded {
            cassette,
            changes,
            summary,
            diff,
            previous,
            session,
            kept,
            waited,
        } => {
            assert!(!kept);
            assert_eq!(waited, None);
            assert_eq!(cassette, Path::new("sessions/shared/talks.yaml"));
            assert_eq!(changes, None);
            assert!(diff.is_none() && previous.is_none());
            assert_eq!(session.len(), 3);
            assert_eq!(
                summary,
                "recorded `sessions/shared/talks.yaml`: 3 interactions on 1 instrument"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(pkg.cassette().exists());
    assert!(matches!(
        pkg.run("talks", None, None),
        Outcome::Replayed { .. }
    ));

    inst.millivolts.store(4200, Ordering::SeqCst);
    match pkg.run("talks", Some("all"), None) {
        Outcome::Recorded {
            changes,
            summary,
            diff,
            previous,
            ..
        } => {
            let changes = changes.expect("a previous cassette");
            // The harness renders this diff; no second read of the cassettes.
            assert_eq!(diff.expect("a diff").summary(), changes);
            assert_eq!(previous.expect("the previous cassette").len(), 3);
            assert!(changes.contains("1 response changed"), "{changes}");
            assert!(
                summary.starts_with("re-recorded `sessions/shared/talks.yaml`: "),
                "{summary}"
            );
        }
        other => panic!("{other:?}"),
    }
    let text = std::fs::read_to_string(pkg.cassette()).unwrap();
    assert!(text.contains("4.200"), "{text}");
}

#[test]
fn an_unchanged_rerecord_keeps_the_committed_bytes() {
    let inst = instrument();
    let pkg = Package::new(&inst);
    assert!(pkg.run("talks", Some("1"), None).passed());
    // A file as committed: same content, other bytes than our writer's (a comment).
    let committed = format!(
        "# committed\n{}",
        std::fs::read_to_string(pkg.cassette()).unwrap()
    );
    std::fs::write(pkg.cassette(), &committed).unwrap();
    match pkg.run("talks", Some("1"), None) {
        Outcome::Recorded { kept, summary, .. } => {
            assert!(kept);
            assert_eq!(
                summary,
                "re-recorded `sessions/shared/talks.yaml`: unchanged, the committed file was kept (REPLAY_REWRITE=1 with RECORD=all rewrites it)"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read_to_string(pkg.cassette()).unwrap(), committed);

    // RECORD=all with REPLAY_REWRITE=1 rewrites it.
    let forced = pkg.run_env(
        "talks",
        Env {
            record: Some("all".into()),
            rewrite: Some("1".into()),
            ..Env::default()
        },
    );
    assert!(
        matches!(forced, Outcome::Recorded { kept: false, .. }),
        "{forced:?}"
    );
    assert!(
        !std::fs::read_to_string(pkg.cassette())
            .unwrap()
            .starts_with("# committed")
    );

    // A changed reading is written, of course.
    std::fs::write(pkg.cassette(), &committed).unwrap();
    inst.millivolts.store(4200, Ordering::SeqCst);
    assert!(matches!(
        pkg.run("talks", Some("1"), None),
        Outcome::Recorded { kept: false, .. }
    ));
    assert!(
        std::fs::read_to_string(pkg.cassette())
            .unwrap()
            .contains("4.200")
    );
}

#[test]
fn rerecord_summary_uses_the_diff_tolerance() {
    let inst = instrument();
    let pkg = Package::new(&inst);
    assert!(pkg.run("talks", Some("1"), None).passed());
    // 5.000 V → 5.004 V: 0.08 %, within the default 0.1 %, beyond 0.01 %.
    inst.millivolts.store(5004, Ordering::SeqCst);
    let rerecord = |tolerance: Option<&str>| {
        pkg.run_env(
            "talks",
            Env {
                record: Some("1".into()),
                tolerance: tolerance.map(str::to_owned),
                ..Env::default()
            },
        )
    };
    let changes = |outcome: Outcome| match outcome {
        Outcome::Recorded {
            changes: Some(changes),
            ..
        } => changes,
        other => panic!("{other:?}"),
    };
    let default = changes(rerecord(None));
    assert!(!default.contains("beyond"), "{default}");
    inst.millivolts.store(5000, Ordering::SeqCst);
    let strict = changes(rerecord(Some("0.0001")));
    assert!(strict.contains("1 drifted beyond 0.01%"), "{strict}");

    let (kind, message) = failure(rerecord(Some("1%")));
    assert_eq!(kind, FailureKind::Setup);
    assert!(
        message.starts_with("invalid value `1%` for `REPLAY_DIFF_TOLERANCE`: expected a relative tolerance such as `0.001`"),
        "{message}"
    );
}

#[test]
fn failed_or_panicking_recording_leaves_the_cassette() {
    let inst = instrument();
    let pkg = Package::new(&inst);
    assert!(pkg.run("talks", Some("1"), None).passed());
    let before = std::fs::read(pkg.cassette()).unwrap();

    let (kind, message) = failure(pkg.run("talks_then_fails", Some("1"), None));
    assert_eq!(kind, FailureKind::Body);
    assert!(message.starts_with("own failure"), "{message}");
    assert!(
        message.contains("the cassette `sessions/shared/talks.yaml` was left untouched"),
        "{message}"
    );
    assert_eq!(std::fs::read(pkg.cassette()).unwrap(), before);

    match pkg.run("talks_then_panics", Some("1"), None) {
        Outcome::Panicked { payload, note, .. } => {
            assert_eq!(
                replay_harness::__test::panic_message(&*payload),
                "the body panicked"
            );
            assert!(note.contains("was left untouched"), "{note}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read(pkg.cassette()).unwrap(), before);
    // ... nor the snapshot it took before panicking.
    let snapshot = pkg.root().join("sessions/shared/talks@idn.snap");
    assert!(!snapshot.exists(), "a failed recording wrote a snapshot");

    assert!(pkg.run("talks_with_snapshot", Some("1"), None).passed());
    let text = std::fs::read_to_string(&snapshot).unwrap();
    assert!(text.ends_with("\"ACME,PSU-1,0001,1.0\"\n"), "{text}");
}

#[test]
fn replay_failures_come_in_order() {
    let inst = instrument();
    let pkg = Package::new(&inst);
    assert!(pkg.run("talks", Some("1"), None).passed());

    // Unused interactions fail a test that otherwise passed ...
    let (kind, message) = failure(pkg.run("talks_less", None, None));
    assert_eq!(kind, FailureKind::Unused);
    assert!(message.contains("MEAS:VOLT?"), "{message}");
    assert!(
        message.contains("RECORD=1 cargo test --test recorded_runtime talks_less -- --exact"),
        "{message}"
    );

    // ... but a test that failed reports its own failure.
    let (kind, message) = failure(pkg.run("talks_then_fails", None, None));
    assert_eq!(kind, FailureKind::Body);
    assert_eq!(message, "own failure");

    // A mismatch is the runtime's full message (Display), ending with the command.
    let (kind, message) = failure(pkg.run("sends_another_command", None, None));
    assert_eq!(kind, FailureKind::Regression);
    assert!(message.starts_with("replay mismatch on `psu`"), "{message}");
    assert!(
        message.trim_end().ends_with(
            "RECORD=1 cargo test --test recorded_runtime sends_another_command -- --exact"
        ),
        "{message}"
    );

    // A mismatch the test unwrapped is a regression too, ending with the command.
    match pkg.run("unwraps_a_mismatch", None, None) {
        Outcome::Panicked {
            note, regression, ..
        } => {
            assert!(regression, "{note}");
            assert!(
                note.ends_with(
                    "RECORD=1 cargo test --test recorded_runtime unwraps_a_mismatch -- --exact"
                ),
                "{note}"
            );
        }
        other => panic!("{other:?}"),
    }
    // ... and a plain panic is not.
    match pkg.run("talks_then_panics", None, None) {
        Outcome::Panicked { regression, .. } => assert!(!regression),
        other => panic!("{other:?}"),
    }
}

#[test]
fn returned_errors_are_described_in_full() {
    let inst = instrument();
    let pkg = Package::new(&inst);
    assert!(pkg.run("talks", Some("1"), None).passed());
    let (_, message) = failure(pkg.run("returns_debug_only_error", None, None));
    assert_eq!(message, "Code(\n    7,\n)");
    let (_, message) = failure(pkg.run("returns_io_error_with_cause", None, None));
    assert_eq!(
        message,
        "could not save the trace\n\ncaused by:\n  - disk on fire"
    );
}

#[test]
fn missing_cassettes_and_modes() {
    let inst = instrument();
    let pkg = Package::new(&inst);
    let (kind, message) = failure(pkg.run("talks", None, None));
    assert_eq!(kind, FailureKind::MissingCassette);
    assert!(
        message.contains("`sessions/shared/talks.yaml` does not exist"),
        "{message}"
    );
    assert!(
        message.contains("    RECORD=1 cargo test --test recorded_runtime talks -- --exact\n"),
        "{message}"
    );
    let (_, message) = failure(pkg.run("talks", Some("0"), Some("true")));
    assert!(message.contains("CI is set"), "{message}");
    // `CI=false` is not CI.
    let (_, message) = failure(pkg.run("talks", None, Some("false")));
    assert!(!message.contains("CI is set"), "{message}");

    let (kind, message) = failure(pkg.run("talks", Some("please"), None));
    assert_eq!(kind, FailureKind::Setup);
    assert!(
        message.starts_with("invalid value `please` for `RECORD`"),
        "{message}"
    );
    assert!(!pkg.cassette().exists());

    // RECORD=missing records what is missing, under CI too, then replays it.
    assert!(matches!(
        pkg.run("talks", Some("missing"), Some("true")),
        Outcome::Recorded { .. }
    ));
    let before = std::fs::read(pkg.cassette()).unwrap();
    assert!(matches!(
        pkg.run("talks", Some("missing"), None),
        Outcome::Replayed { .. }
    ));
    assert_eq!(std::fs::read(pkg.cassette()).unwrap(), before);
}

#[test]
fn recording_without_a_bench_config_says_which_file() {
    let inst = instrument();
    let pkg = Package::new(&inst);
    std::fs::remove_file(pkg.root().join("bench.yaml")).unwrap();
    let (kind, message) = failure(pkg.run("talks", Some("1"), None));
    assert_eq!(kind, FailureKind::Bench);
    assert!(
        message.contains("recording needs the bench config `bench.yaml`"),
        "{message}"
    );
}

#[test]
fn shared_sessions_root_from_config() {
    let inst = instrument();
    let pkg = Package::new(&inst);
    std::fs::create_dir_all(pkg.root().join(".config")).unwrap();
    std::fs::write(
        pkg.root().join(".config/replay.toml"),
        "sessions = \"all-sessions\"\n",
    )
    .unwrap();
    assert!(pkg.run("talks", Some("1"), None).passed());
    assert!(
        pkg.root()
            .join("all-sessions/replay-harness/shared/talks.yaml")
            .exists()
    );

    std::fs::write(pkg.root().join(".config/replay.toml"), "session = \"x\"\n").unwrap();
    let (kind, message) = failure(pkg.run("talks", None, None));
    assert_eq!(kind, FailureKind::Setup);
    assert!(message.contains("unknown field `session`"), "{message}");
}
