//! The `#[recorded_test]` attribute of **replay**. Use it through `replay-harness`, which
//! re-exports it with the runtime it expands to:
//!
//! ```no_run
//! use replay_harness::{recorded_test, Bench};
//!
//! #[recorded_test(session = "psu/ramp.yaml")]
//! async fn psu_ramp(bench: &Bench) -> replay_harness::TestResult {
//!     bench.instrument("psu")?.write("VOLT 5.0").await?;
//!     Ok(())
//! }
//! # fn main() {}
//! ```
//!
//! Parsing and expansion run on `proc_macro2` in [`expand`](crate) so they are unit-tested;
//! this file only converts token streams.
//!
//! # Known limitations
//!
//! - The expansion names `::replay_harness`: the dependency must keep that name (no
//!   `package = …` rename).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod args;
mod check;
mod expand;
mod suggest;

use proc_macro::TokenStream;

/// Turns `async fn name(bench: &Bench)` into a recorded test; see `replay_harness::recorded_test`.
#[proc_macro_attribute]
pub fn recorded_test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::recorded_test(args.into(), item.into()).into()
}
