//! SCPI numbers in responses: parsed so that readings compare as numbers, not text.

/// Parses one SCPI numeric response field (NR1, NR2 or NR3: `+0`, `1.499663`,
/// `+4.99918100E+00`, `-5e-3`), surrounding whitespace allowed.
///
/// Returns `None` for anything else, including `inf`/`nan` spellings that Rust would
/// accept but SCPI does not use (SCPI reports overflow as `9.9E37`, which parses).
pub fn parse_scpi_number(field: &str) -> Option<f64> {
    let field = field.trim();
    let digits = field.bytes().filter(u8::is_ascii_digit).count();
    if digits == 0
        || !field
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
    {
        return None;
    }
    field.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// `|a - b| / max(|a|, |b|)`, `0` when both are zero.
pub fn relative_difference(a: f64, b: f64) -> f64 {
    let scale = a.abs().max(b.abs());
    if scale == 0.0 {
        0.0
    } else {
        (a - b).abs() / scale
    }
}

/// The numeric fields of two comma-separated responses that differ only in numbers:
/// `Some(pairs of differing numbers)`, or `None` when a text field differs or the field
/// counts differ (then the change is a text change).
pub(crate) fn numeric_fields(old: &str, new: &str) -> Option<Vec<(f64, f64)>> {
    let old_fields: Vec<&str> = old.trim().split(',').collect();
    let new_fields: Vec<&str> = new.trim().split(',').collect();
    if old_fields.len() != new_fields.len() {
        return None;
    }
    let mut pairs = Vec::new();
    let mut any_number = false;
    for (a, b) in old_fields.iter().zip(&new_fields) {
        match (parse_scpi_number(a), parse_scpi_number(b)) {
            (Some(x), Some(y)) => {
                any_number = true;
                if x != y {
                    pairs.push((x, y));
                }
            }
            _ if a.trim() == b.trim() => {}
            _ => return None,
        }
    }
    any_number.then_some(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scpi_forms() {
        assert_eq!(parse_scpi_number("+4.99918100E+00"), Some(4.999181));
        assert_eq!(parse_scpi_number("1.499663"), Some(1.499663));
        assert_eq!(parse_scpi_number("+0"), Some(0.0));
        assert_eq!(parse_scpi_number(" -5e-3\n"), Some(-0.005));
        assert_eq!(parse_scpi_number("9.9E37"), Some(9.9e37));
    }

    #[test]
    fn rejects_text() {
        for text in ["", "inf", "NaN", "\"No error\"", "ON", "5.0V", "+", "."] {
            assert_eq!(parse_scpi_number(text), None, "{text}");
        }
    }

    #[test]
    fn fields_compare_numbers_and_text() {
        assert_eq!(
            numeric_fields("+0,\"No error\"", "+0.0,\"No error\""),
            Some(vec![])
        );
        assert_eq!(numeric_fields("1.0,2.0", "1.0,2.5"), Some(vec![(2.0, 2.5)]));
        assert_eq!(
            numeric_fields("+0,\"No error\"", "-113,\"Undefined header\""),
            None
        );
        assert_eq!(numeric_fields("1,2", "1,2,3"), None);
        assert_eq!(numeric_fields("ON", "OFF"), None);
    }

    #[test]
    fn relative_difference_is_symmetric() {
        assert_eq!(relative_difference(0.0, 0.0), 0.0);
        assert!((relative_difference(5.0, 5.1) - 0.1 / 5.1).abs() < 1e-12);
        assert_eq!(relative_difference(5.0, 5.1), relative_difference(5.1, 5.0));
    }
}
