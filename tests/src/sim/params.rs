//! SCPI parameters: numbers (with `MIN`/`MAX`/`DEF`), booleans, channel lists, keywords.

use super::errors::ScpiError;
use super::scpi::mnemonic_matches;

/// A numeric parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Numeric {
    /// A plain number.
    Value(f64),
    /// `MINimum`.
    Min,
    /// `MAXimum`.
    Max,
    /// `DEFault`.
    Default,
}

impl Numeric {
    /// Resolves the keyword forms against the command's limits.
    pub(crate) fn resolve(self, min: f64, max: f64, default: f64) -> f64 {
        match self {
            Numeric::Value(v) => v,
            Numeric::Min => min,
            Numeric::Max => max,
            Numeric::Default => default,
        }
    }
}

/// Parses a decimal numeric program data element (`5`, `+5.000E+00`, `.25`, `1e-3`) or
/// one of the keywords `MIN`, `MAX`, `DEF` (short or long form).
pub(crate) fn numeric(text: &str) -> Result<Numeric, ScpiError> {
    let upper = text.trim().to_ascii_uppercase();
    if upper.is_empty() {
        return Err(ScpiError::MissingParameter);
    }
    for (keyword, value) in [
        ("MINimum", Numeric::Min),
        ("MAXimum", Numeric::Max),
        ("DEFault", Numeric::Default),
    ] {
        if mnemonic_matches(keyword, &upper) {
            return Ok(value);
        }
    }
    number(&upper).map(Numeric::Value)
}

/// Parses a plain decimal number; keywords, `inf`, `NaN` and hex are data type errors.
pub(crate) fn number(text: &str) -> Result<f64, ScpiError> {
    let text = text.trim();
    let plausible = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'))
        && text.chars().any(|c| c.is_ascii_digit());
    match text.parse::<f64>() {
        Ok(v) if plausible && v.is_finite() => Ok(v),
        _ => Err(ScpiError::DataType),
    }
}

/// Parses a boolean: `ON`, `OFF`, or a number (non-zero after rounding is true).
pub(crate) fn boolean(text: &str) -> Result<bool, ScpiError> {
    let upper = text.trim().to_ascii_uppercase();
    match upper.as_str() {
        "" => Err(ScpiError::MissingParameter),
        "ON" => Ok(true),
        "OFF" => Ok(false),
        _ => match number(&upper) {
            Ok(v) => Ok(v.round() != 0.0),
            Err(_) => Err(ScpiError::IllegalValue),
        },
    }
}

/// Whether `text` is a channel list (`(@…)`).
pub(crate) fn is_channel_list(text: &str) -> bool {
    text.trim_start().starts_with("(@")
}

/// Parses a channel list `(@1)`, `(@1,3)`, `(@1:3)` into channel numbers in order, each
/// checked against `1..=channels`.
pub(crate) fn channel_list(text: &str, channels: usize) -> Result<Vec<usize>, ScpiError> {
    let inner = text
        .trim()
        .strip_prefix("(@")
        .and_then(|t| t.strip_suffix(')'))
        .ok_or(ScpiError::Syntax)?;
    let mut out = Vec::new();
    for item in inner.split(',') {
        let item = item.trim();
        let (from, to) = match item.split_once(':') {
            Some((a, b)) => (channel(a, channels)?, channel(b, channels)?),
            None => {
                let c = channel(item, channels)?;
                (c, c)
            }
        };
        if from <= to {
            out.extend(from..=to);
        } else {
            out.extend((to..=from).rev());
        }
    }
    Ok(out)
}

fn channel(text: &str, channels: usize) -> Result<usize, ScpiError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ScpiError::Syntax);
    }
    let n: usize = text.parse().map_err(|_| ScpiError::DataType)?;
    if (1..=channels).contains(&n) {
        Ok(n)
    } else {
        Err(ScpiError::OutOfRange)
    }
}

/// Fails with `-108` when more than `max` parameters were given.
pub(crate) fn at_most(params: &[&str], max: usize) -> Result<(), ScpiError> {
    if params.len() > max {
        Err(ScpiError::ParameterNotAllowed)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_keywords() {
        assert_eq!(numeric("5").unwrap(), Numeric::Value(5.0));
        assert_eq!(
            numeric("+4.99918100E+00").unwrap(),
            Numeric::Value(4.999181)
        );
        assert_eq!(numeric(".25").unwrap(), Numeric::Value(0.25));
        assert_eq!(numeric("1e-3").unwrap(), Numeric::Value(0.001));
        assert_eq!(numeric("max").unwrap(), Numeric::Max);
        assert_eq!(numeric("MINIMUM").unwrap(), Numeric::Min);
        assert_eq!(numeric("def").unwrap(), Numeric::Default);
        assert_eq!(numeric("abc"), Err(ScpiError::DataType));
        assert_eq!(numeric("inf"), Err(ScpiError::DataType));
        assert_eq!(numeric("nan"), Err(ScpiError::DataType));
        assert_eq!(numeric(""), Err(ScpiError::MissingParameter));
        assert_eq!(Numeric::Max.resolve(0.0, 6.0, 1.0), 6.0);
    }

    #[test]
    fn booleans() {
        assert_eq!(boolean("on"), Ok(true));
        assert_eq!(boolean("OFF"), Ok(false));
        assert_eq!(boolean("1"), Ok(true));
        assert_eq!(boolean("0"), Ok(false));
        assert_eq!(boolean("maybe"), Err(ScpiError::IllegalValue));
    }

    #[test]
    fn channel_lists() {
        assert!(is_channel_list(" (@1)"));
        assert!(!is_channel_list("5"));
        assert_eq!(channel_list("(@1)", 3), Ok(vec![1]));
        assert_eq!(channel_list("(@1,3)", 3), Ok(vec![1, 3]));
        assert_eq!(channel_list("(@1:3)", 3), Ok(vec![1, 2, 3]));
        assert_eq!(channel_list("(@3:2)", 3), Ok(vec![3, 2]));
        assert_eq!(channel_list("(@4)", 3), Err(ScpiError::OutOfRange));
        assert_eq!(channel_list("(@x)", 3), Err(ScpiError::DataType));
        assert_eq!(channel_list("(@)", 3), Err(ScpiError::Syntax));
        assert_eq!(channel_list("(1)", 3), Err(ScpiError::Syntax));
    }
}
