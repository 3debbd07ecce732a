//! Setter patterns: `VOLT {:.3f}` matches `VOLT 2.500` and yields the float `2.5`.
//!
//! pyvisa-sim parses setters with the `stringparser` package: each replacement field of a
//! Python format string becomes a regular-expression group chosen by its type (`d` digits,
//! `f` a number with at least two digits, no type any text, lazily), anchored at both ends.
//! The same groups are used here, so a command matches exactly when it matches there
//! (`VOLT 5` does not match `VOLT {:f}`: pyvisa-sim's float group needs two digits).

use std::sync::LazyLock;

use regex_lite::Regex;

use super::pyformat::parse_template;
use super::value::{Value, ValueError, parse_py_float, parse_py_int, py_repr};

/// The part of a format spec stringparser reads, as it reads it (a search, so any text
/// matches, possibly empty).
static SPEC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?P<align>(?P<fill>[^{}])?[<>=\^])?(?P<sign>[\+\- ])?(?P<alternate>#)?(?P<zero>0)?(?P<width>[0-9]+)?(?P<comma>[,])?(?P<precision>\.[0-9]+)?(?P<type>[bcdeEfFgGnosxX%]+)?",
    )
    .expect("valid regex")
});

/// How a matched group becomes a value.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Convert {
    Str,
    Int(u32),
    Float,
    Percent,
}

impl Convert {
    fn apply(self, text: &str) -> Result<Value, ValueError> {
        match self {
            Convert::Str => Ok(Value::Str(text.to_owned())),
            Convert::Int(base) => {
                let (sign, rest) = match text.strip_prefix('-') {
                    Some(rest) => ("-", rest),
                    None => ("", text.trim_start_matches(['+', ' '])),
                };
                let rest = if base == 10 {
                    rest
                } else {
                    let lower = rest.to_ascii_lowercase();
                    let prefix = match base {
                        2 => "0b",
                        8 => "0o",
                        _ => "0x",
                    };
                    if lower.starts_with(prefix) {
                        &rest[2..]
                    } else {
                        rest
                    }
                };
                parse_py_int(&format!("{sign}{rest}"), base).map(Value::Int)
            }
            Convert::Float => parse_py_float(text).map(Value::Float),
            Convert::Percent => {
                parse_py_float(&text[..text.len() - 1]).map(|x| Value::Float(x / 100.0))
            }
        }
    }
}

/// The group and converter for one format spec, as stringparser's `fmt_to_regex`.
fn group_for(spec: &str) -> Result<(String, Convert), String> {
    let caps = SPEC
        .captures(spec)
        .ok_or_else(|| format!("could not parse the format spec `{spec}`"))?;
    let kind = caps.name("type").map(|m| m.as_str());
    let (mut group, convert) = match kind {
        None | Some("s") => (".*?".to_owned(), Convert::Str),
        Some("d") => ("[0-9]+?".to_owned(), Convert::Int(10)),
        Some("b") => ("[0-1]+?".to_owned(), Convert::Int(2)),
        Some("o") => ("[0-7]+?".to_owned(), Convert::Int(8)),
        Some("x") => ("[0-9a-f]+?".to_owned(), Convert::Int(16)),
        Some("X") => ("[0-9A-F]+?".to_owned(), Convert::Int(16)),
        Some("e") => (
            r"[0-9]+\.?[0-9]+(?:e[-+]?[0-9]+)?".to_owned(),
            Convert::Float,
        ),
        Some("E") => (
            r"[0-9]+\.?[0-9]+(?:E[-+]?[0-9]+)?".to_owned(),
            Convert::Float,
        ),
        Some("f" | "F") => (r"[0-9]+\.?[0-9]+".to_owned(), Convert::Float),
        Some("g" | "G") => (
            r"[0-9]+\.?[0-9]+(?:[eE][-+]?[0-9]+)?".to_owned(),
            Convert::Float,
        ),
        Some("%") => (r"[0-9]+\.?[0-9]+%".to_owned(), Convert::Percent),
        Some(other) => return Err(format!("`{other}` is not a valid type in a setter pattern")),
    };
    if caps.name("alternate").is_some() {
        match kind {
            Some(k @ ("o" | "x" | "X" | "b")) => group = format!("0{k}{group}"),
            _ => {
                return Err(format!(
                    "alternate form (#) is not allowed with type `{}`",
                    kind.unwrap_or("")
                ));
            }
        }
    }
    let sign = match caps.name("sign").map(|m| m.as_str()) {
        None | Some("-") => "[-]?",
        Some("+") => "[-+]",
        _ => "[- ]",
    };
    Ok((format!("{sign}{group}"), convert))
}

/// A compiled setter pattern.
#[derive(Clone, Debug)]
pub(crate) struct Pattern {
    regex: Regex,
    fields: Vec<(String, Convert)>,
}

/// What a pattern extracted: stringparser returns the value itself for one unnamed field,
/// a list for several, a dict when fields are named (`{ch_id}`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Parsed {
    /// One unnamed field.
    One(Value),
    /// Several unnamed fields (a Python list).
    List(Vec<Value>),
    /// Named fields, or none at all (a Python dict).
    Dict(Vec<(String, Value)>),
}

impl Parsed {
    /// `str(parsed)`, Python's rendering.
    pub(crate) fn to_py_str(&self) -> String {
        let item = |v: &Value| match v {
            Value::Str(s) => format!("'{s}'"),
            Value::Int(i) => i.to_string(),
            Value::Float(x) => py_repr(*x),
        };
        match self {
            Parsed::One(v) => v.to_py_str(),
            Parsed::List(items) => format!(
                "[{}]",
                items.iter().map(item).collect::<Vec<_>>().join(", ")
            ),
            Parsed::Dict(items) => format!(
                "{{{}}}",
                items
                    .iter()
                    .map(|(k, v)| format!("'{k}': {}", item(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// The value of a named field of a dict.
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Parsed::Dict(items) => items.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }
}

impl Pattern {
    /// Compiles a setter's `q` as stringparser does; an error says why it cannot be used.
    pub(crate) fn new(format: &str) -> Result<Pattern, String> {
        let mut regex = String::from("^(?:");
        let mut fields = Vec::new();
        let mut number = 0;
        for piece in parse_template(format)? {
            regex.push_str(&regex_lite::escape(&piece.literal));
            let Some(field) = piece.field else { continue };
            let (group, convert) = if field.spec.is_empty() {
                (".*?".to_owned(), Convert::Str)
            } else {
                group_for(&field.spec)?
            };
            if field.name == "_" {
                regex.push_str(&format!("(?:{group})"));
                continue;
            }
            let name = if field.name.is_empty() {
                number += 1;
                (number - 1).to_string()
            } else if field.name.contains(['.', '[']) {
                return Err(format!(
                    "attribute or index access in the field `{{{}}}` is not supported in setter patterns",
                    field.name
                ));
            } else {
                field.name.clone()
            };
            regex.push_str(&format!("({group})"));
            fields.push((name, convert));
        }
        // Python's `$` also matches before a final newline.
        regex.push_str(r")\n?\z");
        let regex = Regex::new(&regex).map_err(|e| format!("invalid setter pattern: {e}"))?;
        Ok(Pattern { regex, fields })
    }

    /// Matches `text`; `None` when it does not match (or a group does not convert, which
    /// stringparser reports the same way: a `ValueError`).
    pub(crate) fn parse(&self, text: &str) -> Option<Parsed> {
        let caps = self.regex.captures(text)?;
        let mut values = Vec::with_capacity(self.fields.len());
        for (i, (name, convert)) in self.fields.iter().enumerate() {
            let group = caps.get(i + 1).map_or("", |m| m.as_str());
            values.push((name.clone(), convert.apply(group).ok()?));
        }
        let numbered = values.iter().all(|(name, _)| name.parse::<usize>().is_ok());
        let mut indices: Vec<usize> = values
            .iter()
            .filter_map(|(name, _)| name.parse().ok())
            .collect();
        indices.sort_unstable();
        let dense = !indices.is_empty() && indices.iter().enumerate().all(|(i, &n)| i == n);
        if numbered && dense {
            values.sort_by_key(|(name, _)| name.parse::<usize>().unwrap_or(0));
            let mut list: Vec<Value> = values.into_iter().map(|(_, v)| v).collect();
            if list.len() == 1 {
                return list.pop().map(Parsed::One);
            }
            return Some(Parsed::List(list));
        }
        Some(Parsed::Dict(values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(p: &str, text: &str) -> Option<Value> {
        match Pattern::new(p).unwrap().parse(text)? {
            Parsed::One(v) => Some(v),
            other => panic!("not one value: {other:?}"),
        }
    }

    #[test]
    fn typed_groups_match_as_stringparser() {
        assert_eq!(one("VOLT {:.3f}", "VOLT 2.500"), Some(Value::Float(2.5)));
        assert_eq!(one("VOLT {:.3f}", "VOLT -2.5"), Some(Value::Float(-2.5)));
        // The float group needs two digits.
        assert_eq!(one("VOLT {:f}", "VOLT 5"), None);
        assert_eq!(one("VOLT {:f}", "VOLT 10"), Some(Value::Float(10.0)));
        assert_eq!(one("VOLT {:f}", "VOLT +1.5"), None);
        assert_eq!(one("VOLT {:+f}", "VOLT +1.5"), Some(Value::Float(1.5)));
        assert_eq!(one("OUTP {:d}", "OUTP 1"), Some(Value::Int(1)));
        assert_eq!(one("OUTP {:d}", "OUTP ON"), None);
        assert_eq!(
            one("INST {:s}", "INST P25V"),
            Some(Value::Str("P25V".into()))
        );
        assert_eq!(one("INST {}", "INST "), Some(Value::Str(String::new())));
        assert_eq!(one("X {:e}", "X 1.5e3"), Some(Value::Float(1500.0)));
        assert_eq!(one("X {:x}", "X ff"), Some(Value::Int(255)));
        assert_eq!(one("X {:#x}", "X 0xff"), Some(Value::Int(255)));
        assert_eq!(one("X {:%}", "X 12.5%"), Some(Value::Float(0.125)));
        // Anchored at both ends; Python's `$` accepts a final newline.
        assert_eq!(one("A {:d}", "A 1 "), None);
        assert_eq!(one("A {:d}", "A 1\n"), Some(Value::Int(1)));
        assert_eq!(one("A+{:d}", "A+1"), Some(Value::Int(1)));
    }

    #[test]
    fn named_and_several_fields() {
        let p = Pattern::new("CH {ch_id}:VOLT {:.3f}").unwrap();
        let parsed = p.parse("CH 2:VOLT 3.000").unwrap();
        assert_eq!(parsed.get("ch_id"), Some(&Value::Str("2".into())));
        assert_eq!(parsed.get("0"), Some(&Value::Float(3.0)));
        let p = Pattern::new("R {:d},{:d}").unwrap();
        assert_eq!(
            p.parse("R 1,2"),
            Some(Parsed::List(vec![Value::Int(1), Value::Int(2)]))
        );
        assert_eq!(p.parse("R 1,2").unwrap().to_py_str(), "[1, 2]");
        let p = Pattern::new("OUTP ON").unwrap();
        assert_eq!(p.parse("OUTP ON"), Some(Parsed::Dict(vec![])));
        let p = Pattern::new("S {_} {:d}").unwrap();
        assert_eq!(p.parse("S x 3"), Some(Parsed::One(Value::Int(3))));
    }

    #[test]
    fn bad_patterns_are_errors() {
        assert!(Pattern::new("X {:c}").is_err());
        assert!(Pattern::new("X {:#d}").is_err());
        assert!(Pattern::new("X {").is_err());
    }
}
