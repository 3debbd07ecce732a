//! What the tests of a run report back for the end-of-run summary.

#[cfg(feature = "custom-harness")]
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
    /// Re-recorded without any change: the committed file was kept.
    pub(crate) unchanged: usize,
    /// Recordings that waited for another one to release the bench.
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

    /// The tally as one ledger entry (see `summary`): a `tally 1` line, then one record per
    /// line, fields separated by tabs, with `\\`, tab, newline and carriage return escaped.
    pub(crate) fn to_ledger(&self) -> String {
        let mut out = format!(
            "{LEDGER_HEADER}\ncounts\t{}\t{}\t{}\t{}\n",
            self.replayed, self.recorded, self.unchanged, self.waited
        );
        let mut record = |kind: &str, fields: &[&str]| {
            out.push_str(kind);
            for field in fields {
                out.push('\t');
                escape_field(field, &mut out);
            }
            out.push('\n');
        };
        for r in &self.rerecorded {
            let drifted = if r.drifted { "1" } else { "0" };
            record("rerecorded", &[&r.cassette, &r.summary, drifted]);
        }
        for r in &self.regressions {
            record("regression", &[&r.test, &r.rerecord]);
        }
        for m in &self.missing {
            record("missing", &[&m.test, &m.cassette, &m.record]);
        }
        for o in &self.orphans {
            record("orphan", &[o]);
        }
        for s in &self.snapshots {
            record("snapshot", &[&s.test, &s.snapshot]);
        }
        for (test, message) in &self.failures {
            record("failure", &[test, message]);
        }
        out
    }

    /// The tallies of a ledger. An entry this version cannot read (another version of
    /// replay in the same run, a write cut short) is skipped whole.
    pub(crate) fn from_ledger(text: &str) -> Vec<Tally> {
        let mut tallies = Vec::new();
        let mut current: Option<Option<Tally>> = None;
        for line in text.lines() {
            if line.starts_with("tally ") {
                if let Some(Some(done)) = current.take() {
                    tallies.push(done);
                }
                current = Some((line == LEDGER_HEADER).then(Tally::default));
                continue;
            }
            if let Some(entry) = current.as_mut()
                && let Some(tally) = entry
                && tally.read_record(line).is_none()
            {
                *entry = None;
            }
        }
        if let Some(Some(done)) = current {
            tallies.push(done);
        }
        tallies
    }

    /// Adds one ledger record; `None` when it is not one this version writes.
    fn read_record(&mut self, line: &str) -> Option<()> {
        let mut parts = line.split('\t');
        let kind = parts.next()?;
        let fields: Vec<String> = parts.map(unescape_field).collect::<Option<_>>()?;
        let count = |i: usize| fields[i].parse::<usize>().ok();
        match (kind, fields.len()) {
            ("counts", 4) => {
                self.replayed += count(0)?;
                self.recorded += count(1)?;
                self.unchanged += count(2)?;
                self.waited += count(3)?;
            }
            ("rerecorded", 3) => {
                let [cassette, summary, drifted] = <[String; 3]>::try_from(fields).ok()?;
                self.rerecorded.push(Rerecorded {
                    cassette,
                    summary,
                    drifted: match drifted.as_str() {
                        "1" => true,
                        "0" => false,
                        _ => return None,
                    },
                });
            }
            ("regression", 2) => {
                let [test, rerecord] = <[String; 2]>::try_from(fields).ok()?;
                self.regressions.push(Regression { test, rerecord });
            }
            ("missing", 3) => {
                let [test, cassette, record] = <[String; 3]>::try_from(fields).ok()?;
                self.missing.push(Missing {
                    test,
                    cassette,
                    record,
                });
            }
            ("orphan", 1) => self.orphans.extend(fields),
            ("snapshot", 2) => {
                let [test, snapshot] = <[String; 2]>::try_from(fields).ok()?;
                self.snapshots.push(PendingSnapshot { test, snapshot });
            }
            ("failure", 2) => {
                let [test, message] = <[String; 2]>::try_from(fields).ok()?;
                self.failures.push((test, message));
            }
            _ => return None,
        }
        Some(())
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

/// The first line of a ledger entry written by this version.
const LEDGER_HEADER: &str = "tally 1";

/// Appends `field` with `\\`, tab, newline and carriage return escaped.
fn escape_field(field: &str, out: &mut String) {
    for c in field.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// The field [`escape_field`] wrote; `None` for an escape it never writes.
fn unescape_field(field: &str) -> Option<String> {
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            '\\' => '\\',
            't' => '\t',
            'n' => '\n',
            'r' => '\r',
            _ => return None,
        });
    }
    Some(out)
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
