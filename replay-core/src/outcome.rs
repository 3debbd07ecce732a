//! What one exchange with an instrument produced, live or replayed.
//!
//! Its own module so that the recorder and the replayer, which both produce it, and the
//! [`Instrument`](crate::Instrument) handle, which consumes it, depend on it and not on
//! each other.

/// What an exchange produced.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// A write completed.
    Done,
    /// A text response.
    Text(String),
    /// A binary block, exact bytes with header.
    Block(Vec<u8>),
    /// A binary response returned as is (PyTestLab `query_raw` entries).
    Raw(Vec<u8>),
}
