//! Faults on the VXI-11 and HiSLIP transports, over real loopback TCP: each is a clear error,
//! and nothing wrong reaches the cassette.
//!
//! The misbehaving servers here are written byte by byte from the specifications (not with
//! our encoders), so they also check our framing independently.

mod support;

use std::time::Duration;

use replay_core::session::{Interaction, RecordedErrorKind, read_session};
use replay_core::transport::{ConnectOptions, Transport};
use replay_core::{Bench, Error, RecordOptions};
use support::{Psu, Servers, bench_config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn be(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_be_bytes()).collect()
}

/// Reads one single-fragment RPC record; returns (xid, procedure).
async fn read_call(stream: &mut TcpStream) -> Option<(u32, u32)> {
    let mut mark = [0u8; 4];
    stream.read_exact(&mut mark).await.ok()?;
    let len = (u32::from_be_bytes(mark) & 0x7fff_ffff) as usize;
    let mut record = vec![0u8; len];
    stream.read_exact(&mut record).await.ok()?;
    let word = |i: usize| u32::from_be_bytes(record[i * 4..i * 4 + 4].try_into().unwrap());
    Some((word(0), word(5)))
}

/// An accepted, successful RPC reply with `results`, record-marked.
fn success(xid: u32, results: &[u8]) -> Vec<u8> {
    let mut body = be(&[xid, 1, 0, 0, 0, 0]);
    body.extend_from_slice(results);
    let mut out = be(&[0x8000_0000 | body.len() as u32]);
    out.extend_from_slice(&body);
    out
}

#[derive(Clone, Copy)]
enum Vxi11Fault {
    /// device_read: a record mark for 100 bytes, 10 bytes, then close.
    CloseMidMessage,
    /// device_read: accept_stat PROC_UNAVAIL.
    ProcUnavail,
}

/// A VXI-11 core channel that links and takes writes, then misbehaves on device_read.
async fn faulty_vxi11(fault: Vxi11Fault) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                while let Some((xid, procedure)) = read_call(&mut stream).await {
                    let reply = match (procedure, fault) {
                        // create_link: error 0, link 1, abort port 0, maxRecvSize 1024
                        (10, _) => success(xid, &be(&[0, 1, 0, 1024])),
                        // device_write: error 0, size (whatever; our client checks it)
                        (11, _) => success(xid, &be(&[0, 6])),
                        (12, Vxi11Fault::CloseMidMessage) => {
                            let mut partial = be(&[0x8000_0000 | 100, xid, 1]);
                            partial.extend_from_slice(b"ab");
                            stream.write_all(&partial).await.ok();
                            return;
                        }
                        (12, Vxi11Fault::ProcUnavail) => {
                            let body = be(&[xid, 1, 0, 0, 0, 3]);
                            let mut out = be(&[0x8000_0000 | body.len() as u32]);
                            out.extend_from_slice(&body);
                            out
                        }
                        // device_clear, destroy_link: error 0
                        _ => success(xid, &be(&[0])),
                    };
                    if stream.write_all(&reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

#[derive(Clone, Copy)]
enum HislipFault {
    /// DataEnd announcing 100 bytes, 10 sent, then close.
    CloseMidMessage,
    /// An Error message (code 0, unidentified) instead of the response.
    Error,
}

fn hs(kind: u8, control: u8, parameter: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = b"HS".to_vec();
    out.extend_from_slice(&[kind, control]);
    out.extend_from_slice(&parameter.to_be_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

async fn read_hs(stream: &mut TcpStream) -> Option<(u8, u32, Vec<u8>)> {
    let mut header = [0u8; 16];
    stream.read_exact(&mut header).await.ok()?;
    let len = u64::from_be_bytes(header[8..16].try_into().unwrap()) as usize;
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).await.ok()?;
    let parameter = u32::from_be_bytes(header[4..8].try_into().unwrap());
    Some((header[2], parameter, payload))
}

/// A HiSLIP server that initializes properly, then misbehaves on the first DataEnd.
async fn faulty_hislip(fault: HislipFault) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                while let Some((kind, parameter, _payload)) = read_hs(&mut stream).await {
                    let reply = match kind {
                        0 => hs(1, 0, 0x0100_0001, b""), // InitializeResponse
                        17 => hs(18, 0, 0, b""),         // AsyncInitializeResponse
                        15 => hs(16, 0, 0, &(1u64 << 20).to_be_bytes()), // AsyncMaxMsgSizeResponse
                        19 => hs(23, 0, 0, b""),         // AsyncDeviceClearAcknowledge
                        8 => hs(9, 0, 0, b""),           // DeviceClearAcknowledge
                        7 => match fault {
                            HislipFault::CloseMidMessage => {
                                let mut partial = hs(7, 0, parameter, &[b'x'; 100]);
                                partial.truncate(16 + 10);
                                stream.write_all(&partial).await.ok();
                                return;
                            }
                            HislipFault::Error => hs(3, 0, 0, b"the sky is falling"),
                        },
                        _ => continue,
                    };
                    if stream.write_all(&reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// Records one query through `address` (or `options`), expecting it to fail; returns the
/// error and the recorded log.
async fn record_failing_query(
    address: &str,
    options: RecordOptions,
    command: &str,
) -> (Error, Vec<Interaction>) {
    let dir = tempfile::tempdir().unwrap();
    let config = bench_config(dir.path(), address, 2.0);
    let path = dir.path().join("session.yaml");
    let bench = Bench::record_with(&config, &path, options).await.unwrap();
    let psu = bench.instrument("psu").unwrap();
    let err = psu.query(command).await.unwrap_err();
    bench.finish().await.unwrap();
    let log = read_session(&path)
        .unwrap()
        .instrument("psu")
        .unwrap()
        .log
        .clone();
    (err, log)
}

/// The cassette holds the query with the error and no response.
fn assert_recorded_error(log: &[Interaction], kind: RecordedErrorKind, needle: &str) {
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].response, None, "nothing wrong recorded: {log:?}");
    assert_eq!(log[0].binary, None);
    let error = log[0].error.as_ref().expect("the error is recorded");
    assert_eq!(error.kind, kind);
    assert!(error.message.contains(needle), "{}", error.message);
}

#[tokio::test]
async fn vxi11_server_closing_mid_message() {
    let port = faulty_vxi11(Vxi11Fault::CloseMidMessage).await;
    let address = format!("TCPIP::127.0.0.1,{port}::inst0::INSTR");
    let (err, log) = record_failing_query(&address, RecordOptions::default(), "*IDN?").await;
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert!(format!("{err}").contains("*IDN?"), "{err}");
    assert_recorded_error(&log, RecordedErrorKind::Io, "closed the connection");
}

#[tokio::test]
async fn vxi11_rpc_error_reply() {
    let port = faulty_vxi11(Vxi11Fault::ProcUnavail).await;
    let address = format!("TCPIP::127.0.0.1,{port}::inst0::INSTR");
    let (err, log) = record_failing_query(&address, RecordOptions::default(), "*IDN?").await;
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert_recorded_error(
        &log,
        RecordedErrorKind::Io,
        "refused the VXI-11 `device_read` call: procedure unavailable (PROC_UNAVAIL)",
    );
}

#[tokio::test]
async fn hislip_server_closing_mid_message() {
    let port = faulty_hislip(HislipFault::CloseMidMessage).await;
    let address = format!("TCPIP::127.0.0.1::hislip0,{port}::INSTR");
    let (err, log) = record_failing_query(&address, RecordOptions::default(), "*IDN?").await;
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert_recorded_error(&log, RecordedErrorKind::Io, "closed the connection");
}

#[tokio::test]
async fn hislip_error_message() {
    let port = faulty_hislip(HislipFault::Error).await;
    let address = format!("TCPIP::127.0.0.1::hislip0,{port}::INSTR");
    let (err, log) = record_failing_query(&address, RecordOptions::default(), "*IDN?").await;
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert_recorded_error(
        &log,
        RecordedErrorKind::Io,
        "HiSLIP error: unidentified error (code 0): the sky is falling",
    );
}

#[tokio::test]
async fn oversized_responses_are_refused() {
    let servers = Servers::start(Psu::new()).await;
    let small = ConnectOptions::default().with_max_response(1 << 20);
    let (vxi11, hislip) = servers.connect_both(small).await;
    for (address, transport) in [
        (
            servers.vxi11_address(),
            Box::new(vxi11) as Box<dyn Transport>,
        ),
        (servers.hislip_address(), Box::new(hislip)),
    ] {
        let options = RecordOptions::default().transport("psu", transport);
        let (err, log) = record_failing_query(&address, options, "BIG?").await;
        // The transport refuses from the frame header; the recorder reports it as the one
        // response-size error of every transport, and records it as such.
        assert!(matches!(err, Error::ResponseTooLarge { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains("more than the maximum response size of 1048576 bytes"),
            "{err}"
        );
        assert_recorded_error(&log, RecordedErrorKind::ResponseTooLarge, "1048576");
    }
}

#[tokio::test]
async fn an_oversized_response_does_not_leak_into_the_next() {
    let servers = Servers::start(Psu::new()).await;
    let small = ConnectOptions::default().with_max_response(1 << 20);
    let (mut vxi11, mut hislip) = servers.connect_both(small).await;
    for t in [&mut vxi11 as &mut dyn Transport, &mut hislip] {
        t.send("BIG?").await.unwrap();
        let err = t.receive().await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{err}");
        t.send("*IDN?").await.unwrap();
        assert_eq!(t.receive().await.unwrap(), b"ACME,PSU-1,0001,1.0");
    }
}

/// Records `SLOW?` (times out) then `FAST?`; returns the answer to `FAST?` and the log.
async fn timeout_then_next(address: &str, options: RecordOptions) -> (String, Vec<Interaction>) {
    let dir = tempfile::tempdir().unwrap();
    let config = bench_config(dir.path(), address, 0.8);
    let path = dir.path().join("session.yaml");
    let bench = Bench::record_with(&config, &path, options).await.unwrap();
    let psu = bench.instrument("psu").unwrap();
    let err = psu.query("SLOW?").await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    let next = psu.query("FAST?").await.unwrap();
    bench.finish().await.unwrap();
    let log = read_session(&path)
        .unwrap()
        .instrument("psu")
        .unwrap()
        .log
        .clone();
    (next, log)
}

fn assert_timeout_then_fast(log: &[Interaction]) {
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0].command, "SLOW?");
    assert_eq!(log[0].response, None);
    assert_eq!(
        log[0].error.as_ref().unwrap().kind,
        RecordedErrorKind::Timeout
    );
    assert_eq!(log[1].command, "FAST?");
    assert_eq!(log[1].response.as_deref(), Some("fast"));
}

#[tokio::test]
async fn a_late_answer_is_never_the_next_response() {
    let servers = Servers::start(Psu::new()).await;
    // The recorder reconnects after a timeout: a new link / session.
    for address in [servers.vxi11_address(), servers.hislip_address()] {
        let (next, log) = timeout_then_next(&address, RecordOptions::default()).await;
        assert_eq!(next, "fast", "{address}");
        assert_timeout_then_fast(&log);
    }
    // A transport given to the recorder is kept: the device clear brings it back in step.
    let options = ConnectOptions::default().with_timeout(Duration::from_millis(800));
    let (vxi11, hislip) = servers.connect_both(options).await;
    for (address, transport) in [
        (
            servers.vxi11_address(),
            Box::new(vxi11) as Box<dyn Transport>,
        ),
        (servers.hislip_address(), Box::new(hislip)),
    ] {
        let options = RecordOptions::default().transport("psu", transport);
        let (next, log) = timeout_then_next(&address, options).await;
        assert_eq!(next, "fast", "{address}");
        assert_timeout_then_fast(&log);
    }
}

#[tokio::test]
async fn a_cancelled_read_is_cleared_before_the_next_exchange() {
    let servers = Servers::start(Psu::new()).await;
    let (mut vxi11, mut hislip) = servers.connect_both(ConnectOptions::default()).await;
    for t in [&mut vxi11 as &mut dyn Transport, &mut hislip] {
        t.send("SLOW?").await.unwrap();
        let cancelled = tokio::time::timeout(Duration::from_millis(100), t.receive()).await;
        assert!(cancelled.is_err(), "the read was cancelled");
        t.send("FAST?").await.unwrap();
        assert_eq!(t.receive().await.unwrap(), b"fast");
        // And the late answer does not turn up afterwards either.
        t.send("*IDN?").await.unwrap();
        assert_eq!(t.receive().await.unwrap(), b"ACME,PSU-1,0001,1.0");
    }
}
