//! VXI-11 core channel messages (VXI-11 rev 1.0, §B.6): their XDR encodings as pure
//! functions, shared by the client and the server.

use crate::transport::rpc::{WireError, XdrReader, XdrWriter};

/// The core channel's RPC program and version.
pub(crate) const CORE_PROGRAM: u32 = 0x0607AF;
pub(crate) const CORE_VERSION: u32 = 1;

pub(crate) const CREATE_LINK: u32 = 10;
pub(crate) const DEVICE_WRITE: u32 = 11;
pub(crate) const DEVICE_READ: u32 = 12;
pub(crate) const DEVICE_READSTB: u32 = 13;
pub(crate) const DEVICE_CLEAR: u32 = 15;
pub(crate) const DESTROY_LINK: u32 = 23;

/// `flags`: the data ends a message (END).
pub(crate) const FLAG_END: i32 = 8;
/// `flags`: `term_char` is set.
pub(crate) const FLAG_TERMCHAR_SET: i32 = 128;
/// `reason`: the requested count was reached.
pub(crate) const REASON_REQCNT: i32 = 1;
/// `reason`: the termination character was read.
pub(crate) const REASON_CHR: i32 = 2;
/// `reason`: END was read.
pub(crate) const REASON_END: i32 = 4;

/// `error`: I/O timeout.
pub(crate) const ERR_IO_TIMEOUT: i32 = 15;
/// `error`: invalid link identifier.
pub(crate) const ERR_INVALID_LINK: i32 = 4;

/// Longest device name accepted (`inst0`, `gpib0,5`, …).
pub(crate) const MAX_DEVICE_NAME: usize = 256;

/// What a VXI-11 error code means (VXI-11 Table B.2).
pub(crate) fn error_text(code: i32) -> &'static str {
    match code {
        1 => "syntax error",
        3 => "device not accessible",
        4 => "invalid link identifier",
        5 => "parameter error",
        6 => "channel not established",
        8 => "operation not supported",
        9 => "out of resources",
        11 => "device locked by another link",
        12 => "no lock held by this link",
        15 => "I/O timeout",
        17 => "I/O error",
        21 => "invalid address",
        23 => "abort",
        29 => "channel already established",
        _ => "unknown error",
    }
}

/// `Create_LinkParms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CreateLink {
    pub(crate) client_id: i32,
    pub(crate) lock_device: bool,
    pub(crate) lock_timeout: u32,
    pub(crate) device: String,
}

impl CreateLink {
    pub(crate) fn encode(&self) -> Vec<u8> {
        XdrWriter::new()
            .i32(self.client_id)
            .bool(self.lock_device)
            .u32(self.lock_timeout)
            .opaque(self.device.as_bytes())
            .finish()
    }
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = XdrReader::new(bytes);
        Ok(CreateLink {
            client_id: r.i32("clientId")?,
            lock_device: r.bool("lockDevice")?,
            lock_timeout: r.u32("lock_timeout")?,
            device: String::from_utf8_lossy(r.opaque("device", MAX_DEVICE_NAME)?).into_owned(),
        })
    }
}

/// `Create_LinkResp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CreateLinkResp {
    pub(crate) error: i32,
    pub(crate) link: i32,
    pub(crate) abort_port: u32,
    pub(crate) max_recv_size: u32,
}

impl CreateLinkResp {
    pub(crate) fn encode(&self) -> Vec<u8> {
        XdrWriter::new()
            .i32(self.error)
            .i32(self.link)
            .u32(self.abort_port)
            .u32(self.max_recv_size)
            .finish()
    }
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = XdrReader::new(bytes);
        Ok(CreateLinkResp {
            error: r.i32("error")?,
            link: r.i32("lid")?,
            abort_port: r.u32("abortPort")?,
            max_recv_size: r.u32("maxRecvSize")?,
        })
    }
}

/// `Device_WriteParms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeviceWrite {
    pub(crate) link: i32,
    pub(crate) io_timeout: u32,
    pub(crate) lock_timeout: u32,
    pub(crate) flags: i32,
    pub(crate) data: Vec<u8>,
}

impl DeviceWrite {
    pub(crate) fn encode(&self) -> Vec<u8> {
        XdrWriter::new()
            .i32(self.link)
            .u32(self.io_timeout)
            .u32(self.lock_timeout)
            .i32(self.flags)
            .opaque(&self.data)
            .finish()
    }
    pub(crate) fn decode(bytes: &[u8], max_data: usize) -> Result<Self, WireError> {
        let mut r = XdrReader::new(bytes);
        Ok(DeviceWrite {
            link: r.i32("lid")?,
            io_timeout: r.u32("io_timeout")?,
            lock_timeout: r.u32("lock_timeout")?,
            flags: r.i32("flags")?,
            data: r.opaque("data", max_data)?.to_vec(),
        })
    }
}

/// `Device_WriteResp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeviceWriteResp {
    pub(crate) error: i32,
    pub(crate) size: u32,
}

impl DeviceWriteResp {
    pub(crate) fn encode(&self) -> Vec<u8> {
        XdrWriter::new().i32(self.error).u32(self.size).finish()
    }
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = XdrReader::new(bytes);
        Ok(DeviceWriteResp {
            error: r.i32("error")?,
            size: r.u32("size")?,
        })
    }
}

/// `Device_ReadParms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeviceRead {
    pub(crate) link: i32,
    pub(crate) request_size: u32,
    pub(crate) io_timeout: u32,
    pub(crate) lock_timeout: u32,
    pub(crate) flags: i32,
    pub(crate) term_char: u8,
}

impl DeviceRead {
    pub(crate) fn encode(&self) -> Vec<u8> {
        XdrWriter::new()
            .i32(self.link)
            .u32(self.request_size)
            .u32(self.io_timeout)
            .u32(self.lock_timeout)
            .i32(self.flags)
            .u32(u32::from(self.term_char))
            .finish()
    }
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = XdrReader::new(bytes);
        Ok(DeviceRead {
            link: r.i32("lid")?,
            request_size: r.u32("requestSize")?,
            io_timeout: r.u32("io_timeout")?,
            lock_timeout: r.u32("lock_timeout")?,
            flags: r.i32("flags")?,
            // XDR carries `char` as a 4-byte int; only the low byte means anything.
            term_char: r.u32("termChar")? as u8,
        })
    }
}

/// `Device_ReadResp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeviceReadResp {
    pub(crate) error: i32,
    pub(crate) reason: i32,
    pub(crate) data: Vec<u8>,
}

impl DeviceReadResp {
    pub(crate) fn encode(&self) -> Vec<u8> {
        XdrWriter::new()
            .i32(self.error)
            .i32(self.reason)
            .opaque(&self.data)
            .finish()
    }
    pub(crate) fn decode(bytes: &[u8], max_data: usize) -> Result<Self, WireError> {
        let mut r = XdrReader::new(bytes);
        Ok(DeviceReadResp {
            error: r.i32("error")?,
            reason: r.i32("reason")?,
            data: r.opaque("data", max_data)?.to_vec(),
        })
    }
}

/// `Device_GenericParms` (readstb, clear, trigger, remote, local).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeviceGeneric {
    pub(crate) link: i32,
    pub(crate) flags: i32,
    pub(crate) lock_timeout: u32,
    pub(crate) io_timeout: u32,
}

impl DeviceGeneric {
    pub(crate) fn encode(&self) -> Vec<u8> {
        XdrWriter::new()
            .i32(self.link)
            .i32(self.flags)
            .u32(self.lock_timeout)
            .u32(self.io_timeout)
            .finish()
    }
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = XdrReader::new(bytes);
        Ok(DeviceGeneric {
            link: r.i32("lid")?,
            flags: r.i32("flags")?,
            lock_timeout: r.u32("lock_timeout")?,
            io_timeout: r.u32("io_timeout")?,
        })
    }
}

/// `Device_ReadStbResp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReadStbResp {
    pub(crate) error: i32,
    pub(crate) stb: u8,
}

impl ReadStbResp {
    pub(crate) fn encode(&self) -> Vec<u8> {
        XdrWriter::new()
            .i32(self.error)
            .u32(u32::from(self.stb))
            .finish()
    }
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, WireError> {
        let mut r = XdrReader::new(bytes);
        Ok(ReadStbResp {
            error: r.i32("error")?,
            stb: r.u32("stb")? as u8,
        })
    }
}

/// `Device_Link` (destroy_link's argument).
pub(crate) fn encode_link(link: i32) -> Vec<u8> {
    XdrWriter::new().i32(link).finish()
}

/// `Device_Link`.
pub(crate) fn decode_link(bytes: &[u8]) -> Result<i32, WireError> {
    XdrReader::new(bytes).i32("lid")
}

/// `Device_Error` (the reply of clear and destroy_link).
pub(crate) fn encode_error(error: i32) -> Vec<u8> {
    XdrWriter::new().i32(error).finish()
}

/// `Device_Error`.
pub(crate) fn decode_error(bytes: &[u8]) -> Result<i32, WireError> {
    XdrReader::new(bytes).i32("error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_link_has_the_documented_layout() {
        let p = CreateLink {
            client_id: 1,
            lock_device: false,
            lock_timeout: 10_000,
            device: "inst0".into(),
        };
        let bytes = p.encode();
        assert_eq!(
            bytes,
            [
                &[0, 0, 0, 1][..],
                &[0, 0, 0, 0],
                &10_000u32.to_be_bytes(),
                &[0, 0, 0, 5],
                b"inst0\0\0\0"
            ]
            .concat()
        );
        assert_eq!(CreateLink::decode(&bytes).unwrap(), p);
        let r = CreateLinkResp {
            error: 0,
            link: 3,
            abort_port: 0,
            max_recv_size: 1 << 20,
        };
        assert_eq!(CreateLinkResp::decode(&r.encode()).unwrap(), r);
    }

    #[test]
    fn write_and_read_round_trip() {
        let w = DeviceWrite {
            link: 3,
            io_timeout: 5000,
            lock_timeout: 0,
            flags: FLAG_END,
            data: b"*IDN?\n".to_vec(),
        };
        assert_eq!(DeviceWrite::decode(&w.encode(), 100).unwrap(), w);
        assert!(DeviceWrite::decode(&w.encode(), 3).is_err());
        let wr = DeviceWriteResp { error: 0, size: 6 };
        assert_eq!(DeviceWriteResp::decode(&wr.encode()).unwrap(), wr);
        let r = DeviceRead {
            link: 3,
            request_size: 1024,
            io_timeout: 5000,
            lock_timeout: 0,
            flags: FLAG_TERMCHAR_SET,
            term_char: b'\n',
        };
        assert_eq!(DeviceRead::decode(&r.encode()).unwrap(), r);
        let rr = DeviceReadResp {
            error: 0,
            reason: REASON_END,
            data: (0..=255).collect(),
        };
        assert_eq!(DeviceReadResp::decode(&rr.encode(), 1000).unwrap(), rr);
        let e = DeviceReadResp::decode(&rr.encode(), 100).unwrap_err();
        assert!(e.0.contains("claims 256 bytes"), "{e}");
    }

    #[test]
    fn generic_stb_link_error_round_trip() {
        let g = DeviceGeneric {
            link: 1,
            flags: 0,
            lock_timeout: 10,
            io_timeout: 20,
        };
        assert_eq!(DeviceGeneric::decode(&g.encode()).unwrap(), g);
        let s = ReadStbResp {
            error: 0,
            stb: 0x40,
        };
        assert_eq!(ReadStbResp::decode(&s.encode()).unwrap(), s);
        assert_eq!(decode_link(&encode_link(-7)).unwrap(), -7);
        assert_eq!(decode_error(&encode_error(15)).unwrap(), 15);
        assert_eq!(error_text(15), "I/O timeout");
        assert!(decode_error(&[0, 0]).is_err());
    }
}
