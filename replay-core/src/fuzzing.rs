//! Entry points for the cargo-fuzz targets in `fuzz/` (feature `fuzzing`). Not a public API:
//! it changes without notice.

/// An IEEE 488.2 block header at the start of `buf`: `Ok(None)` while incomplete,
/// `Ok(Some((header_len, payload_len)))` once known.
pub fn block_header(buf: &[u8]) -> Result<Option<(usize, usize)>, String> {
    use crate::block::{BlockProgress, progress};
    Ok(match progress(buf)? {
        BlockProgress::Incomplete => None,
        BlockProgress::Complete {
            header_len,
            payload_len,
        } => Some((header_len, payload_len)),
    })
}
pub use crate::session::__bench::{fast_read, yaml_serde_read};

/// VXI-11 response framing as the client sees it: ONC RPC record marking over `data`, each
/// record decoded as an RPC reply and its result as a `device_read` reply. Asserts the size
/// limits hold; must never panic.
pub fn vxi11_client_framing(data: &[u8], max: usize) {
    use crate::transport::rpc::{decode_reply, take_record};
    use crate::transport::vxi11::wire::DeviceReadResp;
    let mut buf = data.to_vec();
    while let Ok(Some(record)) = take_record(&mut buf, max) {
        assert!(
            record.len() <= max,
            "a record beyond the limit was accepted"
        );
        if let Ok((_xid, Ok(body))) = decode_reply(&record) {
            if let Ok(read) = DeviceReadResp::decode(body, max) {
                assert!(read.data.len() <= max);
            }
        }
    }
}

/// HiSLIP response framing as the client sees it: messages taken from the front of `data`
/// with a payload limit. Asserts the limit holds; must never panic.
pub fn hislip_client_framing(data: &[u8], max_payload: u64) {
    use crate::transport::hislip::wire::take_message;
    let mut buf = data.to_vec();
    while let Ok(Some((header, payload))) = take_message(&mut buf, max_payload) {
        assert!(payload.len() as u64 <= max_payload);
        assert_eq!(header.payload_len, payload.len() as u64);
    }
}
