//! Serving a simulated device over the network (feature `serve`): the raw-socket, VXI-11
//! and HiSLIP servers of [`crate::serve`] take a [`SimDevice`] as their device.

use super::SimDevice;
use crate::serve::MessageDevice;

impl MessageDevice for SimDevice {
    /// Runs one message. Several replies (`*IDN?;*OPC?`) come back as one, joined by the
    /// response terminator. Where pyvisa-sim would raise, nothing is answered (the client
    /// times out, as it would on pyvisa-sim) and the failure is logged.
    fn message(&mut self, message: &[u8]) -> Option<Vec<u8>> {
        let mut input = message.to_vec();
        input.extend_from_slice(self.query_terminator());
        if let Err(error) = self.write(&input) {
            tracing::warn!(
                device = self.name(),
                resource = self.resource(),
                command = %String::from_utf8_lossy(message),
                %error,
                "the simulated device failed on a command"
            );
        }
        let eom = self.response_terminator().to_vec();
        let mut replies: Vec<Vec<u8>> = Vec::new();
        while let Some(mut reply) = self.read() {
            if !eom.is_empty() && reply.ends_with(&eom) {
                reply.truncate(reply.len() - eom.len());
            }
            replies.push(reply);
        }
        (!replies.is_empty()).then(|| replies.join(eom.as_slice()))
    }

    fn write_terminator(&self) -> &[u8] {
        self.query_terminator()
    }

    fn read_terminator(&self) -> &[u8] {
        self.response_terminator()
    }

    fn clear(&mut self) {
        SimDevice::clear(self);
    }

    fn status_byte(&mut self) -> u8 {
        SimDevice::status_byte(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device() -> SimDevice {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.yaml");
        std::fs::write(
            &path,
            "spec: '1.1'\ndevices:\n  d:\n    eom:\n      TCPIP SOCKET: {q: \"\\n\", r: \"\\r\\n\"}\n    error: ERR\n    dialogues:\n      - q: '*IDN?'\n        r: ACME\n      - q: '*RST'\nresources:\n  TCPIP::h::5025::SOCKET:\n    device: d\n",
        )
        .unwrap();
        SimDevice::open(&path, "TCPIP::h::5025::SOCKET").unwrap()
    }

    #[test]
    fn one_reply_per_message_without_its_terminator() {
        let mut d = device();
        assert_eq!(d.write_terminator(), b"\n");
        assert_eq!(d.read_terminator(), b"\r\n");
        assert_eq!(d.message(b"*IDN?"), Some(b"ACME".to_vec()));
        assert_eq!(d.message(b"*RST"), None);
        assert_eq!(d.message(b"*IDN?;*IDN?"), Some(b"ACME\r\nACME".to_vec()));
        assert_eq!(d.message(b"BOGUS"), Some(b"ERR".to_vec()));
    }
}
