//! replay-harness: re-exports replay-core.
pub use replay_core::*;
