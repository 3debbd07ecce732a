//! HiSLIP (`TCPIP[n]::host::hislip0[,port]::INSTR`): IVI-6.1, a synchronous and an
//! asynchronous TCP channel per session.

mod client;
pub(crate) mod wire;

pub use client::{HislipTransport, connect_hislip};
