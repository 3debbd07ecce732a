//! Serving one simulated instrument on a TCP listener: one task per connection, the
//! instrument's state shared by all of them.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::fault::{Fault, fault_for, relabel_block};
use super::machine::{Machine, Response};

/// Longest program message accepted; a longer one is dropped and reported as `-223`.
pub(crate) const MAX_LINE: usize = 1 << 20;

/// How one listener answers.
#[derive(Clone, Debug)]
pub(crate) struct ServeOptions {
    /// Answer with CRLF instead of LF.
    pub(crate) crlf: bool,
    /// Wait this long before the first answer on each connection.
    pub(crate) first_reply_delay: Duration,
    /// Faults injected per command.
    pub(crate) faults: Arc<[super::fault::FaultRule]>,
}

/// A machine shared by every connection to one instrument.
pub(crate) type SharedMachine = Arc<Mutex<Machine>>;

/// Resolves when the bench shuts down (or was dropped).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // An error means the sender is gone: the bench was dropped, so stop too.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Accepts connections until shutdown, then closes the listener and every connection
/// before returning.
pub(crate) async fn serve(
    listener: TcpListener,
    machine: SharedMachine,
    options: ServeOptions,
    mut shutdown: watch::Receiver<bool>,
    accepted: Arc<AtomicUsize>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = stopped(&mut shutdown) => break,
            result = listener.accept() => match result {
                Ok((stream, _)) => {
                    accepted.fetch_add(1, Ordering::SeqCst);
                    connections.spawn(connection(
                        stream,
                        machine.clone(),
                        options.clone(),
                        shutdown.clone(),
                    ));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

async fn connection(
    stream: TcpStream,
    machine: SharedMachine,
    options: ServeOptions,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    tokio::select! {
        () = stopped(&mut shutdown) => {}
        _ = converse(stream, machine, options) => {}
    }
}

/// Reads program messages and answers them until the client hangs up.
async fn converse(
    mut stream: TcpStream,
    machine: SharedMachine,
    options: ServeOptions,
) -> io::Result<()> {
    let terminator: &[u8] = if options.crlf { b"\r\n" } else { b"\n" };
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 8192];
    let mut answered = false;
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut start = 0;
        while let Some(pos) = buf[start..].iter().position(|&b| b == b'\n') {
            let mut line = &buf[start..start + pos];
            start += pos + 1;
            if let Some(stripped) = line.strip_suffix(b"\r") {
                line = stripped;
            }
            let text = String::from_utf8_lossy(line);
            let fault = fault_for(&options.faults, &text);
            if fault == Some(Fault::ResetDuringWrite) {
                // Linger 0: closing sends RST, and the client's next read or write fails.
                #[expect(
                    deprecated,
                    reason = "linger 0 makes the close a reset without blocking: the reset is the point"
                )]
                let _ = stream.set_linger(Some(Duration::ZERO));
                return Ok(());
            }
            let response = machine
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .handle_line(&text);
            if let Response::Message(mut bytes) = response {
                if !answered && !options.first_reply_delay.is_zero() {
                    tokio::time::sleep(options.first_reply_delay).await;
                }
                answered = true;
                match fault {
                    None | Some(Fault::ResetDuringWrite) => {
                        bytes.extend_from_slice(terminator);
                        stream.write_all(&bytes).await?;
                    }
                    Some(Fault::Stall) => {}
                    Some(Fault::Late(delay)) => {
                        tokio::time::sleep(delay).await;
                        bytes.extend_from_slice(terminator);
                        stream.write_all(&bytes).await?;
                    }
                    Some(Fault::CloseMidResponse) => {
                        bytes.truncate(bytes.len().div_ceil(2));
                        stream.write_all(&bytes).await?;
                        stream.flush().await?;
                        return Ok(());
                    }
                    Some(Fault::Garbage) => {
                        stream.write_all(b"\xff\xfe\x00\x1b[2J\x80").await?;
                        stream.write_all(terminator).await?;
                    }
                    Some(Fault::WrongTerminator) => {
                        bytes.push(b'\r');
                        stream.write_all(&bytes).await?;
                    }
                    Some(Fault::BlockOverclaim) => {
                        let lying = relabel_block(&bytes, 1000).unwrap_or(bytes);
                        stream.write_all(&lying).await?;
                    }
                    Some(Fault::BlockUnderclaim) => {
                        let mut lying = relabel_block(&bytes, -10).unwrap_or(bytes);
                        lying.extend_from_slice(terminator);
                        stream.write_all(&lying).await?;
                    }
                }
            }
        }
        buf.drain(..start);
        if buf.len() > MAX_LINE {
            buf.clear();
            machine
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .report_overlong_message();
        }
    }
}
