//! Recording over a real loopback TCP socket: what happens to the connection after a timeout.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use replay_core::session::read_session;
use replay_core::{Bench, Error};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A slow instrument: `SLOW?` answers after 400 ms, `*IDN?` at once. Counts connections.
async fn slow_instrument() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    let answer = match line.trim() {
                        "SLOW?" => {
                            tokio::time::sleep(Duration::from_millis(400)).await;
                            "slow answer"
                        }
                        "*IDN?" => "ACME,SLOW-1,0001,1.0",
                        _ => continue,
                    };
                    if write
                        .write_all(format!("{answer}\n").as_bytes())
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (port, connections)
}

#[tokio::test]
async fn a_late_answer_is_not_taken_for_the_next_query() {
    let (port, connections) = slow_instrument().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bench.yaml");
    std::fs::write(
        &config,
        format!(
            "instruments:\n  slow:\n    address: TCPIP0::127.0.0.1::{port}::SOCKET\n    timeout: 0.15\n"
        ),
    )
    .unwrap();
    let session = dir.path().join("slow.yaml");
    let bench = Bench::record(&config, &session).await.unwrap();
    let slow = bench.instrument("slow").unwrap();
    let err = slow.query("SLOW?").await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    // On the old connection the next read would get "slow answer".
    assert_eq!(slow.query("*IDN?").await.unwrap(), "ACME,SLOW-1,0001,1.0");
    assert_eq!(connections.load(Ordering::SeqCst), 2, "reconnected once");
    bench.finish().await.unwrap();

    let log = read_session(&session)
        .unwrap()
        .instrument("slow")
        .unwrap()
        .log
        .clone();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].command, "*IDN?");
    assert_eq!(log[1].response.as_deref(), Some("ACME,SLOW-1,0001,1.0"));
}
