//! IEEE 488.2 definite-length arbitrary blocks: `#<n><length><payload>`.

/// How far a buffer gets towards one complete block.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BlockProgress {
    /// More bytes are needed to know.
    Incomplete,
    /// A complete block: `header_len` bytes of header, then `payload_len` bytes.
    Complete {
        /// Length of `#<n><length>`.
        header_len: usize,
        /// Length of the payload.
        payload_len: usize,
    },
}

/// Inspects the start of `buf` (leading whitespace skipped by the caller).
pub(crate) fn progress(buf: &[u8]) -> Result<BlockProgress, String> {
    let Some(&first) = buf.first() else {
        return Ok(BlockProgress::Incomplete);
    };
    if first != b'#' {
        return Err(format!(
            "expected `#` to start the block, got {}",
            describe_byte(first)
        ));
    }
    let Some(&digits) = buf.get(1) else {
        return Ok(BlockProgress::Incomplete);
    };
    if digits == b'0' {
        return Err("indefinite-length blocks (`#0`) are not supported".to_owned());
    }
    if !digits.is_ascii_digit() {
        return Err(format!(
            "expected the digit count after `#`, got {}",
            describe_byte(digits)
        ));
    }
    let n = usize::from(digits - b'0');
    if buf.len() < 2 + n {
        return Ok(BlockProgress::Incomplete);
    }
    let len_text = &buf[2..2 + n];
    if !len_text.iter().all(u8::is_ascii_digit) {
        return Err(format!(
            "the block length `{}` is not a number",
            String::from_utf8_lossy(len_text)
        ));
    }
    let payload_len: usize = std::str::from_utf8(len_text)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| "the block length does not fit in memory".to_owned())?;
    Ok(BlockProgress::Complete {
        header_len: 2 + n,
        payload_len,
    })
}

/// The payload of a complete block held in `raw` (the exact bytes recorded).
pub(crate) fn payload(raw: &[u8]) -> Result<&[u8], String> {
    match progress(raw)? {
        BlockProgress::Complete {
            header_len,
            payload_len,
        } if raw.len() >= header_len + payload_len => {
            Ok(&raw[header_len..header_len + payload_len])
        }
        _ => Err(format!(
            "the block is truncated ({} bytes recorded)",
            raw.len()
        )),
    }
}

/// The payload of the block `raw` that `alias` answered to `command`, a malformed block
/// mapped to [`Error::BinaryBlock`](crate::Error::BinaryBlock).
pub(crate) fn payload_of(alias: &str, command: &str, raw: &[u8]) -> crate::Result<Vec<u8>> {
    payload(raw)
        .map(<[u8]>::to_vec)
        .map_err(|reason| crate::Error::BinaryBlock {
            alias: alias.to_owned(),
            command: command.to_owned(),
            reason,
        })
}

fn describe_byte(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("`{}`", b as char)
    } else {
        format!("byte 0x{b:02x}")
    }
}

/// Builds an IEEE 488.2 definite-length block (`#<n><len><payload>`) around `payload`: what a
/// [`Transport`](crate::Transport) of a simulated instrument returns from
/// [`receive_block`](crate::Transport::receive_block).
///
/// ```
/// assert_eq!(replay_core::transport::encode_block(b"\x00\xff"), b"#12\x00\xff");
/// ```
pub fn encode_block(payload: &[u8]) -> Vec<u8> {
    let len = payload.len().to_string();
    let mut out = Vec::with_capacity(2 + len.len() + payload.len());
    out.push(b'#');
    out.extend_from_slice(len.len().to_string().as_bytes());
    out.extend_from_slice(len.as_bytes());
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_all_bytes() {
        let payload: Vec<u8> = (0..=255u8).collect();
        let block = encode_block(&payload);
        assert!(block.starts_with(b"#3256"));
        assert_eq!(payload_of(&block), payload);
    }

    fn payload_of(b: &[u8]) -> Vec<u8> {
        payload(b).unwrap().to_vec()
    }

    #[test]
    fn incomplete_and_errors() {
        assert_eq!(progress(b"#").unwrap(), BlockProgress::Incomplete);
        assert_eq!(progress(b"#3").unwrap(), BlockProgress::Incomplete);
        assert_eq!(progress(b"#31").unwrap(), BlockProgress::Incomplete);
        assert!(progress(b"X").unwrap_err().contains("`X`"));
        assert!(progress(b"#0abc").unwrap_err().contains("indefinite"));
        assert!(progress(b"#2x1").unwrap_err().contains("not a number"));
        assert!(payload(b"#15abc").unwrap_err().contains("truncated"));
    }
}
