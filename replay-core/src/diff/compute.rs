//! Computing a [`SessionDiff`]: instruments aligned by alias, interactions by (type, command).

use std::time::{Duration, Instant};

use serde::Serialize;
use similar::{Algorithm, DiffOp};

use super::number::{drifts_beyond, numeric_fields, relative_drift};
use super::options::DiffOptions;
use crate::session::{InstrumentLog, Interaction, Session};

/// How long the sequence alignment may search for a minimal diff before settling for a
/// good one (only huge, very different logs get near it).
const ALIGN_DEADLINE: Duration = Duration::from_secs(2);

/// The semantic difference between two sessions (recorded → new).
#[derive(Clone, Debug, Serialize)]
pub struct SessionDiff {
    /// One entry per alias present in either session, old order first, then new aliases.
    /// Instruments without any difference are included, with no changes.
    pub instruments: Vec<InstrumentDiff>,
    /// Whether timestamps were ignored.
    pub timestamps_ignored: bool,
    /// Whether some aligned interactions have different timestamps (reported even when
    /// they are ignored, so a summary can say "only timestamps differ").
    pub timestamps_differ: bool,
    /// The relative tolerance used for numeric drift.
    pub tolerance: f64,
}

/// Whether an instrument is in both sessions or only one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// In both sessions.
    Both,
    /// Only in the new session.
    Added,
    /// Only in the old session.
    Removed,
}

/// The differences of one instrument's log.
#[derive(Clone, Debug, Serialize)]
pub struct InstrumentDiff {
    /// The instrument alias.
    pub alias: String,
    /// Whether the alias is in both sessions.
    pub presence: Presence,
    /// The profile recorded in the old session.
    pub old_profile: Option<String>,
    /// The profile recorded in the new session.
    pub new_profile: Option<String>,
    /// Interactions recorded in the old session.
    pub old_len: usize,
    /// Interactions recorded in the new session.
    pub new_len: usize,
    /// The differences, in log order.
    pub changes: Vec<Change>,
    #[serde(skip)]
    pub(crate) old: Vec<Interaction>,
    #[serde(skip)]
    pub(crate) new: Vec<Interaction>,
    /// The full alignment (equal steps included), for rendering with context.
    #[serde(skip)]
    pub(crate) steps: Vec<Step>,
}

impl InstrumentDiff {
    /// Whether the profile differs between the two sessions.
    pub fn profile_changed(&self) -> bool {
        self.presence == Presence::Both && self.old_profile != self.new_profile
    }

    /// Whether this instrument differs in any way.
    pub fn is_empty(&self) -> bool {
        self.presence == Presence::Both && !self.profile_changed() && self.changes.is_empty()
    }
}

/// One step of the alignment of two logs (0-based indices).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Same type, command and outcome.
    Equal { old: usize, new: usize },
    /// Only in the old log.
    Removed { old: usize },
    /// Only in the new log.
    Added { new: usize },
    /// Aligned, but different (command or outcome); non-equal steps and
    /// [`InstrumentDiff::changes`] are in the same order.
    Changed { old: usize, new: usize },
}

/// Numeric drift between two responses that differ only in numbers.
///
/// Drift is a reading that changed while its command did not; its size is
/// [`relative_drift`](super::relative_drift), relative to the recorded reading, everywhere
/// (text, JSON, the tolerance check).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Drift {
    /// The drift of the reading that moved most, signed (`0.25`: +25 %); `None` when that
    /// reading was recorded as zero (no relative figure exists).
    pub relative: Option<f64>,
    /// `|relative|` (infinite when `relative` is `None`, serialised as `null`).
    pub max_relative: f64,
    /// Whether a reading drifted beyond the tolerance (see [`DiffOptions::tolerance`]).
    /// Always `false` when `after_command_change` is set.
    pub beyond_tolerance: bool,
    /// Whether a write changed (added, removed or replaced, on any instrument) before this
    /// reading: the reading follows the new procedure, it is not drift of the bench.
    pub after_command_change: bool,
    /// The differing readings, (recorded, new).
    pub readings: Vec<(f64, f64)>,
}

/// One difference between two aligned logs. Positions are 1-based.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// An interaction only the new session has.
    Added {
        /// Position in the new log.
        new: usize,
        /// Interaction type.
        kind: String,
        /// Command.
        command: String,
    },
    /// An interaction only the old session has.
    Removed {
        /// Position in the old log.
        old: usize,
        /// Interaction type.
        kind: String,
        /// Command.
        command: String,
    },
    /// A command (or its type) replaced by another at the same place.
    CommandChanged {
        /// Position in the old log.
        old: usize,
        /// Position in the new log.
        new: usize,
        /// Old interaction type.
        old_kind: String,
        /// Old command.
        old_command: String,
        /// New interaction type.
        new_kind: String,
        /// New command.
        new_command: String,
    },
    /// Same command, different text response.
    ResponseChanged {
        /// Position in the old log.
        old: usize,
        /// Position in the new log.
        new: usize,
        /// Interaction type.
        kind: String,
        /// Command.
        command: String,
        /// Recorded response.
        old_response: Option<String>,
        /// New response.
        new_response: Option<String>,
        /// Set when both responses differ only in numbers.
        drift: Option<Drift>,
    },
    /// Same command, different binary block.
    BinaryChanged {
        /// Position in the old log.
        old: usize,
        /// Position in the new log.
        new: usize,
        /// Interaction type.
        kind: String,
        /// Command.
        command: String,
        /// Recorded block size in bytes (`None`: no binary response).
        old_len: Option<usize>,
        /// New block size in bytes.
        new_len: Option<usize>,
        /// Offset of the first differing byte.
        first_difference: usize,
    },
    /// Same command, a different recorded error (or an error appeared or went away).
    ErrorChanged {
        /// Position in the old log.
        old: usize,
        /// Position in the new log.
        new: usize,
        /// Interaction type.
        kind: String,
        /// Command.
        command: String,
        /// Recorded error, `class: message`.
        old_error: Option<String>,
        /// New error.
        new_error: Option<String>,
    },
    /// Same exchange at another time (only when timestamps are not ignored).
    TimestampChanged {
        /// Position in the old log.
        old: usize,
        /// Position in the new log.
        new: usize,
        /// Interaction type.
        kind: String,
        /// Command.
        command: String,
        /// Recorded timestamp, seconds.
        old_timestamp: f64,
        /// New timestamp, seconds.
        new_timestamp: f64,
    },
}

impl Change {
    /// The 1-based position in the new log, if the change has one.
    pub fn new_position(&self) -> Option<usize> {
        match self {
            Change::Removed { .. } => None,
            Change::Added { new, .. }
            | Change::CommandChanged { new, .. }
            | Change::ResponseChanged { new, .. }
            | Change::BinaryChanged { new, .. }
            | Change::ErrorChanged { new, .. }
            | Change::TimestampChanged { new, .. } => Some(*new),
        }
    }
}

impl SessionDiff {
    /// Compares `old` (recorded) with `new` (re-recorded or actual).
    pub fn compute(old: &Session, new: &Session, options: &DiffOptions) -> SessionDiff {
        let empty = InstrumentLog::default();
        let mut aliases: Vec<(&str, Presence)> = Vec::new();
        for alias in old.aliases() {
            let presence = if new.instrument(alias).is_some() {
                Presence::Both
            } else {
                Presence::Removed
            };
            aliases.push((alias, presence));
        }
        for alias in new.aliases() {
            if old.instrument(alias).is_none() {
                aliases.push((alias, Presence::Added));
            }
        }
        let mut timestamps_differ = false;
        let mut instruments: Vec<InstrumentDiff> = aliases
            .into_iter()
            .map(|(alias, presence)| {
                let a = old.instrument(alias).unwrap_or(&empty);
                let b = new.instrument(alias).unwrap_or(&empty);
                let (diff, ts) = diff_instrument(alias, presence, a, b, options);
                timestamps_differ |= ts;
                diff
            })
            .collect();
        mark_after_command_changes(&mut instruments);
        SessionDiff {
            instruments,
            timestamps_ignored: options.ignore_timestamps,
            timestamps_differ,
            tolerance: options.tolerance,
        }
    }

    /// Whether the sessions have no semantic difference.
    pub fn is_empty(&self) -> bool {
        self.instruments.iter().all(InstrumentDiff::is_empty)
    }

    /// Every change of every instrument, with its alias.
    pub fn changes(&self) -> impl Iterator<Item = (&str, &Change)> {
        self.instruments
            .iter()
            .flat_map(|i| i.changes.iter().map(move |c| (i.alias.as_str(), c)))
    }

    /// Whether a numeric response drifted beyond the tolerance while its command, and every
    /// command before it, stayed the same (see [`Drift`]).
    pub fn drifted_beyond_tolerance(&self) -> bool {
        self.changes().any(|(_, c)| {
            matches!(c, Change::ResponseChanged { drift: Some(d), .. } if d.beyond_tolerance)
        })
    }
}

fn diff_instrument(
    alias: &str,
    presence: Presence,
    old: &InstrumentLog,
    new: &InstrumentLog,
    options: &DiffOptions,
) -> (InstrumentDiff, bool) {
    // Two passes. First on the whole exchange (type, command, outcome), so unchanged
    // interactions anchor the alignment exactly, even among many identical commands
    // (a removed `MEAS:VOLT?` does not shift every later reading onto its neighbour).
    // Then, inside each replaced block, on (type, command) alone: what lines up there is
    // the same command with another outcome (a drifted reading, a new firmware string).
    let old_full: Vec<_> = old.log.iter().map(full_key).collect();
    let new_full: Vec<_> = new.log.iter().map(full_key).collect();
    let deadline = Instant::now() + ALIGN_DEADLINE;
    let ops = similar::capture_diff_slices_deadline(
        Algorithm::Myers,
        &old_full,
        &new_full,
        Some(deadline),
    );
    let old_keys: Vec<_> = old.log.iter().map(command_key).collect();
    let new_keys: Vec<_> = new.log.iter().map(command_key).collect();
    let mut aligner = Aligner {
        old: &old.log,
        new: &new.log,
        options,
        steps: Vec::new(),
        changes: Vec::new(),
        timestamps_differ: false,
    };
    for op in ops {
        match op {
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                let inner = similar::capture_diff_slices_deadline(
                    Algorithm::Myers,
                    &old_keys[old_index..old_index + old_len],
                    &new_keys[new_index..new_index + new_len],
                    Some(deadline),
                );
                for op in inner {
                    aligner.apply(op, old_index, new_index);
                }
            }
            op => aligner.apply(op, 0, 0),
        }
    }
    let diff = InstrumentDiff {
        alias: alias.to_owned(),
        presence,
        old_profile: old.profile.clone(),
        new_profile: new.profile.clone(),
        old_len: old.log.len(),
        new_len: new.log.len(),
        changes: aligner.changes,
        old: old.log.clone(),
        new: new.log.clone(),
        steps: aligner.steps,
    };
    (diff, aligner.timestamps_differ)
}

/// The whole exchange, timestamps aside: what must match for two interactions to be equal.
type FullKey<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a [u8]>,
    Option<(&'a str, &'a str)>,
);

fn full_key(i: &Interaction) -> FullKey<'_> {
    (
        i.kind.as_str(),
        i.command.as_str(),
        i.response.as_deref(),
        i.binary.as_deref(),
        i.error
            .as_ref()
            .map(|e| (e.kind.as_str(), e.message.as_str())),
    )
}

/// What the test did: the interaction's type and command.
fn command_key(i: &Interaction) -> (&str, &str) {
    (i.kind.as_str(), i.command.as_str())
}

/// Turns alignment operations into steps and changes.
struct Aligner<'a> {
    old: &'a [Interaction],
    new: &'a [Interaction],
    options: &'a DiffOptions,
    steps: Vec<Step>,
    changes: Vec<Change>,
    timestamps_differ: bool,
}

impl Aligner<'_> {
    /// Applies `op`, whose indices are relative to `old_base` / `new_base`.
    fn apply(&mut self, op: DiffOp, old_base: usize, new_base: usize) {
        let (old, new) = (self.old, self.new);
        match op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => {
                for k in 0..len {
                    let (o, n) = (old_base + old_index + k, new_base + new_index + k);
                    let (a, b) = (&old[o], &new[n]);
                    self.timestamps_differ |= a.timestamp != b.timestamp;
                    match compare_outcomes(o, n, a, b, self.options) {
                        Some(change) => {
                            self.changes.push(change);
                            self.steps.push(Step::Changed { old: o, new: n });
                        }
                        None => self.steps.push(Step::Equal { old: o, new: n }),
                    }
                }
            }
            DiffOp::Delete {
                old_index, old_len, ..
            } => {
                for (o, item) in old
                    .iter()
                    .enumerate()
                    .skip(old_base + old_index)
                    .take(old_len)
                {
                    self.changes.push(removed(o, item));
                    self.steps.push(Step::Removed { old: o });
                }
            }
            DiffOp::Insert {
                new_index, new_len, ..
            } => {
                for (n, item) in new
                    .iter()
                    .enumerate()
                    .skip(new_base + new_index)
                    .take(new_len)
                {
                    self.changes.push(added(n, item));
                    self.steps.push(Step::Added { new: n });
                }
            }
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                let (old_index, new_index) = (old_base + old_index, new_base + new_index);
                let paired = old_len.min(new_len);
                for k in 0..paired {
                    let (o, n) = (old_index + k, new_index + k);
                    let (a, b) = (&old[o], &new[n]);
                    self.changes.push(Change::CommandChanged {
                        old: o + 1,
                        new: n + 1,
                        old_kind: a.kind.to_string(),
                        old_command: a.command.clone(),
                        new_kind: b.kind.to_string(),
                        new_command: b.command.clone(),
                    });
                    self.steps.push(Step::Changed { old: o, new: n });
                }
                for (o, item) in old
                    .iter()
                    .enumerate()
                    .skip(old_index + paired)
                    .take(old_len - paired)
                {
                    self.changes.push(removed(o, item));
                    self.steps.push(Step::Removed { old: o });
                }
                for (n, item) in new
                    .iter()
                    .enumerate()
                    .skip(new_index + paired)
                    .take(new_len - paired)
                {
                    self.changes.push(added(n, item));
                    self.steps.push(Step::Added { new: n });
                }
            }
        }
    }
}

fn added(n: usize, i: &Interaction) -> Change {
    Change::Added {
        new: n + 1,
        kind: i.kind.to_string(),
        command: i.command.clone(),
    }
}

fn removed(o: usize, i: &Interaction) -> Change {
    Change::Removed {
        old: o + 1,
        kind: i.kind.to_string(),
        command: i.command.clone(),
    }
}

/// Compares the outcomes of two interactions with the same type and command.
fn compare_outcomes(
    o: usize,
    n: usize,
    a: &Interaction,
    b: &Interaction,
    options: &DiffOptions,
) -> Option<Change> {
    let (old, new, kind, command) = (o + 1, n + 1, a.kind.to_string(), a.command.clone());
    if a.error != b.error {
        let show = |i: &Interaction| {
            i.error
                .as_ref()
                .map(|e| format!("{}: {}", e.kind.as_str(), e.message))
        };
        return Some(Change::ErrorChanged {
            old,
            new,
            kind,
            command,
            old_error: show(a),
            new_error: show(b),
        });
    }
    if a.binary.is_some() || b.binary.is_some() {
        if a.binary != b.binary {
            let (x, y) = (
                a.binary.as_deref().unwrap_or_default(),
                b.binary.as_deref().unwrap_or_default(),
            );
            let first_difference = x
                .iter()
                .zip(y)
                .position(|(p, q)| p != q)
                .unwrap_or(x.len().min(y.len()));
            return Some(Change::BinaryChanged {
                old,
                new,
                kind,
                command,
                old_len: a.binary.as_ref().map(Vec::len),
                new_len: b.binary.as_ref().map(Vec::len),
                first_difference,
            });
        }
    } else if a.response != b.response {
        let drift = match (&a.response, &b.response) {
            (Some(x), Some(y)) => numeric_fields(x, y).map(|readings| drift(readings, options)),
            _ => None,
        };
        return Some(Change::ResponseChanged {
            old,
            new,
            kind,
            command,
            old_response: a.response.clone(),
            new_response: b.response.clone(),
            drift,
        });
    }
    if !options.ignore_timestamps && a.timestamp != b.timestamp {
        return Some(Change::TimestampChanged {
            old,
            new,
            kind,
            command,
            old_timestamp: a.timestamp,
            new_timestamp: b.timestamp,
        });
    }
    None
}

fn drift(readings: Vec<(f64, f64)>, options: &DiffOptions) -> Drift {
    let magnitude = |r: Option<f64>| r.map_or(f64::INFINITY, f64::abs);
    let relative = readings
        .iter()
        .map(|&(a, b)| relative_drift(a, b))
        .max_by(|x, y| magnitude(*x).total_cmp(&magnitude(*y)))
        .unwrap_or(Some(0.0));
    let beyond_tolerance = readings
        .iter()
        .any(|&(a, b)| drifts_beyond(a, b, options.tolerance, options.absolute_tolerance));
    Drift {
        relative,
        max_relative: magnitude(relative),
        beyond_tolerance,
        after_command_change: false,
        readings,
    }
}

/// Marks the drift of readings that follow a changed write (added, removed or replaced) as
/// such (not drift): after an intended setpoint change, the new reading is the new
/// procedure's, not the bench's.
/// Within an instrument "after" is by position; across instruments, by time since the
/// session started.
fn mark_after_command_changes(instruments: &mut [InstrumentDiff]) {
    // A write configures the bench (a setpoint, a range); an added or removed query does
    // not, so a reading after it can still drift.
    let is_command_change = |c: &Change| match c {
        Change::Added { kind, .. } | Change::Removed { kind, .. } => kind == "write",
        Change::CommandChanged {
            old_kind, new_kind, ..
        } => old_kind == "write" || new_kind == "write",
        _ => false,
    };
    let time_of = |inst: &InstrumentDiff, c: &Change| match c {
        Change::Removed { old, .. } => inst.old.get(old - 1).map(|i| i.timestamp),
        other => other
            .new_position()
            .and_then(|n| inst.new.get(n - 1))
            .map(|i| i.timestamp),
    };
    let earliest = instruments
        .iter()
        .flat_map(|inst| {
            inst.changes
                .iter()
                .filter(|c| is_command_change(c))
                .filter_map(move |c| time_of(inst, c))
        })
        .fold(None, |min: Option<f64>, t| {
            Some(min.map_or(t, |m| m.min(t)))
        });
    let Some(earliest) = earliest else {
        return;
    };
    for inst in instruments {
        let mut changed_here = false;
        let times: Vec<Option<f64>> = inst.changes.iter().map(|c| time_of(inst, c)).collect();
        for (change, time) in inst.changes.iter_mut().zip(times) {
            if is_command_change(change) {
                changed_here = true;
                continue;
            }
            if let Change::ResponseChanged {
                drift: Some(drift), ..
            } = change
                && (changed_here || time.is_some_and(|t| t > earliest))
            {
                drift.after_command_change = true;
                drift.beyond_tolerance = false;
            }
        }
    }
}
