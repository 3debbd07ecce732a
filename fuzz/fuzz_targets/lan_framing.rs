//! Response framing of the LAN transports: VXI-11 (ONC RPC record marking, RPC replies,
//! `device_read` replies) and HiSLIP (message headers and payloads), over arbitrary bytes and
//! size limits. Never a panic; no record or payload beyond the limit is ever accepted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use replay_core::fuzzing::{hislip_client_framing, vxi11_client_framing};

fuzz_target!(|data: &[u8]| {
    let Some((&limit, rest)) = data.split_first() else {
        return;
    };
    let max = 1usize << (limit % 24);
    vxi11_client_framing(rest, max);
    hislip_client_framing(rest, max as u64);
});
