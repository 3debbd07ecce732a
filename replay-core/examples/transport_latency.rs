//! Exchange round-trip latency over loopback: our socket, VXI-11 and HiSLIP clients against
//! our servers, and pyvisa-py's clients against the same servers (when `python3` has
//! `pyvisa-py`).
//!
//! ```sh
//! cargo run --release -p replay-core --features serve --example transport_latency -- 2000
//! ```

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use replay_core::serve::{self, MessageDevice};
use replay_core::transport::{
    ConnectOptions, Transport, connect_hislip, connect_tcp, connect_vxi11,
};
use tokio::net::TcpListener;

/// Answers `*IDN?` at once.
struct Idn;

impl MessageDevice for Idn {
    fn message(&mut self, message: &[u8]) -> Option<Vec<u8>> {
        (message == b"*IDN?").then(|| b"ACME,PSU-1,0001,1.0".to_vec())
    }
}

/// Median microseconds per `*IDN?` query over `count` queries (after one to warm up); the
/// median, because a shared machine adds long outliers.
async fn measure(t: &mut dyn Transport, count: u32) -> f64 {
    t.send("*IDN?").await.expect("send");
    t.receive().await.expect("receive");
    let mut times = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let start = Instant::now();
        t.send("*IDN?").await.expect("send");
        let answer = t.receive().await.expect("receive");
        times.push(start.elapsed().as_secs_f64() * 1e6);
        assert_eq!(answer, b"ACME,PSU-1,0001,1.0");
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let count: u32 = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("the query count is a number"))
        .unwrap_or(2000);
    let device = Arc::new(Mutex::new(Idn));
    let bind = || TcpListener::bind("127.0.0.1:0");
    let socket = serve::socket(bind().await.unwrap(), device.clone()).unwrap();
    let vxi11 = serve::vxi11(bind().await.unwrap(), device.clone()).unwrap();
    let hislip = serve::hislip(bind().await.unwrap(), device).unwrap();
    let (sp, vp, hp) = (
        socket.local_addr().port(),
        vxi11.local_addr().port(),
        hislip.local_addr().port(),
    );

    let mut ours = Vec::new();
    let mut t = connect_tcp("127.0.0.1", sp, Default::default())
        .await
        .unwrap();
    ours.push(measure(&mut t, count).await);
    let mut t = connect_vxi11("127.0.0.1", Some(vp), "inst0", ConnectOptions::default())
        .await
        .unwrap();
    ours.push(measure(&mut t, count).await);
    let mut t = connect_hislip("127.0.0.1", hp, "hislip0", ConnectOptions::default())
        .await
        .unwrap();
    ours.push(measure(&mut t, count).await);

    let resources = [
        format!("TCPIP0::127.0.0.1::{sp}::SOCKET"),
        format!("TCPIP0::127.0.0.1,{vp}::inst0::INSTR"),
        format!("TCPIP0::127.0.0.1::hislip0,{hp}::INSTR"),
    ];
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pyvisa/exchange.py");
    let python = tokio::task::spawn_blocking({
        let resources = resources.clone();
        move || {
            Command::new("python3")
                .arg(script)
                .args(["--time", &count.to_string()])
                .args(&resources)
                .output()
        }
    })
    .await
    .unwrap();
    let theirs: Option<serde_json::Value> = match python {
        Ok(out) if out.status.success() => serde_json::from_slice(&out.stdout).ok(),
        Ok(out) => {
            eprintln!(
                "pyvisa-py timing failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            None
        }
        Err(e) => {
            eprintln!("python3 did not run: {e}");
            None
        }
    };

    println!("round trip of `*IDN?` over loopback, median of {count} queries (µs)");
    println!("| transport | replay-core client | pyvisa-py 0.8.1 client |");
    println!("|---|---:|---:|");
    for (i, name) in ["raw socket", "VXI-11", "HiSLIP"].iter().enumerate() {
        let py = theirs
            .as_ref()
            .and_then(|t| t[&resources[i]].as_f64())
            .map_or("n/a".to_owned(), |us| format!("{us:.1}"));
        println!("| {name} | {:.1} | {py} |", ours[i]);
    }
}
