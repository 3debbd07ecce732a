//! Transports: how bytes reach an instrument.
//!
//! A [`Transport`] is message-level: send one command, receive one response or one binary
//! block. The built-in transports frame a byte stream ([`StreamTransport`]) over TCP or
//! serial; plug in your own (VISA, USBTMC, a vendor library) by implementing the trait.

pub(crate) mod hislip;
mod max_response;
mod options;
#[cfg_attr(
    not(feature = "serve"),
    expect(
        dead_code,
        reason = "the server side of the protocol is used by `serve` only"
    )
)]
pub(crate) mod rpc;
mod stream;
mod tcp;
pub(crate) mod vxi11;

#[cfg(feature = "serial")]
mod serial;

use std::future::Future;
use std::io;
use std::pin::Pin;

pub use crate::block::encode_block;
pub use hislip::{HislipTransport, connect_hislip};
pub use max_response::ResponseTooLarge;
pub(crate) use options::connect_lan;
pub use options::{ConnectOptions, DEFAULT_MAX_RESPONSE};
pub use stream::StreamTransport;
pub use tcp::connect_tcp;
pub use vxi11::{Vxi11Transport, connect_vxi11};

#[cfg(feature = "serial")]
pub use serial::open_serial;

/// A boxed future, the return type of [`Transport`] methods (keeps the trait object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Message-level I/O with one instrument.
///
/// Implementations handle terminators and framing; the recorder adds timeouts, logging and
/// timestamps around them. Methods take `&mut self`: the bench serializes exchanges per
/// instrument, so a command and its response are never interleaved with another task's.
pub trait Transport: Send + 'static {
    /// Sends one command (without terminator; the transport adds it).
    fn send<'a>(&'a mut self, command: &'a str) -> BoxFuture<'a, io::Result<()>>;

    /// Receives one text response, without its terminator.
    fn receive(&mut self) -> BoxFuture<'_, io::Result<Vec<u8>>>;

    /// Receives one IEEE 488.2 definite-length block: the exact bytes, header included
    /// (`#<n><len><payload>`). A terminator after the block is consumed, not returned.
    fn receive_block(&mut self) -> BoxFuture<'_, io::Result<Vec<u8>>>;

    /// Sets the maximum response size in bytes (`max_response` of the instrument). A
    /// response that would exceed it is an error carrying a [`ResponseTooLarge`] (see
    /// [`ResponseTooLarge::into_io`]), detected before the bytes are buffered: a text
    /// response that passes the limit without a terminator, a block whose header claims more.
    ///
    /// The recorder calls it right after opening a connection (a transport given in
    /// [`RecordOptions::transport`](crate::RecordOptions::transport) keeps its own
    /// setting). The default ignores it; the recorder
    /// still refuses an oversized response afterwards, but only a transport that enforces
    /// it while reading bounds its memory.
    fn set_max_response(&mut self, bytes: usize) {
        let _ = bytes;
    }

    /// Brings the instrument back in step after an abandoned exchange (a timeout, a caller
    /// that dropped its future): once it returns `Ok`, nothing the instrument still sends
    /// for the abandoned exchange may come out of a later [`Transport::receive`]. VXI-11's
    /// `device_clear` and HiSLIP's device clear are such operations.
    ///
    /// The default, for transports that cannot tell a late answer from a new one (a raw
    /// byte stream), fails with [`io::ErrorKind::Unsupported`]: the recorder then drops the
    /// connection and opens a new one on the next exchange, and a transport given in
    /// [`RecordOptions::transport`](crate::RecordOptions::transport), which it cannot
    /// reopen, refuses every later exchange with [`Error::Unusable`](crate::Error::Unusable).
    fn clear(&mut self) -> BoxFuture<'_, io::Result<()>> {
        Box::pin(async {
            Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "this transport cannot clear an abandoned exchange",
            ))
        })
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn send<'a>(&'a mut self, command: &'a str) -> BoxFuture<'a, io::Result<()>> {
        (**self).send(command)
    }
    fn receive(&mut self) -> BoxFuture<'_, io::Result<Vec<u8>>> {
        (**self).receive()
    }
    fn receive_block(&mut self) -> BoxFuture<'_, io::Result<Vec<u8>>> {
        (**self).receive_block()
    }
    fn set_max_response(&mut self, bytes: usize) {
        (**self).set_max_response(bytes);
    }
    fn clear(&mut self) -> BoxFuture<'_, io::Result<()>> {
        (**self).clear()
    }
}
