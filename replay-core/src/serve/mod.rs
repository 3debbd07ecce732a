//! Servers that expose a [`MessageDevice`] over loopback or a LAN: a raw SCPI socket,
//! VXI-11 (with a minimal portmapper) and HiSLIP (feature `serve`, off by default).
//!
//! They exist so that the clients of [`transport`](crate::transport) are tested end to end
//! over real TCP, and so that simulated instruments can be served to any client (pyvisa-py,
//! `lxi`, a script). Every server shares one device between its connections (an
//! `Arc<Mutex<…>>`), runs on the current tokio runtime, and stops when its
//! [`ServerHandle`] is stopped or dropped.
//!
//! ```no_run
//! use std::sync::{Arc, Mutex};
//! use replay_core::serve::{self, MessageDevice};
//!
//! struct Echo;
//! impl MessageDevice for Echo {
//!     fn message(&mut self, message: &[u8]) -> Option<Vec<u8>> {
//!         message.ends_with(b"?").then(|| message.to_vec())
//!     }
//! }
//!
//! # async fn demo() -> std::io::Result<()> {
//! let device = Arc::new(Mutex::new(Echo));
//! let socket = serve::socket(tokio::net::TcpListener::bind("127.0.0.1:0").await?, device.clone())?;
//! let hislip = serve::hislip(tokio::net::TcpListener::bind("127.0.0.1:0").await?, device.clone())?;
//! let vxi11 = serve::vxi11(tokio::net::TcpListener::bind("127.0.0.1:0").await?, device)?;
//! println!("TCPIP0::127.0.0.1::{}::SOCKET", socket.local_addr().port());
//! println!("TCPIP0::127.0.0.1::hislip0,{}::INSTR", hislip.local_addr().port());
//! println!("TCPIP0::127.0.0.1,{}::inst0::INSTR", vxi11.local_addr().port());
//! # Ok(()) }
//! ```

mod device;
mod handle;
mod hislip;
mod queue;
mod socket;
mod vxi11;

pub use device::{MessageDevice, SharedDevice};
pub use handle::ServerHandle;
pub use hislip::hislip;
pub use socket::socket;
pub use vxi11::{portmapper, vxi11};
