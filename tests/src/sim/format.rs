//! Number formats the simulated instruments answer with.

/// Scientific notation as Keysight instruments send it: `+4.99918100E+00`
/// (`decimals` digits after the point, signed two-digit exponent).
pub(crate) fn sci(value: f64, decimals: usize) -> String {
    let value = if value == 0.0 { 0.0 } else { value }; // no `-0`
    let text = format!("{value:.decimals$e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if mantissa.starts_with('-') { "" } else { "+" };
    let exp_sign = if exponent < 0 { '-' } else { '+' };
    format!("{sign}{mantissa}E{exp_sign}{:02}", exponent.abs())
}

/// Engineering notation with three significant digits, as oscilloscopes send
/// measurements: `+280E-03`, `+1.50E+00`, `+12.3E+03`.
pub(crate) fn eng(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return "+0.00E+00".to_owned();
    }
    let sign = if value < 0.0 { '-' } else { '+' };
    let magnitude = value.abs();
    let mut exponent = (magnitude.log10() / 3.0).floor() as i32 * 3;
    let mut mantissa = magnitude / 10f64.powi(exponent);
    // Rounding to three significant digits may carry into the next power of 1000.
    let digits = |m: f64| {
        if m >= 100.0 {
            3
        } else if m >= 10.0 {
            2
        } else {
            1
        }
    };
    let decimals = 3 - digits(mantissa);
    let scale = 10f64.powi(decimals);
    mantissa = (mantissa * scale).round() / scale;
    if mantissa >= 1000.0 {
        mantissa /= 1000.0;
        exponent += 3;
    }
    let decimals = (3 - digits(mantissa)) as usize;
    let exp_sign = if exponent < 0 { '-' } else { '+' };
    format!(
        "{sign}{mantissa:.decimals$}E{exp_sign}{:02}",
        exponent.abs()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scientific() {
        assert_eq!(sci(4.999181, 8), "+4.99918100E+00");
        assert_eq!(sci(5.0, 8), "+5.00000000E+00");
        assert_eq!(sci(0.0, 8), "+0.00000000E+00");
        assert_eq!(sci(-0.0, 8), "+0.00000000E+00");
        assert_eq!(sci(-0.05, 8), "-5.00000000E-02");
        assert_eq!(sci(1.0e-3, 6), "+1.000000E-03");
        assert_eq!(sci(9.9e37, 8), "+9.90000000E+37");
        assert_eq!(sci(123.0, 2), "+1.23E+02");
    }

    #[test]
    fn engineering() {
        assert_eq!(eng(0.28), "+280E-03");
        assert_eq!(eng(1.5), "+1.50E+00");
        assert_eq!(eng(12_300.0), "+12.3E+03");
        assert_eq!(eng(-0.0042), "-4.20E-03");
        assert_eq!(eng(0.99999), "+1.00E+00");
        assert_eq!(eng(999.96), "+1.00E+03");
        assert_eq!(eng(0.0), "+0.00E+00");
    }
}
