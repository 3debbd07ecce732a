//! What the trials report back for the end-of-run summary.

use std::sync::Mutex;

/// A test whose replay deviated from its cassette.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Regression {
    pub(crate) test: String,
    pub(crate) rerecord: String,
}

/// A test without a cassette.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Missing {
    pub(crate) test: String,
    pub(crate) cassette: String,
    pub(crate) record: String,
}

/// A snapshot that no longer matches (pending `.snap.new`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PendingSnapshot {
    pub(crate) test: String,
    pub(crate) snapshot: String,
}

/// A re-recorded cassette that changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rerecorded {
    pub(crate) cassette: String,
    pub(crate) summary: String,
    pub(crate) drifted: bool,
}

/// Everything the summary reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) replayed: usize,
    pub(crate) recorded: usize,
    pub(crate) rerecorded: Vec<Rerecorded>,
    pub(crate) regressions: Vec<Regression>,
    pub(crate) missing: Vec<Missing>,
    pub(crate) orphans: Vec<String>,
    pub(crate) snapshots: Vec<PendingSnapshot>,
    /// Other failures: (test, first line of the message).
    pub(crate) failures: Vec<(String, String)>,
}

impl Tally {
    /// Whether there is anything to tell beyond "all passed".
    pub(crate) fn is_quiet(&self) -> bool {
        self.rerecorded.is_empty()
            && self.regressions.is_empty()
            && self.missing.is_empty()
            && self.orphans.is_empty()
            && self.snapshots.is_empty()
            && self.failures.is_empty()
    }

    /// Sorts every list, so the summary does not depend on thread scheduling.
    pub(crate) fn sort(&mut self) {
        self.rerecorded.sort_by(|a, b| a.cassette.cmp(&b.cassette));
        self.regressions.sort_by(|a, b| a.test.cmp(&b.test));
        self.missing.sort_by(|a, b| a.test.cmp(&b.test));
        // Listed as missing, then run anyway (`--include-ignored`): once is enough.
        self.missing.dedup_by(|a, b| a.test == b.test);
        self.orphans.sort();
        self.snapshots.sort_by(|a, b| a.test.cmp(&b.test));
        self.failures.sort();
    }
}

/// The tally shared by the trial threads.
#[derive(Debug, Default)]
pub(crate) struct Collector(Mutex<Tally>);

impl Collector {
    pub(crate) fn update(&self, f: impl FnOnce(&mut Tally)) {
        let mut tally = self.0.lock().unwrap_or_else(|poison| poison.into_inner());
        f(&mut tally);
    }

    pub(crate) fn take(&self) -> Tally {
        let mut tally =
            std::mem::take(&mut *self.0.lock().unwrap_or_else(|poison| poison.into_inner()));
        tally.sort();
        tally
    }
}
