//! pyvisa-py as a client of our VXI-11, HiSLIP and raw-socket servers: the same script gets
//! the same answers over all three.
//!
//! Needs `python3` with `pyvisa` and `pyvisa-py` (`.ci/run` installs them, pinned). Without
//! them the test says so and passes, unless `REPLAY_REQUIRE_PEERS=1` (CI), where it fails.

mod support;

use std::process::Command;

use replay_core::serve;
use support::{Psu, Servers, waveform};
use tokio::net::TcpListener;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pyvisa/exchange.py");
const INSTALL: &str = "python3 -m pip install pyvisa==1.16.2 pyvisa-py==0.8.1";

/// Whether pyvisa-py can be imported; `false` (with a message) when it may be skipped.
fn pyvisa_py_available() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import pyvisa, pyvisa_py"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        let message =
            format!("pyvisa-py is not installed for `python3`; install it with `{INSTALL}`");
        if std::env::var("REPLAY_REQUIRE_PEERS").as_deref() == Ok("1") {
            panic!("{message} (REPLAY_REQUIRE_PEERS=1 requires it)");
        }
        eprintln!("skipped: {message}");
    }
    found
}

/// Runs the python script on `resources`; returns its JSON answer.
fn run_script(resources: &[String]) -> serde_json::Value {
    let output = Command::new("python3")
        .arg(SCRIPT)
        .args(resources)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "pyvisa-py failed on {resources:?}:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyvisa_py_gets_the_same_answers_over_socket_vxi11_and_hislip() {
    if !pyvisa_py_available() {
        return;
    }
    let servers = Servers::start(Psu::new()).await;
    let socket = servers.socket_address();
    let vxi11 = servers.vxi11_address();
    let hislip = servers.hislip_address();
    let resources = vec![socket.clone(), vxi11.clone(), hislip.clone()];
    let answers = tokio::task::spawn_blocking(move || run_script(&resources))
        .await
        .unwrap();

    let payload_hex: String = waveform().iter().map(|b| format!("{b:02x}")).collect();
    let expected_socket = serde_json::json!(["ACME,PSU-1,0001,1.0", "1.250", "7.000", payload_hex]);
    assert_eq!(answers[&socket], expected_socket, "{answers:#}");
    // VXI-11 and HiSLIP: the same answers, then the status byte and a query after a clear.
    let mut expected_lan = expected_socket.as_array().unwrap().clone();
    expected_lan.push(serde_json::json!(0x10));
    expected_lan.push(serde_json::json!("ACME,PSU-1,0001,1.0"));
    assert_eq!(
        answers[&vxi11],
        serde_json::Value::Array(expected_lan.clone()),
        "{answers:#}"
    );
    assert_eq!(
        answers[&hislip],
        serde_json::Value::Array(expected_lan),
        "{answers:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyvisa_py_finds_our_vxi11_server_through_the_portmapper_on_111() {
    if !pyvisa_py_available() {
        return;
    }
    let servers = Servers::start(Psu::new()).await;
    // pyvisa-py asks the portmapper on port 111 when the address has no `,port`.
    let listener = match TcpListener::bind("127.0.0.1:111").await {
        Ok(listener) => listener,
        Err(e) => {
            let message = format!(
                "cannot bind the portmapper port 127.0.0.1:111 ({e}): it needs root (or \
                 CAP_NET_BIND_SERVICE) and a free port 111 (stop `rpcbind` if it runs); the \
                 `host,port` form is tested without it"
            );
            if std::env::var("REPLAY_REQUIRE_PEERS").as_deref() == Ok("1") {
                panic!("{message}");
            }
            eprintln!("skipped: {message}");
            return;
        }
    };
    let _portmapper = serve::portmapper(listener, servers.vxi11.local_addr().port()).unwrap();
    let resource = "TCPIP0::127.0.0.1::inst0::INSTR".to_owned();
    let resources = vec![resource.clone()];
    let answers = tokio::task::spawn_blocking(move || run_script(&resources))
        .await
        .unwrap();
    assert_eq!(answers[&resource][0], "ACME,PSU-1,0001,1.0", "{answers:#}");
    assert_eq!(answers[&resource][2], "7.000", "{answers:#}");
}
