//! Raw SCPI sockets (`TCPIP[n]::host::port::SOCKET`).

use std::io;

use tokio::net::TcpStream;

use super::StreamTransport;
use crate::config::Terminators;

/// Connects to a raw SCPI socket and frames it with `terminators`.
pub async fn connect_tcp(
    host: &str,
    port: u16,
    terminators: Terminators,
) -> io::Result<StreamTransport<TcpStream>> {
    let stream = TcpStream::connect((host, port)).await?;
    stream.set_nodelay(true)?;
    Ok(StreamTransport::new(stream, terminators))
}
