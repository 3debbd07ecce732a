//! Bench safety over real loopback sockets: redaction, secrets, safety limits and the
//! maximum response size, recording and replaying.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use replay_core::session::{RecordedErrorKind, read_session};
use replay_core::transport::encode_block;
use replay_core::{Bench, BenchConfig, Error, RecordOptions};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A loopback instrument: logs every line it receives and answers a few queries.
struct Server {
    port: u16,
    received: Arc<Mutex<Vec<String>>>,
    connections: Arc<AtomicUsize>,
}

async fn server() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Arc::new(Mutex::new(Vec::new()));
    let connections = Arc::new(AtomicUsize::new(0));
    let (log, count) = (received.clone(), connections.clone());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            let log = log.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    log.lock().unwrap().push(line.clone());
                    let answer: Vec<u8> = match line.as_str() {
                        "*IDN?" => b"ACME,PSU-1,CN61130056,1.0\n".to_vec(),
                        "SYST:SER?" => b"CN61130056\n".to_vec(),
                        "MEAS:VOLT?" => b"+4.99918100E+00\n".to_vec(),
                        ":WAV:DATA?" => {
                            let mut block = encode_block(b"\x00\x01CN12345678\xff");
                            block.push(b'\n');
                            block
                        }
                        // A text answer that never ends.
                        "FLOOD?" => {
                            let chunk = vec![b'9'; 64 * 1024];
                            while write.write_all(&chunk).await.is_ok() {}
                            return;
                        }
                        // A block header that claims ~1 GB, then a few bytes.
                        "LIE?" => b"#9999999999abc".to_vec(),
                        _ => continue,
                    };
                    if write.write_all(&answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Server {
        port,
        received,
        connections,
    }
}

fn bench_config(dir: &Path, port: u16, extra: &str) -> BenchConfig {
    let text = format!(
        "redact:\n  - {{pattern: 'CN\\d{{8}}', replace: '<serial>'}}\ninstruments:\n  psu:\n    address: TCPIP0::127.0.0.1::{port}::SOCKET\n    timeout: 5\n{extra}"
    );
    BenchConfig::parse(dir.join("bench.yaml"), &text).unwrap()
}

#[tokio::test]
async fn serial_numbers_never_reach_the_cassette_text_or_binary() {
    let dir = tempfile::tempdir().unwrap();
    let server = server().await;
    let path = dir.path().join("s.yaml");
    let bench = Bench::record_config(
        bench_config(dir.path(), server.port, ""),
        &path,
        RecordOptions::default(),
    )
    .unwrap();
    let psu = bench.instrument("psu").unwrap();
    // The test sees what replay will give it.
    assert_eq!(psu.query("*IDN?").await.unwrap(), "ACME,PSU-1,<serial>,1.0");
    psu.write("SYST:SER CN61130056").await.unwrap();
    let payload = psu.query_binary(":WAV:DATA?").await.unwrap();
    assert_eq!(payload, b"\x00\x01<serial>\xff");
    bench.finish().await.unwrap();
    // The instrument got the real command.
    assert!(
        server
            .received
            .lock()
            .unwrap()
            .contains(&"SYST:SER CN61130056".to_owned())
    );

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("CN61130056"), "{text}");
    assert!(!text.contains("CN12345678"), "{text}");
    let session = read_session(&path).unwrap();
    let psu_log = session.instrument("psu").unwrap();
    assert_eq!(psu_log.rules.redact.len(), 1);
    let binary = psu_log.log[2].binary.as_deref().unwrap();
    assert_eq!(binary, encode_block(b"\x00\x01<serial>\xff"));
    assert!(text.contains("pattern: CN\\d{8}"), "{text}");

    // Replay applies the stored rules to the test's commands before matching.
    let bench = Bench::replay(&path).await.unwrap();
    let psu = bench.instrument("psu").unwrap();
    assert_eq!(psu.query("*IDN?").await.unwrap(), "ACME,PSU-1,<serial>,1.0");
    psu.write("SYST:SER CN61130056").await.unwrap();
    assert_eq!(
        psu.query_binary(":WAV:DATA?").await.unwrap(),
        b"\x00\x01<serial>\xff"
    );
    bench.finish().await.unwrap();

    // A mismatch report shows the redacted command, never the serial.
    let bench = Bench::replay(&path).await.unwrap();
    let psu = bench.instrument("psu").unwrap();
    let err = psu
        .write("SYST:SER CN99999999 X")
        .await
        .unwrap_err()
        .to_string();
    assert!(!err.contains("CN99999999"), "{err}");
    assert!(err.contains("<serial> X"), "{err}");
}

#[tokio::test]
async fn a_limit_refuses_before_the_instrument_sees_it_in_record_and_replay() {
    let dir = tempfile::tempdir().unwrap();
    let server = server().await;
    let path = dir.path().join("s.yaml");
    let limits = "    limits:\n      - {command: 'SOURce:VOLTage', max: 6.0}\n      - {command: 'CURRent', min: 0, max: 1.0}\n";
    let bench = Bench::record_config(
        bench_config(dir.path(), server.port, limits),
        &path,
        RecordOptions::default(),
    )
    .unwrap();
    let psu = bench.instrument("psu").unwrap();
    psu.write("VOLT 5.0").await.unwrap();
    let err = psu.write("VOLT 7").await.unwrap_err();
    assert!(matches!(err, Error::LimitExceeded { .. }), "{err:?}");
    let message = err.to_string();
    for needle in ["`psu`", "`VOLT 7`", "`7`", "`SOURce:VOLTage`", "max: 6"] {
        assert!(message.contains(needle), "{needle} missing from: {message}");
    }
    let err = psu.write("OUTP ON;:SOUR:CURR -1").await.unwrap_err();
    assert!(err.to_string().contains("below the limit"), "{err}");
    psu.write("CURR 0.5").await.unwrap();
    // A query the instrument answers proves the refused writes never went out before it.
    assert_eq!(psu.query("MEAS:VOLT?").await.unwrap(), "+4.99918100E+00");
    bench.finish().await.unwrap();
    assert_eq!(
        *server.received.lock().unwrap(),
        ["VOLT 5.0", "CURR 0.5", "MEAS:VOLT?"]
    );

    // Stored in the cassette (additive keys before `log`), enforced in replay.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("limits:\n  - command: SOURce:VOLTage\n    max: 6.0\n"),
        "{text}"
    );
    let bench = Bench::replay(&path).await.unwrap();
    let psu = bench.instrument("psu").unwrap();
    psu.write("VOLT 5.0").await.unwrap();
    let err = psu.write("VOLTage 7.0").await.unwrap_err();
    assert!(matches!(err, Error::LimitExceeded { .. }), "{err:?}");
    psu.write("CURR 0.5").await.unwrap();
    psu.query("MEAS:VOLT?").await.unwrap();
    bench.finish().await.unwrap();
}

#[tokio::test]
async fn a_flooding_instrument_is_cut_off_and_the_connection_renewed() {
    let dir = tempfile::tempdir().unwrap();
    let server = server().await;
    let path = dir.path().join("s.yaml");
    let bench = Bench::record_config(
        bench_config(dir.path(), server.port, "    max_response: 100000\n"),
        &path,
        RecordOptions::default(),
    )
    .unwrap();
    let psu = bench.instrument("psu").unwrap();
    let err = psu.query("FLOOD?").await.unwrap_err();
    match &err {
        Error::ResponseTooLarge {
            alias,
            command,
            limit,
            recorded,
            ..
        } => {
            assert_eq!((alias.as_str(), command.as_str()), ("psu", "FLOOD?"));
            assert_eq!((*limit, *recorded), (Some(100_000), false));
        }
        other => panic!("expected ResponseTooLarge, got {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("100000 bytes"), "{message}");
    assert!(message.contains("raise `max_response`"), "{message}");
    // Nothing stale: the next query gets its own answer on a new connection.
    assert_eq!(psu.query("MEAS:VOLT?").await.unwrap(), "+4.99918100E+00");
    assert_eq!(server.connections.load(Ordering::SeqCst), 2);
    bench.finish().await.unwrap();

    let session = read_session(&path).unwrap();
    let recorded = &session.instrument("psu").unwrap().log[0];
    assert_eq!(
        recorded.error.as_ref().map(|e| &e.kind),
        Some(&RecordedErrorKind::ResponseTooLarge)
    );
    let bench = Bench::replay(&path).await.unwrap();
    let psu = bench.instrument("psu").unwrap();
    let err = psu.query("FLOOD?").await.unwrap_err();
    assert!(
        matches!(err, Error::ResponseTooLarge { recorded: true, .. }),
        "{err:?}"
    );
    psu.query("MEAS:VOLT?").await.unwrap();
    bench.finish().await.unwrap();
}

#[tokio::test]
async fn a_lying_block_header_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = server().await;
    let bench = Bench::record_config(
        bench_config(dir.path(), server.port, "    max_response: 1048576\n"),
        dir.path().join("s.yaml"),
        RecordOptions::default(),
    )
    .unwrap();
    let psu = bench.instrument("psu").unwrap();
    let started = std::time::Instant::now();
    let err = psu.query_binary("LIE?").await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::ResponseTooLarge {
                limit: Some(1_048_576),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("at least 999999999 bytes"),
        "{err}"
    );
    // Refused from the header, not after the 5 s timeout.
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    assert_eq!(psu.query("*IDN?").await.unwrap(), "ACME,PSU-1,<serial>,1.0");
    assert_eq!(server.connections.load(Ordering::SeqCst), 2);
}

// Secrets read the environment, which a test cannot set for itself without `unsafe`: the
// outer tests run the `#[ignore]`d inner ones in a child process with the variable set
// (or removed).

fn run_child(test: &str, dir: &Path, port: u16, token: Option<&str>) {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args(["--ignored", "--exact", "--nocapture", test])
        .env("SAFETY_DIR", dir)
        .env("SAFETY_PORT", port.to_string())
        .env_remove("REPLAY_TEST_TOKEN");
    if let Some(token) = token {
        command.env("REPLAY_TEST_TOKEN", token);
    }
    let output = command.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{test} failed:\n{text}");
    assert!(text.contains("1 passed"), "{test} did not run:\n{text}");
}

fn child_env() -> (std::path::PathBuf, u16) {
    (
        std::env::var("SAFETY_DIR").unwrap().into(),
        std::env::var("SAFETY_PORT").unwrap().parse().unwrap(),
    )
}

fn secret_config(dir: &Path, port: u16, profile: &str) -> BenchConfig {
    BenchConfig::parse(
        dir.join("bench.yaml"),
        &format!(
            "secrets: [REPLAY_TEST_TOKEN]\ninstruments:\n  psu:\n    address: TCPIP0::127.0.0.1::{port}::SOCKET\n    profile: {profile}\n"
        ),
    )
    .unwrap()
}

#[tokio::test]
#[ignore = "run by `secrets_are_placeholders_and_replay_without_the_variable` in a child process"]
async fn child_record_with_secret() {
    let (dir, port) = child_env();
    let bench = Bench::record_config(
        secret_config(&dir, port, "acme/psu"),
        dir.join("s.yaml"),
        RecordOptions::default(),
    )
    .unwrap();
    let psu = bench.instrument("psu").unwrap();
    // Either way of sending it: the placeholder, expanded on the wire, or the value.
    psu.write("SYST:PASS ${REPLAY_TEST_TOKEN}").await.unwrap();
    psu.write("SYST:PASS hunter2-xyz").await.unwrap();
    // Answered after the writes: the server has logged them when the child exits.
    psu.query("MEAS:VOLT?").await.unwrap();
    bench.finish().await.unwrap();
}

#[tokio::test]
#[ignore = "run by `secrets_are_placeholders_and_replay_without_the_variable` in a child process"]
async fn child_replay_secret() {
    let (dir, _) = child_env();
    let bench = Bench::replay(dir.join("s.yaml")).await.unwrap();
    let psu = bench.instrument("psu").unwrap();
    psu.write("SYST:PASS ${REPLAY_TEST_TOKEN}").await.unwrap();
    match std::env::var("REPLAY_TEST_TOKEN") {
        Ok(token) => psu.write(&format!("SYST:PASS {token}")).await.unwrap(),
        Err(_) => psu.write("SYST:PASS ${REPLAY_TEST_TOKEN}").await.unwrap(),
    }
    psu.query("MEAS:VOLT?").await.unwrap();
    bench.finish().await.unwrap();
}

#[tokio::test]
#[ignore = "run by `a_secret_in_the_profile_is_never_written` in a child process"]
async fn child_record_leaking_profile() {
    let (dir, port) = child_env();
    let bench = Bench::record_config(
        secret_config(&dir, port, "acme/hunter2-xyz"),
        dir.join("s.yaml"),
        RecordOptions::default(),
    )
    .unwrap();
    let psu = bench.instrument("psu").unwrap();
    psu.query("MEAS:VOLT?").await.unwrap();
    let err = bench.finish().await.unwrap_err();
    assert!(matches!(err, Error::SecretLeak { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("`REPLAY_TEST_TOKEN`"), "{message}");
    assert!(message.contains("profile of `psu`"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");
}

#[tokio::test]
#[ignore = "run by `secrets_are_placeholders_and_replay_without_the_variable` in a child process"]
async fn child_record_with_unset_secret() {
    let (dir, port) = child_env();
    let bench = Bench::record_config(
        secret_config(&dir, port, "acme/psu"),
        dir.join("unset.yaml"),
        RecordOptions::default(),
    )
    .unwrap();
    let psu = bench.instrument("psu").unwrap();
    let err = psu
        .write("SYST:PASS ${REPLAY_TEST_TOKEN}")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::SecretUnset { .. }), "{err:?}");
    assert!(err.to_string().contains("is not set"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn secrets_are_placeholders_and_replay_without_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let server = server().await;
    run_child(
        "child_record_with_secret",
        dir.path(),
        server.port,
        Some("hunter2-xyz"),
    );
    assert_eq!(
        *server.received.lock().unwrap(),
        [
            "SYST:PASS hunter2-xyz",
            "SYST:PASS hunter2-xyz",
            "MEAS:VOLT?"
        ]
    );
    let text = std::fs::read_to_string(dir.path().join("s.yaml")).unwrap();
    assert!(!text.contains("hunter2"), "{text}");
    assert_eq!(
        text.matches("SYST:PASS ${REPLAY_TEST_TOKEN}").count(),
        2,
        "{text}"
    );
    assert!(text.contains("secrets:\n  - REPLAY_TEST_TOKEN\n"), "{text}");
    // In CI, without the variable; and on a machine that has it.
    run_child("child_replay_secret", dir.path(), server.port, None);
    run_child(
        "child_replay_secret",
        dir.path(),
        server.port,
        Some("hunter2-xyz"),
    );
    run_child(
        "child_record_with_unset_secret",
        dir.path(),
        server.port,
        None,
    );
    assert!(!dir.path().join("unset.yaml").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_secret_in_the_profile_is_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let server = server().await;
    let previous = "psu:\n  log: []\n";
    std::fs::write(dir.path().join("s.yaml"), previous).unwrap();
    run_child(
        "child_record_leaking_profile",
        dir.path(),
        server.port,
        Some("hunter2-xyz"),
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("s.yaml")).unwrap(),
        previous
    );
}
