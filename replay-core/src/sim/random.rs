//! `RANDOM(min, max, count)` responses: `"{RANDOM(0, 10.5, 3):.2f}"` answers three
//! uniform values in `[min, max]`, each formatted with the field's spec, joined by `", "`.

use std::sync::LazyLock;

use regex_lite::Regex;

use super::SimError;
use super::pyformat;
use super::value::{Value, parse_py_float, parse_py_int};

/// pyvisa-sim's directive finder (the whole `{…}` field must hold the directive).
static DIRECTIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\{RANDOM\((\d*.\d*), (\d*.\d*), (\d*)\).*\}").expect("valid regex")
});

/// The directive itself, removed from the template before formatting.
static CALL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"RANDOM\((\d*.\d*), (\d*.\d*), (\d*)\)").expect("valid regex"));

/// A small deterministic generator (SplitMix64); seeded per device.
#[derive(Clone, Debug)]
pub(crate) struct Random(u64);

impl Random {
    /// A generator seeded with `seed`.
    pub(crate) fn new(seed: u64) -> Random {
        Random(seed)
    }

    /// A generator seeded from the clock, for devices nobody seeded.
    pub(crate) fn from_clock() -> Random {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Random(nanos ^ 0x9E37_79B9_7F4A_7C15)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A float in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Expands a response holding a `RANDOM` directive.
    pub(crate) fn response(&mut self, template: &str) -> Result<String, SimError> {
        let bad = || {
            SimError::new(format!(
                "wrong RANDOM directive in `{template}`: write `{{RANDOM(min, max, count):spec}}`"
            ))
        };
        let caps = DIRECTIVE.captures(template).ok_or_else(bad)?;
        let min = parse_py_float(&caps[1]).map_err(|_| bad())?;
        let max = parse_py_float(&caps[2]).map_err(|_| bad())?;
        let count = parse_py_int(&caps[3], 10).map_err(|_| bad())?;
        let rest = CALL.replace_all(template, "");
        let mut out = Vec::new();
        for _ in 0..count.max(0) {
            let x = min + (max - min) * self.unit();
            out.push(
                pyformat::format(&rest, &[Value::Float(x)], &[])
                    .map_err(|e| SimError::new(format!("formatting `{template}` failed: {e}")))?,
            );
        }
        Ok(out.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_values_are_in_range_and_formatted() {
        let mut r = Random::new(7);
        let text = r.response("{RANDOM(0, 10.5, 5):.2f}").unwrap();
        let values: Vec<f64> = text.split(", ").map(|v| v.parse().unwrap()).collect();
        assert_eq!(values.len(), 5, "{text}");
        assert!(values.iter().all(|v| (0.0..=10.5).contains(v)), "{text}");
        assert!(
            text.split(", ")
                .all(|v| v.split('.').nth(1).unwrap().len() == 2)
        );
        let one = r.response("{RANDOM(-5, 5, 1):.2f}").unwrap();
        assert!((-5.0..=5.0).contains(&one.parse::<f64>().unwrap()), "{one}");
    }

    #[test]
    fn malformed_directives_fail_as_in_pyvisa_sim() {
        let mut r = Random::new(1);
        assert!(r.response("RANDOM(0, 10.5, 5){:.2f}").is_err());
        assert!(r.response("{RANDOM(0, 10.5):.2f}").is_err());
    }
}
