//! The maximum response size: how much a transport may read for one response.
//!
//! Every transport enforces it while reading (a text response that grows past it without a
//! terminator, a block whose header claims more), so a flooding or lying instrument never
//! makes the test allocate without bound. The recorder gives each transport the limit of
//! its instrument ([`Transport::set_max_response`](super::Transport::set_max_response),
//! `max_response` in `bench.yaml`) and drops the connection after the error, so nothing
//! stale is read afterwards.

use std::io;

/// A response exceeded the maximum response size. Transports return it inside an
/// [`io::Error`] ([`ResponseTooLarge::into_io`]) so the recorder can name the instrument,
/// the command and the limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseTooLarge {
    /// The limit in bytes.
    pub limit: usize,
    /// The length a block header claimed, when that is how it was found out.
    pub claimed: Option<u64>,
}

impl std::fmt::Display for ResponseTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl std::error::Error for ResponseTooLarge {}

impl ResponseTooLarge {
    /// A text response that passed `limit` bytes without a terminator.
    pub fn text(limit: usize) -> Self {
        ResponseTooLarge {
            limit,
            claimed: None,
        }
    }

    /// A response announced (by a block header, a protocol's length field) as at least
    /// `claimed` bytes, more than `limit`.
    pub fn block(limit: usize, claimed: u64) -> Self {
        ResponseTooLarge {
            limit,
            claimed: Some(claimed),
        }
    }

    /// Wraps it into an [`io::Error`] (kind `InvalidData`), the error type of transports.
    pub fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, self)
    }

    /// The [`ResponseTooLarge`] inside `error`, if that is what it is.
    pub fn find(error: &io::Error) -> Option<&ResponseTooLarge> {
        error.get_ref()?.downcast_ref::<ResponseTooLarge>()
    }

    fn describe(&self) -> String {
        match self.claimed {
            Some(claimed) => format!(
                "the response announces at least {claimed} bytes, more than the maximum response size of {} bytes",
                self.limit
            ),
            None => format!(
                "the response passed the maximum response size of {} bytes without a terminator",
                self.limit
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_the_io_error_round_trip() {
        let io = ResponseTooLarge::block(1024, 999_999_999).into_io();
        assert_eq!(io.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            ResponseTooLarge::find(&io),
            Some(&ResponseTooLarge::block(1024, 999_999_999))
        );
        assert_eq!(ResponseTooLarge::find(&io::Error::other("x")), None);
        assert!(io.to_string().contains("at least 999999999 bytes"), "{io}");
    }
}
