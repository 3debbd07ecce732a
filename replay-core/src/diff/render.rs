//! Rendering a [`SessionDiff`]: a one-line summary and an insta-style diff.

use std::fmt::Write as _;

use super::compute::{Change, InstrumentDiff, Presence, SessionDiff, Step};
use super::options::RenderOptions;
use crate::report::{Row, bold, escape, render_rows, row, shorten, windows};

/// Rows shown per instrument before the rest is summarised.
const MAX_ROWS: usize = 200;
/// Width of a changed response shown in full before it is windowed around the difference.
const RESPONSE_WIDTH: usize = 64;

/// Counts of each kind of change.
#[derive(Default)]
struct Counts {
    added: usize,
    removed: usize,
    commands: usize,
    responses: usize,
    beyond: usize,
    within: usize,
    followed: usize,
    binary: usize,
    errors: usize,
    timestamps: usize,
}

impl Counts {
    fn of<'a>(changes: impl IntoIterator<Item = &'a Change>) -> Counts {
        let mut c = Counts::default();
        for change in changes {
            match change {
                Change::Added { .. } => c.added += 1,
                Change::Removed { .. } => c.removed += 1,
                Change::CommandChanged { .. } => c.commands += 1,
                Change::ResponseChanged { drift, .. } => {
                    c.responses += 1;
                    match drift {
                        Some(d) if d.after_command_change => c.followed += 1,
                        Some(d) if d.beyond_tolerance => c.beyond += 1,
                        Some(d) if !d.readings.is_empty() => c.within += 1,
                        _ => {}
                    }
                }
                Change::BinaryChanged { .. } => c.binary += 1,
                Change::ErrorChanged { .. } => c.errors += 1,
                Change::TimestampChanged { .. } => c.timestamps += 1,
            }
        }
        c
    }

    /// `["2 interactions added, 1 removed, 1 changed", "3 responses changed (…)", …]`.
    fn groups(&self, tolerance: f64) -> Vec<String> {
        let mut groups = Vec::new();
        let mut interactions = Vec::new();
        for (n, what) in [
            (self.added, "added"),
            (self.removed, "removed"),
            (self.commands, "changed"),
        ] {
            if n > 0 {
                if interactions.is_empty() {
                    interactions.push(format!("{n} {} {what}", plural(n, "interaction")));
                } else {
                    interactions.push(format!("{n} {what}"));
                }
            }
        }
        if !interactions.is_empty() {
            groups.push(interactions.join(", "));
        }
        if self.responses > 0 {
            let mut text = format!(
                "{} {} changed",
                self.responses,
                plural(self.responses, "response")
            );
            let tol = percent(tolerance);
            let mut notes = match (self.beyond, self.within) {
                (0, 0) => vec![],
                (b, 0) => vec![format!("{b} drifted beyond {tol}")],
                (0, w) => vec![format!("{w} drifted within {tol}")],
                (b, w) => vec![format!("{b} drifted beyond {tol}, {w} within it")],
            };
            if self.followed > 0 {
                notes.push(format!("{} after a changed command", self.followed));
            }
            if !notes.is_empty() {
                write!(text, " ({})", notes.join("; ")).unwrap_or(());
            }
            groups.push(text);
        }
        if self.binary > 0 {
            groups.push(format!(
                "{} binary {} changed",
                self.binary,
                plural(self.binary, "payload")
            ));
        }
        if self.errors > 0 {
            groups.push(format!(
                "{} recorded {} changed",
                self.errors,
                plural(self.errors, "error")
            ));
        }
        if self.timestamps > 0 {
            groups.push(format!(
                "{} {} changed",
                self.timestamps,
                plural(self.timestamps, "timestamp")
            ));
        }
        groups
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_owned()
    } else {
        format!("{word}s")
    }
}

/// `(drift +25.003% beyond tolerance)`, `(changed +25% after a changed command)`: the
/// figure is [`Drift::relative`](super::Drift::relative), the one definition of drift.
fn drift_note(d: &super::Drift) -> String {
    let signed = match d.relative {
        Some(rel) => format!(
            "{}{}",
            if rel >= 0.0 { "+" } else { "-" },
            percent(rel.abs())
        ),
        None => "from 0".to_owned(),
    };
    if d.after_command_change {
        format!("(changed {signed} after a changed command)")
    } else if d.beyond_tolerance {
        format!("(drift {signed} beyond tolerance)")
    } else {
        format!("(drift {signed} within tolerance)")
    }
}

/// `0.001` → `0.1%`.
pub(crate) fn percent(ratio: f64) -> String {
    let text = format!("{:.3}", ratio * 100.0);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}%")
}

impl SessionDiff {
    /// A short, one-line summary: `"2 interactions added, 1 removed, 1 changed; 3 responses
    /// changed (1 drifted beyond 0.1%)"`, or `"no semantic difference"`.
    pub fn summary(&self) -> String {
        let mut groups = Vec::new();
        for inst in &self.instruments {
            match inst.presence {
                Presence::Added => groups.push(format!("instrument `{}` added", inst.alias)),
                Presence::Removed => groups.push(format!("instrument `{}` removed", inst.alias)),
                Presence::Both if inst.profile_changed() => {
                    groups.push(format!("profile of `{}` changed", inst.alias))
                }
                Presence::Both => {}
            }
        }
        groups.extend(Counts::of(self.changes().map(|(_, c)| c)).groups(self.tolerance));
        if groups.is_empty() {
            if self.timestamps_ignored && self.timestamps_differ {
                "no semantic difference (only timestamps differ)".to_owned()
            } else {
                "no semantic difference".to_owned()
            }
        } else {
            groups.join("; ")
        }
    }

    /// The diff in insta's layout, without colour: a header naming both files, per
    /// instrument a gutter with old/new positions, `-` recorded and `+` new lines with a
    /// few unchanged interactions of context, the first difference marked, and a last line
    /// saying how to accept or re-record.
    pub fn render(&self, old_label: &str, new_label: &str) -> String {
        self.render_with(old_label, new_label, &RenderOptions::default())
    }

    /// [`SessionDiff::render`] with colour, context size or the accept advice chosen.
    pub fn render_with(&self, old_label: &str, new_label: &str, options: &RenderOptions) -> String {
        let mut out = String::new();
        if self.is_empty() {
            let _ = writeln!(out, "{}: `{old_label}` and `{new_label}`", self.summary());
            return out;
        }
        let _ = writeln!(
            out,
            "{}",
            bold(&format!("cassette diff: {}", self.summary()), options.color)
        );
        let _ = writeln!(out, "  recorded: {old_label}");
        let _ = writeln!(out, "  new:      {new_label}");
        let mut first_marked = false;
        for inst in self.instruments.iter().filter(|i| !i.is_empty()) {
            let _ = writeln!(out, "{}", instrument_header(inst, self.tolerance));
            if inst.changes.is_empty() {
                continue;
            }
            let mut rows = instrument_rows(inst, options.context);
            if !first_marked && let Some(r) = rows.iter_mut().find(|r| r.sign != ' ' && !r.gap) {
                r.note = Some(match r.note.take() {
                    Some(note) => format!("{note}  ← first difference"),
                    None => "← first difference".to_owned(),
                });
                first_marked = true;
            }
            let hidden = rows.len().saturating_sub(MAX_ROWS);
            rows.truncate(MAX_ROWS);
            let _ = render_rows(&mut out, &rows, options.color);
            if hidden > 0 {
                let _ = writeln!(out, "… {hidden} more lines on `{}` not shown", inst.alias);
            }
        }
        match &options.accept {
            Some(accept) => {
                let _ = writeln!(out, "{accept}");
            }
            None => {
                let _ = writeln!(
                    out,
                    "to accept these changes, keep `{new_label}` (commit it); to keep the recorded behaviour, restore `{old_label}` or re-record on the bench:\n    RECORD=1 cargo test --test <target> <test path> -- --exact"
                );
            }
        }
        out
    }
}

fn instrument_header(inst: &InstrumentDiff, tolerance: f64) -> String {
    let mut groups = Vec::new();
    match inst.presence {
        Presence::Added => groups.push(format!(
            "added, {} {}",
            inst.new_len,
            plural(inst.new_len, "interaction")
        )),
        Presence::Removed => groups.push(format!(
            "removed, {} {}",
            inst.old_len,
            plural(inst.old_len, "interaction")
        )),
        Presence::Both => {}
    }
    if inst.profile_changed() {
        groups.push(format!(
            "profile changed from `{}` to `{}`",
            inst.old_profile.as_deref().unwrap_or("none"),
            inst.new_profile.as_deref().unwrap_or("none")
        ));
    }
    if inst.presence == Presence::Both {
        groups.extend(Counts::of(&inst.changes).groups(tolerance));
    }
    format!("instrument `{}`: {}", inst.alias, groups.join("; "))
}

/// The rows of one instrument: changed lines plus `context` equal ones around them.
fn instrument_rows(inst: &InstrumentDiff, context: usize) -> Vec<Row> {
    let interesting: Vec<bool> = inst
        .steps
        .iter()
        .map(|s| !matches!(s, Step::Equal { .. }))
        .collect();
    let changed = (0..inst.steps.len()).filter(|&k| interesting[k]);
    let mut rows = Vec::new();
    let mut changes = inst.changes.iter();
    for (n, hunk) in windows(changed, inst.steps.len(), context, context)
        .into_iter()
        .enumerate()
    {
        if n > 0 {
            rows.push(Row::gap());
        }
        for k in hunk {
            push_step(
                &mut rows,
                inst,
                &inst.steps[k],
                interesting[k].then(|| changes.next()).flatten(),
            );
        }
    }
    rows
}

/// The row(s) of one aligned step; `change` is its entry in the instrument's changes.
fn push_step(rows: &mut Vec<Row>, inst: &InstrumentDiff, step: &Step, change: Option<&Change>) {
    match *step {
        Step::Equal { old, new } => {
            rows.push(row(Some(old + 1), Some(new + 1), ' ', &inst.new[new]))
        }
        Step::Removed { old } => rows.push(row(Some(old + 1), None, '-', &inst.old[old])),
        Step::Added { new } => rows.push(row(None, Some(new + 1), '+', &inst.new[new])),
        Step::Changed { old, new } => {
            let (a, b) = (&inst.old[old], &inst.new[new]);
            let mut minus = row(Some(old + 1), None, '-', a);
            let mut plus = row(None, Some(new + 1), '+', b);
            match change {
                Some(Change::ResponseChanged { drift, .. }) => {
                    if let (Some(x), Some(y)) = (&a.response, &b.response) {
                        let (x, y) = window(x, y);
                        minus.response = Some(x);
                        plus.response = Some(y);
                    }
                    plus.note = drift
                        .as_ref()
                        .filter(|d| !d.readings.is_empty())
                        .map(drift_note);
                }
                Some(Change::BinaryChanged {
                    first_difference, ..
                }) => {
                    plus.note = Some(format!("(bytes differ from offset {first_difference})"));
                }
                Some(Change::TimestampChanged {
                    old_timestamp,
                    new_timestamp,
                    ..
                }) => {
                    minus.note = Some(format!("@ {old_timestamp} s"));
                    plus.note = Some(format!("@ {new_timestamp} s"));
                }
                _ => {}
            }
            rows.push(minus);
            rows.push(plus);
        }
    }
}

/// Two differing responses, escaped, cut to a window around their first difference.
fn window(old: &str, new: &str) -> (String, String) {
    let a: Vec<char> = escape(old).chars().collect();
    let b: Vec<char> = escape(new).chars().collect();
    if a.len() <= RESPONSE_WIDTH && b.len() <= RESPONSE_WIDTH {
        return (a.into_iter().collect(), b.into_iter().collect());
    }
    let first = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let start = first.saturating_sub(RESPONSE_WIDTH / 3);
    let cut = |v: &[char]| {
        let tail: String = v[start.min(v.len())..].iter().collect();
        let text = shorten(&tail, RESPONSE_WIDTH);
        if start > 0 {
            format!("…{text}")
        } else {
            text
        }
    };
    (cut(&a), cut(&b))
}
