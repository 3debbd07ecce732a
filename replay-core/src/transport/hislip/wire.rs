//! HiSLIP messages (IVI-6.1 §6): the 16-byte header and the payloads of the messages we
//! use, as pure functions shared by the client and the server.

use crate::transport::rpc::WireError;

/// Every message starts with these two bytes.
pub(crate) const PROLOGUE: [u8; 2] = *b"HS";
/// Header length: prologue, type, control code, parameter (u32), payload length (u64).
pub(crate) const HEADER_LEN: usize = 16;
/// The default TCP port.
pub(crate) const DEFAULT_PORT: u16 = 4880;
/// The protocol version we speak (1.0), as carried in Initialize.
pub(crate) const VERSION: u16 = 0x0100;
/// The first message id after Initialize or a device clear.
pub(crate) const FIRST_MESSAGE_ID: u32 = 0xFFFF_FF00;
/// Data sent by a server when it does not know the message id.
pub(crate) const ANY_MESSAGE_ID: u32 = 0xFFFF_FFFF;

/// Message types (IVI-6.1 Table 4).
pub(crate) mod kind {
    pub(crate) const INITIALIZE: u8 = 0;
    pub(crate) const INITIALIZE_RESPONSE: u8 = 1;
    pub(crate) const FATAL_ERROR: u8 = 2;
    pub(crate) const ERROR: u8 = 3;
    pub(crate) const ASYNC_LOCK: u8 = 4;
    pub(crate) const ASYNC_LOCK_RESPONSE: u8 = 5;
    pub(crate) const DATA: u8 = 6;
    pub(crate) const DATA_END: u8 = 7;
    pub(crate) const DEVICE_CLEAR_COMPLETE: u8 = 8;
    pub(crate) const DEVICE_CLEAR_ACKNOWLEDGE: u8 = 9;
    pub(crate) const ASYNC_REMOTE_LOCAL_CONTROL: u8 = 10;
    pub(crate) const ASYNC_REMOTE_LOCAL_RESPONSE: u8 = 11;
    pub(crate) const TRIGGER: u8 = 12;
    pub(crate) const INTERRUPTED: u8 = 13;
    pub(crate) const ASYNC_MAX_MSG_SIZE: u8 = 15;
    pub(crate) const ASYNC_MAX_MSG_SIZE_RESPONSE: u8 = 16;
    pub(crate) const ASYNC_INITIALIZE: u8 = 17;
    pub(crate) const ASYNC_INITIALIZE_RESPONSE: u8 = 18;
    pub(crate) const ASYNC_DEVICE_CLEAR: u8 = 19;
    pub(crate) const ASYNC_SERVICE_REQUEST: u8 = 20;
    pub(crate) const ASYNC_STATUS_QUERY: u8 = 21;
    pub(crate) const ASYNC_STATUS_RESPONSE: u8 = 22;
    pub(crate) const ASYNC_DEVICE_CLEAR_ACKNOWLEDGE: u8 = 23;
    pub(crate) const ASYNC_LOCK_INFO: u8 = 24;
    pub(crate) const ASYNC_LOCK_INFO_RESPONSE: u8 = 25;
}

/// Fatal error codes (IVI-6.1 Table 12).
pub(crate) mod fatal {
    pub(crate) const POORLY_FORMED_HEADER: u8 = 1;
    pub(crate) const INVALID_INITIALIZATION: u8 = 3;
}

/// Non-fatal error codes (IVI-6.1 Table 13).
pub(crate) mod error {
    pub(crate) const UNRECOGNIZED_MESSAGE_TYPE: u8 = 1;
    pub(crate) const MESSAGE_TOO_LARGE: u8 = 4;
}

/// The name of a message type, for errors.
pub(crate) fn kind_name(k: u8) -> &'static str {
    const NAMES: [&str; 26] = [
        "Initialize",
        "InitializeResponse",
        "FatalError",
        "Error",
        "AsyncLock",
        "AsyncLockResponse",
        "Data",
        "DataEnd",
        "DeviceClearComplete",
        "DeviceClearAcknowledge",
        "AsyncRemoteLocalControl",
        "AsyncRemoteLocalResponse",
        "Trigger",
        "Interrupted",
        "AsyncInterrupted",
        "AsyncMaxMsgSize",
        "AsyncMaxMsgSizeResponse",
        "AsyncInitialize",
        "AsyncInitializeResponse",
        "AsyncDeviceClear",
        "AsyncServiceRequest",
        "AsyncStatusQuery",
        "AsyncStatusResponse",
        "AsyncDeviceClearAcknowledge",
        "AsyncLockInfo",
        "AsyncLockInfoResponse",
    ];
    NAMES.get(usize::from(k)).copied().unwrap_or("unknown")
}

/// What a fatal error code means.
pub(crate) fn fatal_text(code: u8) -> &'static str {
    match code {
        0 => "unidentified error",
        1 => "poorly formed message header",
        2 => "attempt to use connection without both channels established",
        3 => "invalid initialization sequence",
        4 => "server refused connection due to maximum number of clients exceeded",
        5 => "secure connection failed",
        _ => "device-defined error",
    }
}

/// What a non-fatal error code means.
pub(crate) fn error_text(code: u8) -> &'static str {
    match code {
        0 => "unidentified error",
        1 => "unrecognized message type",
        2 => "unrecognized control code",
        3 => "unrecognized vendor defined message",
        4 => "message too large",
        5 => "authentication failed",
        _ => "device-defined error",
    }
}

/// A message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) kind: u8,
    pub(crate) control: u8,
    pub(crate) parameter: u32,
    pub(crate) payload_len: u64,
}

/// Encodes a message: header and payload.
pub(crate) fn encode(kind: u8, control: u8, parameter: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&PROLOGUE);
    out.push(kind);
    out.push(control);
    out.extend_from_slice(&parameter.to_be_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Decodes a header; a wrong prologue means the peer is not speaking HiSLIP (or the stream
/// is out of step).
pub(crate) fn decode_header(bytes: &[u8; HEADER_LEN]) -> Result<Header, WireError> {
    if bytes[..2] != PROLOGUE {
        return Err(WireError(format!(
            "not a HiSLIP message: it starts with {:02x} {:02x}, not `HS`",
            bytes[0], bytes[1]
        )));
    }
    let mut parameter = [0u8; 4];
    parameter.copy_from_slice(&bytes[4..8]);
    let mut len = [0u8; 8];
    len.copy_from_slice(&bytes[8..16]);
    Ok(Header {
        kind: bytes[2],
        control: bytes[3],
        parameter: u32::from_be_bytes(parameter),
        payload_len: u64::from_be_bytes(len),
    })
}

/// Takes one complete message from the front of `buf`. `Ok(None)`: more bytes needed. A
/// payload longer than `max_payload` is an error from the header alone, before anything is
/// allocated for it.
pub(crate) fn take_message(
    buf: &mut Vec<u8>,
    max_payload: u64,
) -> Result<Option<(Header, Vec<u8>)>, WireError> {
    let Some(head) = buf.get(..HEADER_LEN) else {
        return Ok(None);
    };
    let mut bytes = [0u8; HEADER_LEN];
    bytes.copy_from_slice(head);
    let header = decode_header(&bytes)?;
    if header.payload_len > max_payload {
        return Err(WireError(format!(
            "a HiSLIP `{}` message of {} bytes, more than the {max_payload} allowed",
            kind_name(header.kind),
            header.payload_len
        )));
    }
    let total = HEADER_LEN + header.payload_len as usize;
    if buf.len() < total {
        return Ok(None);
    }
    let payload = buf[HEADER_LEN..total].to_vec();
    buf.drain(..total);
    Ok(Some((header, payload)))
}

/// Initialize's parameter: protocol version and a two-letter vendor id.
pub(crate) fn initialize_parameter(version: u16, vendor: [u8; 2]) -> u32 {
    (u32::from(version) << 16) | (u32::from(vendor[0]) << 8) | u32::from(vendor[1])
}

/// InitializeResponse's parameter: the server's protocol version and the session id.
pub(crate) fn initialize_response_parameter(version: u16, session_id: u16) -> u32 {
    (u32::from(version) << 16) | u32::from(session_id)
}

/// The session id in an InitializeResponse parameter.
pub(crate) fn session_id(parameter: u32) -> u16 {
    (parameter & 0xFFFF) as u16
}

/// AsyncMaxMsgSize(Response)'s payload: an 8-byte size.
pub(crate) fn decode_size(payload: &[u8]) -> Result<u64, WireError> {
    let bytes: [u8; 8] = payload.try_into().map_err(|_| {
        WireError(format!(
            "a maximum message size is 8 bytes, this one {}",
            payload.len()
        ))
    })?;
    Ok(u64::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout() {
        let m = encode(kind::DATA_END, 1, 0xFFFF_FF00, b"*IDN?\n");
        assert_eq!(
            m,
            [
                &b"HS"[..],
                &[7, 1],
                &[0xff, 0xff, 0xff, 0x00],
                &[0, 0, 0, 0, 0, 0, 0, 6],
                b"*IDN?\n"
            ]
            .concat()
        );
        let mut buf = m.clone();
        buf.extend_from_slice(b"HS"); // the start of the next message
        let (h, payload) = take_message(&mut buf, 100).unwrap().unwrap();
        assert_eq!(
            h,
            Header {
                kind: kind::DATA_END,
                control: 1,
                parameter: 0xFFFF_FF00,
                payload_len: 6
            }
        );
        assert_eq!(payload, b"*IDN?\n");
        assert_eq!(buf, b"HS");
        assert_eq!(take_message(&mut buf, 100).unwrap(), None);
    }

    #[test]
    fn partial_messages_wait_for_more() {
        let m = encode(kind::DATA, 0, 2, b"abc");
        for cut in 0..m.len() {
            let mut buf = m[..cut].to_vec();
            assert_eq!(take_message(&mut buf, 100).unwrap(), None, "cut at {cut}");
            assert_eq!(buf.len(), cut);
        }
    }

    #[test]
    fn bad_prologue_and_oversized_payload() {
        let mut buf = b"XS\x07\x00\0\0\0\0\0\0\0\0\0\0\0\0".to_vec();
        let e = take_message(&mut buf, 100).unwrap_err();
        assert!(e.0.contains("not a HiSLIP message"), "{e}");
        let mut header = encode(kind::DATA_END, 0, 0, b"");
        header[8..16].copy_from_slice(&(1u64 << 40).to_be_bytes());
        let e = take_message(&mut header, 1 << 20).unwrap_err();
        assert!(
            e.0.contains("`DataEnd` message of 1099511627776 bytes"),
            "{e}"
        );
    }

    #[test]
    fn initialize_parameters() {
        assert_eq!(initialize_parameter(VERSION, *b"RP"), 0x0100_5250);
        let p = initialize_response_parameter(VERSION, 7);
        assert_eq!(p, 0x0100_0007);
        assert_eq!(session_id(p), 7);
        assert_eq!(decode_size(&(1u64 << 20).to_be_bytes()).unwrap(), 1 << 20);
        assert!(decode_size(b"abc").is_err());
        assert_eq!(kind_name(kind::ASYNC_DEVICE_CLEAR), "AsyncDeviceClear");
        assert_eq!(kind_name(200), "unknown");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Arbitrary bytes: an error or a message no longer than what arrived, never a panic.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let mut buf = bytes.clone();
            if let Ok(Some((header, payload))) = take_message(&mut buf, 1 << 20) {
                prop_assert_eq!(header.payload_len as usize, payload.len());
                prop_assert!(payload.len() + HEADER_LEN <= bytes.len());
            }
            let _ = decode_size(&bytes);
        }

        /// Messages arriving in pieces of any size come out whole and in order.
        #[test]
        fn messages_survive_any_split(
            payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..5),
            feed in 1usize..40,
        ) {
            let wire: Vec<u8> = payloads
                .iter()
                .enumerate()
                .flat_map(|(i, p)| encode(kind::DATA, 0, i as u32, p))
                .collect();
            let mut buf = Vec::new();
            let mut got = Vec::new();
            for chunk in wire.chunks(feed) {
                buf.extend_from_slice(chunk);
                while let Some((header, payload)) = take_message(&mut buf, 100).unwrap() {
                    prop_assert_eq!(header.parameter as usize, got.len());
                    got.push(payload);
                }
            }
            prop_assert_eq!(got, payloads);
        }
    }
}
