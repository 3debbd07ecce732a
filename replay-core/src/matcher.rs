//! Deciding whether what the test does matches what was recorded.
//!
//! The replayer never compares strings itself: it asks a [`Matcher`]. The default is
//! [`ExactMatcher`], PyTestLab's rule.

use crate::session::{Interaction, InteractionKind};

/// What the test is doing now, to be matched against the next recorded interaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Request<'a> {
    /// The kind of exchange (write, query, binary query, read).
    pub kind: &'a InteractionKind,
    /// The command, without terminator (empty for a read).
    pub command: &'a str,
}

impl<'a> Request<'a> {
    /// A request of `kind` sending `command`.
    pub fn new(kind: &'a InteractionKind, command: &'a str) -> Request<'a> {
        Request { kind, command }
    }
}

/// A rule deciding whether a request replays a recorded interaction.
pub trait Matcher: Send + Sync + 'static {
    /// Whether `request` matches `recorded`.
    fn matches(&self, recorded: &Interaction, request: &Request<'_>) -> bool;
}

/// The same type and byte-for-byte the same command.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExactMatcher;

impl Matcher for ExactMatcher {
    fn matches(&self, recorded: &Interaction, request: &Request<'_>) -> bool {
        recorded.kind == *request.kind && recorded.command == request.command
    }
}

impl<F> Matcher for F
where
    F: Fn(&Interaction, &Request<'_>) -> bool + Send + Sync + 'static,
{
    fn matches(&self, recorded: &Interaction, request: &Request<'_>) -> bool {
        self(recorded, request)
    }
}
