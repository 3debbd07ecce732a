//! A [`Transport`] that runs a simulated device in-process.

use std::io;
use std::sync::{Arc, Mutex};

use super::SimDevice;
use crate::transport::{BoxFuture, Transport};

/// Talks to a [`SimDevice`] in the same process: each command is written with the device's
/// query terminator, each reply read without its response terminator, so the terminators
/// of the file's `eom` always fit. A query the device does not answer waits, like a real
/// instrument, until the bench's timeout.
///
/// Clones share one device (one state), so a reconnect after a timeout keeps it.
#[derive(Clone, Debug)]
pub struct SimTransport {
    device: Arc<Mutex<SimDevice>>,
}

impl SimTransport {
    /// A transport to `device`.
    pub fn new(device: SimDevice) -> SimTransport {
        SimTransport::shared(Arc::new(Mutex::new(device)))
    }

    /// A transport to a device shared with others (its replies pending are dropped, as
    /// a device clear does when a connection opens).
    pub fn shared(device: Arc<Mutex<SimDevice>>) -> SimTransport {
        lock(&device).clear();
        SimTransport { device }
    }

    /// The device behind this transport.
    pub fn device(&self) -> &Arc<Mutex<SimDevice>> {
        &self.device
    }

    /// The next reply without its terminator, or waits forever if there is none.
    async fn next_reply(&mut self) -> io::Result<Vec<u8>> {
        let reply = {
            let mut device = lock(&self.device);
            device.read().map(|mut reply| {
                let eom = device.response_terminator();
                if !eom.is_empty() && reply.ends_with(eom) {
                    reply.truncate(reply.len() - eom.len());
                }
                reply
            })
        };
        match reply {
            Some(reply) => Ok(reply),
            // Nothing will ever arrive: the bench's timeout ends the wait, as with a
            // silent instrument.
            None => std::future::pending().await,
        }
    }
}

fn lock(device: &Mutex<SimDevice>) -> std::sync::MutexGuard<'_, SimDevice> {
    // The device is consistent after every call, so a poisoned lock is still usable.
    device
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Transport for SimTransport {
    fn send<'a>(&'a mut self, command: &'a str) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let mut device = lock(&self.device);
            let mut message = command.as_bytes().to_vec();
            message.extend_from_slice(device.query_terminator());
            device.write(&message).map_err(|e| {
                io::Error::other(format!(
                    "simulated device `{}` ({}) failed on `{command}`: {e}",
                    device.name(),
                    device.resource()
                ))
            })
        })
    }

    fn receive(&mut self) -> BoxFuture<'_, io::Result<Vec<u8>>> {
        Box::pin(self.next_reply())
    }

    fn receive_block(&mut self) -> BoxFuture<'_, io::Result<Vec<u8>>> {
        Box::pin(self.next_reply())
    }
}
