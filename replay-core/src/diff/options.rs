//! Options of a session diff and of its rendering.

/// Default relative tolerance for numeric drift: 0.1 %.
pub const DEFAULT_TOLERANCE: f64 = 1e-3;

/// Default absolute tolerance for numeric drift: differences below 1e-9 are never drift
/// beyond the tolerance, whatever their relative size (readings around zero).
pub const DEFAULT_ABSOLUTE_TOLERANCE: f64 = 1e-9;

/// What counts as a difference between two sessions.
#[derive(Clone, Debug, PartialEq)]
pub struct DiffOptions {
    /// Ignore timestamps (default `true`): a re-record of an unchanged procedure then
    /// shows no difference.
    pub ignore_timestamps: bool,
    /// Relative tolerance for numeric responses (default [`DEFAULT_TOLERANCE`], 0.1 %).
    ///
    /// Two readings `a` (recorded) and `b` (new) drift *beyond* the tolerance when
    /// `|a - b| > absolute_tolerance + tolerance * max(|a|, |b|)` (numpy's `isclose` rule).
    /// A smaller drift is still a changed response, reported as drift within tolerance.
    pub tolerance: f64,
    /// Absolute tolerance for numeric responses (default [`DEFAULT_ABSOLUTE_TOLERANCE`]).
    pub absolute_tolerance: f64,
}

impl Default for DiffOptions {
    fn default() -> DiffOptions {
        DiffOptions {
            ignore_timestamps: true,
            tolerance: DEFAULT_TOLERANCE,
            absolute_tolerance: DEFAULT_ABSOLUTE_TOLERANCE,
        }
    }
}

/// How [`SessionDiff::render_with`](super::SessionDiff::render_with) lays out a diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderOptions {
    /// ANSI colour (`-` red, `+` green). Callers decide: on a terminal, respecting
    /// `NO_COLOR` and `CLICOLOR_FORCE`. Default `false`.
    pub color: bool,
    /// Unchanged interactions shown around each change (default 2).
    pub context: usize,
    /// The last line: how to accept or re-record. `None` gives a generic advice naming the
    /// new file.
    pub accept: Option<String>,
}

impl Default for RenderOptions {
    fn default() -> RenderOptions {
        RenderOptions {
            color: false,
            context: 2,
            accept: None,
        }
    }
}

/// Parses a relative drift tolerance (`REPLAY_DIFF_TOLERANCE`, `replay diff --tolerance`):
/// a finite, non-negative ratio (`0.001` = 0.1 %). The error says what is expected.
pub fn parse_tolerance(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(t) if t.is_finite() && t >= 0.0 => Ok(t),
        _ => Err(format!(
            "expected a relative tolerance such as `0.001` (0.1 %, the default) or `0.01`, got `{text}`"
        )),
    }
}
