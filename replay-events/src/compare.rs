//! Comparing two recordings: per-name count changes, events added and removed, and the
//! first divergence — the seeds' "compare outcomes with the original" for what-if replays.
//!
//! Events are compared by name and data (whitespace-insensitive, numbers as written);
//! timing and sources are not compared, since a replay never reproduces them exactly.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Number;
use serde_json::value::RawValue;
use similar::{Algorithm, DiffOp};

use super::analysis::format_offset;
use super::format::compact;
use super::model::{RecordedEvent, Recording, number_f64};
use replay_support::table::{Row, bold, green, red, render_rows, windows};
use replay_support::text::shorten;

/// One side of a comparison.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Side {
    /// The session name.
    pub session_name: String,
    /// How many events it has.
    pub total_events: usize,
}

/// A name whose count differs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CountChange {
    /// The event name.
    pub name: String,
    /// Count in the first (original) recording.
    pub before: usize,
    /// Count in the second recording.
    pub after: usize,
    /// `after - before`.
    pub delta: i64,
}

/// An event in a comparison, with its 1-based position in its recording.
#[derive(Clone, Debug, Serialize)]
pub struct DiffEvent {
    /// 1-based position in its recording.
    pub index: usize,
    /// Milliseconds since its recording started, as written.
    pub timestamp_offset_ms: Number,
    /// The event name.
    pub event_name: String,
    /// The event source.
    pub source: String,
    /// The event data, as recorded.
    pub event_data: Box<RawValue>,
}

/// Where two recordings first differ. An index is `None` when that recording ended there.
#[derive(Clone, Debug, Serialize)]
pub struct Divergence {
    /// 1-based position in the first recording.
    pub left_index: Option<usize>,
    /// 1-based position in the second recording.
    pub right_index: Option<usize>,
    /// The first recording's event there.
    pub left: Option<DiffEvent>,
    /// The second recording's event there.
    pub right: Option<DiffEvent>,
}

/// The comparison of two recordings (see [`compare`]).
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// Whether both have the same events (name and data) in the same order.
    pub equal: bool,
    /// The first (original) recording.
    pub left: Side,
    /// The second recording.
    pub right: Side,
    /// Names whose count differs, largest change first, ties by name.
    pub count_changes: Vec<CountChange>,
    /// Events of the first recording missing from the second.
    pub removed: Vec<DiffEvent>,
    /// Events of the second recording missing from the first.
    pub added: Vec<DiffEvent>,
    /// Where they first differ.
    pub first_divergence: Option<Divergence>,
    #[serde(skip)]
    ops: Vec<DiffOp>,
    #[serde(skip)]
    left_events: Vec<RecordedEvent>,
    #[serde(skip)]
    right_events: Vec<RecordedEvent>,
}

/// How long the alignment may search before settling for a good, not minimal, one.
const DIFF_DEADLINE: Duration = Duration::from_secs(10);

/// Compares `left` (the original) with `right` (for example a what-if replay's recording).
///
/// Events are aligned on a longest common subsequence of (name, data) with `similar`'s
/// Myers diff, so an inserted or dropped event shows as one addition or removal, not as a
/// cascade of changes.
pub fn compare(left: &Recording, right: &Recording) -> Comparison {
    let mut ids: HashMap<(String, String), u32> = HashMap::new();
    let a = keys(&mut ids, &left.events);
    let b = keys(&mut ids, &right.events);
    let ops = similar::capture_diff_slices_deadline(
        Algorithm::Myers,
        &a,
        &b,
        Some(Instant::now() + DIFF_DEADLINE),
    );

    let mut removed = Vec::new();
    let mut added = Vec::new();
    let mut first_divergence = None;
    for op in &ops {
        let (old_range, new_range) = (op.old_range(), op.new_range());
        if matches!(op, DiffOp::Equal { .. }) {
            continue;
        }
        if first_divergence.is_none() {
            // Positions where the two sequences part; the events found there, if any.
            let l = left.events.get(old_range.start);
            let r = right.events.get(new_range.start);
            first_divergence = Some(Divergence {
                left_index: l.map(|_| old_range.start + 1),
                right_index: r.map(|_| new_range.start + 1),
                left: l.map(|e| diff_event(old_range.start, e)),
                right: r.map(|e| diff_event(new_range.start, e)),
            });
        }
        for i in old_range {
            removed.push(diff_event(i, &left.events[i]));
        }
        for i in new_range {
            added.push(diff_event(i, &right.events[i]));
        }
    }

    let (before, after) = (count_names(left), count_names(right));
    let mut count_changes: Vec<CountChange> = before
        .keys()
        .chain(after.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter_map(|name| {
            let (b, a) = (
                before.get(name).copied().unwrap_or(0),
                after.get(name).copied().unwrap_or(0),
            );
            (a != b).then(|| CountChange {
                name: (*name).to_owned(),
                before: b,
                after: a,
                delta: a as i64 - b as i64,
            })
        })
        .collect();
    count_changes.sort_by(|x, y| {
        y.delta
            .unsigned_abs()
            .cmp(&x.delta.unsigned_abs())
            .then_with(|| x.name.cmp(&y.name))
    });

    Comparison {
        equal: removed.is_empty() && added.is_empty(),
        left: Side {
            session_name: left.session_name.clone(),
            total_events: left.events.len(),
        },
        right: Side {
            session_name: right.session_name.clone(),
            total_events: right.events.len(),
        },
        count_changes,
        removed,
        added,
        first_divergence,
        ops,
        left_events: left.events.clone(),
        right_events: right.events.clone(),
    }
}

/// Interns (name, compact data) pairs so the diff compares small integers.
fn keys(ids: &mut HashMap<(String, String), u32>, events: &[RecordedEvent]) -> Vec<u32> {
    events
        .iter()
        .map(|e| {
            let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
            *ids.entry((
                e.event_name.clone(),
                compact(e.event_data.get()).into_owned(),
            ))
            .or_insert(next)
        })
        .collect()
}

fn count_names(r: &Recording) -> HashMap<&str, usize> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for e in &r.events {
        *counts.entry(e.event_name.as_str()).or_default() += 1;
    }
    counts
}

fn diff_event(i: usize, e: &RecordedEvent) -> DiffEvent {
    DiffEvent {
        index: i + 1,
        timestamp_offset_ms: e.timestamp_offset_ms.clone(),
        event_name: e.event_name.clone(),
        source: e.source.clone(),
        event_data: e.event_data.clone(),
    }
}

impl Comparison {
    /// The comparison as text for people, in insta's layout: a header naming both files,
    /// count changes, the first divergence, then the aligned events with a gutter of old and
    /// new positions, `-` removed and `+` added, two events of context around each change,
    /// at most `max_changes` changed lines. `color` adds ANSI colours.
    pub fn render(
        &self,
        left_label: &str,
        right_label: &str,
        color: bool,
        max_changes: usize,
    ) -> String {
        let mut out = String::new();
        let verdict = if self.equal {
            "recordings are equal"
        } else {
            "recordings differ"
        };
        let _ = writeln!(out, "{}", bold(verdict, color));
        let _ = writeln!(
            out,
            "  old: {left_label}  `{}` ({} events)",
            self.left.session_name, self.left.total_events
        );
        let _ = writeln!(
            out,
            "  new: {right_label}  `{}` ({} events)",
            self.right.session_name, self.right.total_events
        );
        if self.equal {
            out.push_str("same events (name and data) in the same order; timing and sources are not compared\n");
            return out;
        }
        if !self.count_changes.is_empty() {
            out.push_str("event counts:\n");
            let width = self
                .count_changes
                .iter()
                .map(|c| c.name.chars().count())
                .max()
                .unwrap_or(0);
            for c in &self.count_changes {
                let delta = format!("{:+}", c.delta);
                let delta = if c.delta < 0 {
                    red(&delta, color)
                } else {
                    green(&delta, color)
                };
                let _ = writeln!(
                    out,
                    "  {:<width$}  {:>6} → {:<6} {delta}",
                    c.name, c.before, c.after
                );
            }
        }
        if let Some(d) = &self.first_divergence {
            let at = |i: Option<usize>| i.map_or_else(|| "its end".to_owned(), |i| format!("#{i}"));
            let _ = writeln!(
                out,
                "first divergence: event {} of old, {} of new",
                at(d.left_index),
                at(d.right_index)
            );
        }

        let mut rows = Vec::new();
        let mut shown = 0;
        let mut hidden = 0;
        let ops = &self.ops;
        let event_row = |old: Option<usize>, new: Option<usize>, sign: char, line: String| Row {
            old,
            new,
            sign,
            kind: line,
            ..Row::default()
        };
        // Every aligned event on its own line, then two events of context around each change.
        let mut lines: Vec<(Option<usize>, Option<usize>, char)> = Vec::new();
        for op in ops {
            match *op {
                DiffOp::Equal {
                    old_index,
                    new_index,
                    len,
                } => {
                    lines.extend((0..len).map(|k| (Some(old_index + k), Some(new_index + k), ' ')))
                }
                _ => {
                    lines.extend(op.old_range().map(|i| (Some(i), None, '-')));
                    lines.extend(op.new_range().map(|i| (None, Some(i), '+')));
                }
            }
        }
        let changed = (0..lines.len()).filter(|&k| lines[k].2 != ' ');
        let mut end = 0;
        for hunk in windows(changed, lines.len(), 2, 2) {
            if hunk.start > end {
                rows.push(Row::gap());
            }
            end = hunk.end;
            for &(old, new, sign) in &lines[hunk] {
                if sign != ' ' {
                    if shown >= max_changes {
                        hidden += 1;
                        continue;
                    }
                    shown += 1;
                }
                let event = match old {
                    Some(i) => &self.left_events[i],
                    None => &self.right_events[new.unwrap_or_default()],
                };
                rows.push(event_row(
                    old.map(|i| i + 1),
                    new.map(|i| i + 1),
                    sign,
                    self.line(event),
                ));
            }
        }
        if end < lines.len() && !rows.is_empty() {
            rows.push(Row::gap());
        }
        let _ = render_rows(&mut out, &rows, color);
        if hidden > 0 {
            let _ = writeln!(
                out,
                "… {hidden} more changed events not shown (see `--format json` for all)"
            );
        }
        let _ = writeln!(
            out,
            "{} removed, {} added (events compared by name and data; timing and sources are not compared)",
            self.removed.len(),
            self.added.len()
        );
        out
    }

    fn line(&self, e: &RecordedEvent) -> String {
        format!(
            "{:>10}  {}  [{}]  {}",
            format_offset(number_f64(&e.timestamp_offset_ms)),
            e.event_name,
            e.source,
            shorten(&compact(e.event_data.get()), 60)
        )
    }
}
