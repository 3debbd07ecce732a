//! ONC RPC (RFC 5531) over TCP, as VXI-11 uses it: XDR encoding (RFC 4506), record marking,
//! call and reply messages. Pure functions over byte slices; the I/O lives in the client
//! and the servers.

use std::fmt;

/// Malformed bytes from the peer: a truncated field, a record or string too long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireError(pub(crate) String);

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WireError {}

impl From<WireError> for std::io::Error {
    fn from(e: WireError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }
}

/// Builds an XDR-encoded message.
#[derive(Default)]
pub(crate) struct XdrWriter {
    buf: Vec<u8>,
}

impl XdrWriter {
    pub(crate) fn new() -> Self {
        XdrWriter::default()
    }
    pub(crate) fn u32(mut self, v: u32) -> Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub(crate) fn i32(self, v: i32) -> Self {
        self.u32(v as u32)
    }
    pub(crate) fn bool(self, v: bool) -> Self {
        self.u32(u32::from(v))
    }
    /// Variable-length opaque data (and strings): length, bytes, zero padding to 4.
    pub(crate) fn opaque(mut self, data: &[u8]) -> Self {
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(data);
        self.buf.resize(self.buf.len() + pad(data.len()), 0);
        self
    }
    pub(crate) fn bytes(mut self, raw: &[u8]) -> Self {
        self.buf.extend_from_slice(raw);
        self
    }
    pub(crate) fn finish(self) -> Vec<u8> {
        self.buf
    }
}

fn pad(len: usize) -> usize {
    (4 - len % 4) % 4
}

/// Reads an XDR-encoded message.
pub(crate) struct XdrReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> XdrReader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        XdrReader { data, pos: 0 }
    }
    pub(crate) fn u32(&mut self, what: &str) -> Result<u32, WireError> {
        let end = self.pos + 4;
        let bytes = self.data.get(self.pos..end).ok_or_else(|| {
            WireError(format!(
                "message truncated before `{what}` (offset {})",
                self.pos
            ))
        })?;
        self.pos = end;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }
    pub(crate) fn i32(&mut self, what: &str) -> Result<i32, WireError> {
        self.u32(what).map(|v| v as i32)
    }
    pub(crate) fn bool(&mut self, what: &str) -> Result<bool, WireError> {
        match self.u32(what)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(WireError(format!("`{what}` is {v}, not an XDR boolean"))),
        }
    }
    /// Variable-length opaque data of at most `max` bytes.
    pub(crate) fn opaque(&mut self, what: &str, max: usize) -> Result<&'a [u8], WireError> {
        let len = self.u32(what)? as usize;
        if len > max {
            return Err(WireError(format!(
                "`{what}` claims {len} bytes, more than the {max} allowed"
            )));
        }
        let end = self.pos + len;
        let data = self.data.get(self.pos..end).ok_or_else(|| {
            WireError(format!(
                "`{what}` claims {len} bytes but only {} follow",
                self.data.len() - self.pos
            ))
        })?;
        self.pos = (end + pad(len)).min(self.data.len());
        Ok(data)
    }
    /// The bytes not read yet.
    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }
}

/// The last-fragment bit of a record-marking header.
const LAST_FRAGMENT: u32 = 0x8000_0000;

/// Frames one record as a single last fragment (RFC 5531 §11).
pub(crate) fn encode_record(record: &[u8]) -> Vec<u8> {
    let len = u32::try_from(record.len()).unwrap_or(u32::MAX >> 1) & !LAST_FRAGMENT;
    let mut out = Vec::with_capacity(record.len() + 4);
    out.extend_from_slice(&(LAST_FRAGMENT | len).to_be_bytes());
    out.extend_from_slice(record);
    out
}

/// Takes one complete record (all its fragments) from the front of `buf`.
///
/// `Ok(None)`: more bytes are needed. A record whose fragments add up to more than `max`
/// bytes is an error before anything is allocated for it.
pub(crate) fn take_record(buf: &mut Vec<u8>, max: usize) -> Result<Option<Vec<u8>>, WireError> {
    let mut pos = 0;
    let mut total = 0usize;
    loop {
        let Some(header) = buf.get(pos..pos + 4) else {
            return Ok(None);
        };
        let header = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let len = (header & !LAST_FRAGMENT) as usize;
        total += len;
        if total > max {
            return Err(WireError(format!(
                "an RPC record of more than {max} bytes (at least {total})"
            )));
        }
        if buf.len() < pos + 4 + len {
            return Ok(None);
        }
        pos += 4 + len;
        if header & LAST_FRAGMENT != 0 {
            break;
        }
    }
    let mut record = Vec::with_capacity(total);
    let mut at = 0;
    while at < pos {
        let h = &buf[at..at + 4];
        let len = (u32::from_be_bytes([h[0], h[1], h[2], h[3]]) & !LAST_FRAGMENT) as usize;
        record.extend_from_slice(&buf[at + 4..at + 4 + len]);
        at += 4 + len;
    }
    buf.drain(..pos);
    Ok(Some(record))
}

const CALL: u32 = 0;
const REPLY: u32 = 1;
const RPC_VERSION: u32 = 2;
const MSG_ACCEPTED: u32 = 0;
const MSG_DENIED: u32 = 1;

/// The header of an RPC call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Call {
    pub(crate) xid: u32,
    pub(crate) program: u32,
    pub(crate) version: u32,
    pub(crate) procedure: u32,
}

/// Encodes a call with null credentials and verifier.
pub(crate) fn encode_call(call: Call, args: &[u8]) -> Vec<u8> {
    XdrWriter::new()
        .u32(call.xid)
        .u32(CALL)
        .u32(RPC_VERSION)
        .u32(call.program)
        .u32(call.version)
        .u32(call.procedure)
        .u32(0) // credentials: AUTH_NONE
        .opaque(&[])
        .u32(0) // verifier: AUTH_NONE
        .opaque(&[])
        .bytes(args)
        .finish()
}

/// Decodes a call: its header and its argument bytes.
pub(crate) fn decode_call(record: &[u8]) -> Result<(Call, &[u8]), WireError> {
    let mut r = XdrReader::new(record);
    let xid = r.u32("xid")?;
    let kind = r.u32("msg_type")?;
    if kind != CALL {
        return Err(WireError(format!(
            "expected an RPC call, got message type {kind}"
        )));
    }
    let rpcvers = r.u32("rpcvers")?;
    if rpcvers != RPC_VERSION {
        return Err(WireError(format!("RPC version {rpcvers}, expected 2")));
    }
    let program = r.u32("prog")?;
    let version = r.u32("vers")?;
    let procedure = r.u32("proc")?;
    for what in ["cred", "verf"] {
        r.u32(what)?;
        r.opaque(what, 400)?;
    }
    Ok((
        Call {
            xid,
            program,
            version,
            procedure,
        },
        r.rest(),
    ))
}

/// Why a server did not run a call (an accepted call's non-success status, or a denial).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RpcError {
    /// PROG_UNAVAIL: the server does not serve this program.
    ProgramUnavailable,
    /// PROG_MISMATCH: it serves other versions.
    ProgramMismatch { low: u32, high: u32 },
    /// PROC_UNAVAIL: no such procedure.
    ProcedureUnavailable,
    /// GARBAGE_ARGS: the server could not decode the arguments.
    GarbageArguments,
    /// SYSTEM_ERR: the server failed (out of memory, …).
    SystemError,
    /// MSG_DENIED: RPC version mismatch or authentication error.
    Denied,
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RpcError::ProgramUnavailable => f.write_str("program unavailable (PROG_UNAVAIL)"),
            RpcError::ProgramMismatch { low, high } => {
                write!(
                    f,
                    "program version mismatch, the server has versions {low}–{high} (PROG_MISMATCH)"
                )
            }
            RpcError::ProcedureUnavailable => f.write_str("procedure unavailable (PROC_UNAVAIL)"),
            RpcError::GarbageArguments => {
                f.write_str("the server could not decode the arguments (GARBAGE_ARGS)")
            }
            RpcError::SystemError => f.write_str("system error on the server (SYSTEM_ERR)"),
            RpcError::Denied => f.write_str("call denied (MSG_DENIED)"),
        }
    }
}

/// Encodes an accepted reply: `Ok(results)` is SUCCESS, `Err` one of the failures.
pub(crate) fn encode_reply(xid: u32, result: Result<&[u8], RpcError>) -> Vec<u8> {
    let w = XdrWriter::new().u32(xid).u32(REPLY);
    let w = match result {
        Err(RpcError::Denied) => return w.u32(MSG_DENIED).u32(0).u32(2).u32(2).finish(),
        _ => w.u32(MSG_ACCEPTED).u32(0).opaque(&[]),
    };
    match result {
        Ok(results) => w.u32(0).bytes(results),
        Err(RpcError::ProgramUnavailable) => w.u32(1),
        Err(RpcError::ProgramMismatch { low, high }) => w.u32(2).u32(low).u32(high),
        Err(RpcError::ProcedureUnavailable) => w.u32(3),
        Err(RpcError::GarbageArguments) => w.u32(4),
        Err(RpcError::SystemError | RpcError::Denied) => w.u32(5),
    }
    .finish()
}

/// Decodes a reply: its xid and either the result bytes or why the call failed.
pub(crate) fn decode_reply(record: &[u8]) -> Result<(u32, Result<&[u8], RpcError>), WireError> {
    let mut r = XdrReader::new(record);
    let xid = r.u32("xid")?;
    let kind = r.u32("msg_type")?;
    if kind != REPLY {
        return Err(WireError(format!(
            "expected an RPC reply, got message type {kind}"
        )));
    }
    match r.u32("reply_stat")? {
        MSG_ACCEPTED => {}
        MSG_DENIED => return Ok((xid, Err(RpcError::Denied))),
        other => return Err(WireError(format!("unknown reply_stat {other}"))),
    }
    r.u32("verf")?;
    r.opaque("verf", 400)?;
    let status = match r.u32("accept_stat")? {
        0 => return Ok((xid, Ok(r.rest()))),
        1 => RpcError::ProgramUnavailable,
        2 => RpcError::ProgramMismatch {
            low: r.u32("low")?,
            high: r.u32("high")?,
        },
        3 => RpcError::ProcedureUnavailable,
        4 => RpcError::GarbageArguments,
        5 => RpcError::SystemError,
        other => return Err(WireError(format!("unknown accept_stat {other}"))),
    };
    Ok((xid, Err(status)))
}

/// The portmapper (RFC 1833, version 2).
pub(crate) mod portmap {
    use super::{WireError, XdrReader, XdrWriter};

    pub(crate) const PROGRAM: u32 = 100_000;
    pub(crate) const VERSION: u32 = 2;
    pub(crate) const PROC_NULL: u32 = 0;
    pub(crate) const PROC_GETPORT: u32 = 3;
    pub(crate) const IPPROTO_TCP: u32 = 6;

    /// GETPORT's argument: which program, version and protocol.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) struct Mapping {
        pub(crate) program: u32,
        pub(crate) version: u32,
        pub(crate) protocol: u32,
    }

    pub(crate) fn encode_getport(m: Mapping) -> Vec<u8> {
        XdrWriter::new()
            .u32(m.program)
            .u32(m.version)
            .u32(m.protocol)
            .u32(0)
            .finish()
    }

    pub(crate) fn decode_getport(args: &[u8]) -> Result<Mapping, WireError> {
        let mut r = XdrReader::new(args);
        let m = Mapping {
            program: r.u32("prog")?,
            version: r.u32("vers")?,
            protocol: r.u32("prot")?,
        };
        r.u32("port")?;
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xdr_round_trip_with_padding() {
        let bytes = XdrWriter::new()
            .u32(7)
            .i32(-2)
            .bool(true)
            .opaque(b"inst0")
            .opaque(b"")
            .finish();
        assert_eq!(
            bytes,
            [
                &[0, 0, 0, 7][..],
                &[0xff, 0xff, 0xff, 0xfe],
                &[0, 0, 0, 1],
                &[0, 0, 0, 5],
                b"inst0",
                &[0, 0, 0],
                &[0, 0, 0, 0],
            ]
            .concat()
        );
        let mut r = XdrReader::new(&bytes);
        assert_eq!(r.u32("a").unwrap(), 7);
        assert_eq!(r.i32("b").unwrap(), -2);
        assert!(r.bool("c").unwrap());
        assert_eq!(r.opaque("d", 10).unwrap(), b"inst0");
        assert_eq!(r.opaque("e", 10).unwrap(), b"");
        assert!(r.rest().is_empty());
    }

    #[test]
    fn xdr_errors_name_the_field() {
        let e = XdrReader::new(&[0, 0]).u32("link").unwrap_err();
        assert!(e.0.contains("`link`"), "{e}");
        let claims_too_much = XdrWriter::new().u32(100).bytes(b"abcd").finish();
        let e = XdrReader::new(&claims_too_much)
            .opaque("data", 1000)
            .unwrap_err();
        assert!(e.0.contains("claims 100 bytes but only 4 follow"), "{e}");
        let e = XdrReader::new(&claims_too_much)
            .opaque("data", 10)
            .unwrap_err();
        assert!(e.0.contains("more than the 10 allowed"), "{e}");
        let e = XdrReader::new(&[0, 0, 0, 2]).bool("flag").unwrap_err();
        assert!(e.0.contains("not an XDR boolean"), "{e}");
    }

    #[test]
    fn record_marking_single_and_multi_fragment() {
        let wire = encode_record(b"hello");
        assert_eq!(wire[..4], [0x80, 0, 0, 5]);
        let mut buf = wire.clone();
        buf.extend_from_slice(&[0x80, 0]); // the start of the next record
        assert_eq!(take_record(&mut buf, 100).unwrap().unwrap(), b"hello");
        assert_eq!(buf, [0x80, 0]);
        assert_eq!(take_record(&mut buf, 100).unwrap(), None);

        // Two fragments, fed byte by byte.
        let wire = [&[0, 0, 0, 2][..], b"ab", &[0x80, 0, 0, 3], b"cde"].concat();
        let mut buf = Vec::new();
        for (i, b) in wire.iter().enumerate() {
            buf.push(*b);
            let got = take_record(&mut buf, 100).unwrap();
            if i + 1 < wire.len() {
                assert_eq!(got, None, "at byte {i}");
            } else {
                assert_eq!(got.unwrap(), b"abcde");
            }
        }
        assert!(buf.is_empty());
    }

    #[test]
    fn oversized_record_is_refused_from_its_header() {
        let mut buf = vec![0x80, 0x10, 0, 0]; // claims 1 MiB, nothing follows
        let e = take_record(&mut buf, 1024).unwrap_err();
        assert!(e.0.contains("more than 1024 bytes"), "{e}");
    }

    #[test]
    fn call_round_trip() {
        let call = Call {
            xid: 42,
            program: 0x0607AF,
            version: 1,
            procedure: 11,
        };
        let bytes = encode_call(call, &[1, 2, 3, 4]);
        assert_eq!(bytes.len(), 40 + 4);
        let (decoded, args) = decode_call(&bytes).unwrap();
        assert_eq!(decoded, call);
        assert_eq!(args, [1, 2, 3, 4]);
        assert!(
            decode_reply(&bytes)
                .unwrap_err()
                .0
                .contains("expected an RPC reply")
        );
    }

    #[test]
    fn reply_round_trips_every_status() {
        assert_eq!(
            decode_reply(&encode_reply(9, Ok(&[0, 0, 0, 1]))).unwrap(),
            (9, Ok(&[0u8, 0, 0, 1][..]))
        );
        for status in [
            RpcError::ProgramUnavailable,
            RpcError::ProgramMismatch { low: 1, high: 3 },
            RpcError::ProcedureUnavailable,
            RpcError::GarbageArguments,
            RpcError::SystemError,
            RpcError::Denied,
        ] {
            assert_eq!(
                decode_reply(&encode_reply(5, Err(status))).unwrap(),
                (5, Err(status)),
                "{status}"
            );
        }
    }

    #[test]
    fn getport_round_trip() {
        let m = portmap::Mapping {
            program: 0x0607AF,
            version: 1,
            protocol: portmap::IPPROTO_TCP,
        };
        assert_eq!(
            portmap::decode_getport(&portmap::encode_getport(m)).unwrap(),
            m
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::transport::vxi11::wire::{CreateLinkResp, DeviceReadResp};

    proptest! {
        /// Whatever a peer sends, the decoders return an error or a value, never panic, and
        /// never take more than they were given.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let mut buf = bytes.clone();
            if let Ok(Some(record)) = take_record(&mut buf, 128) {
                prop_assert!(record.len() <= bytes.len());
            }
            let _ = decode_reply(&bytes);
            let _ = decode_call(&bytes);
            let _ = CreateLinkResp::decode(&bytes);
            let _ = DeviceReadResp::decode(&bytes, 64);
            let _ = portmap::decode_getport(&bytes);
        }

        /// A record split into fragments anywhere, arriving in pieces anywhere, is the record.
        #[test]
        fn fragments_reassemble(
            record in proptest::collection::vec(any::<u8>(), 0..200),
            cut in 0usize..200,
            feed in 1usize..50,
        ) {
            let cut = cut.min(record.len());
            let mut wire = ((cut as u32).to_be_bytes()).to_vec();
            wire.extend_from_slice(&record[..cut]);
            wire.extend_from_slice(&(0x8000_0000 | (record.len() - cut) as u32).to_be_bytes());
            wire.extend_from_slice(&record[cut..]);
            let mut buf = Vec::new();
            let mut got = None;
            for chunk in wire.chunks(feed) {
                prop_assert!(got.is_none(), "a record before all its bytes arrived");
                buf.extend_from_slice(chunk);
                got = take_record(&mut buf, 1024).unwrap();
            }
            prop_assert_eq!(got, Some(record));
            prop_assert!(buf.is_empty());
        }
    }
}
