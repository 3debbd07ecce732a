//! A small simulated power supply served over the raw socket, VXI-11 and HiSLIP servers.

#![allow(dead_code, reason = "each test file uses part of the support module")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use replay_core::serve::{self, MessageDevice, ServerHandle};
use replay_core::transport::{
    ConnectOptions, HislipTransport, Vxi11Transport, connect_hislip, connect_vxi11,
};
use tokio::net::TcpListener;

/// How long `SLOW?` takes to answer.
pub const SLOW: Duration = Duration::from_millis(1200);

/// A power supply: `*IDN?`, `VOLT <v>` / `VOLT?`, `WAV?` (a binary block with every byte),
/// `BIG?` (`n` bytes), `SLOW?` (answers `late` after [`SLOW`]).
pub struct Psu {
    volts: String,
    pub big: usize,
    pub clears: Arc<AtomicUsize>,
    pub messages: Arc<Mutex<Vec<String>>>,
}

impl Psu {
    pub fn new() -> Psu {
        Psu {
            volts: "0.000".to_owned(),
            big: 2 << 20,
            clears: Arc::new(AtomicUsize::new(0)),
            messages: Arc::new(Mutex::new(Vec::new())),
        }
    }
}

/// The payload `WAV?` answers with: every byte value, and bytes that look like terminators
/// and block headers.
pub fn waveform() -> Vec<u8> {
    (0..=255u8).chain(*b"\n\r\n#9").collect()
}

impl MessageDevice for Psu {
    fn message(&mut self, message: &[u8]) -> Option<Vec<u8>> {
        let text = String::from_utf8_lossy(message).into_owned();
        self.messages.lock().unwrap().push(text.clone());
        match text.as_str() {
            "*IDN?" => Some(b"ACME,PSU-1,0001,1.0".to_vec()),
            "VOLT?" => Some(self.volts.as_bytes().to_vec()),
            "WAV?" => Some(replay_core::transport::encode_block(&waveform())),
            "BIG?" => Some(vec![b'x'; self.big]),
            "SLOW?" => {
                std::thread::sleep(SLOW);
                Some(b"late".to_vec())
            }
            "FAST?" => Some(b"fast".to_vec()),
            _ => {
                if let Some(v) = text.strip_prefix("VOLT ") {
                    self.volts = format!("{:.3}", v.parse::<f64>().unwrap_or(f64::NAN));
                }
                None
            }
        }
    }

    fn clear(&mut self) {
        self.clears.fetch_add(1, Ordering::SeqCst);
    }

    fn status_byte(&mut self) -> u8 {
        0x10
    }
}

/// The three servers sharing one device.
pub struct Servers {
    pub socket: ServerHandle,
    pub vxi11: ServerHandle,
    pub hislip: ServerHandle,
}

impl Servers {
    pub async fn start<D: MessageDevice>(device: D) -> Servers {
        let device = Arc::new(Mutex::new(device));
        let bind = || TcpListener::bind("127.0.0.1:0");
        Servers {
            socket: serve::socket(bind().await.unwrap(), device.clone()).unwrap(),
            vxi11: serve::vxi11(bind().await.unwrap(), device.clone()).unwrap(),
            hislip: serve::hislip(bind().await.unwrap(), device).unwrap(),
        }
    }

    pub fn socket_address(&self) -> String {
        format!(
            "TCPIP0::127.0.0.1::{}::SOCKET",
            self.socket.local_addr().port()
        )
    }

    pub fn vxi11_address(&self) -> String {
        format!(
            "TCPIP0::127.0.0.1,{}::inst0::INSTR",
            self.vxi11.local_addr().port()
        )
    }

    /// A VXI-11 and a HiSLIP client of these servers.
    pub async fn connect_both(&self, options: ConnectOptions) -> (Vxi11Transport, HislipTransport) {
        let vxi11 = connect_vxi11(
            "127.0.0.1",
            Some(self.vxi11.local_addr().port()),
            "inst0",
            options.clone(),
        )
        .await
        .unwrap();
        let hislip = connect_hislip(
            "127.0.0.1",
            self.hislip.local_addr().port(),
            "hislip0",
            options,
        )
        .await
        .unwrap();
        (vxi11, hislip)
    }

    pub fn hislip_address(&self) -> String {
        format!(
            "TCPIP0::127.0.0.1::hislip0,{}::INSTR",
            self.hislip.local_addr().port()
        )
    }
}

/// Writes a one-instrument bench config in `dir`.
pub fn bench_config(dir: &std::path::Path, address: &str, timeout: f64) -> std::path::PathBuf {
    let path = dir.join("bench.yaml");
    std::fs::write(
        &path,
        format!("instruments:\n  psu:\n    address: \"{address}\"\n    timeout: {timeout}\n"),
    )
    .unwrap();
    path
}
