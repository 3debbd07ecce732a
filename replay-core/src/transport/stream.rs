//! Framing SCPI messages on a byte stream.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{BoxFuture, DEFAULT_MAX_RESPONSE, ResponseTooLarge, Transport};
use crate::block::{self, BlockProgress};
use crate::config::Terminators;

/// A [`Transport`] over any byte stream (TCP socket, serial port, pipe).
///
/// Responses end at the read terminator; with the default `\n`, a `\r` before it is
/// stripped too, so CRLF and LF instruments both work. Bytes read past the end of one
/// response stay buffered for the next, and a read cancelled by a timeout loses nothing.
///
/// A cancelled exchange still leaves the instrument out of step: its late answer would be
/// read as the answer to the next query, and a cancelled `send` may have written half a
/// command. A byte stream cannot tell a late answer from a new one, so this transport keeps
/// the default [`Transport::clear`] (unsupported): the recorder drops the connection after a
/// timeout and reconnects on the next exchange, and refuses further exchanges on one given
/// in `RecordOptions::transport`, which it cannot reopen.
///
/// An empty read terminator cannot frame anything: [`Transport::receive`] then fails with
/// [`io::ErrorKind::InvalidInput`] (binary blocks, framed by their header, still work).
pub struct StreamTransport<S> {
    stream: S,
    terminators: Terminators,
    buf: Vec<u8>,
    /// A block was read before its trailing terminator arrived: skip it on the next read.
    terminator_pending: bool,
    /// The largest response accepted, in bytes.
    max_response: usize,
}

impl<S> StreamTransport<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    /// Frames `stream` with `terminators`.
    pub fn new(stream: S, terminators: Terminators) -> Self {
        StreamTransport {
            stream,
            terminators,
            buf: Vec::with_capacity(4096),
            terminator_pending: false,
            max_response: DEFAULT_MAX_RESPONSE,
        }
    }

    /// Sets the maximum response size (default [`DEFAULT_MAX_RESPONSE`]): a text response
    /// longer than `bytes` without its terminator, or a block whose header claims more
    /// than `bytes`, is an error carrying [`ResponseTooLarge`] and nothing more is buffered.
    #[must_use]
    pub fn with_max_response(mut self, bytes: usize) -> Self {
        self.max_response = bytes;
        self
    }

    async fn fill(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 8192];
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

    async fn receive_message(&mut self) -> io::Result<Vec<u8>> {
        self.skip_pending_terminator().await?;
        let term = self.terminators.read.as_bytes().to_vec();
        if term.is_empty() {
            return Err(empty_terminator());
        }
        let mut searched = 0;
        loop {
            if let Some(pos) = find(&self.buf[searched..], &term) {
                let end = searched + pos;
                let mut message: Vec<u8> = self.buf.drain(..end + term.len()).collect();
                message.truncate(end);
                if term == b"\n" && message.last() == Some(&b'\r') {
                    message.pop();
                }
                if message.len() > self.max_response {
                    return Err(ResponseTooLarge::text(self.max_response).into_io());
                }
                return Ok(message);
            }
            // A CR before an LF terminator does not count towards the limit.
            if self.buf.len() > self.max_response.saturating_add(term.len()) {
                return Err(ResponseTooLarge::text(self.max_response).into_io());
            }
            searched = self.buf.len().saturating_sub(term.len() - 1);
            self.fill().await?;
        }
    }

    async fn receive_raw_block(&mut self) -> io::Result<Vec<u8>> {
        self.skip_pending_terminator().await?;
        loop {
            // Skip whitespace some instruments send before the block.
            let skip = self
                .buf
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
            if skip > 0 {
                self.buf.drain(..skip);
            }
            match block::progress(&self.buf)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?
            {
                BlockProgress::Complete {
                    header_len,
                    payload_len,
                } => {
                    if payload_len > self.max_response {
                        return Err(ResponseTooLarge::block(
                            self.max_response,
                            u64::try_from(payload_len).unwrap_or(u64::MAX),
                        )
                        .into_io());
                    }
                    let total = header_len + payload_len;
                    while self.buf.len() < total {
                        self.fill().await?;
                    }
                    let raw: Vec<u8> = self.buf.drain(..total).collect();
                    self.consume_terminator(true).await?;
                    return Ok(raw);
                }
                BlockProgress::Incomplete => self.fill().await?,
            }
        }
    }

    /// Consumes the terminator after a block, if the instrument sent one.
    ///
    /// `strict` right after the block: other bytes already there mean the header lied, an
    /// error. Later (`skip_pending_terminator`, after the next command went out) they may be
    /// the next answer of an instrument that sends no terminator after blocks: kept.
    async fn consume_terminator(&mut self, strict: bool) -> io::Result<()> {
        let term = self.terminators.read.as_bytes();
        // A CR may precede an LF terminator.
        if self.buf.first() == Some(&b'\r') && term == b"\n" {
            self.buf.remove(0);
        }
        if self.buf.starts_with(term) {
            self.buf.drain(..term.len());
        } else if term.starts_with(&self.buf) {
            // The terminator (if the instrument sends one) has not arrived, or not whole.
            self.terminator_pending = true;
        } else if strict {
            // Bytes where the terminator belongs: the header announced fewer bytes than the
            // instrument sent. Taking them for the next answer would record a wrong one.
            let extra = self.buf.len();
            self.buf.clear();
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{extra} unexpected byte(s) followed the binary block instead of the terminator: \
                     its header announced fewer bytes than the instrument sent"
                ),
            ));
        }
        Ok(())
    }

    async fn skip_pending_terminator(&mut self) -> io::Result<()> {
        while self.terminator_pending {
            let term = self.terminators.read.as_bytes();
            if self.buf.is_empty() || (self.buf.len() < term.len() && term.starts_with(&self.buf)) {
                self.fill().await?;
            }
            self.terminator_pending = false;
            self.consume_terminator(false).await?;
        }
        Ok(())
    }
}

fn empty_terminator() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "the read terminator is empty, so no answer can end; set `terminators` to \"\\n\" or \"\\r\\n\" in the bench config",
    )
}

/// Where `needle` first occurs in `haystack` (never, for an empty needle).
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    if needle.len() == 1 {
        return haystack.iter().position(|&b| b == needle[0]);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl<S> Transport for StreamTransport<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    fn send<'a>(&'a mut self, command: &'a str) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let mut line = Vec::with_capacity(command.len() + self.terminators.write.len());
            line.extend_from_slice(command.as_bytes());
            line.extend_from_slice(self.terminators.write.as_bytes());
            self.stream.write_all(&line).await?;
            self.stream.flush().await
        })
    }

    fn receive(&mut self) -> BoxFuture<'_, io::Result<Vec<u8>>> {
        Box::pin(self.receive_message())
    }

    fn receive_block(&mut self) -> BoxFuture<'_, io::Result<Vec<u8>>> {
        Box::pin(self.receive_raw_block())
    }

    fn set_max_response(&mut self, bytes: usize) {
        self.max_response = bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::duplex;

    fn lf() -> Terminators {
        Terminators::default()
    }

    /// Found by the `stream_framing` fuzz target: an empty read terminator panicked
    /// (`windows(0)`) through the public API.
    #[tokio::test]
    async fn empty_read_terminator_is_an_error_not_a_panic() {
        let no_read = || Terminators {
            write: "\n".into(),
            read: String::new(),
        };
        let (a, mut b) = duplex(64);
        let mut t = StreamTransport::new(a, no_read());
        b.write_all(b"+1.0\n").await.unwrap();
        let err = t.receive().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(
            err.to_string().contains("read terminator is empty"),
            "{err}"
        );
        // A block is framed by its header: it still reads.
        let (a, mut b) = duplex(64);
        let mut t = StreamTransport::new(a, no_read());
        b.write_all(b"#12ab").await.unwrap();
        assert_eq!(t.receive_block().await.unwrap(), b"#12ab");
    }

    #[tokio::test]
    async fn bytes_after_a_block_are_an_error_not_the_next_answer() {
        let (a, mut b) = duplex(256);
        let mut t = StreamTransport::new(a, lf());
        // The header says 3 bytes; 5 follow.
        b.write_all(b"#13abcde\n").await.unwrap();
        let err = t.receive_block().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("3 unexpected byte(s)"), "{err}");
    }

    #[tokio::test]
    async fn blocks_without_terminator_and_split_terminators_still_read() {
        let (a, mut b) = duplex(256);
        let mut t = StreamTransport::new(a, lf());
        // No terminator after the block; the next answer comes after the next command.
        b.write_all(b"#13abc").await.unwrap();
        assert_eq!(t.receive_block().await.unwrap(), b"#13abc");
        b.write_all(b"+1.0\n").await.unwrap();
        assert_eq!(t.receive().await.unwrap(), b"+1.0");
        // A CRLF terminator arriving in two pieces.
        let crlf = Terminators {
            write: "\n".into(),
            read: "\r\n".into(),
        };
        let (a, mut b) = duplex(256);
        let mut t = StreamTransport::new(a, crlf);
        b.write_all(b"#12ab\r").await.unwrap();
        assert_eq!(t.receive_block().await.unwrap(), b"#12ab");
        b.write_all(b"\n+2.0\r\n").await.unwrap();
        assert_eq!(t.receive().await.unwrap(), b"+2.0");
    }

    #[tokio::test]
    async fn crlf_and_lf_and_split_reads() {
        let (a, mut b) = duplex(64);
        let mut t = StreamTransport::new(a, lf());
        b.write_all(b"one\r\ntw").await.unwrap();
        assert_eq!(t.receive().await.unwrap(), b"one");
        b.write_all(b"o\nthree\n").await.unwrap();
        assert_eq!(t.receive().await.unwrap(), b"two");
        assert_eq!(t.receive().await.unwrap(), b"three");
    }

    #[tokio::test]
    async fn custom_multibyte_terminator() {
        let (a, mut b) = duplex(64);
        let mut t = StreamTransport::new(
            a,
            Terminators {
                write: "\r\n".into(),
                read: "\r\n".into(),
            },
        );
        t.send("*IDN?").await.unwrap();
        let mut got = [0u8; 7];
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"*IDN?\r\n");
        b.write_all(b"a\nb\r").await.unwrap();
        b.write_all(b"\n").await.unwrap();
        assert_eq!(t.receive().await.unwrap(), b"a\nb");
    }

    #[tokio::test]
    async fn binary_block_with_every_byte_then_text() {
        let (a, mut b) = duplex(1024);
        let mut t = StreamTransport::new(a, lf());
        let payload: Vec<u8> = (0..=255u8).chain(b"\n\r\n#9".iter().copied()).collect();
        let block = crate::block::encode_block(&payload);
        let mut wire = block.clone();
        wire.extend_from_slice(b"\nnext\n");
        b.write_all(&wire).await.unwrap();
        assert_eq!(t.receive_block().await.unwrap(), block);
        assert_eq!(t.receive().await.unwrap(), b"next");
    }

    #[tokio::test]
    async fn late_terminator_after_block_is_skipped() {
        let (a, mut b) = duplex(1024);
        let mut t = StreamTransport::new(a, lf());
        let block = crate::block::encode_block(b"\x00\xff");
        b.write_all(&block).await.unwrap();
        assert_eq!(t.receive_block().await.unwrap(), block);
        b.write_all(b"\r\n+1.0\n").await.unwrap();
        assert_eq!(t.receive().await.unwrap(), b"+1.0");
    }

    #[tokio::test]
    async fn text_past_the_limit_is_refused_without_buffering_more() {
        let (a, mut b) = duplex(64 * 1024);
        let mut t = StreamTransport::new(a, lf()).with_max_response(16);
        b.write_all(b"exactly 16 bytes\n").await.unwrap();
        assert_eq!(t.receive().await.unwrap(), b"exactly 16 bytes");
        b.write_all(&[b'x'; 40_000]).await.unwrap();
        let err = t.receive().await.unwrap_err();
        assert_eq!(
            ResponseTooLarge::find(&err),
            Some(&ResponseTooLarge::text(16))
        );
        assert!(t.buf.len() <= 16 + 1 + 8192, "buffered {}", t.buf.len());
    }

    #[tokio::test]
    async fn a_block_header_claiming_too_much_is_refused_before_reading() {
        let (a, mut b) = duplex(1024);
        let mut t = StreamTransport::new(a, lf());
        t.set_max_response(1000);
        b.write_all(b"#9999999999abc").await.unwrap();
        let err = t.receive_block().await.unwrap_err();
        assert_eq!(
            ResponseTooLarge::find(&err),
            Some(&ResponseTooLarge::block(1000, 999_999_999))
        );
        let mut t = StreamTransport::new(duplex(1024).0, lf()).with_max_response(3);
        t.buf.extend_from_slice(b"#13abc\n");
        assert_eq!(t.receive_block().await.unwrap(), b"#13abc");
    }

    #[tokio::test]
    async fn eof_is_an_error() {
        let (a, b) = duplex(64);
        drop(b);
        let mut t = StreamTransport::new(a, lf());
        let err = t.receive().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }
}
