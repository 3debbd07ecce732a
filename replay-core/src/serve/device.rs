//! The device a server exposes.

use std::sync::{Arc, Mutex};

/// A message-based instrument that the servers expose (implemented by the pyvisa-sim engine
/// and by test devices).
///
/// The servers call it from a blocking thread (`spawn_blocking`), so an implementation may
/// take its time (a slow instrument) without stalling other connections.
pub trait MessageDevice: Send + 'static {
    /// Handles one complete message (terminator already stripped). Returns the reply bytes
    /// (without terminator) when the message produces output, `None` otherwise.
    fn message(&mut self, message: &[u8]) -> Option<Vec<u8>>;

    /// Terminator a raw-socket client sends after each message (default `\n`).
    fn write_terminator(&self) -> &[u8] {
        b"\n"
    }

    /// Terminator appended to each reply on a raw socket (default `\n`).
    ///
    /// The VXI-11 and HiSLIP servers append it too, before the END that closes the reply,
    /// as instruments do.
    fn read_terminator(&self) -> &[u8] {
        b"\n"
    }

    /// Device clear (VXI-11 device_clear, HiSLIP device clear): drop pending output.
    fn clear(&mut self) {}

    /// Status byte for readstb / HiSLIP AsyncStatusQuery.
    fn status_byte(&mut self) -> u8 {
        0
    }
}

/// One device shared by every connection of every server it is given to.
pub type SharedDevice<D> = Arc<Mutex<D>>;

/// Locks the device; a device that panicked while locked is still served (its state is
/// whatever the panic left, as with an instrument after a firmware fault).
pub(crate) fn lock<D: ?Sized>(device: &Mutex<D>) -> std::sync::MutexGuard<'_, D> {
    device
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs one message through the device on a blocking thread.
pub(crate) async fn handle<D: MessageDevice + ?Sized>(
    device: &SharedDevice<D>,
    message: Vec<u8>,
) -> Option<Vec<u8>> {
    let device = device.clone();
    tokio::task::spawn_blocking(move || lock(&device).message(&message))
        .await
        .unwrap_or(None)
}

/// The device's terminators, read once when a server starts (never under the device lock
/// from async code, where a slow message would block the runtime).
#[derive(Clone)]
pub(crate) struct DeviceTerminators {
    pub(crate) write: Arc<[u8]>,
    pub(crate) read: Arc<[u8]>,
}

pub(crate) fn terminators<D: MessageDevice + ?Sized>(
    device: &SharedDevice<D>,
) -> DeviceTerminators {
    let d = lock(device);
    DeviceTerminators {
        write: d.write_terminator().into(),
        read: d.read_terminator().into(),
    }
}

/// Strips one trailing `terminator` (and a `\r` before an `\n` one) from a message that
/// arrived with END (VXI-11, HiSLIP): clients usually send their write terminator too.
pub(crate) fn strip_terminator(mut message: Vec<u8>, terminator: &[u8]) -> Vec<u8> {
    if !terminator.is_empty() && message.ends_with(terminator) {
        message.truncate(message.len() - terminator.len());
        if terminator == b"\n" && message.last() == Some(&b'\r') {
            message.pop();
        }
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_one_terminator() {
        assert_eq!(strip_terminator(b"*IDN?\n".to_vec(), b"\n"), b"*IDN?");
        assert_eq!(strip_terminator(b"*IDN?\r\n".to_vec(), b"\n"), b"*IDN?");
        assert_eq!(strip_terminator(b"*IDN?".to_vec(), b"\n"), b"*IDN?");
        assert_eq!(strip_terminator(b"A\n\n".to_vec(), b"\n"), b"A\n");
        assert_eq!(strip_terminator(b"A\r\n".to_vec(), b"\r\n"), b"A");
        assert_eq!(strip_terminator(b"A".to_vec(), b""), b"A");
    }
}
