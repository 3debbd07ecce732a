//! HiSLIP (`TCPIP[n]::host::hislip0[,port]::INSTR`): IVI-6.1, a synchronous and an
//! asynchronous TCP channel per session.

mod client;
#[cfg_attr(
    not(feature = "serve"),
    expect(
        dead_code,
        reason = "the server side of the protocol is used by `serve` only"
    )
)]
pub(crate) mod wire;

pub use client::{HislipTransport, connect_hislip};
