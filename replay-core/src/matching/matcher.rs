//! The [`Matcher`] trait and the two built-in rules, `exact` and `scpi`.

use std::borrow::Cow;
use std::sync::Mutex;

use replay_support::sync::lock;

use super::keywords::KeywordTable;
use super::memo::Canonical;
use super::scpi::{compare, table_with};
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
///
/// Closures `Fn(&Interaction, &Request) -> bool` are matchers too.
pub trait Matcher: Send + Sync + 'static {
    /// Whether `request` matches `recorded`.
    fn matches(&self, recorded: &Interaction, request: &Request<'_>) -> bool;

    /// The rule's name, shown in mismatch reports (`exact`, `scpi`).
    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed("custom")
    }

    /// Why `request` does not match `recorded` (`numbers differ`), when the rule can say.
    fn explain(&self, recorded: &Interaction, request: &Request<'_>) -> Option<String> {
        let _ = (recorded, request);
        None
    }
}

fn kind_difference(recorded: &Interaction, request: &Request<'_>) -> Option<String> {
    (recorded.kind != *request.kind).then(|| {
        format!(
            "a {} where the session recorded a {}",
            request.kind, recorded.kind
        )
    })
}

/// The same type and byte-for-byte the same command (PyTestLab's rule, the default).
#[derive(Clone, Copy, Debug, Default)]
pub struct ExactMatcher;

impl Matcher for ExactMatcher {
    fn matches(&self, recorded: &Interaction, request: &Request<'_>) -> bool {
        recorded.kind == *request.kind && recorded.command == request.command
    }

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed("exact")
    }

    fn explain(&self, recorded: &Interaction, request: &Request<'_>) -> Option<String> {
        kind_difference(recorded, request).or_else(|| {
            (recorded.command != request.command).then(|| {
                "not byte for byte the same (`matching = \"scpi\"` compares SCPI-aware)".to_owned()
            })
        })
    }
}

/// The same type and the same SCPI command, as the standards define "the same": case,
/// long and short forms of standard and declared keywords, suffix 1, leading `:`, white
/// space, exact decimal values, `ON`/`1` and `OFF`/`0` for standard booleans.
/// String and block data compare exactly; different paths and partial forms differ.
///
/// ```
/// use replay_core::{Matcher, Request, ScpiMatcher};
/// use replay_core::session::{Interaction, InteractionKind};
///
/// let recorded = Interaction::new(InteractionKind::Write, "VOLT 5", 0.0);
/// let refactored = Request::new(&InteractionKind::Write, "VOLTage 5.0");
/// assert!(ScpiMatcher::new().matches(&recorded, &refactored));
/// let changed = Request::new(&InteractionKind::Write, "VOLT 5.01");
/// assert!(!ScpiMatcher::new().matches(&recorded, &changed));
/// ```
pub struct ScpiMatcher {
    table: KeywordTable,
    tolerance: Option<f64>,
    /// Each distinct command text parsed once (a replay compares the same few hundred
    /// commands over and over).
    memo: Mutex<Canonical>,
}

impl Clone for ScpiMatcher {
    fn clone(&self) -> Self {
        ScpiMatcher {
            table: self.table.clone(),
            tolerance: self.tolerance,
            memo: Mutex::default(),
        }
    }
}

impl std::fmt::Debug for ScpiMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScpiMatcher")
            .field("table", &self.table)
            .field("tolerance", &self.tolerance)
            .finish_non_exhaustive()
    }
}

impl Default for ScpiMatcher {
    fn default() -> Self {
        ScpiMatcher::new()
    }
}

impl ScpiMatcher {
    /// The rule with SCPI-99's standard keywords and exact numbers.
    pub fn new() -> ScpiMatcher {
        ScpiMatcher {
            table: table_with(&[]),
            tolerance: None,
            memo: Mutex::default(),
        }
    }

    /// Adds keywords of the instrument's own command tree, in SCPI notation (`CHANnel`):
    /// their long and short forms, and omitted suffix = suffix 1, become the same.
    pub fn keywords<I, S>(mut self, keywords: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let declared: Vec<String> = keywords
            .into_iter()
            .map(|k| k.as_ref().to_owned())
            .collect();
        self.table.extend(declared.iter().map(String::as_str));
        // What the texts parse to depends on the table.
        self.memo = Mutex::default();
        self
    }

    /// Lets numbers with the same unit in commands differ by at most `tolerance`
    /// (absolute), for drivers that print floats differently. Off by default.
    pub fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = Some(tolerance);
        self
    }

    /// The keyword table in use.
    pub fn table(&self) -> &KeywordTable {
        &self.table
    }
}

impl Matcher for ScpiMatcher {
    fn matches(&self, recorded: &Interaction, request: &Request<'_>) -> bool {
        if recorded.kind != *request.kind {
            return false;
        }
        if recorded.command == request.command {
            return true;
        }
        match self.tolerance {
            // Without a tolerance, `compare` accepts exactly the texts that parse to equal
            // messages.
            None => lock(&self.memo).same(&recorded.command, request.command, &self.table),
            Some(_) => compare(
                &recorded.command,
                request.command,
                &self.table,
                self.tolerance,
            )
            .is_ok(),
        }
    }

    fn name(&self) -> Cow<'_, str> {
        match self.tolerance {
            Some(t) => Cow::Owned(format!("scpi, tolerance {t}")),
            None => Cow::Borrowed("scpi"),
        }
    }

    fn explain(&self, recorded: &Interaction, request: &Request<'_>) -> Option<String> {
        kind_difference(recorded, request).or_else(|| {
            compare(
                &recorded.command,
                request.command,
                &self.table,
                self.tolerance,
            )
            .err()
            .map(|d| d.to_string())
        })
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
