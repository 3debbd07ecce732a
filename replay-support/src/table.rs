//! Insta-style report bodies: a gutter of old/new line numbers, `-`/`+` lines between two
//! rules. Shared by replay mismatch reports, cassette diffs and event comparisons.

use std::fmt;
use std::ops::Range;

/// One line of a report body.
#[derive(Clone, Debug, Default)]
pub struct Row {
    /// 1-based line in the recorded sequence.
    pub old: Option<usize>,
    /// 1-based line in the actual / new sequence.
    pub new: Option<usize>,
    /// `' '` context, `'-'` recorded only, `'+'` actual only.
    pub sign: char,
    /// The interaction type (or `alias type`).
    pub kind: String,
    /// The command, escaped.
    pub command: String,
    /// The outcome shown after `→`.
    pub response: Option<String>,
    /// A note shown after the line (`← first difference`, drift).
    pub note: Option<String>,
    /// A gap between two hunks: rendered as a dotted rule, other fields unused.
    pub gap: bool,
}

impl Row {
    /// A dotted rule between two hunks of a diff.
    pub fn gap() -> Row {
        Row {
            gap: true,
            ..Row::default()
        }
    }
}

/// The parts of a sequence of `len` items to show around the items at `changed` (in
/// increasing order): `before` items before each and `after` items after it, clipped to the
/// sequence, overlapping or touching windows merged. The one definition of "context around
/// a change" for mismatch reports, cassette diffs and event comparisons; a caller draws a
/// [`Row::gap`] between two windows.
///
/// ```
/// use replay_support::table::windows;
/// assert_eq!(windows([2, 9], 12, 1, 1), [1..4, 8..11]);
/// assert_eq!(windows([2, 5], 12, 1, 1), [1..7]);
/// assert_eq!(windows([5], 5, 3, 1), [2..5]); // a change past the end
/// ```
pub fn windows(
    changed: impl IntoIterator<Item = usize>,
    len: usize,
    before: usize,
    after: usize,
) -> Vec<Range<usize>> {
    let mut out: Vec<Range<usize>> = Vec::new();
    for at in changed {
        let start = at.saturating_sub(before).min(len);
        let end = at.saturating_add(after).saturating_add(1).min(len);
        match out.last_mut() {
            Some(last) if start <= last.end => last.end = last.end.max(end),
            _ => out.push(start..end),
        }
    }
    out
}

/// ANSI styles used when a caller asks for colour.
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const DIM: &str = "\x1b[2m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Renders `rows` between two rules, with a gutter of old/new line numbers (insta's layout).
///
/// With `color`, `-` lines are red, `+` lines green and rules dim.
pub fn render_rows(f: &mut dyn fmt::Write, rows: &[Row], color: bool) -> fmt::Result {
    let content = || rows.iter().filter(|r| !r.gap);
    let cmd_width = content()
        .map(|r| r.command.chars().count())
        .max()
        .unwrap_or(0)
        .min(36);
    let kind_width = content().map(|r| r.kind.chars().count()).max().unwrap_or(0);
    let num_width = content()
        .flat_map(|r| [r.old, r.new])
        .flatten()
        .max()
        .unwrap_or(1)
        .to_string()
        .len()
        .max(3);
    let gutter = 2 * num_width + 3;
    let lines: Vec<Option<String>> = rows
        .iter()
        .map(|r| {
            if r.gap {
                return None;
            }
            let num =
                |n: Option<usize>| n.map_or(" ".repeat(num_width), |n| format!("{n:>num_width$}"));
            let kind_pad = kind_width.saturating_sub(r.kind.chars().count());
            let mut line = format!(
                " {} {} │{} {}{}  {}",
                num(r.old),
                num(r.new),
                r.sign,
                r.kind,
                " ".repeat(kind_pad),
                r.command
            );
            if let Some(resp) = &r.response {
                let pad = cmd_width.saturating_sub(r.command.chars().count());
                line.push_str(&" ".repeat(pad));
                line.push_str("  → ");
                line.push_str(resp);
            }
            if let Some(note) = &r.note {
                line.push_str("   ");
                line.push_str(note);
            }
            Some(line.trim_end().to_owned())
        })
        .collect();
    let width = lines
        .iter()
        .flatten()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(40)
        .clamp(40, 100);
    let rule = |f: &mut dyn fmt::Write, fill: &str, mid: char| {
        let text = format!(
            "{}{}{}",
            fill.repeat(gutter),
            mid,
            fill.repeat(width - gutter - 1)
        );
        if color {
            writeln!(f, "{DIM}{text}{RESET}")
        } else {
            writeln!(f, "{text}")
        }
    };
    rule(f, "─", '┬')?;
    for (row, line) in rows.iter().zip(lines) {
        match line {
            None => rule(f, "┈", '┼')?,
            Some(line) if color && row.sign != ' ' => {
                let paint = if row.sign == '-' { RED } else { GREEN };
                let (gutter_text, body) = line.split_at(line.find('│').unwrap_or(0));
                writeln!(f, "{DIM}{gutter_text}{RESET}{paint}{body}{RESET}")?
            }
            Some(line) if color => {
                let (gutter_text, body) = line.split_at(line.find('│').unwrap_or(0));
                writeln!(f, "{DIM}{gutter_text}{RESET}{body}")?
            }
            Some(line) => writeln!(f, "{line}")?,
        }
    }
    rule(f, "─", '┴')
}

/// Wraps `text` in bold when `color` is set.
pub fn bold(text: &str, color: bool) -> String {
    if color {
        format!("{BOLD}{text}{RESET}")
    } else {
        text.to_owned()
    }
}

/// Colours `text` red (removed, worse) when `color` is set.
pub fn red(text: &str, color: bool) -> String {
    if color {
        format!("{RED}{text}{RESET}")
    } else {
        text.to_owned()
    }
}

/// Colours `text` green (added, better) when `color` is set.
pub fn green(text: &str, color: bool) -> String {
    if color {
        format!("{GREEN}{text}{RESET}")
    } else {
        text.to_owned()
    }
}
