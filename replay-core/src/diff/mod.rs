//! Semantic diff of two sessions (cassettes): what a reviewer needs to know about a re-record.
//!
//! Instruments are aligned by alias, and each instrument's interactions are aligned on
//! their (type, command) with a sequence diff, so an inserted command shows as one added
//! line instead of a cascade of changes. For interactions that line up, the outcomes are
//! compared: a text response, a numeric reading (compared as a number, with a relative
//! tolerance), a binary block (by bytes), a recorded error. Timestamps are ignored unless
//! asked for: a re-record of an unchanged procedure differs only in them.
//!
//! ```
//! use replay_core::diff::{DiffOptions, SessionDiff};
//! use replay_core::session::parse_session;
//!
//! let old = parse_session("old.yaml", "psu:\n  log:\n  - type: query\n    command: MEAS:VOLT?\n    response: '+4.99918100E+00'\n    timestamp: 0.1\n").unwrap();
//! let new = parse_session("new.yaml", "psu:\n  log:\n  - type: query\n    command: MEAS:VOLT?\n    response: '+5.20000000E+00'\n    timestamp: 0.2\n").unwrap();
//! let diff = SessionDiff::compute(&old, &new, &DiffOptions::default());
//! assert!(!diff.is_empty());
//! assert_eq!(diff.summary(), "1 response changed (1 drifted beyond 0.1%)");
//! println!("{}", diff.render("old.yaml", "new.yaml"));
//! ```

mod compute;
mod number;
mod options;
mod render;
mod text;

pub use compute::{Change, Drift, InstrumentDiff, Presence, SessionDiff};
pub use number::{drifts_beyond, parse_scpi_number, relative_drift};
pub use options::{
    DEFAULT_ABSOLUTE_TOLERANCE, DEFAULT_TOLERANCE, DiffOptions, RenderOptions, parse_tolerance,
};
pub use text::session_text;

#[cfg(test)]
mod tests;
