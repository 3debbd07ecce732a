//! The simulated bench over real loopback TCP: raw sockets first, then through replay.

use std::time::{Duration, Instant};

use replay_harness::session::{InteractionKind, RecordedErrorKind, read_session};
use replay_harness::{Bench, Error, RecordOptions};
use replay_tests::sim::{DMM_IDN, PSU_IDN, SCOPE_IDN, SimBench, SimInstrument};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Long enough for any answer on a loaded machine; a hung test fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(10);

/// How long "never answers" is watched. Loose on purpose: silence is the feature.
const SILENCE: Duration = Duration::from_millis(300);

struct Client {
    stream: BufReader<TcpStream>,
}

impl Client {
    async fn connect(bench: &SimBench, alias: &str) -> Client {
        let addr = bench.socket_addr(alias).expect("alias on the bench");
        Client {
            stream: BufReader::new(TcpStream::connect(addr).await.expect("connect")),
        }
    }

    async fn send(&mut self, line: &str) {
        self.stream
            .get_mut()
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("send");
    }

    /// One answer, terminator included.
    async fn line(&mut self) -> String {
        let mut line = String::new();
        tokio::time::timeout(PATIENCE, self.stream.read_line(&mut line))
            .await
            .expect("an answer")
            .expect("read");
        line
    }

    /// Sends a query and returns the answer without its LF terminator.
    async fn ask(&mut self, line: &str) -> String {
        self.send(line).await;
        let answer = self.line().await;
        answer
            .strip_suffix('\n')
            .unwrap_or_else(|| panic!("no LF after {answer:?}"))
            .to_owned()
    }

    /// Asserts that nothing arrives for a while.
    async fn assert_silent(&mut self) {
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(SILENCE, self.stream.read(&mut byte)).await;
        assert!(read.is_err(), "expected silence, got {read:?} ({byte:?})");
    }
}

#[tokio::test]
async fn every_instrument_identifies_itself() {
    let bench = SimBench::start().await.unwrap();
    for (alias, idn) in [("psu", PSU_IDN), ("dmm", DMM_IDN), ("scope", SCOPE_IDN)] {
        let mut c = Client::connect(&bench, alias).await;
        assert_eq!(c.ask("*IDN?").await, idn);
        assert_eq!(c.ask("*idn?").await, idn);
    }
    assert!(bench.address("psu").starts_with("TCPIP0::127.0.0.1::"));
    assert!(bench.address("psu").ends_with("::SOCKET"));
    assert_ne!(bench.address("psu"), bench.address("dmm"));
}

#[tokio::test]
async fn settings_round_trip_and_semicolons() {
    let bench = SimBench::start().await.unwrap();
    let mut psu = Client::connect(&bench, "psu").await;
    psu.send("VOLT 5.0, (@1)").await;
    assert_eq!(psu.ask("VOLT? (@1)").await, "+5.00000000E+00");
    assert_eq!(
        psu.ask(":SOURce:VOLTage:LEVel? (@1)").await,
        "+5.00000000E+00"
    );
    // Several commands on one line; the answers come back joined by `;`.
    assert_eq!(
        psu.ask("VOLT 3, (@2);OUTP ON, (@2);MEAS:VOLT? (@2);MEAS:CURR? (@2)")
            .await,
        "+3.00000000E+00;+3.00000000E-02"
    );
    assert_eq!(psu.ask("OUTP? (@1:3)").await, "0,1,0");
    // The DMM is wired to PSU channel 1.
    psu.send("OUTP ON, (@1)").await;
    assert_eq!(psu.ask("*OPC?").await, "1");
    let mut dmm = Client::connect(&bench, "dmm").await;
    assert_eq!(dmm.ask("MEAS:VOLT:DC?").await, "+5.00000000E+00");
}

#[tokio::test]
async fn state_is_shared_between_connections() {
    let bench = SimBench::start().await.unwrap();
    let mut a = Client::connect(&bench, "psu").await;
    let mut b = Client::connect(&bench, "psu").await;
    a.send("CURR 0.5, (@3)").await;
    assert_eq!(a.ask("*OPC?").await, "1");
    assert_eq!(b.ask("CURR? (@3)").await, "+5.00000000E-01");
}

#[tokio::test]
async fn error_queue_is_fifo() {
    let bench = SimBench::start().await.unwrap();
    let mut psu = Client::connect(&bench, "psu").await;
    psu.send("FOO:BAR 1").await;
    psu.send("VOLT 99, (@1)").await;
    assert_eq!(psu.ask(":SYSTem:ERRor?").await, "-113,\"Undefined header\"");
    assert_eq!(psu.ask("SYST:ERR?").await, "-222,\"Data out of range\"");
    assert_eq!(psu.ask("SYST:ERR?").await, "+0,\"No error\"");
    assert_eq!(psu.ask("VOLT? (@1)").await, "+0.00000000E+00");
}

#[tokio::test]
async fn crlf_mode_answers_with_crlf_and_accepts_both() {
    let bench = SimBench::builder()
        .psu("psu")
        .crlf(true)
        .start()
        .await
        .unwrap();
    let mut psu = Client::connect(&bench, "psu").await;
    psu.send("*IDN?\r").await; // CRLF from the client
    assert_eq!(psu.line().await, format!("{PSU_IDN}\r\n"));
    psu.send("*OPC?").await; // LF from the client
    assert_eq!(psu.line().await, "1\r\n");

    let lf = SimBench::builder().psu("psu").start().await.unwrap();
    let mut psu = Client::connect(&lf, "psu").await;
    psu.send("*OPC?\r").await;
    assert_eq!(psu.line().await, "1\n");
}

/// Reads an IEEE 488.2 definite-length block and returns its payload.
async fn read_block(c: &mut Client) -> Vec<u8> {
    let mut head = [0u8; 2];
    c.stream.read_exact(&mut head).await.unwrap();
    assert_eq!(head[0], b'#');
    let digits = usize::from(head[1] - b'0');
    let mut len = vec![0u8; digits];
    c.stream.read_exact(&mut len).await.unwrap();
    let len: usize = std::str::from_utf8(&len).unwrap().parse().unwrap();
    let mut payload = vec![0u8; len];
    c.stream.read_exact(&mut payload).await.unwrap();
    payload
}

#[tokio::test]
async fn binary_block_carries_every_byte_then_the_terminator() {
    for crlf in [false, true] {
        let bench = SimBench::builder()
            .scope("scope")
            .crlf(crlf)
            .start()
            .await
            .unwrap();
        let mut scope = Client::connect(&bench, "scope").await;
        scope
            .send(":WAV:SOUR CHAN1;:WAV:FORM BYTE;:WAV:POIN 2000")
            .await;
        scope.send(":WAV:DATA?").await;
        let payload = read_block(&mut scope).await;
        assert_eq!(payload.len(), 2000);
        for byte in 0..=255u8 {
            assert!(payload.contains(&byte), "byte {byte:#04x} missing");
        }
        let mut terminator = vec![0u8; if crlf { 2 } else { 1 }];
        scope.stream.read_exact(&mut terminator).await.unwrap();
        assert_eq!(
            terminator,
            if crlf {
                b"\r\n".to_vec()
            } else {
                b"\n".to_vec()
            }
        );
        // The stream is in step: the next answer is the next line.
        scope.send("SYST:ERR?").await;
        assert_eq!(scope.line().await.trim_end(), "+0,\"No error\"");
    }
}

#[tokio::test]
async fn unknown_query_never_answers_and_the_connection_stays_open() {
    let bench = SimBench::start().await.unwrap();
    let mut dmm = Client::connect(&bench, "dmm").await;
    dmm.send("MEAS:FREQ?").await;
    dmm.assert_silent().await;
    dmm.send("SYST:HANG?").await;
    dmm.assert_silent().await;
    assert_eq!(dmm.ask("SYST:ERR?").await, "-113,\"Undefined header\"");
    assert_eq!(dmm.ask("SYST:ERR?").await, "+0,\"No error\"");
}

#[tokio::test]
async fn first_reply_is_delayed_on_each_connection() {
    let delay = Duration::from_millis(400);
    let bench = SimBench::builder()
        .psu("psu")
        .first_reply_delay(delay)
        .start()
        .await
        .unwrap();
    for _ in 0..2 {
        let mut psu = Client::connect(&bench, "psu").await;
        let started = Instant::now();
        psu.ask("*OPC?").await;
        assert!(started.elapsed() >= delay, "{:?}", started.elapsed());
        let started = Instant::now();
        psu.ask("*OPC?").await;
        assert!(started.elapsed() < delay, "{:?}", started.elapsed());
    }
}

#[tokio::test]
async fn same_seed_same_readings() {
    async fn readings(seed: u64) -> Vec<String> {
        let bench = SimBench::builder()
            .psu("psu")
            .scope("scope")
            .seed(seed)
            .start()
            .await
            .unwrap();
        let mut psu = Client::connect(&bench, "psu").await;
        psu.send("VOLT 5, (@1);OUTP ON, (@1)").await;
        let mut out = Vec::new();
        for _ in 0..5 {
            out.push(psu.ask("MEAS:VOLT? (@1);MEAS:CURR? (@1)").await);
        }
        let mut scope = Client::connect(&bench, "scope").await;
        out.push(scope.ask(":MEAS:VPP? CHAN1").await);
        bench.shutdown().await;
        out
    }
    let a = readings(42).await;
    assert_eq!(a, readings(42).await);
    assert_ne!(a, readings(7).await);
    assert!(
        a.iter().any(|r| r != "+5.00000000E+00;+1.66666667E-01"),
        "{a:?}"
    );
}

#[tokio::test]
async fn shutdown_closes_connections_and_listeners() {
    let bench = SimBench::start().await.unwrap();
    let addr = bench.socket_addr("psu").unwrap();
    let mut psu = Client::connect(&bench, "psu").await;
    assert_eq!(psu.ask("*OPC?").await, "1");
    assert_eq!(bench.accepted_connections(), 1);
    bench.shutdown().await;
    let mut rest = Vec::new();
    let read = tokio::time::timeout(PATIENCE, psu.stream.read_to_end(&mut rest))
        .await
        .expect("the connection is closed");
    assert!(read.is_err() || rest.is_empty(), "{read:?} {rest:?}");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the listener still accepts"
    );
}

#[tokio::test]
async fn bad_builder_input_is_an_error() {
    let err = SimBench::builder()
        .psu("a")
        .dmm("a")
        .start()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains("two instruments called `a`"),
        "{err}"
    );
    let taken = SimBench::builder().psu("psu").start().await.unwrap();
    let port = taken.socket_addr("psu").unwrap().port();
    let err = SimBench::builder()
        .instrument(SimInstrument::psu("psu").port(port))
        .start()
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
}

#[tokio::test]
async fn record_through_replay_then_replay_offline() {
    let dir = tempfile::tempdir().unwrap();
    let sim = SimBench::builder()
        .psu("psu")
        .scope("scope")
        .seed(42)
        .crlf(true)
        .instrument(SimInstrument::dmm("dmm").timeout(Duration::from_millis(300)))
        .start()
        .await
        .unwrap();
    let config = dir.path().join("bench.yaml");
    sim.write_config(&config).unwrap();
    let session = dir.path().join("sessions/sim.yaml");

    let bench = Bench::record(&config, &session).await.unwrap();
    let psu = bench.instrument("psu").unwrap();
    let scope = bench.instrument("scope").unwrap();
    let dmm = bench.instrument("dmm").unwrap();
    assert_eq!(psu.query("*IDN?").await.unwrap(), PSU_IDN);
    psu.write("VOLT 5.0, (@1);OUTP ON, (@1)").await.unwrap();
    let volts = psu.query("MEAS:VOLT? (@1)").await.unwrap();
    assert!(
        (volts.parse::<f64>().unwrap() - 5.0).abs() < 0.01,
        "{volts}"
    );
    scope.write(":WAV:POIN 1000").await.unwrap();
    let waveform = scope.query_binary(":WAV:DATA?").await.unwrap();
    assert_eq!(waveform.len(), 1000);
    assert_eq!(&waveform[..256], (0..=255u8).collect::<Vec<_>>());
    let reading = dmm.query("READ?").await.unwrap();
    let err = dmm.query("SYST:HANG?").await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    bench.finish().await.unwrap();

    let recorded = read_session(&session).unwrap();
    assert_eq!(
        recorded.aliases().collect::<Vec<_>>(),
        ["psu", "scope", "dmm"]
    );
    let psu_log = &recorded.instrument("psu").unwrap().log;
    assert_eq!(psu_log[0].response.as_deref(), Some(PSU_IDN));
    assert_eq!(psu_log[2].response.as_deref(), Some(volts.as_str()));
    let scope_log = &recorded.instrument("scope").unwrap().log;
    assert_eq!(scope_log[1].kind, InteractionKind::QueryRaw);
    assert_eq!(
        scope_log[1].binary.as_deref(),
        Some(replay_harness::transport::encode_block(&waveform).as_slice())
    );
    let dmm_log = &recorded.instrument("dmm").unwrap().log;
    assert_eq!(
        dmm_log[1].error.as_ref().map(|e| &e.kind),
        Some(&RecordedErrorKind::Timeout)
    );

    // Replay with the simulator gone.
    let accepted = sim.accepted_connections();
    sim.shutdown().await;
    let bench = Bench::replay(&session).await.unwrap();
    let psu = bench.instrument("psu").unwrap();
    let scope = bench.instrument("scope").unwrap();
    let dmm = bench.instrument("dmm").unwrap();
    assert_eq!(psu.query("*IDN?").await.unwrap(), PSU_IDN);
    psu.write("VOLT 5.0, (@1);OUTP ON, (@1)").await.unwrap();
    assert_eq!(psu.query("MEAS:VOLT? (@1)").await.unwrap(), volts);
    scope.write(":WAV:POIN 1000").await.unwrap();
    assert_eq!(scope.query_binary(":WAV:DATA?").await.unwrap(), waveform);
    assert_eq!(dmm.query("READ?").await.unwrap(), reading);
    assert!(matches!(
        dmm.query("SYST:HANG?").await,
        Err(Error::Timeout { .. })
    ));
    bench.finish().await.unwrap();
    assert_eq!(accepted, 3);
}

#[tokio::test]
async fn re_recording_against_a_fresh_bench_changes_only_timestamps() {
    async fn record(dir: &std::path::Path, name: &str) -> replay_harness::session::Session {
        let sim = SimBench::builder()
            .psu("psu")
            .dmm("dmm")
            .seed(42)
            .start()
            .await
            .unwrap();
        let path = dir.join(name);
        let bench = Bench::record_config(sim.config(), &path, RecordOptions::default()).unwrap();
        let psu = bench.instrument("psu").unwrap();
        let dmm = bench.instrument("dmm").unwrap();
        psu.write("VOLT 2.5, (@1);OUTP ON, (@1)").await.unwrap();
        for _ in 0..3 {
            psu.query("MEAS:VOLT? (@1)").await.unwrap();
            dmm.query("READ?").await.unwrap();
        }
        bench.finish().await.unwrap();
        sim.shutdown().await;
        let mut session = read_session(&path).unwrap();
        for (_, log) in &mut session.instruments {
            for interaction in &mut log.log {
                interaction.timestamp = 0.0;
            }
        }
        session
    }
    let dir = tempfile::tempdir().unwrap();
    let first = record(dir.path(), "a.yaml").await;
    assert_eq!(first.len(), 7);
    assert_eq!(first, record(dir.path(), "b.yaml").await);
}

#[tokio::test]
async fn an_overlong_message_is_dropped_and_reported() {
    let bench = SimBench::builder().psu("psu").start().await.unwrap();
    let mut psu = Client::connect(&bench, "psu").await;
    let junk = vec![b'A'; 3 << 20];
    psu.stream.get_mut().write_all(&junk).await.unwrap();
    psu.send("").await;
    assert_eq!(psu.ask("SYST:ERR?").await, "-223,\"Too much data\"");
    assert_eq!(psu.ask("*OPC?").await, "1");
}

#[test]
fn a_background_bench_serves_tests_with_their_own_runtimes() {
    use std::io::{BufRead, BufReader as StdBufReader, Write};
    let bench = SimBench::builder().psu("psu").start_background().unwrap();
    let addr = bench.socket_addr("psu").unwrap();
    for volts in ["1.5", "2.5"] {
        // Each "test" runs on a runtime of its own, which is gone before the next.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let answer = runtime.block_on(async {
            let mut psu = Client {
                stream: BufReader::new(TcpStream::connect(addr).await.unwrap()),
            };
            psu.send(&format!("VOLT {volts}, (@1)")).await;
            psu.ask("VOLT? (@1)").await
        });
        assert_eq!(
            answer.parse::<f64>().unwrap(),
            volts.parse::<f64>().unwrap()
        );
    }
    // Plain blocking sockets work too.
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(b"*OPC?\n").unwrap();
    let mut reader = StdBufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, "1\n");
    drop(bench);
    line.clear();
    // The drop waited: the connection is closed now.
    assert_eq!(reader.read_line(&mut line).unwrap_or(0), 0);
    assert!(std::net::TcpStream::connect(addr).is_err());
}

/// The `sim-bench` binary: starts, writes the config, serves, stops on Ctrl-C (SIGINT).
#[cfg(unix)]
#[test]
fn the_sim_bench_binary_serves_until_interrupted() {
    use std::io::{BufRead, BufReader as StdBufReader, Write};
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("lab/bench.yaml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sim-bench"))
        .args(["--seed", "42", "--crlf", "--timeout", "2.5", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = StdBufReader::new(child.stdout.take().unwrap());
    let mut printed = Vec::new();
    loop {
        let mut line = String::new();
        assert_ne!(
            stdout.read_line(&mut line).unwrap(),
            0,
            "exited early: {printed:?}"
        );
        let done = line.starts_with("serving");
        printed.push(line);
        if done {
            break;
        }
    }
    let text = printed.concat();
    assert!(text.contains("noise seed 42"), "{text}");
    let loaded = replay_harness::BenchConfig::load(&config).unwrap();
    let aliases: Vec<_> = loaded.instruments.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(aliases, ["psu", "dmm", "scope"]);
    let psu = loaded.instrument("psu").unwrap();
    assert_eq!(psu.timeout, Duration::from_millis(2500));
    assert!(text.contains(&psu.address), "{text}");
    let port: u16 = psu.address.split("::").nth(2).unwrap().parse().unwrap();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(b"*IDN?\n").unwrap();
    let mut idn = String::new();
    StdBufReader::new(&stream).read_line(&mut idn).unwrap();
    assert_eq!(idn, format!("{PSU_IDN}\r\n"));

    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert!(status.success(), "{status:?} {rest}");
    assert!(rest.contains("stopped"), "{rest}");
}

#[test]
fn the_sim_bench_binary_explains_a_taken_port() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_sim-bench"))
        .args(["--port-base", &port.to_string()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
    assert!(stderr.contains("simulated instrument `psu`"), "{stderr}");
}
