//! The `scpi` rule: two commands are the same when the standards make them provably the
//! same, and only then. See `docs/matching.md` for the whole rule.

use super::keywords::{self, KeywordTable};
use super::parse::{Message, Param, Unit, parse};

/// Why two messages differ under the `scpi` rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Difference {
    /// One side is not well-formed SCPI, so both were compared byte for byte.
    NotScpi,
    /// A different number of commands in the message (`;`-separated).
    UnitCount {
        /// Recorded.
        recorded: usize,
        /// Sent.
        actual: usize,
    },
    /// Different headers (paths, keywords, suffixes, partial forms, query or not).
    Header {
        /// 1-based unit.
        unit: usize,
    },
    /// A different number of parameters.
    ParamCount {
        /// 1-based unit.
        unit: usize,
        /// Recorded.
        recorded: usize,
        /// Sent.
        actual: usize,
    },
    /// A parameter differs.
    Param {
        /// 1-based unit.
        unit: usize,
        /// 1-based parameter.
        index: usize,
        /// What differs (`numbers differ`, `units differ`, …).
        what: String,
    },
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Difference::NotScpi => {
                f.write_str("not well-formed SCPI, so compared byte for byte: they differ")
            }
            Difference::UnitCount { recorded, actual } => write!(
                f,
                "the messages hold a different number of commands ({actual} vs recorded {recorded})"
            ),
            Difference::Header { unit } => {
                f.write_str("headers differ")?;
                if *unit > 1 {
                    write!(f, " (command {unit} of the message)")?;
                }
                Ok(())
            }
            Difference::ParamCount {
                recorded, actual, ..
            } => write!(
                f,
                "a different number of parameters ({actual} vs recorded {recorded})"
            ),
            Difference::Param { unit, index, what } => {
                write!(f, "{what} (parameter {index}")?;
                if *unit > 1 {
                    write!(f, " of command {unit}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// Compares two commands under the `scpi` rule; `tolerance` (absolute, opt-in) lets
/// numbers with the same unit differ by at most that much.
pub fn compare(
    recorded: &str,
    actual: &str,
    table: &KeywordTable,
    tolerance: Option<f64>,
) -> Result<(), Difference> {
    if recorded == actual {
        return Ok(());
    }
    compare_messages(&parse(recorded, table), &parse(actual, table), tolerance)
}

/// Compares two parsed messages.
pub fn compare_messages(
    recorded: &Message,
    actual: &Message,
    tolerance: Option<f64>,
) -> Result<(), Difference> {
    let (recorded, actual) = match (recorded, actual) {
        (Message::Units(r), Message::Units(a)) => (r, a),
        (Message::Raw(r), Message::Raw(a)) if r == a => return Ok(()),
        _ => return Err(Difference::NotScpi),
    };
    if recorded.len() != actual.len() {
        return Err(Difference::UnitCount {
            recorded: recorded.len(),
            actual: actual.len(),
        });
    }
    for (i, (r, a)) in recorded.iter().zip(actual).enumerate() {
        compare_units(i + 1, r, a, tolerance)?;
    }
    Ok(())
}

fn compare_units(
    unit: usize,
    r: &Unit,
    a: &Unit,
    tolerance: Option<f64>,
) -> Result<(), Difference> {
    if r.header != a.header {
        return Err(Difference::Header { unit });
    }
    if r.params.len() != a.params.len() {
        return Err(Difference::ParamCount {
            unit,
            recorded: r.params.len(),
            actual: a.params.len(),
        });
    }
    for (i, (rp, ap)) in r.params.iter().zip(&a.params).enumerate() {
        if let Some(what) = compare_params(rp, ap, tolerance) {
            return Err(Difference::Param {
                unit,
                index: i + 1,
                what,
            });
        }
    }
    Ok(())
}

fn compare_params(r: &Param, a: &Param, tolerance: Option<f64>) -> Option<String> {
    match (r, a) {
        (Param::Number(rn, ru), Param::Number(an, au)) => {
            if ru != au {
                return Some("units differ".to_owned());
            }
            if rn == an {
                return None;
            }
            if let Some(tol) = tolerance {
                let (x, y) = (rn.to_f64(), an.to_f64());
                if (x - y).abs() <= tol {
                    return None;
                }
                return Some(format!("numbers differ by more than the tolerance {tol}"));
            }
            Some("numbers differ".to_owned())
        }
        _ if std::mem::discriminant(r) != std::mem::discriminant(a) => Some(format!(
            "{} where the session recorded {}",
            a.kind(),
            r.kind()
        )),
        _ if r == a => None,
        (Param::Text(_), _) => Some("string data differs (compared exactly)".to_owned()),
        (Param::Block(_), _) => Some("block data differs (compared exactly)".to_owned()),
        (Param::Character(_), _) => Some("character data differs".to_owned()),
        (Param::Expression(_), _) => Some("expressions differ".to_owned()),
        _ => Some("values differ".to_owned()),
    }
}

/// The standard keyword table plus `declared` keywords (SCPI notation).
pub fn table_with(declared: &[String]) -> KeywordTable {
    let mut table = KeywordTable::new(keywords::standard_keywords());
    table.extend(declared.iter().map(String::as_str));
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str) -> bool {
        compare(a, b, keywords::standard(), None).is_ok()
    }

    #[test]
    fn the_issue_examples() {
        assert!(same("VOLT 5", "VOLTage 5.0"));
        assert!(same("VOLT 5", ":volt +5.000E+00"));
        assert!(same("OUTP ON", "OUTP1 1"));
        assert!(!same("MEAS:VOLT?", "MEAS:VOLT:DC?"));
        assert!(!same("VOLT 0.3", "VOLT 0.30000000000000004"));
        assert!(!same("VOLT 5", "VOLTAG 5"));
    }

    #[test]
    fn explanations() {
        let t = keywords::standard();
        let e = compare("VOLT 5.0", "VOLT 5.01", t, None).unwrap_err();
        assert_eq!(e.to_string(), "numbers differ (parameter 1)");
        let e = compare("VOLT 5;CURR 1", "VOLT 5;CURR 2", t, None).unwrap_err();
        assert_eq!(e.to_string(), "numbers differ (parameter 1 of command 2)");
        let e = compare("SYST:ERR?", "SYST:ERRO?", t, None).unwrap_err();
        assert_eq!(e.to_string(), "headers differ");
        let e = compare("DISP:TEXT \"a\"", "DISP:TEXT 'a'", t, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "string data differs (compared exactly) (parameter 1)"
        );
        let e = compare("VOLT 5", "VOLT MAX", t, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "character data where the session recorded a number (parameter 1)"
        );
        let e = compare("VOLT 5 V", "VOLT 5 MV", t, None).unwrap_err();
        assert_eq!(e.to_string(), "units differ (parameter 1)");
    }

    #[test]
    fn tolerance_is_opt_in() {
        let t = keywords::standard();
        assert!(compare("VOLT 5.0", "VOLT 5.0000001", t, Some(1e-6)).is_ok());
        assert!(compare("VOLT 5.0", "VOLT 5.01", t, Some(1e-6)).is_err());
        assert!(compare("VOLT 5.0 V", "VOLT 5.0000001 MV", t, Some(1e-6)).is_err());
    }

    #[test]
    fn declared_keywords() {
        let t = table_with(&["CHANnel".to_owned()]);
        assert!(compare("CHAN1:SCAL 2", "CHANNEL:SCAL 2", &t, None).is_ok());
        assert!(compare("CHAN1:SCAL 2", "CHANNEL:SCAL 2", keywords::standard(), None).is_err());
    }
}
