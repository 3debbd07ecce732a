//! Record and replay through a user-supplied `Transport` (the plug-in path for VISA, USBTMC
//! or vendor libraries), and the replay rules that do not need a network.
//! The same flows over real TCP against the simulated bench are in the workspace `tests/` crate.

use std::collections::VecDeque;
use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use replay_core::session::{InteractionKind, RecordedErrorKind, read_session};
use replay_core::transport::BoxFuture;
use replay_core::{Bench, BenchConfig, Error, RecordOptions, ReplayOptions, Transport};

/// A scripted instrument: answers queries from a table; `HANG?` never answers; `DROP` fails.
/// It can clear an abandoned exchange, so the recorder keeps it after a timeout.
struct Scripted {
    answers: Vec<(&'static str, Vec<u8>)>,
    pending: VecDeque<Vec<u8>>,
    sent: Arc<Mutex<Vec<String>>>,
}

impl Scripted {
    fn new(sent: Arc<Mutex<Vec<String>>>) -> Scripted {
        Scripted {
            answers: vec![
                ("*IDN?", b"ACME,PSU-1,0001,1.0".to_vec()),
                ("MEAS:VOLT?", b"+4.99918100E+00".to_vec()),
                (
                    ":WAV:DATA?",
                    replay_core::transport::encode_block(&(0..=255u8).collect::<Vec<_>>()),
                ),
            ],
            pending: VecDeque::new(),
            sent,
        }
    }
}

impl Transport for Scripted {
    fn send<'a>(&'a mut self, command: &'a str) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            self.sent.lock().unwrap().push(command.to_owned());
            if command == "DROP" {
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "connection reset by peer",
                ));
            }
            if let Some((_, answer)) = self.answers.iter().find(|(q, _)| *q == command) {
                self.pending.push_back(answer.clone());
            }
            Ok(())
        })
    }

    fn receive(&mut self) -> BoxFuture<'_, io::Result<Vec<u8>>> {
        Box::pin(async move {
            match self.pending.pop_front() {
                Some(answer) => Ok(answer),
                None => std::future::pending().await,
            }
        })
    }

    fn receive_block(&mut self) -> BoxFuture<'_, io::Result<Vec<u8>>> {
        self.receive()
    }

    fn clear(&mut self) -> BoxFuture<'_, io::Result<()>> {
        Box::pin(async move {
            self.pending.clear();
            self.sent.lock().unwrap().push("<clear>".to_owned());
            Ok(())
        })
    }
}

fn config(dir: &Path) -> BenchConfig {
    BenchConfig::parse(
        dir.join("bench.yaml"),
        "instruments:\n  psu:\n    address: USB0::0x1234::0x5678::SN1::INSTR\n    profile: acme/psu-1\n    timeout: 0.2\n  dmm:\n    address: USB0::0x1234::0x9999::SN2::INSTR\n",
    )
    .unwrap()
}

async fn record(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("sessions/run.yaml");
    let sent = Arc::new(Mutex::new(Vec::new()));
    let options = RecordOptions::default()
        .transport("psu", Scripted::new(sent.clone()))
        .connector("USB", |_, _| {
            Box::pin(async { Err(io::Error::other("not used")) })
        });
    let bench = Bench::record_config(config(dir), &path, options).unwrap();
    let psu = bench.instrument("psu").unwrap();
    assert_eq!(psu.query("*IDN?").await.unwrap(), "ACME,PSU-1,0001,1.0");
    psu.write("VOLT 5.0, (@1)").await.unwrap();
    assert_eq!(psu.query("MEAS:VOLT?").await.unwrap(), "+4.99918100E+00");
    let block = psu.query_binary(":WAV:DATA?").await.unwrap();
    assert_eq!(block, (0..=255u8).collect::<Vec<_>>());
    let err = psu.query("HANG?").await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                recorded: false,
                ..
            }
        ),
        "{err}"
    );
    let err = psu.write("DROP").await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Io {
                recorded: false,
                ..
            }
        ),
        "{err}"
    );
    assert!(!path.exists(), "nothing is written before finish()");
    bench.finish().await.unwrap();
    bench.finish().await.unwrap();
    assert_eq!(
        *sent.lock().unwrap(),
        [
            "*IDN?",
            "VOLT 5.0, (@1)",
            "MEAS:VOLT?",
            ":WAV:DATA?",
            "HANG?",
            "<clear>",
            "DROP"
        ]
    );
    path
}

#[tokio::test]
async fn records_everything_and_replays_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = record(dir.path()).await;

    let session = read_session(&path).unwrap();
    let aliases: Vec<_> = session.aliases().collect();
    assert_eq!(
        aliases,
        ["psu"],
        "only instruments that were used are written"
    );
    let psu = session.instrument("psu").unwrap();
    assert_eq!(psu.profile.as_deref(), Some("acme/psu-1"));
    let kinds: Vec<_> = psu.log.iter().map(|i| i.kind.clone()).collect();
    use InteractionKind::*;
    assert_eq!(kinds, [Query, Write, Query, QueryRaw, Query, Write]);
    let stamps: Vec<f64> = psu.log.iter().map(|i| i.timestamp).collect();
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "{stamps:?}");
    assert_eq!(
        psu.log[4].error.as_ref().unwrap().kind,
        RecordedErrorKind::Timeout
    );
    assert_eq!(
        psu.log[5].error.as_ref().unwrap().kind,
        RecordedErrorKind::Io
    );
    let raw = psu.log[3].binary.as_ref().unwrap();
    assert!(raw.starts_with(b"#3256"));

    // Offline: no transport at all.
    let bench = Bench::replay(&path).await.unwrap();
    let psu = bench.instrument("psu").unwrap();
    assert_eq!(psu.profile(), Some("acme/psu-1"));
    assert_eq!(psu.query("*IDN?").await.unwrap(), "ACME,PSU-1,0001,1.0");
    psu.write("VOLT 5.0, (@1)").await.unwrap();
    assert_eq!(psu.query("MEAS:VOLT?").await.unwrap(), "+4.99918100E+00");
    assert_eq!(
        psu.query_binary(":WAV:DATA?").await.unwrap(),
        (0..=255u8).collect::<Vec<_>>()
    );
    match psu.query("HANG?").await.unwrap_err() {
        Error::Timeout {
            recorded, after, ..
        } => {
            assert!(recorded);
            assert_eq!(after, Some(Duration::from_millis(200)));
        }
        other => panic!("expected the recorded timeout, got {other}"),
    }
    match psu.write("DROP").await.unwrap_err() {
        Error::Io {
            recorded, source, ..
        } => {
            assert!(recorded);
            assert!(source.to_string().contains("connection reset"), "{source}");
        }
        other => panic!("expected the recorded i/o error, got {other}"),
    }
    bench.finish().await.unwrap();
    let err = psu.query("*IDN?").await.unwrap_err();
    assert!(matches!(err, Error::Finished { .. }), "{err}");
}

#[tokio::test]
async fn deviations_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = record(dir.path()).await;
    let options =
        || ReplayOptions::default().rerecord_command("RECORD=1 cargo test --test bench psu_run");

    // A changed command: mismatch at #2, with the command to re-record.
    let bench = Bench::replay_with(&path, options()).await.unwrap();
    let psu = bench.instrument("psu").unwrap();
    psu.query("*IDN?").await.unwrap();
    let err = psu.write("VOLT 3.0, (@1)").await.unwrap_err();
    assert!(err.is_mismatch());
    let msg = err.to_string();
    assert!(
        msg.starts_with("replay mismatch on `psu` at interaction #2 of 6"),
        "{msg}"
    );
    assert!(msg.contains("│- write  VOLT 5.0, (@1)"), "{msg}");
    assert!(msg.contains("│+ write  VOLT 3.0, (@1)"), "{msg}");
    assert!(
        msg.ends_with("    RECORD=1 cargo test --test bench psu_run"),
        "{msg}"
    );
    assert_eq!(format!("{err:?}"), msg, "Debug prints the same message");

    // The type must match too.
    let bench = Bench::replay_with(&path, options()).await.unwrap();
    let psu = bench.instrument("psu").unwrap();
    let err = psu.write("*IDN?").await.unwrap_err().to_string();
    assert!(
        err.contains("the test made a write of `*IDN?` where the session recorded a query"),
        "{err}"
    );

    // Missing interactions: finish() lists what was never replayed.
    let bench = Bench::replay_with(&path, options()).await.unwrap();
    let psu = bench.instrument("psu").unwrap();
    psu.query("*IDN?").await.unwrap();
    let err = bench.finish().await.unwrap_err().to_string();
    assert!(
        err.starts_with("5 recorded interactions were never replayed"),
        "{err}"
    );
    assert!(
        err.lines()
            .any(|l| l.contains("│- psu write") && l.ends_with("VOLT 5.0, (@1)")),
        "{err}"
    );
    assert!(err.contains("`psu` stopped at #1 of 6"), "{err}");
    assert_eq!(
        bench.finish().await.unwrap_err().to_string(),
        err,
        "finish() is idempotent"
    );

    // An extra interaction past the end.
    let bench = Bench::replay_with(&path, options()).await.unwrap();
    let psu = bench.instrument("psu").unwrap();
    psu.query("*IDN?").await.unwrap();
    psu.write("VOLT 5.0, (@1)").await.unwrap();
    psu.query("MEAS:VOLT?").await.unwrap();
    psu.query_binary(":WAV:DATA?").await.unwrap();
    psu.query("HANG?").await.unwrap_err();
    psu.write("DROP").await.unwrap_err();
    let err = psu.write("OUTP OFF").await.unwrap_err().to_string();
    assert!(err.starts_with("replay ran past the end of `psu`'s log: the test made interaction #7, the session recorded 6"), "{err}");
    bench.finish().await.unwrap();

    // An instrument the session never recorded.
    let bench = Bench::replay_with(&path, options()).await.unwrap();
    let err = bench.instrument("dmm").unwrap_err().to_string();
    assert!(err.contains("unknown instrument `dmm`"), "{err}");
    assert!(err.contains("has `psu`"), "{err}");
    assert!(
        err.contains("RECORD=1 cargo test --test bench psu_run"),
        "{err}"
    );
}

#[tokio::test]
async fn instruments_are_shared_across_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let path = record(dir.path()).await;
    let bench = Bench::replay(&path).await.unwrap();
    let psu = bench.instrument("psu").unwrap();
    let again = bench.instrument("psu").unwrap();
    let task = tokio::spawn(async move { again.query("*IDN?").await.unwrap() });
    assert_eq!(task.await.unwrap(), "ACME,PSU-1,0001,1.0");
    // The clone advanced the shared cursor: the next interaction is the write.
    psu.write("VOLT 5.0, (@1)").await.unwrap();
}

#[tokio::test]
async fn record_rejects_bad_config() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = BenchConfig::parse(
        dir.path().join("bench.yaml"),
        "instruments:\n  psu:\n    address: GPIB0::5::INSTR\n",
    )
    .unwrap();
    let err = Bench::record_config(cfg, dir.path().join("s.yaml"), RecordOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("invalid address `GPIB0::5::INSTR` for instrument `psu`"),
        "{err}"
    );
    assert!(err.contains("TCPIP[n]::<host>::<port>::SOCKET"), "{err}");
    assert!(err.contains("RecordOptions::connector"), "{err}");

    let err = Bench::record(dir.path().join("missing.yaml"), dir.path().join("s.yaml"))
        .await
        .unwrap_err();
    let debug = format!("{err:?}");
    assert!(debug.starts_with("failed to read bench config"), "{debug}");
    assert!(debug.contains("REPLAY_BENCH"), "{debug}");

    let bench = Bench::record_config(
        config(dir.path()),
        dir.path().join("s.yaml"),
        RecordOptions::default().connector("USB", |_addr, _cfg| {
            Box::pin(async { Err(io::Error::new(io::ErrorKind::NotFound, "no such device")) })
        }),
    )
    .unwrap();
    let err = bench.instrument("scope").unwrap_err().to_string();
    assert!(
        err.contains("unknown instrument `scope`: bench config"),
        "{err}"
    );
    assert!(err.contains("has `psu`, `dmm`"), "{err}");
    let dmm = bench.instrument("dmm").unwrap();
    let err = format!("{:?}", dmm.query("*IDN?").await.unwrap_err());
    assert!(
        err.starts_with(
            "failed to connect to instrument `dmm` at `USB0::0x1234::0x9999::SN2::INSTR`"
        ),
        "{err}"
    );
    assert!(err.contains("caused by:\n  - no such device"), "{err}");
}

#[tokio::test]
async fn failed_recording_leaves_the_old_cassette() {
    let dir = tempfile::tempdir().unwrap();
    let path = record(dir.path()).await;
    let before = std::fs::read(&path).unwrap();
    {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let bench = Bench::record_config(
            config(dir.path()),
            &path,
            RecordOptions::default()
                .transport("psu", Scripted::new(sent))
                .connector("USB", |_, _| {
                    Box::pin(async { Err(io::Error::other("not used")) })
                }),
        )
        .unwrap();
        bench
            .instrument("psu")
            .unwrap()
            .query("*IDN?")
            .await
            .unwrap();
        // Dropped without finish(): a failed test.
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "no temp files left behind: {leftovers:?}"
    );
}
