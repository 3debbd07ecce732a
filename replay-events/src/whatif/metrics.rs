//! Metrics over outcome events: counts per outcome name out of the box, plus the user's
//! (a sum of a numeric field, a rate), each compared original against replayed.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::filter::EventFilter;
use crate::model::RecordedEvent;

type Compute = Arc<dyn Fn(&[RecordedEvent]) -> Option<f64> + Send + Sync>;

/// A number computed from a run's outcome events (`None`: undefined, such as a rate over
/// zero events).
///
/// ```
/// use replay_events::whatif::Metric;
///
/// let pnl = Metric::sum("pnl", "PositionClosed", "pnl")?;
/// let trades = Metric::count("trades", "PositionClosed")?;
/// let wins = Metric::new("wins", |events| {
///     Some(events.iter().filter(|e| e.event_name == "PositionClosed")
///         .filter(|e| e.data_value().ok().and_then(|v| v["pnl"].as_f64()) > Some(0.0))
///         .count() as f64)
/// });
/// let win_rate = Metric::rate("win_rate", &wins, &trades);
/// # let _ = (pnl, win_rate);
/// # Ok::<(), replay_events::Error>(())
/// ```
#[derive(Clone)]
pub struct Metric {
    name: String,
    compute: Compute,
}

impl fmt::Debug for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metric")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Metric {
    /// A metric computed by `compute` from the outcome events (in order).
    pub fn new(
        name: impl Into<String>,
        compute: impl Fn(&[RecordedEvent]) -> Option<f64> + Send + Sync + 'static,
    ) -> Metric {
        Metric {
            name: name.into(),
            compute: Arc::new(compute),
        }
    }

    /// How many outcome events have a name matching `event_glob`.
    pub fn count(name: impl Into<String>, event_glob: &str) -> Result<Metric> {
        let filter = EventFilter::names([event_glob])?;
        Ok(Metric::new(name, move |events| {
            Some(
                events
                    .iter()
                    .filter(|e| filter.matches(&e.as_ref()))
                    .count() as f64,
            )
        }))
    }

    /// The sum of the numeric field `field` of the outcome events whose name matches
    /// `event_glob`. `field` is a top-level key of the event data (`pnl`) or a JSON pointer
    /// (`/position/pnl`); events without a numeric value there count as 0.
    pub fn sum(name: impl Into<String>, event_glob: &str, field: &str) -> Result<Metric> {
        let filter = EventFilter::names([event_glob])?;
        let pointer = if field.starts_with('/') {
            field.to_owned()
        } else {
            format!("/{}", field.replace('~', "~0").replace('/', "~1"))
        };
        Ok(Metric::new(name, move |events| {
            Some(
                events
                    .iter()
                    .filter(|e| filter.matches(&e.as_ref()))
                    .filter_map(|e| e.data_value().ok()?.pointer(&pointer)?.as_f64())
                    .sum(),
            )
        }))
    }

    /// `numerator / denominator` (undefined when the denominator is 0 or either is undefined),
    /// such as wins / trades.
    pub fn rate(name: impl Into<String>, numerator: &Metric, denominator: &Metric) -> Metric {
        let (num, den) = (numerator.compute.clone(), denominator.compute.clone());
        Metric::new(name, move |events| {
            let d = den(events)?;
            if d == 0.0 {
                None
            } else {
                Some(num(events)? / d)
            }
        })
    }

    /// The metric's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Computes the metric over `events`.
    pub fn compute(&self, events: &[RecordedEvent]) -> Option<f64> {
        (self.compute)(events).filter(|v| v.is_finite())
    }
}

/// One metric, original against replayed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MetricComparison {
    /// The metric's name (`#AlarmRaised` for the built-in count of an outcome name).
    pub name: String,
    /// Over the recording's original outcomes.
    pub original: Option<f64>,
    /// Over the replay's outcomes.
    pub replayed: Option<f64>,
    /// `replayed - original`.
    pub diff: Option<f64>,
}

impl MetricComparison {
    pub(crate) fn new(name: String, original: Option<f64>, replayed: Option<f64>) -> Self {
        let diff = original.zip(replayed).map(|(o, r)| r - o);
        MetricComparison {
            name,
            original,
            replayed,
            diff,
        }
    }
}

/// The name of the built-in count of outcome events named `event_name`.
pub(crate) fn count_name(event_name: &str) -> String {
    format!("#{event_name}")
}

/// Counts per outcome name (over both sides, names sorted), then the user's metrics.
pub(crate) fn compare_metrics(
    metrics: &[Metric],
    original: &[RecordedEvent],
    replayed: &[RecordedEvent],
) -> Vec<MetricComparison> {
    let names: BTreeSet<&str> = original
        .iter()
        .chain(replayed)
        .map(|e| e.event_name.as_str())
        .collect();
    let count = |events: &[RecordedEvent], name: &str| {
        events.iter().filter(|e| e.event_name == name).count() as f64
    };
    let mut out: Vec<MetricComparison> = names
        .into_iter()
        .map(|name| {
            MetricComparison::new(
                count_name(name),
                Some(count(original, name)),
                Some(count(replayed, name)),
            )
        })
        .collect();
    out.extend(
        metrics.iter().map(|m| {
            MetricComparison::new(m.name.clone(), m.compute(original), m.compute(replayed))
        }),
    );
    out
}

/// A metric value for people: integers without decimals, others with up to four decimals
/// below 10, two below 10,000, none above; `—` for undefined; `signed` adds a `+` to
/// positive values (differences).
pub fn format_metric(value: Option<f64>, signed: bool) -> String {
    let Some(v) = value else {
        return "—".to_owned();
    };
    // Four decimals for small values, fewer as they grow (1234.5678 → 1234.57).
    let decimals = match v.abs() {
        a if a < 10.0 => 4,
        a if a < 10_000.0 => 2,
        _ => 0,
    };
    let mut s = if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.decimals$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s
        }
    };
    if s == "-0" {
        s = "0".to_owned();
    }
    if signed && v > 0.0 && !s.starts_with('+') {
        s.insert(0, '+');
    }
    s
}

/// Renders `rows` under `header`, columns two spaces apart: the columns in `left` aligned
/// left, the others (numbers) right.
pub(crate) fn render_columns(
    out: &mut String,
    header: &[&str],
    left: &[usize],
    rows: &[Vec<String>],
) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, (cell, width)) in cells.zip(&widths).enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            let pad = width.saturating_sub(cell.chars().count());
            if left.contains(&i) {
                text.push_str(cell);
                text.extend(std::iter::repeat_n(' ', pad));
            } else {
                text.extend(std::iter::repeat_n(' ', pad));
                text.push_str(cell);
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut header.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
}

/// The seed's comparison, as a table: metric, original, replayed, change (one line each).
pub fn render_metrics(metrics: &[MetricComparison]) -> String {
    let mut out = String::new();
    render_comparison(&mut out, metrics);
    out
}

/// The seed's comparison, as a table: metric, original, replayed, change.
pub(crate) fn render_comparison(out: &mut String, metrics: &[MetricComparison]) {
    let rows: Vec<Vec<String>> = metrics
        .iter()
        .map(|m| {
            vec![
                m.name.clone(),
                format_metric(m.original, false),
                format_metric(m.replayed, false),
                format_metric(m.diff, true),
            ]
        })
        .collect();
    render_columns(
        out,
        &["metric", "original", "replayed", "change"],
        &[0],
        &rows,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::RawValue;

    fn ev(name: &str, data: &str) -> RecordedEvent {
        RecordedEvent::new(0, name, RawValue::from_string(data.into()).unwrap(), "s")
    }

    #[test]
    fn counts_sums_and_rates() {
        let events = [
            ev("Closed", r#"{"pnl": 10.5}"#),
            ev("Closed", r#"{"pnl": -4}"#),
            ev("Opened", r#"{"pnl": 100}"#),
            ev("Closed", r#"{"other": 1}"#),
        ];
        assert_eq!(
            Metric::count("n", "Closed").unwrap().compute(&events),
            Some(3.0)
        );
        assert_eq!(
            Metric::sum("pnl", "Closed", "pnl")
                .unwrap()
                .compute(&events),
            Some(6.5)
        );
        let wins = Metric::new("wins", |e: &[RecordedEvent]| {
            Some(
                e.iter()
                    .filter(|e| e.data_value().unwrap()["pnl"].as_f64() > Some(0.0))
                    .count() as f64,
            )
        });
        let all = Metric::count("all", "*").unwrap();
        assert_eq!(Metric::rate("r", &wins, &all).compute(&events), Some(0.5));
        assert_eq!(Metric::rate("r", &wins, &all).compute(&[]), None);
    }

    #[test]
    fn comparison_has_counts_per_name_then_user_metrics() {
        let original = [ev("A", "1"), ev("B", "2")];
        let replayed = [ev("A", "1"), ev("A", "3"), ev("C", "4")];
        let m = compare_metrics(&[Metric::count("all", "*").unwrap()], &original, &replayed);
        type Row<'a> = (&'a str, Option<f64>, Option<f64>, Option<f64>);
        let got: Vec<Row<'_>> = m
            .iter()
            .map(|m| (m.name.as_str(), m.original, m.replayed, m.diff))
            .collect();
        assert_eq!(
            got,
            [
                ("#A", Some(1.0), Some(2.0), Some(1.0)),
                ("#B", Some(1.0), Some(0.0), Some(-1.0)),
                ("#C", Some(0.0), Some(1.0), Some(1.0)),
                ("all", Some(2.0), Some(3.0), Some(1.0)),
            ]
        );
    }

    #[test]
    fn formats_integers_decimals_signs_and_undefined() {
        assert_eq!(format_metric(Some(12.0), false), "12");
        assert_eq!(format_metric(Some(2.0), true), "+2");
        assert_eq!(format_metric(Some(-0.25), true), "-0.25");
        assert_eq!(format_metric(Some(0.857142), false), "0.8571");
        assert_eq!(format_metric(Some(0.0), true), "0");
        assert_eq!(format_metric(Some(13383.3333), false), "13383");
        assert_eq!(format_metric(Some(123.456), true), "+123.46");
        assert_eq!(format_metric(None, true), "—");
    }
}
