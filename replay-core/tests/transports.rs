//! The VXI-11 and HiSLIP clients against our servers over real loopback TCP, and recording
//! through them.

mod support;

use std::sync::atomic::Ordering;

use replay_core::Bench;
use replay_core::session::read_session;
use replay_core::transport::encode_block;
use replay_core::transport::{ConnectOptions, Transport, connect_hislip, connect_vxi11};
use support::{Psu, Servers, bench_config, waveform};
use tokio::net::TcpListener;

#[tokio::test]
async fn vxi11_client_exchanges_with_our_server() {
    let servers = Servers::start(Psu::new()).await;
    let port = servers.vxi11.local_addr().port();
    let mut t = connect_vxi11("127.0.0.1", Some(port), "inst0", ConnectOptions::default())
        .await
        .unwrap();
    t.send("*IDN?").await.unwrap();
    assert_eq!(t.receive().await.unwrap(), b"ACME,PSU-1,0001,1.0");
    t.send("VOLT 5").await.unwrap();
    t.send("VOLT?").await.unwrap();
    assert_eq!(t.receive().await.unwrap(), b"5.000");
    t.send("WAV?").await.unwrap();
    assert_eq!(t.receive_block().await.unwrap(), encode_block(&waveform()));
    // A 2 MiB answer arrives in several device_read chunks.
    t.send("BIG?").await.unwrap();
    assert_eq!(t.receive().await.unwrap().len(), 2 << 20);
    assert_eq!(t.read_stb().await.unwrap(), 0x10);
    t.device_clear().await.unwrap();
    t.close().await.unwrap();
}

#[tokio::test]
async fn vxi11_finds_the_core_port_through_the_portmapper() {
    let servers = Servers::start(Psu::new()).await;
    let core = servers.vxi11.local_addr().port();
    let pm = replay_core::serve::portmapper(TcpListener::bind("127.0.0.1:0").await.unwrap(), core)
        .unwrap();
    let options = ConnectOptions::default().with_portmapper_port(pm.local_addr().port());
    let mut t = connect_vxi11("127.0.0.1", None, "inst0", options)
        .await
        .unwrap();
    t.send("*IDN?").await.unwrap();
    assert_eq!(t.receive().await.unwrap(), b"ACME,PSU-1,0001,1.0");

    // No portmapper there: the error says where it looked and how to skip it.
    pm.stop().await;
    let options = ConnectOptions::default().with_portmapper_port(core + 1);
    let listener = TcpListener::bind(("127.0.0.1", core + 1)).await;
    drop(listener);
    let err = connect_vxi11("127.0.0.1", None, "inst0", options)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("portmapper") && text.contains(",<port>::inst0::INSTR"),
        "{text}"
    );
}

#[tokio::test]
async fn hislip_client_exchanges_with_our_server() {
    let servers = Servers::start(Psu::new()).await;
    let port = servers.hislip.local_addr().port();
    let mut t = connect_hislip("127.0.0.1", port, "hislip0", ConnectOptions::default())
        .await
        .unwrap();
    t.send("*IDN?").await.unwrap();
    assert_eq!(t.receive().await.unwrap(), b"ACME,PSU-1,0001,1.0");
    t.send("VOLT 2.5").await.unwrap();
    t.send("VOLT?").await.unwrap();
    assert_eq!(t.receive().await.unwrap(), b"2.500");
    t.send("WAV?").await.unwrap();
    assert_eq!(t.receive_block().await.unwrap(), encode_block(&waveform()));
    // More than the 1 MiB the server's default message size allows: Data…DataEnd.
    t.send("BIG?").await.unwrap();
    assert_eq!(t.receive().await.unwrap().len(), 2 << 20);
    assert_eq!(t.read_stb().await.unwrap(), 0x10);
    t.device_clear().await.unwrap();
    t.send("*IDN?").await.unwrap();
    assert_eq!(t.receive().await.unwrap(), b"ACME,PSU-1,0001,1.0");
    t.close().await.unwrap();
}

#[tokio::test]
async fn device_clear_reaches_the_device() {
    let psu = Psu::new();
    let clears = psu.clears.clone();
    let servers = Servers::start(psu).await;
    let (mut v, mut h) = servers.connect_both(ConnectOptions::default()).await;
    v.device_clear().await.unwrap();
    assert_eq!(clears.load(Ordering::SeqCst), 1);
    h.device_clear().await.unwrap();
    assert_eq!(clears.load(Ordering::SeqCst), 2);
}

/// Records one scripted session against `address` and returns the cassette's text with the
/// timestamps taken out.
async fn record_script(address: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let config = bench_config(dir.path(), address, 5.0);
    let path = dir.path().join("psu.yaml");
    let bench = Bench::record(&config, &path).await.unwrap();
    let psu = bench.instrument("psu").unwrap();
    assert_eq!(psu.query("*IDN?").await.unwrap(), "ACME,PSU-1,0001,1.0");
    psu.write("VOLT 3.3").await.unwrap();
    assert_eq!(psu.query("VOLT?").await.unwrap(), "3.300");
    assert_eq!(psu.query_binary("WAV?").await.unwrap(), waveform());
    bench.finish().await.unwrap();
    let mut session = read_session(&path).unwrap();
    for (_, log) in &mut session.instruments {
        for interaction in &mut log.log {
            interaction.timestamp = 0.0;
        }
    }
    replay_core::session::render_session(&session)
}

#[tokio::test]
async fn recording_through_vxi11_or_hislip_writes_the_socket_cassette() {
    let servers = Servers::start(Psu::new()).await;
    let socket = record_script(&servers.socket_address()).await;
    assert!(socket.contains("response_base64"), "{socket}");
    assert_eq!(record_script(&servers.vxi11_address()).await, socket);
    assert_eq!(record_script(&servers.hislip_address()).await, socket);
}
