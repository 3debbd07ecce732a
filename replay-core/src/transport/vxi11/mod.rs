//! VXI-11 (`TCPIP[n]::host[,port][::inst0]::INSTR`): ONC RPC over TCP.

mod client;
#[cfg_attr(
    not(feature = "serve"),
    expect(
        dead_code,
        reason = "the server side of the protocol is used by `serve` only"
    )
)]
pub(crate) mod wire;

pub use client::{Vxi11Transport, connect_vxi11};
