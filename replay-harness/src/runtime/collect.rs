//! What the tests of a run report back for the end-of-run summary.

#[cfg(feature = "custom-harness")]
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// A test whose replay deviated from its cassette.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Regression {
    pub(crate) test: String,
    pub(crate) rerecord: String,
}

/// A test without a cassette.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Missing {
    pub(crate) test: String,
    pub(crate) cassette: String,
    pub(crate) record: String,
}

/// A snapshot that no longer matches (pending `.snap.new`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PendingSnapshot {
    pub(crate) test: String,
    pub(crate) snapshot: String,
}

/// A re-recorded cassette that changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Rerecorded {
    pub(crate) cassette: String,
    pub(crate) summary: String,
    pub(crate) drifted: bool,
}

/// Everything the summary reports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Tally {
    pub(crate) replayed: usize,
    pub(crate) recorded: usize,
    /// Re-recorded without any change: the committed file was kept.
    #[serde(default)]
    pub(crate) unchanged: usize,
    /// Recordings that waited for another one to release the bench.
    #[serde(default)]
    pub(crate) waited: usize,
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
    #[cfg(feature = "custom-harness")]
    pub(crate) fn is_quiet(&self) -> bool {
        self.recorded == 0
            && self.rerecorded.is_empty()
            && self.regressions.is_empty()
            && self.missing.is_empty()
            && self.orphans.is_empty()
            && self.snapshots.is_empty()
            && self.failures.is_empty()
    }

    /// Adds what another process (or test) of the same run reported.
    pub(crate) fn merge(&mut self, other: Tally) {
        self.replayed += other.replayed;
        self.recorded += other.recorded;
        self.unchanged += other.unchanged;
        self.waited += other.waited;
        self.rerecorded.extend(other.rerecorded);
        self.regressions.extend(other.regressions);
        self.missing.extend(other.missing);
        self.orphans.extend(other.orphans);
        self.snapshots.extend(other.snapshots);
        self.failures.extend(other.failures);
        self.sort();
    }

    /// Counts one test's outcome. `rerecord` and `cassette` are the test's re-record command
    /// and cassette as shown; `pending` its changed snapshots, as shown.
    pub(crate) fn note(
        &mut self,
        test: &str,
        outcome: &crate::runtime::Outcome,
        rerecord: &str,
        cassette: &str,
        pending: &[String],
    ) {
        use crate::runtime::{FailureKind, Outcome};
        let first_line = |m: &str| m.lines().next().unwrap_or_default().to_owned();
        match outcome {
            Outcome::Replayed { .. } => self.replayed += 1,
            Outcome::Recorded {
                diff, kept, waited, ..
            } => {
                self.recorded += 1;
                self.unchanged += usize::from(*kept);
                self.waited += usize::from(waited.is_some());
                if let Some(diff) = diff.as_ref().filter(|d| !d.is_empty()) {
                    self.rerecorded.push(Rerecorded {
                        cassette: cassette.to_owned(),
                        summary: diff.summary(),
                        drifted: diff.drifted_beyond_tolerance(),
                    });
                }
            }
            Outcome::Failed { kind, message } => match kind {
                FailureKind::MissingCassette => self.missing.push(Missing {
                    test: test.to_owned(),
                    cassette: cassette.to_owned(),
                    record: rerecord.to_owned(),
                }),
                FailureKind::Regression | FailureKind::Unused => {
                    self.regressions.push(Regression {
                        test: test.to_owned(),
                        rerecord: rerecord.to_owned(),
                    })
                }
                _ => self.failures.push((test.to_owned(), first_line(message))),
            },
            Outcome::Panicked {
                payload,
                regression,
                ..
            } => {
                if *regression {
                    self.regressions.push(Regression {
                        test: test.to_owned(),
                        rerecord: rerecord.to_owned(),
                    });
                } else if pending.is_empty() {
                    let message = crate::runtime::panic_message(&**payload);
                    self.failures.push((test.to_owned(), first_line(&message)));
                }
                for snapshot in pending {
                    self.snapshots.push(PendingSnapshot {
                        test: test.to_owned(),
                        snapshot: snapshot.clone(),
                    });
                }
            }
        }
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
#[cfg(feature = "custom-harness")]
#[derive(Debug, Default)]
pub(crate) struct Collector(Mutex<Tally>);

#[cfg(feature = "custom-harness")]
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
