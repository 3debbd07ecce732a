//! Property values as pyvisa-sim holds them: Python `str`, `int` or `float`, converted
//! with Python's own rules (`float("1e3")`, `int("7")`, `int(2.7) == 2`, `str(1.0) == "1.0"`).

use std::fmt;

/// A property value: what pyvisa-sim stores after YAML (every scalar a string), a setter's
/// parse pattern (`{:d}` → int, `{:f}` → float) or a spec's `type` produced it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    /// Python `str`.
    Str(String),
    /// Python `int` (arbitrary precision there; 128 bits here).
    Int(i128),
    /// Python `float`.
    Float(f64),
}

/// A Python `ValueError`: the value does not convert or does not meet the specs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ValueError(pub(crate) String);

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The three types a property's `specs.type` may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `type: str`
    Str,
    /// `type: int`
    Int,
    /// `type: float`
    Float,
}

impl Kind {
    /// `specs.type` as written; pyvisa-sim accepts exactly these three words.
    pub(crate) fn parse(word: &str) -> Option<Kind> {
        match word {
            "str" => Some(Kind::Str),
            "int" => Some(Kind::Int),
            "float" => Some(Kind::Float),
            _ => None,
        }
    }

    /// `type(value)`: Python's constructor of this type applied to `value`.
    pub(crate) fn convert(self, value: &Value) -> Result<Value, ValueError> {
        match self {
            Kind::Str => Ok(Value::Str(value.to_py_str())),
            Kind::Int => value.to_py_int().map(Value::Int),
            Kind::Float => value.to_py_float().map(Value::Float),
        }
    }
}

impl Value {
    /// `str(value)`.
    pub(crate) fn to_py_str(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Float(x) => py_repr(*x),
        }
    }

    /// `float(value)`.
    pub(crate) fn to_py_float(&self) -> Result<f64, ValueError> {
        match self {
            Value::Str(s) => parse_py_float(s),
            Value::Int(i) => Ok(*i as f64),
            Value::Float(x) => Ok(*x),
        }
    }

    /// `int(value)`: strings in base 10, floats truncated toward zero.
    pub(crate) fn to_py_int(&self) -> Result<i128, ValueError> {
        match self {
            Value::Str(s) => parse_py_int(s, 10),
            Value::Int(i) => Ok(*i),
            Value::Float(x) if x.is_finite() => Ok(x.trunc() as i128),
            Value::Float(x) => Err(ValueError(format!(
                "cannot convert float {} to integer",
                py_repr(*x)
            ))),
        }
    }

    /// Python's name of the value's type, for messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "str",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
        }
    }

    /// Python's `a < b` for two values of one type (specs convert both sides first).
    pub(crate) fn less_than(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Str(a), Value::Str(b)) => a < b,
            (Value::Int(a), Value::Int(b)) => a < b,
            _ => match (self.to_py_float(), other.to_py_float()) {
                (Ok(a), Ok(b)) => a < b,
                _ => false,
            },
        }
    }

    /// Python's `a == b` (an int equals the float of the same value, never a str).
    pub(crate) fn py_eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Str(_), _) | (_, Value::Str(_)) => false,
            (Value::Int(a), Value::Int(b)) => a == b,
            _ => match (self.to_py_float(), other.to_py_float()) {
                (Ok(a), Ok(b)) => a == b,
                _ => false,
            },
        }
    }
}

/// Python's `float(text)`: surrounding whitespace, `_` between digits, `inf`/`nan` words.
pub(crate) fn parse_py_float(text: &str) -> Result<f64, ValueError> {
    let error = || ValueError(format!("could not convert string to float: {text:?}"));
    let trimmed = text.trim();
    let cleaned = strip_underscores(trimmed).ok_or_else(error)?;
    let lower = cleaned.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if lower.len() - unsigned.len() > 1 {
        return Err(error());
    }
    match unsigned {
        "inf" | "infinity" | "nan" => {}
        _ => {
            // Rust accepts forms Python does not (none known) and vice versa (`1_0`,
            // handled above); digits, one point and an exponent are common to both.
            if !unsigned
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-'))
                || !unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.')
            {
                return Err(error());
            }
        }
    }
    lower.parse::<f64>().map_err(|_| error())
}

/// Python's `int(text, base)`: surrounding whitespace, a sign, `_` between digits.
pub(crate) fn parse_py_int(text: &str, base: u32) -> Result<i128, ValueError> {
    let error = || {
        ValueError(format!(
            "invalid literal for int() with base {base}: {text:?}"
        ))
    };
    let trimmed = text.trim();
    let cleaned = strip_underscores(trimmed).ok_or_else(error)?;
    let (negative, digits) = match cleaned.as_bytes().first() {
        Some(b'-') => (true, &cleaned[1..]),
        Some(b'+') => (false, &cleaned[1..]),
        _ => (false, &cleaned[..]),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(base)) {
        return Err(error());
    }
    let magnitude = i128::from_str_radix(digits, base).map_err(|_| error())?;
    Ok(if negative { -magnitude } else { magnitude })
}

/// Removes `_` separators that sit between two digits (Python's literal rule); `None` when
/// an underscore sits anywhere else.
fn strip_underscores(text: &str) -> Option<String> {
    if !text.contains('_') {
        return Some(text.to_owned());
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' {
            let before = i > 0 && chars[i - 1].is_ascii_alphanumeric();
            let after = chars.get(i + 1).is_some_and(|c| c.is_ascii_alphanumeric());
            if !before || !after {
                return None;
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Splits a finite, non-zero float into its shortest round-trip decimal digits and the
/// decimal exponent of the first digit (`1234.5` → `("12345", 3)`).
pub(crate) fn shortest_digits(x: f64) -> (String, i32) {
    let s = format!("{:e}", x.abs());
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    (digits, exp.parse().unwrap_or(0))
}

/// Python's `repr(float)` (also `str(float)`): shortest round-trip digits, positional
/// for exponents -4..16, otherwise `1e+16` style.
pub(crate) fn py_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0.0");
    }
    let (digits, exp) = shortest_digits(x);
    if (-4..16).contains(&exp) {
        format!("{sign}{}", place_point(&digits, exp, true))
    } else {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_owned()
        } else {
            format!("{first}.{rest}")
        };
        format!("{sign}{mantissa}{}", exponent_suffix('e', exp))
    }
}

/// Writes `digits` (first digit at decimal exponent `exp`) positionally; `force_fraction`
/// adds `.0` to whole numbers.
pub(crate) fn place_point(digits: &str, exp: i32, force_fraction: bool) -> String {
    let n = digits.len() as i32;
    if exp < 0 {
        format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
    } else if exp + 1 >= n {
        let whole = format!("{digits}{}", "0".repeat((exp + 1 - n) as usize));
        if force_fraction {
            format!("{whole}.0")
        } else {
            whole
        }
    } else {
        let (whole, fraction) = digits.split_at((exp + 1) as usize);
        format!("{whole}.{fraction}")
    }
}

/// Python's exponent suffix: `e+05`, `E-12` (sign always, at least two digits).
pub(crate) fn exponent_suffix(letter: char, exp: i32) -> String {
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{letter}{sign}{:02}", exp.unsigned_abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_matches_python() {
        for (x, want) in [
            (100.0, "100.0"),
            (0.1, "0.1"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (1e15, "1000000000000000.0"),
            (-2.5, "-2.5"),
            (-0.0, "-0.0"),
            (123456.789, "123456.789"),
            (f64::INFINITY, "inf"),
        ] {
            assert_eq!(py_repr(x), want, "{x}");
        }
    }

    #[test]
    fn conversions_follow_python() {
        assert_eq!(parse_py_float(" 1_000.5 "), Ok(1000.5));
        assert_eq!(parse_py_float("-Infinity"), Ok(f64::NEG_INFINITY));
        assert!(parse_py_float("1,5").is_err());
        assert!(parse_py_float("").is_err());
        assert!(parse_py_float("--1").is_err());
        assert_eq!(parse_py_int(" +007 ", 10), Ok(7));
        assert!(parse_py_int("1.0", 10).is_err());
        assert!(parse_py_int("1__0", 10).is_err());
        assert_eq!(parse_py_int("ff", 16), Ok(255));
        assert_eq!(Value::Float(2.7).to_py_int(), Ok(2));
        assert_eq!(Value::Float(-2.7).to_py_int(), Ok(-2));
        assert_eq!(Value::Float(3.0).to_py_str(), "3.0");
        assert_eq!(
            Kind::Float.convert(&Value::Str("5".into())),
            Ok(Value::Float(5.0))
        );
    }

    #[test]
    fn equality_and_order_follow_python() {
        assert!(Value::Int(1).py_eq(&Value::Float(1.0)));
        assert!(!Value::Int(1).py_eq(&Value::Str("1".into())));
        assert!(Value::Str("a".into()).less_than(&Value::Str("b".into())));
        assert!(Value::Float(0.5).less_than(&Value::Float(1.0)));
    }
}
