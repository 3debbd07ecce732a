//! Pieces that both halves of **replay** use: the instrument runtime (`replay-core`) and the
//! event-stream tools (`replay-events`). Neither depends on the other's model; both depend on
//! this small crate, so each piece exists once.
//!
//! ```
//! use replay_support::table::{Row, render_rows};
//! use replay_support::text::escape;
//!
//! let rows = [
//!     Row { old: Some(1), new: Some(1), sign: ' ', kind: "query".into(), command: "*IDN?".into(), ..Row::default() },
//!     Row { old: Some(2), new: None, sign: '-', kind: "write".into(), command: escape("VOLT 5\n"), ..Row::default() },
//! ];
//! let mut out = String::new();
//! render_rows(&mut out, &rows, false).unwrap();
//! assert!(out.contains("│- write  VOLT 5\\n"));
//! ```
//!
//! - [`table`]: insta-style report bodies (a gutter of old/new numbers, `-`/`+` lines).
//! - [`text`]: the one way commands, responses and event data are made printable, and
//!   strings are quoted for YAML.
//! - [`fs`]: atomic writes (temp file in the same directory, fsync, rename).
//! - [`Malformed`]: where and how a file is malformed, with a rustc-style snippet.
//! - [`causes`]: the `caused by:` chain that every error's `Debug` prints.
//! - [`term`]: when to colour output.
//! - [`sync`]: locking a mutex that a panicking test may have poisoned.
//!
//! # Known limitations
//!
//! This is an implementation crate of `replay`: its API follows what the two products need
//! and may change with them. Users depend on `replay-harness` or `replay-events`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod causes;
pub mod fs;
mod malformed;
pub mod sync;
pub mod table;
pub mod term;
pub mod text;

pub use malformed::{Malformed, strip_location};
