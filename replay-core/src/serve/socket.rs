//! The raw SCPI socket server (`TCPIP::host::port::SOCKET`).

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::device::{self, MessageDevice, SharedDevice};
use super::handle::{ServerHandle, spawn_server};

/// Serves `device` as a raw SCPI socket: each message ends with the device's write
/// terminator, each reply is followed by its read terminator.
pub fn socket<D: MessageDevice + ?Sized>(
    listener: TcpListener,
    device: SharedDevice<D>,
) -> io::Result<ServerHandle> {
    let terms = device::terminators(&device);
    spawn_server(listener, move |stream| {
        let (device, terms) = (device.clone(), terms.clone());
        async move {
            if let Err(error) = connection(stream, device, terms).await {
                tracing::debug!(%error, "socket connection ended");
            }
        }
    })
}

async fn connection<D: MessageDevice + ?Sized>(
    mut stream: TcpStream,
    device: SharedDevice<D>,
    terms: device::DeviceTerminators,
) -> io::Result<()> {
    let (write_term, read_term) = (&*terms.write, &*terms.read);
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 8192];
    loop {
        while let Some(pos) = find(&buf, write_term) {
            let mut message: Vec<u8> = buf.drain(..pos + write_term.len()).collect();
            message.truncate(pos);
            if write_term == b"\n" && message.last() == Some(&b'\r') {
                message.pop();
            }
            if let Some(mut reply) = device::handle(&device, message).await {
                reply.extend_from_slice(read_term);
                stream.write_all(&reply).await?;
            }
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Where `needle` starts in `haystack`; an empty terminator never matches (the device then
/// receives nothing, as a raw socket without framing cannot delimit messages).
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::transport::{Transport, connect_tcp};
    use crate::{Terminators, serve::MessageDevice};

    /// Answers a query with its text reversed; remembers what it was told.
    #[derive(Default)]
    struct Mirror {
        seen: Vec<Vec<u8>>,
    }

    impl MessageDevice for Mirror {
        fn message(&mut self, message: &[u8]) -> Option<Vec<u8>> {
            self.seen.push(message.to_vec());
            message
                .ends_with(b"?")
                .then(|| message.iter().rev().copied().collect())
        }
    }

    #[tokio::test]
    async fn queries_and_writes_over_a_real_socket() {
        let device = Arc::new(Mutex::new(Mirror::default()));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = socket(listener, device.clone()).unwrap();
        let port = server.local_addr().port();
        let mut t = connect_tcp("127.0.0.1", port, Terminators::default())
            .await
            .unwrap();
        t.send("VOLT 5").await.unwrap();
        t.send("ABC?").await.unwrap();
        assert_eq!(t.receive().await.unwrap(), b"?CBA");
        assert_eq!(
            device.lock().unwrap().seen,
            vec![b"VOLT 5".to_vec(), b"ABC?".to_vec()]
        );
        server.stop().await;
        // Stopped: the connection is closed and nothing listens any more.
        t.send("ABC?").await.ok();
        assert!(t.receive().await.is_err());
        assert!(
            connect_tcp("127.0.0.1", port, Terminators::default())
                .await
                .is_err()
        );
    }
}
