//! Entry points for the cargo-fuzz targets in `fuzz/` (feature `fuzzing`). Not a public API:
//! it changes without notice.

pub use crate::block::{BlockProgress, progress as block_progress};
pub use crate::session::__bench::{fast_read, yaml_serde_read};
