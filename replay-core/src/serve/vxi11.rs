//! The VXI-11 server (core channel) and a minimal portmapper that answers GETPORT.

use std::collections::HashMap;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::device::{self, MessageDevice, SharedDevice};
use super::handle::{ServerHandle, spawn_server};
use super::queue::{Queue, Reply};
use crate::transport::rpc::{self, RpcError, portmap};
use crate::transport::vxi11::wire::{self, CreateLink, CreateLinkResp, DeviceGeneric};
use crate::transport::vxi11::wire::{DeviceRead, DeviceReadResp, DeviceWrite, DeviceWriteResp};

/// The largest device_write data and device_read reply (`maxRecvSize`).
const MAX_RECV_SIZE: u32 = 1 << 20;
/// Room for the RPC and VXI-11 headers around the data of one call.
const CALL_OVERHEAD: usize = 1024;
/// Procedures we accept and answer with success without doing anything (trigger, remote,
/// local, lock, unlock, enable_srq): a simulated device has no front panel or SRQ line.
const NO_OPS: [u32; 6] = [14, 16, 17, 18, 19, 20];

/// Serves `device` as a VXI-11 instrument: every device name (`inst0`, …) links to it.
///
/// Clients that know the port connect directly (`TCPIP::host,port::inst0::INSTR`); others
/// ask a portmapper, see [`portmapper`].
pub fn vxi11<D: MessageDevice + ?Sized>(
    listener: TcpListener,
    device: SharedDevice<D>,
) -> io::Result<ServerHandle> {
    let links = Arc::new(AtomicI32::new(1));
    let terms = device::terminators(&device);
    spawn_server(listener, move |stream| {
        let (device, links, terms) = (device.clone(), links.clone(), terms.clone());
        async move {
            if let Err(error) = connection(stream, device, links, terms).await {
                tracing::debug!(%error, "VXI-11 connection ended");
            }
        }
    })
}

/// Serves a portmapper (RPC program 100000 version 2 over TCP) that tells GETPORT callers
/// the VXI-11 core channel is at `core_port`. Bind it to port 111 for clients that always
/// ask there.
pub fn portmapper(listener: TcpListener, core_port: u16) -> io::Result<ServerHandle> {
    spawn_server(listener, move |mut stream| async move {
        let mut buf = Vec::new();
        loop {
            let record = match read_record(&mut stream, &mut buf, 4096).await {
                Ok(record) => record,
                Err(_) => return,
            };
            let Ok((call, args)) = rpc::decode_call(&record) else {
                return;
            };
            let reply = if call.program != portmap::PROGRAM {
                rpc::encode_reply(call.xid, Err(RpcError::ProgramUnavailable))
            } else if call.version != portmap::VERSION {
                rpc::encode_reply(call.xid, Err(RpcError::ProgramMismatch { low: 2, high: 2 }))
            } else {
                match call.procedure {
                    portmap::PROC_NULL => rpc::encode_reply(call.xid, Ok(&[])),
                    portmap::PROC_GETPORT => match portmap::decode_getport(args) {
                        Ok(m) => {
                            let port = if m.program == wire::CORE_PROGRAM
                                && m.version == wire::CORE_VERSION
                                && m.protocol == portmap::IPPROTO_TCP
                            {
                                u32::from(core_port)
                            } else {
                                0
                            };
                            rpc::encode_reply(call.xid, Ok(&port.to_be_bytes()))
                        }
                        Err(_) => rpc::encode_reply(call.xid, Err(RpcError::GarbageArguments)),
                    },
                    _ => rpc::encode_reply(call.xid, Err(RpcError::ProcedureUnavailable)),
                }
            };
            if stream.write_all(&rpc::encode_record(&reply)).await.is_err() {
                return;
            }
        }
    })
}

async fn read_record(stream: &mut TcpStream, buf: &mut Vec<u8>, max: usize) -> io::Result<Vec<u8>> {
    loop {
        if let Some(record) = rpc::take_record(buf, max)? {
            return Ok(record);
        }
        let mut chunk = [0u8; 16 * 1024];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// One link: its queue, the replies not read yet, and input waiting for END.
struct Link<D: ?Sized> {
    queue: Queue<D>,
    replies: mpsc::UnboundedReceiver<Reply>,
    /// The reply being read, and how much of it was sent.
    reading: Option<(Vec<u8>, usize)>,
    input: Vec<u8>,
}

async fn connection<D: MessageDevice + ?Sized>(
    mut stream: TcpStream,
    device: SharedDevice<D>,
    next_link: Arc<AtomicI32>,
    terms: device::DeviceTerminators,
) -> io::Result<()> {
    let mut links: HashMap<i32, Link<D>> = HashMap::new();
    let mut buf = Vec::new();
    loop {
        let record = read_record(
            &mut stream,
            &mut buf,
            MAX_RECV_SIZE as usize + CALL_OVERHEAD,
        )
        .await?;
        let (call, args) = rpc::decode_call(&record)?;
        let result = if call.program != wire::CORE_PROGRAM {
            Err(RpcError::ProgramUnavailable)
        } else if call.version != wire::CORE_VERSION {
            Err(RpcError::ProgramMismatch { low: 1, high: 1 })
        } else {
            procedure(
                call.procedure,
                args,
                &device,
                &mut links,
                &next_link,
                &terms,
            )
            .await
        };
        let reply = match &result {
            Ok(results) => rpc::encode_reply(call.xid, Ok(results)),
            Err(e) => rpc::encode_reply(call.xid, Err(*e)),
        };
        stream.write_all(&rpc::encode_record(&reply)).await?;
    }
}

async fn procedure<D: MessageDevice + ?Sized>(
    procedure: u32,
    args: &[u8],
    device: &SharedDevice<D>,
    links: &mut HashMap<i32, Link<D>>,
    next_link: &AtomicI32,
    terms: &device::DeviceTerminators,
) -> Result<Vec<u8>, RpcError> {
    let garbage = |_| RpcError::GarbageArguments;
    match procedure {
        wire::CREATE_LINK => {
            let params = CreateLink::decode(args).map_err(garbage)?;
            tracing::debug!(device = %params.device, "VXI-11 create_link");
            let id = next_link.fetch_add(1, Ordering::SeqCst);
            let (queue, replies) = Queue::spawn(device.clone(), terms.read.clone());
            links.insert(
                id,
                Link {
                    queue,
                    replies,
                    reading: None,
                    input: Vec::new(),
                },
            );
            Ok(CreateLinkResp {
                error: 0,
                link: id,
                abort_port: 0,
                max_recv_size: MAX_RECV_SIZE,
            }
            .encode())
        }
        wire::DEVICE_WRITE => {
            let params = DeviceWrite::decode(args, MAX_RECV_SIZE as usize).map_err(garbage)?;
            let Some(link) = links.get_mut(&params.link) else {
                return Ok(DeviceWriteResp {
                    error: wire::ERR_INVALID_LINK,
                    size: 0,
                }
                .encode());
            };
            link.input.extend_from_slice(&params.data);
            if params.flags & wire::FLAG_END != 0 {
                let message =
                    device::strip_terminator(std::mem::take(&mut link.input), &terms.write);
                link.queue.submit(0, message);
            }
            Ok(DeviceWriteResp {
                error: 0,
                size: params.data.len() as u32,
            }
            .encode())
        }
        wire::DEVICE_READ => {
            let params = DeviceRead::decode(args).map_err(garbage)?;
            let Some(link) = links.get_mut(&params.link) else {
                return Ok(read_error(wire::ERR_INVALID_LINK));
            };
            Ok(device_read(link, params).await.encode())
        }
        wire::DEVICE_READSTB => {
            let params = DeviceGeneric::decode(args).map_err(garbage)?;
            let Some(link) = links.get(&params.link) else {
                return Ok(wire::ReadStbResp {
                    error: wire::ERR_INVALID_LINK,
                    stb: 0,
                }
                .encode());
            };
            let stb = link.queue.status_byte().await;
            Ok(wire::ReadStbResp { error: 0, stb }.encode())
        }
        wire::DEVICE_CLEAR => {
            let params = DeviceGeneric::decode(args).map_err(garbage)?;
            let Some(link) = links.get_mut(&params.link) else {
                return Ok(wire::encode_error(wire::ERR_INVALID_LINK));
            };
            link.queue.clear().await;
            link.reading = None;
            link.input.clear();
            while link.replies.try_recv().is_ok() {}
            Ok(wire::encode_error(0))
        }
        wire::DESTROY_LINK => {
            let id = wire::decode_link(args).map_err(garbage)?;
            let error = if links.remove(&id).is_some() {
                0
            } else {
                wire::ERR_INVALID_LINK
            };
            Ok(wire::encode_error(error))
        }
        p if NO_OPS.contains(&p) => Ok(wire::encode_error(0)),
        _ => Err(RpcError::ProcedureUnavailable),
    }
}

fn read_error(error: i32) -> Vec<u8> {
    DeviceReadResp {
        error,
        reason: 0,
        data: Vec::new(),
    }
    .encode()
}

/// device_read: up to `request_size` bytes of the next reply, waiting `io_timeout` for one.
async fn device_read<D: MessageDevice + ?Sized>(
    link: &mut Link<D>,
    params: DeviceRead,
) -> DeviceReadResp {
    if link.reading.is_none() {
        let wait = Duration::from_millis(u64::from(params.io_timeout));
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, link.replies.recv()).await {
                Ok(Some(reply)) if link.queue.is_current(&reply) => {
                    link.reading = Some((reply.data, 0));
                    break;
                }
                Ok(Some(_stale)) => continue,
                Ok(None) | Err(_) => {
                    return DeviceReadResp {
                        error: wire::ERR_IO_TIMEOUT,
                        reason: 0,
                        data: Vec::new(),
                    };
                }
            }
        }
    }
    let Some((data, sent)) = link.reading.as_mut() else {
        unreachable!("a reply is being read")
    };
    let rest = &data[*sent..];
    let mut n = rest.len().min((params.request_size as usize).max(1));
    let mut reason = 0;
    if params.flags & wire::FLAG_TERMCHAR_SET != 0
        && let Some(pos) = rest[..n].iter().position(|&b| b == params.term_char)
    {
        n = pos + 1;
        reason |= wire::REASON_CHR;
    }
    let chunk = rest[..n].to_vec();
    *sent += n;
    if *sent == data.len() {
        reason |= wire::REASON_END;
        link.reading = None;
    } else if reason == 0 {
        reason = wire::REASON_REQCNT;
    }
    DeviceReadResp {
        error: 0,
        reason,
        data: chunk,
    }
}
