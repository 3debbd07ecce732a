//! IEEE 488.2 definite-length block headers: never panic; a complete header is exactly
//! `#`, one digit n, n digits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use replay_core::fuzzing::block_header;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some((header_len, payload_len))) = block_header(data) {
        assert_eq!(data[0], b'#');
        let n = usize::from(data[1] - b'0');
        assert_eq!(header_len, 2 + n);
        let digits = std::str::from_utf8(&data[2..header_len]).unwrap();
        assert_eq!(digits.parse::<usize>().unwrap(), payload_len);
    }
});
