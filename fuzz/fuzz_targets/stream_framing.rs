//! Response framing of the stream transport (raw sockets, serial): whatever bytes an
//! instrument sends, with whatever terminators the bench config names, reading text
//! responses and binary blocks ends in a response or an error, never a panic or a hang.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use replay_core::{Terminators, Transport};
use replay_core::transport::StreamTransport;
use tokio::io::AsyncWriteExt;

#[derive(Arbitrary, Debug)]
struct Input {
    read_terminator: String,
    /// For each exchange: `true` reads a binary block, `false` a text response.
    reads: Vec<bool>,
    /// What the instrument sends, in chunks.
    chunks: Vec<Vec<u8>>,
}

fuzz_target!(|input: Input| {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let (client, mut server) = tokio::io::duplex(1 << 16);
        let terminators = Terminators::new("\n", input.read_terminator);
        let writer = async move {
            for chunk in input.chunks {
                if server.write_all(&chunk).await.is_err() {
                    return;
                }
            }
            // Dropping `server` closes the stream: every pending read ends.
        };
        let reader = async move {
            let mut transport = StreamTransport::new(client, terminators);
            for block in input.reads.into_iter().take(16) {
                let result = if block {
                    transport.receive_block().await
                } else {
                    transport.receive().await
                };
                if result.is_err() {
                    break;
                }
            }
        };
        tokio::join!(writer, reader);
    });
});
