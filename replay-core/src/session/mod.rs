//! Session files (cassettes): the model, the YAML reader and writer.

mod fast_reader;
mod model;
mod read;
mod rules;
mod wire;
mod write;

pub use model::{
    InstrumentLog, Interaction, InteractionKind, RecordedError, RecordedErrorKind, Session,
};
pub use read::{parse_session, read_session};
pub use rules::InstrumentRules;
pub use write::{render_session, write_session};

#[doc(hidden)]
pub(crate) mod __wire {
    pub(crate) use super::wire::Ordered;
}

#[doc(hidden)]
pub mod __bench {
    //! Entry points for benchmarks and property tests; not part of the public API.
    pub use super::fast_reader::read as fast_read;
    pub use super::read::read_with_yaml_serde as yaml_serde_read;
}
