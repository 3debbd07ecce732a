//! Deciding whether what the test does matches what was recorded.
//!
//! The replayer never compares strings itself: it asks a [`Matcher`]. The default is
//! [`ExactMatcher`], PyTestLab's rule; [`ScpiMatcher`] is the SCPI-aware rule; `ignore` and
//! `repeatable` patterns take commands out of the strict sequence ([`MatchConfig`]).

pub mod decimal;
pub mod keywords;
mod matcher;
pub(crate) mod memo;
pub mod parse;
mod pattern;
mod rules;
pub mod scpi;

pub use matcher::{ExactMatcher, Matcher, Request, ScpiMatcher};
pub use rules::{Class, CompiledRules, MatchConfig, Rule};
