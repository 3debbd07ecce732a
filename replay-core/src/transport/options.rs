//! Settings shared by the message-based transports (VXI-11, HiSLIP), and what they do with
//! a complete response.

use std::io;
use std::time::Duration;

use crate::block::{self, BlockProgress};
use crate::config::{DEFAULT_TIMEOUT, Terminators};

/// The largest response a transport accepts unless told otherwise: 64 MiB.
pub const DEFAULT_MAX_RESPONSE: usize = 64 << 20;

/// How to talk to a VXI-11 or HiSLIP instrument.
///
/// ```
/// use std::time::Duration;
/// use replay_core::transport::ConnectOptions;
///
/// let options = ConnectOptions::default()
///     .with_timeout(Duration::from_secs(2))
///     .with_max_response(1 << 20);
/// assert_eq!(options.portmapper_port, 111);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// The write terminator is appended to every command (instruments expect it even with
    /// END); the read terminator is stripped from the end of every text response.
    pub terminators: Terminators,
    /// The instrument's I/O timeout, sent to a VXI-11 server with every call (`io_timeout`).
    /// A timed-out exchange is followed by a device clear before the next one.
    pub timeout: Duration,
    /// The largest response accepted, in bytes; a larger one is an error (the connection
    /// then needs a device clear, done before the next exchange).
    pub max_response: usize,
    /// Where the VXI-11 portmapper listens when the address gives no port (111).
    pub portmapper_port: u16,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            terminators: Terminators::default(),
            timeout: DEFAULT_TIMEOUT,
            max_response: DEFAULT_MAX_RESPONSE,
            portmapper_port: 111,
        }
    }
}

impl ConnectOptions {
    /// Sets [`terminators`](Self::terminators).
    pub fn with_terminators(mut self, terminators: Terminators) -> Self {
        self.terminators = terminators;
        self
    }
    /// Sets [`timeout`](Self::timeout).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// Sets [`max_response`](Self::max_response).
    pub fn with_max_response(mut self, max_response: usize) -> Self {
        self.max_response = max_response;
        self
    }
    /// Sets [`portmapper_port`](Self::portmapper_port).
    pub fn with_portmapper_port(mut self, port: u16) -> Self {
        self.portmapper_port = port;
        self
    }

    /// The timeout in whole milliseconds, as the protocols carry it.
    pub(crate) fn timeout_ms(&self) -> u32 {
        u32::try_from(self.timeout.as_millis()).unwrap_or(u32::MAX)
    }
}

/// Connects to a VXI-11 or HiSLIP address.
pub(crate) async fn connect_lan(
    address: &crate::Address,
    options: ConnectOptions,
) -> io::Result<Box<dyn crate::transport::Transport>> {
    use crate::Address;
    match address {
        Address::Vxi11 { host, port, device } => {
            let t = crate::transport::connect_vxi11(host, *port, device, options).await?;
            Ok(Box::new(t))
        }
        Address::Hislip {
            host,
            port,
            sub_address,
        } => {
            let t = crate::transport::connect_hislip(host, *port, sub_address, options).await?;
            Ok(Box::new(t))
        }
        other => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{other}` is not a VXI-11 or HiSLIP address"),
        )),
    }
}

/// The error for a response past `max_response`.
pub(crate) fn too_large(limit: usize, at_least: usize) -> io::Error {
    super::ResponseTooLarge::block(limit, u64::try_from(at_least).unwrap_or(u64::MAX)).into_io()
}

/// The command as sent: with the write terminator.
pub(crate) fn command_bytes(command: &str, terminators: &Terminators) -> Vec<u8> {
    let mut data = Vec::with_capacity(command.len() + terminators.write.len());
    data.extend_from_slice(command.as_bytes());
    data.extend_from_slice(terminators.write.as_bytes());
    data
}

/// A complete message (ended by END) as a text response: without its read terminator (and
/// a `\r` before an `\n` one), as the stream transport returns it.
pub(crate) fn text_response(mut message: Vec<u8>, terminators: &Terminators) -> Vec<u8> {
    let term = terminators.read.as_bytes();
    if !term.is_empty() && message.ends_with(term) {
        message.truncate(message.len() - term.len());
        if term == b"\n" && message.last() == Some(&b'\r') {
            message.pop();
        }
    }
    message
}

/// A complete message (ended by END) as an IEEE 488.2 definite-length block: the exact block
/// bytes, header included; leading whitespace and the terminator after the block dropped.
/// Anything else after the block is an error, not something to pass on.
pub(crate) fn block_response(message: Vec<u8>, terminators: &Terminators) -> io::Result<Vec<u8>> {
    let skip = message
        .iter()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    let data = &message[skip..];
    match block::progress(data).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))? {
        BlockProgress::Complete {
            header_len,
            payload_len,
        } => {
            let total = header_len + payload_len;
            if data.len() < total {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "the message ended inside its binary block: the header announces \
                         {payload_len} bytes, {} arrived",
                        data.len() - header_len
                    ),
                ));
            }
            let rest = &data[total..];
            let term = terminators.read.as_bytes();
            let rest = rest.strip_suffix(term).unwrap_or(rest);
            if !rest.iter().all(|b| b.is_ascii_whitespace()) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{} unexpected bytes after the binary block in the same message \
                         (starting `{}`)",
                        rest.len(),
                        String::from_utf8_lossy(&rest[..rest.len().min(16)]).escape_default()
                    ),
                ));
            }
            Ok(data[..total].to_vec())
        }
        BlockProgress::Incomplete => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the message ended inside a binary block header",
        )),
    }
}

/// Implements [`Transport`](crate::transport::Transport) for a message-based transport: one
/// with `write_message(&[u8])`, `read_message()` (a whole message, ended by END),
/// `device_clear()` and an `options: ConnectOptions` field.
macro_rules! message_transport {
    ($transport:ty) => {
        impl crate::transport::Transport for $transport {
            fn send<'a>(
                &'a mut self,
                command: &'a str,
            ) -> crate::transport::BoxFuture<'a, std::io::Result<()>> {
                Box::pin(async move {
                    let data = options::command_bytes(command, &self.options.terminators);
                    self.write_message(&data).await
                })
            }

            fn receive(&mut self) -> crate::transport::BoxFuture<'_, std::io::Result<Vec<u8>>> {
                Box::pin(async move {
                    let message = self.read_message().await?;
                    Ok(options::text_response(message, &self.options.terminators))
                })
            }

            fn receive_block(
                &mut self,
            ) -> crate::transport::BoxFuture<'_, std::io::Result<Vec<u8>>> {
                Box::pin(async move {
                    let message = self.read_message().await?;
                    options::block_response(message, &self.options.terminators)
                })
            }

            fn set_max_response(&mut self, bytes: usize) {
                self.options.max_response = bytes;
            }

            /// The protocol's device clear: the instrument drops what it still owed for an
            /// abandoned exchange, so the recorder can keep this link (even one given in
            /// `RecordOptions::transport`).
            fn clear(&mut self) -> crate::transport::BoxFuture<'_, std::io::Result<()>> {
                Box::pin(self.device_clear())
            }
        }
    };
}

pub(crate) use message_transport;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_strips_one_terminator() {
        let t = Terminators::default();
        assert_eq!(text_response(b"+1.0\r\n".to_vec(), &t), b"+1.0");
        assert_eq!(text_response(b"+1.0".to_vec(), &t), b"+1.0");
        assert_eq!(text_response(b"a\n\n".to_vec(), &t), b"a\n");
        assert_eq!(command_bytes("*IDN?", &t), b"*IDN?\n");
    }

    #[test]
    fn block_is_cut_at_its_announced_length() {
        let block = crate::block::encode_block(b"\n\x00\xff");
        let mut message = b" ".to_vec();
        message.extend_from_slice(&block);
        message.push(b'\n');
        let t = Terminators::default();
        assert_eq!(block_response(message, &t).unwrap(), block);
        let short = block[..block.len() - 1].to_vec();
        let e = block_response(short, &t).unwrap_err();
        assert!(
            e.to_string().contains("announces 3 bytes, 2 arrived"),
            "{e}"
        );
        assert!(block_response(b"#".to_vec(), &t).is_err());
        assert!(block_response(b"+1.0\n".to_vec(), &t).is_err());
        let mut extra = block.clone();
        extra.extend_from_slice(b"+1.0\n");
        let e = block_response(extra, &t).unwrap_err();
        assert!(
            e.to_string()
                .contains("4 unexpected bytes after the binary block"),
            "{e}"
        );
    }

    #[test]
    fn timeout_in_milliseconds() {
        let o = ConnectOptions::default().with_timeout(Duration::from_millis(1500));
        assert_eq!(o.timeout_ms(), 1500);
        assert_eq!(
            super::super::ResponseTooLarge::find(&too_large(10, 11)),
            Some(&super::super::ResponseTooLarge::block(10, 11))
        );
    }
}
