//! The HiSLIP client: a [`Transport`](crate::transport::Transport) over a session's two channels.

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::wire::{self, Header, kind};
use crate::transport::options::{self, ConnectOptions};

/// The largest control message (Error text, responses on the asynchronous channel) read.
const MAX_CONTROL_PAYLOAD: u64 = 64 * 1024;
/// Our vendor id in Initialize.
const VENDOR: [u8; 2] = *b"RP";

/// A HiSLIP session with one instrument (`hislip0`), in synchronized mode.
///
/// Commands go out as Data…DataEnd messages with message ids; responses are read until
/// DataEnd, keeping only messages that answer the last command (stale ones are dropped, as
/// IVI-6.1 requires). A timed-out or cancelled exchange, or a response over the size
/// limit, is followed before the next exchange by the device clear handshake
/// (AsyncDeviceClear, DeviceClearComplete, DeviceClearAcknowledge), so a late answer is
/// never taken for the next response.
pub struct HislipTransport {
    sync: Channel,
    asynchronous: Channel,
    session_id: u16,
    /// The id of the next message sent.
    message_id: u32,
    /// The id of the last message sent: responses carry it.
    last_sent: Option<u32>,
    /// The previous response was read to its DataEnd (the RMT-delivered flag).
    rmt_delivered: bool,
    /// The largest message the server accepts.
    server_max_message: u64,
    options: ConnectOptions,
    needs_clear: bool,
}

impl std::fmt::Debug for HislipTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HislipTransport")
            .field("session_id", &self.session_id)
            .field("peer", &self.sync.stream.peer_addr().ok())
            .finish_non_exhaustive()
    }
}

/// One TCP channel with its read buffer (a cancelled read loses nothing).
struct Channel {
    stream: TcpStream,
    buf: Vec<u8>,
    /// A cancelled write may have left half a message on the wire.
    broken: bool,
}

impl Channel {
    fn new(stream: TcpStream) -> Channel {
        Channel {
            stream,
            buf: Vec::with_capacity(4096),
            broken: false,
        }
    }

    async fn send(&mut self, message: &[u8]) -> io::Result<()> {
        if self.broken {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "a cancelled write left the HiSLIP connection out of step; reconnect",
            ));
        }
        self.broken = true;
        self.stream.write_all(message).await?;
        self.broken = false;
        Ok(())
    }

    async fn fill(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the instrument closed the connection",
            ));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// The header of the next message, without taking it.
    async fn peek_header(&mut self) -> io::Result<Header> {
        while self.buf.len() < wire::HEADER_LEN {
            self.fill().await?;
        }
        let mut bytes = [0u8; wire::HEADER_LEN];
        bytes.copy_from_slice(&self.buf[..wire::HEADER_LEN]);
        Ok(wire::decode_header(&bytes)?)
    }

    async fn receive(&mut self, max_payload: u64) -> io::Result<(Header, Vec<u8>)> {
        loop {
            if let Some(message) = wire::take_message(&mut self.buf, max_payload)? {
                return Ok(message);
            }
            self.fill().await?;
        }
    }

    /// Receives a message of kind `expected`; an Error or FatalError becomes an error.
    async fn expect(&mut self, expected: u8) -> io::Result<(Header, Vec<u8>)> {
        let (header, payload) = self.receive(MAX_CONTROL_PAYLOAD).await?;
        if header.kind == expected {
            return Ok((header, payload));
        }
        Err(unexpected(expected, header, &payload))
    }
}

/// The error for a message other than the one expected (an Error/FatalError included).
fn unexpected(expected: u8, header: Header, payload: &[u8]) -> io::Error {
    let text = String::from_utf8_lossy(payload);
    match header.kind {
        kind::FATAL_ERROR => io::Error::new(
            io::ErrorKind::ConnectionAborted,
            format!(
                "the instrument sent a HiSLIP fatal error: {} (code {}){}",
                wire::fatal_text(header.control),
                header.control,
                if text.is_empty() {
                    String::new()
                } else {
                    format!(": {text}")
                }
            ),
        ),
        kind::ERROR => io::Error::other(format!(
            "the instrument sent a HiSLIP error: {} (code {}){}",
            wire::error_text(header.control),
            header.control,
            if text.is_empty() {
                String::new()
            } else {
                format!(": {text}")
            }
        )),
        other => io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "expected a HiSLIP `{}` message, got `{}` ({other})",
                wire::kind_name(expected),
                wire::kind_name(other)
            ),
        ),
    }
}

/// Opens a HiSLIP session with `sub_address` (`hislip0`) of the instrument at `host:port`
/// (port 4880 by default): Initialize on the synchronous channel, AsyncInitialize on the
/// asynchronous one, then AsyncMaxMsgSize.
pub async fn connect_hislip(
    host: &str,
    port: u16,
    sub_address: &str,
    options: ConnectOptions,
) -> io::Result<HislipTransport> {
    let connect = || async {
        let stream = TcpStream::connect((host, port)).await.map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("no HiSLIP server at `{host}:{port}`: {e}"),
            )
        })?;
        stream.set_nodelay(true)?;
        Ok::<_, io::Error>(Channel::new(stream))
    };
    let mut sync = connect().await?;
    sync.send(&wire::encode(
        kind::INITIALIZE,
        0,
        wire::initialize_parameter(wire::VERSION, VENDOR),
        sub_address.as_bytes(),
    ))
    .await?;
    let (init, _) = sync.expect(kind::INITIALIZE_RESPONSE).await.map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("opening HiSLIP session `{sub_address}`: {e}"),
        )
    })?;
    let session_id = wire::session_id(init.parameter);
    let mut asynchronous = connect().await?;
    asynchronous
        .send(&wire::encode(
            kind::ASYNC_INITIALIZE,
            0,
            u32::from(session_id),
            &[],
        ))
        .await?;
    asynchronous.expect(kind::ASYNC_INITIALIZE_RESPONSE).await?;
    let ours = (options.max_response as u64).saturating_add(wire::HEADER_LEN as u64);
    asynchronous
        .send(&wire::encode(
            kind::ASYNC_MAX_MSG_SIZE,
            0,
            0,
            &ours.to_be_bytes(),
        ))
        .await?;
    let (_, payload) = asynchronous
        .expect(kind::ASYNC_MAX_MSG_SIZE_RESPONSE)
        .await?;
    let server_max_message = wire::decode_size(&payload)?.max(wire::HEADER_LEN as u64 + 1);
    Ok(HislipTransport {
        sync,
        asynchronous,
        session_id,
        message_id: wire::FIRST_MESSAGE_ID,
        last_sent: None,
        rmt_delivered: false,
        server_max_message,
        options,
        needs_clear: false,
    })
}

impl HislipTransport {
    async fn begin(&mut self) -> io::Result<()> {
        if self.needs_clear {
            self.device_clear().await?;
        }
        self.needs_clear = true;
        Ok(())
    }

    async fn write_message(&mut self, data: &[u8]) -> io::Result<()> {
        self.begin().await?;
        let max_payload = usize::try_from(self.server_max_message - wire::HEADER_LEN as u64)
            .unwrap_or(usize::MAX);
        let chunks: Vec<&[u8]> = if data.is_empty() {
            vec![data]
        } else {
            data.chunks(max_payload).collect()
        };
        let last = chunks.len() - 1;
        for (i, chunk) in chunks.into_iter().enumerate() {
            let k = if i == last {
                kind::DATA_END
            } else {
                kind::DATA
            };
            let rmt = u8::from(std::mem::take(&mut self.rmt_delivered));
            let id = self.message_id;
            self.sync.send(&wire::encode(k, rmt, id, chunk)).await?;
            self.last_sent = Some(id);
            self.message_id = id.wrapping_add(2);
        }
        self.needs_clear = false;
        Ok(())
    }

    async fn read_message(&mut self) -> io::Result<Vec<u8>> {
        self.begin().await?;
        let limit = self.options.max_response;
        let mut message = Vec::new();
        loop {
            let next = self.sync.peek_header().await?;
            let data = matches!(next.kind, kind::DATA | kind::DATA_END);
            let announced = (message.len() as u64).saturating_add(next.payload_len);
            if data && announced > limit as u64 {
                return Err(options::too_large(limit, announced as usize));
            }
            let max = if data {
                next.payload_len
            } else {
                MAX_CONTROL_PAYLOAD
            };
            let (header, payload) = self.sync.receive(max).await?;
            match header.kind {
                kind::DATA | kind::DATA_END => {
                    let current = header.parameter == wire::ANY_MESSAGE_ID
                        || Some(header.parameter) == self.last_sent;
                    if !current {
                        tracing::debug!(id = header.parameter, "dropping a stale HiSLIP response");
                        continue;
                    }
                    message.extend_from_slice(&payload);
                    if header.kind == kind::DATA_END {
                        self.rmt_delivered = true;
                        break;
                    }
                }
                kind::INTERRUPTED => {}
                _ => return Err(unexpected(kind::DATA_END, header, &payload)),
            }
        }
        self.needs_clear = false;
        Ok(message)
    }

    /// The device clear handshake: the instrument drops pending input and output, and
    /// anything it sent before acknowledging is discarded here.
    pub async fn device_clear(&mut self) -> io::Result<()> {
        self.asynchronous
            .send(&wire::encode(kind::ASYNC_DEVICE_CLEAR, 0, 0, &[]))
            .await?;
        let features = loop {
            let (header, payload) = self.asynchronous.receive(MAX_CONTROL_PAYLOAD).await?;
            match header.kind {
                kind::ASYNC_DEVICE_CLEAR_ACKNOWLEDGE => break header.control,
                kind::ASYNC_SERVICE_REQUEST => {}
                _ => {
                    return Err(unexpected(
                        kind::ASYNC_DEVICE_CLEAR_ACKNOWLEDGE,
                        header,
                        &payload,
                    ));
                }
            }
        };
        self.sync
            .send(&wire::encode(kind::DEVICE_CLEAR_COMPLETE, features, 0, &[]))
            .await?;
        loop {
            // Anything before the acknowledgement belongs to the cleared exchange.
            let (header, payload) = self
                .sync
                .receive((self.options.max_response as u64).max(MAX_CONTROL_PAYLOAD))
                .await?;
            match header.kind {
                kind::DEVICE_CLEAR_ACKNOWLEDGE => break,
                kind::FATAL_ERROR => {
                    return Err(unexpected(kind::DEVICE_CLEAR_ACKNOWLEDGE, header, &payload));
                }
                _ => {}
            }
        }
        self.message_id = wire::FIRST_MESSAGE_ID;
        self.last_sent = None;
        self.rmt_delivered = false;
        self.needs_clear = false;
        Ok(())
    }

    /// Reads the status byte (AsyncStatusQuery).
    pub async fn read_stb(&mut self) -> io::Result<u8> {
        let rmt = u8::from(std::mem::take(&mut self.rmt_delivered));
        self.asynchronous
            .send(&wire::encode(
                kind::ASYNC_STATUS_QUERY,
                rmt,
                self.message_id,
                &[],
            ))
            .await?;
        loop {
            let (header, payload) = self.asynchronous.receive(MAX_CONTROL_PAYLOAD).await?;
            match header.kind {
                kind::ASYNC_STATUS_RESPONSE => return Ok(header.control),
                kind::ASYNC_SERVICE_REQUEST => {}
                _ => return Err(unexpected(kind::ASYNC_STATUS_RESPONSE, header, &payload)),
            }
        }
    }

    /// The session id the server assigned.
    pub fn session_id(&self) -> u16 {
        self.session_id
    }

    /// Closes both channels.
    pub async fn close(mut self) -> io::Result<()> {
        self.asynchronous.stream.shutdown().await.ok();
        self.sync.stream.shutdown().await
    }
}

options::message_transport!(HislipTransport);
