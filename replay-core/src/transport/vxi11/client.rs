//! The VXI-11 client: a [`Transport`](crate::transport::Transport) over the core channel.

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::wire::{self, CreateLink, CreateLinkResp, DeviceGeneric, DeviceRead, DeviceReadResp};
use super::wire::{DeviceWrite, DeviceWriteResp, ReadStbResp};
use crate::transport::options::{self, ConnectOptions};
use crate::transport::rpc::{self, Call, portmap};

/// The most data asked for in one device_read.
const READ_CHUNK: u32 = 1 << 20;
/// Room for the RPC and VXI-11 headers around the data of one reply.
const REPLY_OVERHEAD: usize = 1024;

/// A VXI-11 link to one device (`inst0`, `gpib0,5`, …) of an instrument.
///
/// Commands go out with END (and the write terminator); responses are read until END, so a
/// response may contain any byte. A timed-out or cancelled exchange, or a response over the
/// size limit, leaves the instrument's output out of step: the next exchange starts with a
/// device_clear, so a late answer is never taken for the next response. Stale RPC replies
/// (to a call whose caller gave up) are recognised by their transaction id and dropped.
pub struct Vxi11Transport {
    stream: TcpStream,
    buf: Vec<u8>,
    xid: u32,
    link: i32,
    max_recv_size: usize,
    options: ConnectOptions,
    /// An exchange started and did not finish (cancelled, timed out, over the limit).
    needs_clear: bool,
    /// A cancelled write may have left half an RPC record on the wire.
    broken: bool,
}

impl std::fmt::Debug for Vxi11Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vxi11Transport")
            .field("link", &self.link)
            .field("peer", &self.stream.peer_addr().ok())
            .finish_non_exhaustive()
    }
}

/// Connects to `device` (`inst0`) of the VXI-11 instrument at `host`.
///
/// With `port`, the core channel is reached there directly (the `host,port` address form,
/// which pyvisa-py understands too); without, the portmapper at
/// [`ConnectOptions::portmapper_port`] (111) is asked for it first.
pub async fn connect_vxi11(
    host: &str,
    port: Option<u16>,
    device: &str,
    options: ConnectOptions,
) -> io::Result<Vxi11Transport> {
    let port = match port {
        Some(port) => port,
        None => core_port(host, options.portmapper_port).await?,
    };
    let stream = TcpStream::connect((host, port)).await.map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("no VXI-11 core channel at `{host}:{port}`: {e}"),
        )
    })?;
    stream.set_nodelay(true)?;
    let mut t = Vxi11Transport {
        stream,
        buf: Vec::with_capacity(4096),
        xid: std::process::id().wrapping_mul(0x9E37_79B9),
        link: 0,
        max_recv_size: 1024,
        options,
        needs_clear: false,
        broken: false,
    };
    let params = CreateLink {
        client_id: (std::process::id() & 0x7fff_ffff) as i32,
        lock_device: false,
        lock_timeout: 0,
        device: device.to_owned(),
    };
    let reply = t.call(wire::CREATE_LINK, &params.encode()).await?;
    let resp = CreateLinkResp::decode(&reply)?;
    if resp.error != 0 {
        return Err(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            format!(
                "the instrument refused a link to device `{device}`: {} (VXI-11 error {}); \
                 check the device name in the address (`inst0`, `gpib0,5`, …)",
                wire::error_text(resp.error),
                resp.error
            ),
        ));
    }
    t.link = resp.link;
    // VXI-11 B.6.3: maxRecvSize is at least 1024; guard against a server saying 0.
    t.max_recv_size = (resp.max_recv_size as usize).max(1024);
    Ok(t)
}

/// Asks the portmapper at `host:pm_port` for the core channel's TCP port.
async fn core_port(host: &str, pm_port: u16) -> io::Result<u16> {
    let context = |e: io::Error| {
        io::Error::new(
            e.kind(),
            format!(
                "asking the portmapper at `{host}:{pm_port}` for the VXI-11 port: {e}; \
                 if the instrument's core port is known, give it as `TCPIP::{host},<port>::inst0::INSTR`"
            ),
        )
    };
    let mut stream = TcpStream::connect((host, pm_port)).await.map_err(context)?;
    let call = Call {
        xid: 1,
        program: portmap::PROGRAM,
        version: portmap::VERSION,
        procedure: portmap::PROC_GETPORT,
    };
    let args = portmap::encode_getport(portmap::Mapping {
        program: wire::CORE_PROGRAM,
        version: wire::CORE_VERSION,
        protocol: portmap::IPPROTO_TCP,
    });
    stream
        .write_all(&rpc::encode_record(&rpc::encode_call(call, &args)))
        .await
        .map_err(context)?;
    let mut buf = Vec::new();
    let record = loop {
        if let Some(record) = rpc::take_record(&mut buf, 1024).map_err(|e| context(e.into()))? {
            break record;
        }
        read_more(&mut stream, &mut buf).await.map_err(context)?;
    };
    let (_, result) = rpc::decode_reply(&record).map_err(|e| context(e.into()))?;
    let results = result.map_err(|e| context(io::Error::other(e.to_string())))?;
    let port = rpc::XdrReader::new(results)
        .u32("port")
        .map_err(|e| context(e.into()))?;
    match u16::try_from(port) {
        Ok(0) | Err(_) => Err(context(io::Error::new(
            io::ErrorKind::NotFound,
            "it has no VXI-11 core service registered (is this a VXI-11 instrument?)",
        ))),
        Ok(port) => Ok(port),
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<()> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await?;
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the instrument closed the connection",
        ));
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn procedure_name(procedure: u32) -> &'static str {
    match procedure {
        wire::CREATE_LINK => "create_link",
        wire::DEVICE_WRITE => "device_write",
        wire::DEVICE_READ => "device_read",
        wire::DEVICE_READSTB => "device_readstb",
        wire::DEVICE_CLEAR => "device_clear",
        wire::DESTROY_LINK => "destroy_link",
        _ => "call",
    }
}

impl Vxi11Transport {
    /// One RPC on the core channel: its result bytes.
    async fn call(&mut self, procedure: u32, args: &[u8]) -> io::Result<Vec<u8>> {
        if self.broken {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "a cancelled write left the VXI-11 connection out of step; reconnect",
            ));
        }
        self.xid = self.xid.wrapping_add(1);
        let call = Call {
            xid: self.xid,
            program: wire::CORE_PROGRAM,
            version: wire::CORE_VERSION,
            procedure,
        };
        let record = rpc::encode_record(&rpc::encode_call(call, args));
        self.broken = true;
        self.stream.write_all(&record).await?;
        self.broken = false;
        let limit = self.max_recv_size.max(READ_CHUNK as usize) + REPLY_OVERHEAD;
        loop {
            let reply = match rpc::take_record(&mut self.buf, limit)? {
                Some(reply) => reply,
                None => {
                    read_more(&mut self.stream, &mut self.buf).await?;
                    continue;
                }
            };
            let (xid, result) = rpc::decode_reply(&reply)?;
            if xid != self.xid {
                // The reply to a call whose caller was cancelled: nobody wants it.
                tracing::debug!(xid, expected = self.xid, "dropping a stale VXI-11 reply");
                continue;
            }
            return result.map(<[u8]>::to_vec).map_err(|e| {
                io::Error::other(format!(
                    "the instrument refused the VXI-11 `{}` call: {e}",
                    procedure_name(procedure)
                ))
            });
        }
    }

    fn device_error(procedure: u32, error: i32) -> io::Error {
        let kind = if error == wire::ERR_IO_TIMEOUT {
            io::ErrorKind::TimedOut
        } else {
            io::ErrorKind::Other
        };
        io::Error::new(
            kind,
            format!(
                "VXI-11 `{}` failed: {} (error {error})",
                procedure_name(procedure),
                wire::error_text(error)
            ),
        )
    }

    /// Starts an exchange: clears the device first if the previous one did not finish.
    async fn begin(&mut self) -> io::Result<()> {
        if self.needs_clear {
            self.device_clear().await?;
        }
        self.needs_clear = true;
        Ok(())
    }

    async fn write_message(&mut self, data: &[u8]) -> io::Result<()> {
        self.begin().await?;
        let chunks: Vec<&[u8]> = if data.is_empty() {
            vec![data]
        } else {
            data.chunks(self.max_recv_size).collect()
        };
        let last = chunks.len() - 1;
        for (i, chunk) in chunks.into_iter().enumerate() {
            let params = DeviceWrite {
                link: self.link,
                io_timeout: self.options.timeout_ms(),
                lock_timeout: 0,
                flags: if i == last { wire::FLAG_END } else { 0 },
                data: chunk.to_vec(),
            };
            let resp =
                DeviceWriteResp::decode(&self.call(wire::DEVICE_WRITE, &params.encode()).await?)?;
            if resp.error != 0 {
                return Err(Self::device_error(wire::DEVICE_WRITE, resp.error));
            }
            if resp.size as usize != chunk.len() {
                return Err(io::Error::other(format!(
                    "VXI-11 device_write: the instrument took {} of {} bytes",
                    resp.size,
                    chunk.len()
                )));
            }
        }
        self.needs_clear = false;
        Ok(())
    }

    async fn read_message(&mut self) -> io::Result<Vec<u8>> {
        self.begin().await?;
        let limit = self.options.max_response;
        let mut message = Vec::new();
        loop {
            let params = DeviceRead {
                link: self.link,
                request_size: READ_CHUNK,
                io_timeout: self.options.timeout_ms(),
                lock_timeout: 0,
                flags: 0,
                term_char: 0,
            };
            let reply = self.call(wire::DEVICE_READ, &params.encode()).await?;
            let resp = DeviceReadResp::decode(&reply, READ_CHUNK as usize)?;
            if resp.error != 0 {
                return Err(Self::device_error(wire::DEVICE_READ, resp.error));
            }
            if message.len() + resp.data.len() > limit {
                return Err(options::too_large(limit, message.len() + resp.data.len()));
            }
            message.extend_from_slice(&resp.data);
            if resp.reason & wire::REASON_END != 0 {
                break;
            }
        }
        self.needs_clear = false;
        Ok(message)
    }

    /// Sends device_clear: the instrument drops its pending output and input.
    pub async fn device_clear(&mut self) -> io::Result<()> {
        let params = DeviceGeneric {
            link: self.link,
            flags: 0,
            lock_timeout: 0,
            io_timeout: self.options.timeout_ms(),
        };
        let error = wire::decode_error(&self.call(wire::DEVICE_CLEAR, &params.encode()).await?)?;
        if error != 0 {
            return Err(Self::device_error(wire::DEVICE_CLEAR, error));
        }
        self.needs_clear = false;
        Ok(())
    }

    /// Reads the status byte (device_readstb).
    pub async fn read_stb(&mut self) -> io::Result<u8> {
        let params = DeviceGeneric {
            link: self.link,
            flags: 0,
            lock_timeout: 0,
            io_timeout: self.options.timeout_ms(),
        };
        let resp = ReadStbResp::decode(&self.call(wire::DEVICE_READSTB, &params.encode()).await?)?;
        if resp.error != 0 {
            return Err(Self::device_error(wire::DEVICE_READSTB, resp.error));
        }
        Ok(resp.stb)
    }

    /// Destroys the link and closes the connection.
    pub async fn close(mut self) -> io::Result<()> {
        let error = wire::decode_error(
            &self
                .call(wire::DESTROY_LINK, &wire::encode_link(self.link))
                .await?,
        )?;
        self.stream.shutdown().await.ok();
        if error != 0 {
            return Err(Self::device_error(wire::DESTROY_LINK, error));
        }
        Ok(())
    }
}

options::message_transport!(Vxi11Transport);
