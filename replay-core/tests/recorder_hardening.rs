//! The recorder against a real loopback instrument that answers late, and `finish` racing an
//! exchange: a late answer is never recorded as the next response, whatever the transport,
//! and every exchange that succeeded is in the cassette.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use replay_core::session::{RecordedErrorKind, read_session};
use replay_core::transport::{BoxFuture, StreamTransport, connect_tcp};
use replay_core::{Bench, BenchConfig, Error, RecordOptions, Terminators, Transport};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// A loopback instrument. `ECHO? <text> <delay ms>` answers `<text>` after the delay; every
/// command received is reported on the channel; connections are counted.
struct LateServer {
    port: u16,
    connections: Arc<AtomicUsize>,
    received: mpsc::UnboundedReceiver<String>,
}

async fn late_server() -> LateServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let (tx, received) = mpsc::unbounded_channel();
    let counter = connections.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            let tx = tx.clone();
            tokio::spawn(serve(stream, tx));
        }
    });
    LateServer {
        port,
        connections,
        received,
    }
}

async fn serve(stream: TcpStream, tx: mpsc::UnboundedSender<String>) {
    let (read, write) = stream.into_split();
    let write = Arc::new(tokio::sync::Mutex::new(write));
    let mut lines = BufReader::new(read).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let _ = tx.send(line.clone());
        let mut words = line.split_whitespace();
        if words.next() != Some("ECHO?") {
            continue;
        }
        let text = words.next().unwrap_or_default().to_owned();
        let delay: u64 = words.next().and_then(|d| d.parse().ok()).unwrap_or(0);
        let write = write.clone();
        // Answers are independent of later commands, as an instrument still busy with a
        // slow measurement answers it when it is done.
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(delay)).await;
            let _ = write
                .lock()
                .await
                .write_all(format!("{text}\n").as_bytes())
                .await;
        });
    }
}

fn bench_config(dir: &Path, port: u16, timeout: f64) -> BenchConfig {
    BenchConfig::parse(
        dir.join("bench.yaml"),
        &format!(
            "instruments:\n  dmm:\n    address: TCPIP0::127.0.0.1::{port}::SOCKET\n    timeout: {timeout}\n"
        ),
    )
    .unwrap()
}

#[tokio::test]
async fn a_late_answer_is_not_the_next_response_over_a_socket() {
    let dir = tempfile::tempdir().unwrap();
    let server = late_server().await;
    let path = dir.path().join("late.yaml");
    let bench = Bench::record_config(
        bench_config(dir.path(), server.port, 0.3),
        &path,
        RecordOptions::default(),
    )
    .unwrap();
    let dmm = bench.instrument("dmm").unwrap();
    let err = dmm.query("ECHO? late 400").await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    // The late answer arrives while the next query waits for its own.
    assert_eq!(dmm.query("ECHO? fresh 250").await.unwrap(), "fresh");
    assert_eq!(server.connections.load(Ordering::SeqCst), 2, "reconnected");
    bench.finish().await.unwrap();

    let log = &read_session(&path).unwrap().instruments[0].1.log;
    assert_eq!(log.len(), 2);
    let timeout = log[0].error.as_ref().unwrap();
    assert_eq!(timeout.kind, RecordedErrorKind::Timeout);
    assert_eq!(timeout.timeout, Some(Duration::from_millis(300)));
    assert_eq!(log[1].response.as_deref(), Some("fresh"));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("timeout_s: 0.3\n"), "{text}");
}

#[tokio::test]
async fn a_caller_that_gives_up_first_does_not_leave_its_answer_for_the_next_query() {
    let dir = tempfile::tempdir().unwrap();
    let server = late_server().await;
    let bench = Bench::record_config(
        bench_config(dir.path(), server.port, 5.0),
        dir.path().join("cancelled.yaml"),
        RecordOptions::default(),
    )
    .unwrap();
    let dmm = bench.instrument("dmm").unwrap();
    // The test's own, shorter timeout drops the exchange mid-way.
    let gave_up =
        tokio::time::timeout(Duration::from_millis(100), dmm.query("ECHO? abandoned 300")).await;
    assert!(gave_up.is_err());
    assert_eq!(dmm.query("ECHO? wanted 400").await.unwrap(), "wanted");
    bench.finish().await.unwrap();
}

/// A transport given in `RecordOptions`: the recorder cannot reopen it.
async fn given_transport(port: u16) -> StreamTransport<TcpStream> {
    connect_tcp("127.0.0.1", port, Terminators::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_given_transport_that_cannot_clear_refuses_the_next_exchange() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = late_server().await;
    let path = dir.path().join("given.yaml");
    let options = RecordOptions::default().transport("dmm", given_transport(server.port).await);
    let bench =
        Bench::record_config(bench_config(dir.path(), server.port, 0.15), &path, options).unwrap();
    let dmm = bench.instrument("dmm").unwrap();
    let err = dmm.query("ECHO? late 250").await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    let err = dmm.query("ECHO? next 0").await.unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::Unusable { .. }), "{message}");
    assert!(message.contains("`ECHO? late 250` timed out"), "{message}");
    assert!(message.contains("Transport::clear"), "{message}");
    // Refused before anything was sent.
    assert_eq!(server.received.recv().await.unwrap(), "ECHO? late 250");
    assert!(server.received.try_recv().is_err());
    bench.finish().await.unwrap();
    let log = &read_session(&path).unwrap().instruments[0].1.log;
    assert_eq!(log.len(), 1, "only the timeout is recorded: {log:?}");
    assert!(log[0].response.is_none());
}

/// A given transport whose `clear` opens a fresh connection: it stays in use.
struct Reconnecting {
    port: u16,
    inner: StreamTransport<TcpStream>,
    clears: Arc<AtomicUsize>,
}

impl Transport for Reconnecting {
    fn send<'a>(&'a mut self, command: &'a str) -> BoxFuture<'a, io::Result<()>> {
        self.inner.send(command)
    }
    fn receive(&mut self) -> BoxFuture<'_, io::Result<Vec<u8>>> {
        self.inner.receive()
    }
    fn receive_block(&mut self) -> BoxFuture<'_, io::Result<Vec<u8>>> {
        self.inner.receive_block()
    }
    fn clear(&mut self) -> BoxFuture<'_, io::Result<()>> {
        Box::pin(async move {
            self.clears.fetch_add(1, Ordering::SeqCst);
            self.inner = connect_tcp("127.0.0.1", self.port, Terminators::default()).await?;
            Ok(())
        })
    }
}

#[tokio::test]
async fn a_given_transport_that_clears_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let server = late_server().await;
    let clears = Arc::new(AtomicUsize::new(0));
    let transport = Reconnecting {
        port: server.port,
        inner: given_transport(server.port).await,
        clears: clears.clone(),
    };
    let options = RecordOptions::default().transport("dmm", transport);
    let bench = Bench::record_config(
        bench_config(dir.path(), server.port, 0.3),
        dir.path().join("cleared.yaml"),
        options,
    )
    .unwrap();
    let dmm = bench.instrument("dmm").unwrap();
    assert!(dmm.query("ECHO? late 400").await.is_err());
    assert_eq!(clears.load(Ordering::SeqCst), 1);
    assert_eq!(dmm.query("ECHO? fresh 250").await.unwrap(), "fresh");
    bench.finish().await.unwrap();
}

#[tokio::test]
async fn finish_waits_for_an_exchange_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = late_server().await;
    let path = dir.path().join("racing.yaml");
    let bench = Arc::new(
        Bench::record_config(
            bench_config(dir.path(), server.port, 5.0),
            &path,
            RecordOptions::default(),
        )
        .unwrap(),
    );
    let dmm = bench.instrument("dmm").unwrap();
    let task = tokio::spawn({
        let dmm = dmm.clone();
        async move { dmm.query("ECHO? slow 300").await }
    });
    // The instrument has the command: the exchange is in flight.
    assert_eq!(server.received.recv().await.unwrap(), "ECHO? slow 300");
    bench.finish().await.unwrap();
    assert_eq!(task.await.unwrap().unwrap(), "slow");
    let log = &read_session(&path).unwrap().instruments[0].1.log;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].response.as_deref(), Some("slow"));
    // After finish nothing reaches the instrument.
    let err = dmm.query("ECHO? after 0").await.unwrap_err();
    assert!(matches!(err, Error::Finished { .. }), "{err}");
    assert!(server.received.try_recv().is_err());
}

/// A timeout as replay 0.1 and hand-written sessions store it: the text alone.
const OLD_TIMEOUT: &str = "\
dmm:
  log:
  - type: query
    command: MEAS:VOLT?
    error: timeout
    error_message: no answer within 0.25 s
    timestamp: 0.1
";

#[tokio::test]
async fn a_timeout_stored_as_text_only_still_replays() {
    let session = replay_core::session::parse_session("old.yaml", OLD_TIMEOUT).unwrap();
    let recorded = session.instruments[0].1.log[0].error.clone().unwrap();
    assert_eq!(recorded.kind, RecordedErrorKind::Timeout);
    assert_eq!(recorded.timeout, None, "the message is never parsed back");
    let bench = Bench::replay_session("old.yaml", session, Default::default());
    let err = bench
        .instrument("dmm")
        .unwrap()
        .query("MEAS:VOLT?")
        .await
        .unwrap_err();
    match &err {
        Error::Timeout {
            after, recorded, ..
        } => {
            assert_eq!(*after, None);
            assert!(recorded);
        }
        other => panic!("expected the recorded timeout, got {other}"),
    }
    assert!(
        err.to_string()
            .contains("did not answer `MEAS:VOLT?` (replayed"),
        "{err}"
    );
    bench.finish().await.unwrap();
}

#[tokio::test]
async fn a_structured_timeout_replays_its_duration() {
    let text = OLD_TIMEOUT.replace("    timestamp", "    timeout_s: 0.25\n    timestamp");
    let session = replay_core::session::parse_session("new.yaml", &text).unwrap();
    let bench = Bench::replay_session("new.yaml", session, Default::default());
    let err = bench
        .instrument("dmm")
        .unwrap()
        .query("MEAS:VOLT?")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout { after: Some(d), .. } if d == Duration::from_millis(250)),
        "{err}"
    );
    assert!(err.to_string().contains("within 250 ms"), "{err}");

    let bad = OLD_TIMEOUT.replace("    timestamp", "    timeout_s: -1\n    timestamp");
    let err = replay_core::session::parse_session("bad.yaml", &bad)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`timeout_s` must be a non-negative number"),
        "{err}"
    );
}

/// `Bench::record` reads the bench config off the runtime thread: while the read waits for a
/// slow file (here a FIFO whose writer waits for the runtime), other tasks keep running.
#[cfg(unix)]
#[tokio::test]
async fn the_bench_config_is_read_off_the_runtime_thread() {
    use std::io::Write as _;
    use std::sync::atomic::AtomicBool;

    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("bench.yaml");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let reading = Arc::new(AtomicBool::new(false));
    let heartbeat = Arc::new(AtomicBool::new(false));
    // The slow file system: it answers only once it has seen the runtime run a task while
    // the read was under way (or after 5 s, so a regression fails instead of hanging).
    let writer = std::thread::spawn({
        let (fifo, reading, heartbeat) = (fifo.clone(), reading.clone(), heartbeat.clone());
        move || {
            let mut file = std::fs::OpenOptions::new().write(true).open(fifo).unwrap();
            reading.store(true, Ordering::SeqCst);
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while !heartbeat.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            file.write_all(b"instruments:\n  dmm:\n    address: TCPIP0::127.0.0.1::5025::SOCKET\n")
                .unwrap();
            heartbeat.load(Ordering::SeqCst)
        }
    });
    tokio::spawn({
        let (reading, heartbeat) = (reading.clone(), heartbeat.clone());
        async move {
            while !reading.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            heartbeat.store(true, Ordering::SeqCst);
        }
    });
    let bench = Bench::record(&fifo, dir.path().join("s.yaml"))
        .await
        .unwrap();
    assert!(
        writer.join().unwrap(),
        "the runtime thread was blocked while the bench config was read"
    );
    bench.finish().await.unwrap();
}
