//! Python's `str.format` for the templates of pyvisa-sim files: getter responses
//! (`"{:+.8E}".format(value)`), `RANDOM` responses and channel query keys
//! (`"CH {ch_id}:VOLT?".format(ch_id="1")`). The format-spec mini-language is Python's
//! (`[[fill]align][sign][z][#][0][width][grouping][.precision][type]`).

use super::value::{Value, exponent_suffix, py_repr};

/// One piece of a template: literal text, then (optionally) a replacement field.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Piece {
    /// Literal text before the field (`{{`/`}}` already unescaped).
    pub(crate) literal: String,
    /// The replacement field after the literal, if any.
    pub(crate) field: Option<Field>,
}

/// A replacement field `{name!conversion:spec}`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Field {
    /// The field name (empty: the next positional argument).
    pub(crate) name: String,
    /// `r` or `s` after `!`, if any.
    pub(crate) conversion: Option<char>,
    /// The format spec after `:` (may be empty).
    pub(crate) spec: String,
}

/// Splits a template as Python's `string.Formatter.parse` does.
pub(crate) fn parse_template(template: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                literal.push('}');
            }
            '}' => return Err("Single '}' encountered in format string".to_owned()),
            '{' => {
                let mut depth = 1;
                let mut inner = String::new();
                loop {
                    match chars.next() {
                        None => return Err("expected '}' before end of string".to_owned()),
                        Some('{') => {
                            depth += 1;
                            inner.push('{');
                        }
                        Some('}') => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                            inner.push('}');
                        }
                        Some(c) => inner.push(c),
                    }
                }
                pieces.push(Piece {
                    literal: std::mem::take(&mut literal),
                    field: Some(parse_field(&inner)?),
                });
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() || pieces.is_empty() {
        pieces.push(Piece {
            literal,
            field: None,
        });
    }
    Ok(pieces)
}

fn parse_field(inner: &str) -> Result<Field, String> {
    // The name ends at the first `!` or `:` outside brackets.
    let mut end = inner.len();
    let mut in_bracket = false;
    for (i, c) in inner.char_indices() {
        match c {
            '[' => in_bracket = true,
            ']' => in_bracket = false,
            '!' | ':' if !in_bracket => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let name = inner[..end].to_owned();
    let mut rest = &inner[end..];
    let mut conversion = None;
    if let Some(after) = rest.strip_prefix('!') {
        let mut it = after.chars();
        let c = it
            .next()
            .ok_or("end of string while looking for conversion specifier")?;
        conversion = Some(c);
        rest = it.as_str();
        if !rest.is_empty() && !rest.starts_with(':') {
            return Err("expected ':' after conversion specifier".to_owned());
        }
    }
    let spec = rest.strip_prefix(':').unwrap_or("").to_owned();
    Ok(Field {
        name,
        conversion,
        spec,
    })
}

/// `template.format(*positional, **named)`.
pub(crate) fn format(
    template: &str,
    positional: &[Value],
    named: &[(&str, Value)],
) -> Result<String, String> {
    let mut out = String::new();
    let mut auto = 0usize;
    let mut numbering: Option<bool> = None; // Some(true): automatic, Some(false): manual
    for piece in parse_template(template)? {
        out.push_str(&piece.literal);
        let Some(field) = piece.field else { continue };
        if field.name.contains(['.', '[']) {
            return Err(format!(
                "attribute and index access in `{{{}}}` are not supported",
                field.name
            ));
        }
        let value = if field.name.is_empty() {
            if numbering == Some(false) {
                return Err(
                    "cannot switch from manual field specification to automatic field numbering"
                        .to_owned(),
                );
            }
            numbering = Some(true);
            let v = positional.get(auto).ok_or_else(|| {
                format!("Replacement index {auto} out of range for positional args tuple")
            })?;
            auto += 1;
            v
        } else if let Ok(index) = field.name.parse::<usize>() {
            if numbering == Some(true) {
                return Err(
                    "cannot switch from automatic field numbering to manual field specification"
                        .to_owned(),
                );
            }
            numbering = Some(false);
            positional.get(index).ok_or_else(|| {
                format!("Replacement index {index} out of range for positional args tuple")
            })?
        } else {
            named
                .iter()
                .find(|(n, _)| *n == field.name)
                .map(|(_, v)| v)
                .ok_or_else(|| format!("KeyError: '{}'", field.name))?
        };
        if field.spec.contains('{') {
            return Err("nested replacement fields in a format spec are not supported".to_owned());
        }
        let converted;
        let value = match field.conversion {
            None => value,
            Some('s') => {
                converted = Value::Str(value.to_py_str());
                &converted
            }
            Some('r') => {
                converted = Value::Str(match value {
                    Value::Str(s) => format!("'{s}'"),
                    other => other.to_py_str(),
                });
                &converted
            }
            Some(c) => return Err(format!("Unknown conversion specifier {c}")),
        };
        out.push_str(&format_value(value, &field.spec)?);
    }
    Ok(out)
}

/// A parsed format spec.
#[derive(Debug, Default)]
struct Spec {
    fill: Option<char>,
    align: Option<char>,
    sign: Option<char>,
    no_neg_zero: bool,
    alternate: bool,
    zero: bool,
    width: usize,
    grouping: Option<char>,
    precision: Option<usize>,
    kind: Option<char>,
}

fn parse_spec(spec: &str) -> Result<Spec, String> {
    let chars: Vec<char> = spec.chars().collect();
    let mut s = Spec::default();
    let mut i = 0;
    let is_align = |c: char| matches!(c, '<' | '>' | '=' | '^');
    if chars.len() >= 2 && is_align(chars[1]) {
        s.fill = Some(chars[0]);
        s.align = Some(chars[1]);
        i = 2;
    } else if chars.first().is_some_and(|&c| is_align(c)) {
        s.align = Some(chars[0]);
        i = 1;
    }
    if let Some(&c) = chars.get(i).filter(|c| matches!(c, '+' | '-' | ' ')) {
        s.sign = Some(c);
        i += 1;
    }
    if chars.get(i) == Some(&'z') {
        s.no_neg_zero = true;
        i += 1;
    }
    if chars.get(i) == Some(&'#') {
        s.alternate = true;
        i += 1;
    }
    if chars.get(i) == Some(&'0') {
        s.zero = true;
        i += 1;
    }
    let start = i;
    while chars.get(i).is_some_and(char::is_ascii_digit) {
        i += 1;
    }
    if i > start {
        s.width = chars[start..i]
            .iter()
            .collect::<String>()
            .parse()
            .map_err(|_| "Too many decimal digits in format string")?;
    }
    if let Some(&c) = chars.get(i).filter(|c| matches!(c, ',' | '_')) {
        s.grouping = Some(c);
        i += 1;
    }
    if chars.get(i) == Some(&'.') {
        i += 1;
        let start = i;
        while chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return Err("Format specifier missing precision".to_owned());
        }
        s.precision = Some(
            chars[start..i]
                .iter()
                .collect::<String>()
                .parse()
                .map_err(|_| "Too many decimal digits in format string")?,
        );
    }
    match chars.len() - i {
        0 => {}
        1 => s.kind = Some(chars[i]),
        _ => return Err("Invalid format specifier".to_owned()),
    }
    if s.zero && s.align.is_none() {
        s.fill = Some(s.fill.unwrap_or('0'));
    }
    Ok(s)
}

/// `format(value, spec)`.
pub(crate) fn format_value(value: &Value, spec: &str) -> Result<String, String> {
    let s = parse_spec(spec)?;
    let unknown = |c: char| {
        format!(
            "Unknown format code '{c}' for object of type '{}'",
            value.type_name()
        )
    };
    match value {
        Value::Str(text) => {
            if let Some(k) = s.kind.filter(|&k| k != 's') {
                return Err(unknown(k));
            }
            if s.sign.is_some() {
                return Err("Sign not allowed in string format specifier".to_owned());
            }
            if s.alternate {
                return Err("Alternate form (#) not allowed in string format specifier".to_owned());
            }
            if s.align == Some('=') {
                return Err("'=' alignment not allowed in string format specifier".to_owned());
            }
            if let Some(g) = s.grouping {
                return Err(format!("Cannot specify '{g}' with 's'."));
            }
            let body: String = match s.precision {
                Some(p) => text.chars().take(p).collect(),
                None => text.clone(),
            };
            Ok(pad("", &body, &s, '<'))
        }
        Value::Int(i) => match s.kind {
            None | Some('d' | 'n' | 'b' | 'o' | 'x' | 'X' | 'c') => {
                if s.precision.is_some() {
                    return Err("Precision not allowed in integer format specifier".to_owned());
                }
                let k = s.kind.unwrap_or('d');
                let magnitude = i.unsigned_abs();
                let (prefix, digits) = match k {
                    'b' => ("0b", format!("{magnitude:b}")),
                    'o' => ("0o", format!("{magnitude:o}")),
                    'x' => ("0x", format!("{magnitude:x}")),
                    'X' => ("0X", format!("{magnitude:X}")),
                    'c' => {
                        let c = u32::try_from(*i)
                            .ok()
                            .and_then(char::from_u32)
                            .ok_or("%c arg not in range(0x110000)")?;
                        return Ok(pad("", &c.to_string(), &s, '<'));
                    }
                    _ => ("", magnitude.to_string()),
                };
                let every = if matches!(k, 'd' | 'n') { 3 } else { 4 };
                let digits = group(&digits, s.grouping, every);
                let prefix = if s.alternate { prefix } else { "" };
                let sign = sign_str(*i < 0, s.sign);
                Ok(pad(&format!("{sign}{prefix}"), &digits, &s, '>'))
            }
            Some('e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%') => format_float(*i as f64, &s),
            Some(k) => Err(unknown(k)),
        },
        Value::Float(x) => match s.kind {
            None | Some('e' | 'E' | 'f' | 'F' | 'g' | 'G' | 'n' | '%') => format_float(*x, &s),
            Some(k) => Err(unknown(k)),
        },
    }
}

fn sign_str(negative: bool, sign: Option<char>) -> &'static str {
    match (negative, sign) {
        (true, _) => "-",
        (false, Some('+')) => "+",
        (false, Some(' ')) => " ",
        _ => "",
    }
}

fn format_float(x: f64, s: &Spec) -> Result<String, String> {
    let upper = matches!(s.kind, Some('E' | 'F' | 'G'));
    let mut negative = x.is_sign_negative() && !x.is_nan();
    let a = x.abs();
    let mut body = if !a.is_finite() {
        let word = if a.is_nan() { "nan" } else { "inf" };
        let word = if upper {
            word.to_ascii_uppercase()
        } else {
            word.to_owned()
        };
        if s.kind == Some('%') {
            format!("{word}%")
        } else {
            word
        }
    } else {
        match s.kind {
            Some('f' | 'F') => fixed(a, s.precision.unwrap_or(6), s.alternate),
            Some('e' | 'E') => scientific(a, s.precision.unwrap_or(6), s.alternate, upper),
            Some('g' | 'G' | 'n') => {
                general(a, s.precision.unwrap_or(6), s.alternate, upper, false)
            }
            Some('%') => format!(
                "{}%",
                fixed(a * 100.0, s.precision.unwrap_or(6), s.alternate)
            ),
            None => match s.precision {
                Some(p) => general(a, p, s.alternate, false, true),
                None => py_repr(a),
            },
            Some(_) => unreachable!("filtered by the caller"),
        }
    };
    if s.no_neg_zero && negative && body.chars().all(|c| !c.is_ascii_digit() || c == '0') {
        negative = false;
    }
    if s.grouping.is_some() {
        let split = body
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(body.len());
        let (whole, rest) = body.split_at(split);
        body = format!("{}{rest}", group(whole, s.grouping, 3));
    }
    Ok(pad(sign_str(negative, s.sign), &body, s, '>'))
}

fn fixed(a: f64, precision: usize, alternate: bool) -> String {
    let mut out = format!("{a:.precision$}");
    if alternate && precision == 0 {
        out.push('.');
    }
    out
}

fn scientific(a: f64, precision: usize, alternate: bool, upper: bool) -> String {
    let raw = format!("{a:.precision$e}");
    let (mantissa, exp) = raw.split_once('e').unwrap_or((&raw, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut mantissa = mantissa.to_owned();
    if alternate && precision == 0 {
        mantissa.push('.');
    }
    format!(
        "{mantissa}{}",
        exponent_suffix(if upper { 'E' } else { 'e' }, exp)
    )
}

/// `g` (and the no-type form with a precision when `repr_like`): significant digits,
/// positional for exponents -4..precision, trailing zeros removed unless `#`.
fn general(a: f64, precision: usize, alternate: bool, upper: bool, repr_like: bool) -> String {
    let p = precision.max(1);
    if a == 0.0 {
        return if alternate {
            format!("0.{}", "0".repeat(p - 1))
        } else if repr_like {
            "0.0".to_owned()
        } else {
            "0".to_owned()
        };
    }
    let rounded = format!("{a:.*e}", p - 1);
    let exp: i32 = rounded
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    let strip = |s: String| -> String {
        if alternate || !s.contains('.') {
            s
        } else {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        }
    };
    // Without a type, Python switches to scientific one exponent earlier.
    let limit = if repr_like { p as i32 - 1 } else { p as i32 };
    if -4 <= exp && exp < limit {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        let mut out = strip(format!("{a:.decimals$}"));
        if repr_like && !out.contains('.') {
            out.push_str(".0");
        }
        out
    } else {
        let (mantissa, _) = rounded.split_once('e').unwrap_or((&rounded, ""));
        let mantissa = strip(mantissa.to_owned());
        format!(
            "{mantissa}{}",
            exponent_suffix(if upper { 'E' } else { 'e' }, exp)
        )
    }
}

/// Inserts `sep` every `every` digits from the right.
fn group(digits: &str, sep: Option<char>, every: usize) -> String {
    let Some(sep) = sep else {
        return digits.to_owned();
    };
    let n = digits.len();
    let mut out = String::with_capacity(n + n / every);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (n - i).is_multiple_of(every) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// Pads `sign + body` to the spec's width with its fill and alignment.
fn pad(sign: &str, body: &str, s: &Spec, default_align: char) -> String {
    let len = sign.chars().count() + body.chars().count();
    if len >= s.width {
        return format!("{sign}{body}");
    }
    let fill = s.fill.unwrap_or(' ');
    let align = s.align.unwrap_or(if s.zero && default_align == '>' {
        '='
    } else {
        default_align
    });
    let n = s.width - len;
    let fills = |k: usize| fill.to_string().repeat(k);
    match align {
        '<' => format!("{sign}{body}{}", fills(n)),
        '^' => format!("{}{sign}{body}{}", fills(n / 2), fills(n - n / 2)),
        '=' => format!("{sign}{}{body}", fills(n)),
        _ => format!("{}{sign}{body}", fills(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(template: &str, v: Value) -> String {
        format(template, &[v], &[]).unwrap()
    }

    #[test]
    fn floats_format_as_python() {
        let cases = [
            ("{:.2f}", 100.0, "100.00"),
            ("{:+.8E}", 1.0, "+1.00000000E+00"),
            ("{:+.8E}", -0.000123, "-1.23000000E-04"),
            ("{:e}", 12345.678, "1.234568e+04"),
            ("{:g}", 0.0001, "0.0001"),
            ("{:g}", 0.00001, "1e-05"),
            ("{:g}", 123456789.0, "1.23457e+08"),
            ("{:g}", 100.0, "100"),
            ("{:.3g}", 2.5, "2.5"),
            ("{:#g}", 2.5, "2.50000"),
            ("{}", 5.0, "5.0"),
            ("{}", 1e-7, "1e-07"),
            ("{:.3}", 1.0, "1.0"),
            ("{:.3}", 1234.5, "1.23e+03"),
            ("{:.3}", 100.0, "1e+02"),
            ("{:10.3f}", -1.5, "    -1.500"),
            ("{:<8.1f}|", 2.0, "2.0     |"),
            ("{:08.2f}", -3.14659, "-0003.15"),
            ("{:,.1f}", 1234567.25, "1,234,567.2"),
            ("{:.1%}", 0.256, "25.6%"),
            ("{:f}", f64::INFINITY, "inf"),
            ("{:F}", f64::NAN, "NAN"),
            ("V={:.1f} V", 5.0, "V=5.0 V"),
        ];
        for (t, x, want) in cases {
            assert_eq!(f(t, Value::Float(x)), want, "{t} {x}");
        }
    }

    #[test]
    fn ints_and_strings_format_as_python() {
        assert_eq!(f("{:d}", Value::Int(42)), "42");
        assert_eq!(f("{:+d}", Value::Int(42)), "+42");
        assert_eq!(f("{:05d}", Value::Int(-42)), "-0042");
        assert_eq!(f("{:#x}", Value::Int(255)), "0xff");
        assert_eq!(f("{:_b}", Value::Int(255)), "1111_1111");
        assert_eq!(f("{:.2f}", Value::Int(3)), "3.00");
        assert_eq!(f("{}", Value::Int(3)), "3");
        assert_eq!(f("{:s}", Value::Str("P6V".into())), "P6V");
        assert_eq!(f("{:>5}", Value::Str("ab".into())), "   ab");
        assert_eq!(f("{:^6}", Value::Str("ab".into())), "  ab  ");
        assert_eq!(f("{:.1}", Value::Str("ab".into())), "a");
        assert_eq!(f("{!r}", Value::Str("ab".into())), "'ab'");
        assert_eq!(f("{{{}}}", Value::Int(1)), "{1}");
        assert_eq!(f("{0}-{0}", Value::Int(1)), "1-1");
    }

    #[test]
    fn python_errors_are_errors() {
        let err = format("{:d}", &[Value::Str("0".into())], &[]).unwrap_err();
        assert_eq!(err, "Unknown format code 'd' for object of type 'str'");
        assert!(format("{:d}", &[Value::Float(1.0)], &[]).is_err());
        assert!(format("{} {}", &[Value::Int(1)], &[]).is_err());
        assert!(format("{name}", &[], &[]).is_err());
        assert!(format("a } b", &[], &[]).is_err());
        assert!(format("{", &[], &[]).is_err());
        assert!(format("{:+s}", &[Value::Str("x".into())], &[]).is_err());
    }

    #[test]
    fn named_arguments() {
        let named = [("ch_id", Value::Str("2".into()))];
        assert_eq!(
            format("CH {ch_id}:VOLT?", &[], &named).unwrap(),
            "CH 2:VOLT?"
        );
    }

    #[test]
    fn templates_split_like_formatter_parse() {
        let pieces = parse_template("VOLT {:.3f} {ch_id}").unwrap();
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0].literal, "VOLT ");
        let field = pieces[0].field.as_ref().unwrap();
        assert_eq!((field.name.as_str(), field.spec.as_str()), ("", ".3f"));
        assert_eq!(pieces[1].field.as_ref().unwrap().name, "ch_id");
    }
}
