//! Exact decimal values of SCPI numeric data (`5` = `5.0` = `+5.000E+00` = `500E-2`),
//! compared digit by digit, never through `f64`.

use std::fmt;

/// A decimal number as sign, significant digits and a power of ten:
/// `-1.250E+3` is `negative, "125", 1` (−125 × 10¹). Zero is `"", 0`, never negative.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    negative: bool,
    /// Significant digits, no leading or trailing zeros (empty for zero).
    digits: String,
    /// The value is `digits × 10^exponent`.
    exponent: i64,
}

impl Decimal {
    /// Parses IEEE 488.2 decimal numeric program data (`<NRf>`): an optional sign, digits
    /// with an optional decimal point (at least one digit), an optional exponent
    /// (`E`/`e`, optional sign, digits). `None` when `text` is anything else, or when the
    /// exponent does not fit in 64 bits.
    pub fn parse(text: &str) -> Option<Decimal> {
        let bytes = text.as_bytes();
        let mut i = 0;
        let negative = sign(bytes, &mut i);
        let mut int_digits = String::new();
        while let Some(b) = bytes.get(i).filter(|b| b.is_ascii_digit()) {
            int_digits.push(char::from(*b));
            i += 1;
        }
        let mut frac_digits = String::new();
        if bytes.get(i) == Some(&b'.') {
            i += 1;
            while let Some(b) = bytes.get(i).filter(|b| b.is_ascii_digit()) {
                frac_digits.push(char::from(*b));
                i += 1;
            }
        }
        if int_digits.is_empty() && frac_digits.is_empty() {
            return None;
        }
        let mut exponent: i64 = 0;
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            i += 1;
            let exp_negative = sign(bytes, &mut i);
            let start = i;
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                exponent = exponent
                    .checked_mul(10)?
                    .checked_add(i64::from(bytes[i] - b'0'))?;
                i += 1;
            }
            if i == start {
                return None;
            }
            if exp_negative {
                exponent = -exponent;
            }
        }
        if i != bytes.len() {
            return None;
        }
        let frac_len = i64::try_from(frac_digits.len()).ok()?;
        exponent = exponent.checked_sub(frac_len)?;
        let mut digits = int_digits;
        digits.push_str(&frac_digits);
        let digits = digits.trim_start_matches('0');
        let trimmed = digits.trim_end_matches('0');
        let trailing = i64::try_from(digits.len() - trimmed.len()).ok()?;
        if trimmed.is_empty() {
            return Some(Decimal {
                negative: false,
                digits: String::new(),
                exponent: 0,
            });
        }
        Some(Decimal {
            negative,
            digits: trimmed.to_owned(),
            exponent: exponent.checked_add(trailing)?,
        })
    }

    /// The value as the nearest `f64` (only for an opt-in numeric tolerance).
    pub fn to_f64(&self) -> f64 {
        format!("{self}").parse().unwrap_or(f64::NAN)
    }

    /// Whether the value is exactly zero.
    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }
}

/// Reads an optional sign at `bytes[*i]`, stepping over it: whether it is `-`.
fn sign(bytes: &[u8], i: &mut usize) -> bool {
    match bytes.get(*i) {
        Some(b'-') => {
            *i += 1;
            true
        }
        Some(b'+') => {
            *i += 1;
            false
        }
        _ => false,
    }
}

impl fmt::Display for Decimal {
    /// Scientific notation, exact: `-1.25E3`, `0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let sign = if self.negative { "-" } else { "" };
        let (first, rest) = self.digits.split_at(1);
        let exponent = self.exponent + self.digits.len() as i64 - 1;
        if rest.is_empty() {
            write!(f, "{sign}{first}E{exponent}")
        } else {
            write!(f, "{sign}{first}.{rest}E{exponent}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        Decimal::parse(text).unwrap_or_else(|| panic!("`{text}` should parse"))
    }

    #[test]
    fn same_value_in_every_notation() {
        for text in [
            "5",
            "5.0",
            "+5.000E+00",
            "500E-2",
            "5.",
            "0005",
            "0.5e1",
            ".5E1",
        ] {
            assert_eq!(d(text), d("5"), "{text}");
        }
        assert_eq!(d("-0"), d("0"));
        assert_eq!(d("0.000"), d("0E99"));
    }

    #[test]
    fn close_values_differ() {
        assert_ne!(d("0.3"), d("0.30000000000000004"));
        assert_ne!(d("5"), d("-5"));
        assert_ne!(d("5.01"), d("5.0"));
        assert_ne!(d("1E-999"), d("0"));
    }

    #[test]
    fn not_numbers() {
        for text in [
            "",
            "+",
            ".",
            "E5",
            "5E",
            "5E+",
            "1.2.3",
            "5V",
            "0x10",
            " 5",
            "5 ",
            "1e99999999999999999999",
        ] {
            assert_eq!(Decimal::parse(text), None, "{text}");
        }
    }

    #[test]
    fn display_is_exact() {
        assert_eq!(d("-1250").to_string(), "-1.25E3");
        assert_eq!(
            d("0.30000000000000004").to_string(),
            "3.0000000000000004E-1"
        );
        assert_eq!(d("0").to_string(), "0");
        assert_eq!(d("5.000").to_f64(), 5.0);
    }
}
