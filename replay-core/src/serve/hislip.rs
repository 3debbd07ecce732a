//! The HiSLIP server (synchronized mode).

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex as AsyncMutex, mpsc};

use super::device::{self, MessageDevice, SharedDevice};
use super::handle::{ServerHandle, spawn_server};
use super::queue::{Queue, Reply};
use crate::transport::hislip::wire::{self, Header, error, fatal, kind};

/// The largest message we accept (and say so in AsyncMaxMsgSizeResponse).
const MAX_MESSAGE: u64 = 16 << 20;
/// The largest message a client accepts until it says otherwise.
const DEFAULT_CLIENT_MAX: u64 = 1 << 20;
/// Our vendor id in AsyncInitializeResponse.
const VENDOR: u32 = u32::from_be_bytes(*b"RPly");

/// What the two channels of a session share.
struct Session<D: ?Sized> {
    queue: Queue<D>,
    /// The synchronous channel's writer: replies and DeviceClearAcknowledge go through it.
    sync_writer: Arc<AsyncMutex<OwnedWriteHalf>>,
    /// The largest message the client accepts (AsyncMaxMsgSize).
    client_max: AtomicU64,
}

type Sessions<D> = Arc<Mutex<HashMap<u16, Arc<Session<D>>>>>;

/// Serves `device` as a HiSLIP instrument: every sub-address (`hislip0`, …) opens a session
/// with it. Runs in synchronized mode (overlap is not offered).
pub fn hislip<D: MessageDevice + ?Sized>(
    listener: TcpListener,
    device: SharedDevice<D>,
) -> io::Result<ServerHandle> {
    let sessions: Sessions<D> = Arc::new(Mutex::new(HashMap::new()));
    let next_id = Arc::new(AtomicU16::new(1));
    let terms = device::terminators(&device);
    spawn_server(listener, move |stream| {
        let (device, sessions, next_id, terms) = (
            device.clone(),
            sessions.clone(),
            next_id.clone(),
            terms.clone(),
        );
        async move {
            if let Err(error) = connection(stream, device, sessions, next_id, terms).await {
                tracing::debug!(%error, "HiSLIP connection ended");
            }
        }
    })
}

struct Reader {
    half: OwnedReadHalf,
    buf: Vec<u8>,
}

impl Reader {
    async fn next(&mut self) -> io::Result<(Header, Vec<u8>)> {
        loop {
            if let Some(message) = wire::take_message(&mut self.buf, MAX_MESSAGE)? {
                return Ok(message);
            }
            let mut chunk = [0u8; 16 * 1024];
            let n = self.half.read(&mut chunk).await?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

async fn connection<D: MessageDevice + ?Sized>(
    stream: TcpStream,
    device: SharedDevice<D>,
    sessions: Sessions<D>,
    next_id: Arc<AtomicU16>,
    terms: device::DeviceTerminators,
) -> io::Result<()> {
    let (read_half, mut writer) = stream.into_split();
    let mut reader = Reader {
        half: read_half,
        buf: Vec::new(),
    };
    let (first, _payload) = match reader.next().await {
        Ok(m) => m,
        Err(e) => {
            let message = wire::encode(
                kind::FATAL_ERROR,
                fatal::POORLY_FORMED_HEADER,
                0,
                e.to_string().as_bytes(),
            );
            writer.write_all(&message).await.ok();
            return Err(e);
        }
    };
    match first.kind {
        kind::INITIALIZE => {
            let id = next_id.fetch_add(1, Ordering::SeqCst);
            let (queue, replies) = Queue::spawn(device.clone(), terms.read.clone());
            writer
                .write_all(&wire::encode(
                    kind::INITIALIZE_RESPONSE,
                    0, // synchronized mode
                    wire::initialize_response_parameter(wire::VERSION, id),
                    &[],
                ))
                .await?;
            let session = Arc::new(Session {
                queue,
                sync_writer: Arc::new(AsyncMutex::new(writer)),
                client_max: AtomicU64::new(DEFAULT_CLIENT_MAX),
            });
            device::lock(&sessions).insert(id, session.clone());
            let result = sync_channel(reader, replies, &session, &terms.write).await;
            device::lock(&sessions).remove(&id);
            result
        }
        kind::ASYNC_INITIALIZE => {
            let id = (first.parameter & 0xFFFF) as u16;
            let session = device::lock(&sessions).get(&id).cloned();
            match session {
                Some(session) => {
                    let response = wire::encode(kind::ASYNC_INITIALIZE_RESPONSE, 0, VENDOR, &[]);
                    writer.write_all(&response).await?;
                    async_channel(reader, writer, &session).await
                }
                None => {
                    let text = format!(
                        "no session {id}: send Initialize on the synchronous channel first"
                    );
                    refuse(&mut writer, &text).await
                }
            }
        }
        other => {
            let text = format!(
                "the first message must be Initialize or AsyncInitialize, not `{}`",
                wire::kind_name(other)
            );
            refuse(&mut writer, &text).await
        }
    }
}

/// Refuses a connection that did not initialize properly (FatalError, then close).
async fn refuse(writer: &mut OwnedWriteHalf, text: &str) -> io::Result<()> {
    let message = wire::encode(
        kind::FATAL_ERROR,
        fatal::INVALID_INITIALIZATION,
        0,
        text.as_bytes(),
    );
    writer.write_all(&message).await
}

async fn sync_channel<D: MessageDevice + ?Sized>(
    mut reader: Reader,
    mut replies: mpsc::UnboundedReceiver<Reply>,
    session: &Arc<Session<D>>,
    write_term: &[u8],
) -> io::Result<()> {
    // Replies go out from their own task, so a slow device never stops us reading (a
    // DeviceClearComplete must get through while a message is in progress).
    let writer_session = session.clone();
    let replier = tokio::spawn(async move {
        while let Some(reply) = replies.recv().await {
            let mut w = writer_session.sync_writer.lock().await;
            if !writer_session.queue.is_current(&reply) {
                continue;
            }
            let max = writer_session.client_max.load(Ordering::SeqCst);
            let chunk = usize::try_from(max.saturating_sub(wire::HEADER_LEN as u64).max(1))
                .unwrap_or(usize::MAX);
            let parts: Vec<&[u8]> = if reply.data.is_empty() {
                vec![&reply.data[..]]
            } else {
                reply.data.chunks(chunk).collect()
            };
            let last = parts.len() - 1;
            for (i, part) in parts.into_iter().enumerate() {
                let k = if i == last {
                    kind::DATA_END
                } else {
                    kind::DATA
                };
                if w.write_all(&wire::encode(k, 0, reply.tag, part))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
    });
    let _stop_replier = AbortOnDrop(replier);
    let mut input = Vec::new();
    loop {
        let (header, payload) = reader.next().await?;
        match header.kind {
            kind::DATA | kind::DATA_END => {
                input.extend_from_slice(&payload);
                if header.kind == kind::DATA_END {
                    let message = device::strip_terminator(std::mem::take(&mut input), write_term);
                    session.queue.submit(header.parameter, message);
                }
            }
            kind::DEVICE_CLEAR_COMPLETE => {
                input.clear();
                // The generation moved on at AsyncDeviceClear; holding the writer, nothing
                // stale can follow the acknowledgement.
                let mut w = session.sync_writer.lock().await;
                w.write_all(&wire::encode(kind::DEVICE_CLEAR_ACKNOWLEDGE, 0, 0, &[]))
                    .await?;
            }
            kind::TRIGGER => {}
            other => {
                let text = format!(
                    "unexpected `{}` on the synchronous channel",
                    wire::kind_name(other)
                );
                let mut w = session.sync_writer.lock().await;
                w.write_all(&wire::encode(
                    kind::ERROR,
                    error::UNRECOGNIZED_MESSAGE_TYPE,
                    0,
                    text.as_bytes(),
                ))
                .await?;
            }
        }
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn async_channel<D: MessageDevice + ?Sized>(
    mut reader: Reader,
    mut writer: OwnedWriteHalf,
    session: &Session<D>,
) -> io::Result<()> {
    loop {
        let (header, payload) = reader.next().await?;
        let response = match header.kind {
            kind::ASYNC_MAX_MSG_SIZE => match wire::decode_size(&payload) {
                Ok(size) => {
                    session.client_max.store(size, Ordering::SeqCst);
                    wire::encode(
                        kind::ASYNC_MAX_MSG_SIZE_RESPONSE,
                        0,
                        0,
                        &MAX_MESSAGE.to_be_bytes(),
                    )
                }
                Err(e) => wire::encode(kind::ERROR, error::MESSAGE_TOO_LARGE, 0, e.0.as_bytes()),
            },
            kind::ASYNC_DEVICE_CLEAR => {
                session.queue.clear().await;
                wire::encode(kind::ASYNC_DEVICE_CLEAR_ACKNOWLEDGE, 0, 0, &[])
            }
            kind::ASYNC_STATUS_QUERY => {
                let stb = session.queue.status_byte().await;
                wire::encode(kind::ASYNC_STATUS_RESPONSE, stb, 0, &[])
            }
            kind::ASYNC_LOCK => wire::encode(kind::ASYNC_LOCK_RESPONSE, 1, 0, &[]),
            kind::ASYNC_LOCK_INFO => wire::encode(kind::ASYNC_LOCK_INFO_RESPONSE, 0, 0, &[]),
            kind::ASYNC_REMOTE_LOCAL_CONTROL => {
                wire::encode(kind::ASYNC_REMOTE_LOCAL_RESPONSE, 0, 0, &[])
            }
            other => {
                let text = format!(
                    "unexpected `{}` on the asynchronous channel",
                    wire::kind_name(other)
                );
                wire::encode(
                    kind::ERROR,
                    error::UNRECOGNIZED_MESSAGE_TYPE,
                    0,
                    text.as_bytes(),
                )
            }
        };
        writer.write_all(&response).await?;
    }
}
