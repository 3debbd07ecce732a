//! VXI-11 (`TCPIP[n]::host[,port][::inst0]::INSTR`): ONC RPC over TCP.

mod client;
pub(crate) mod wire;

pub use client::{Vxi11Transport, connect_vxi11};
