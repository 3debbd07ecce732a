//! Small, deterministic, hand-written SVG plots (no script, no network): a bar chart, a
//! stacked histogram over time, and a line chart.

use std::fmt::Write as _;

use super::html_escape;

/// Colours of the series, in order (colour-blind friendly, Okabe–Ito).
pub const PALETTE: [&str; 9] = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
    "#999999",
];

const WIDTH: f64 = 720.0;

/// Horizontal bars, one per `(label, value)`.
pub fn bar_chart(title: &str, bars: &[(String, f64)]) -> String {
    let row = 22.0;
    let label_w = 220.0;
    let height = 30.0 + row * bars.len() as f64;
    let max = bars.iter().map(|b| b.1).fold(0.0, f64::max).max(1e-12);
    let mut out = open(title, height);
    for (i, (label, value)) in bars.iter().enumerate() {
        let y = 24.0 + row * i as f64;
        let w = (WIDTH - label_w - 80.0) * value / max;
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="12">{}</text><rect x="{label_w:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="12">{}</text>"#,
            label_w - 6.0,
            y + 13.0,
            html_escape(&shorten(label, 32)),
            y + 2.0,
            row - 6.0,
            PALETTE[i % PALETTE.len()],
            label_w + w + 4.0,
            y + 13.0,
            number(*value)
        );
    }
    out.push_str("</svg>");
    out
}

/// Events over time: `series` are `(name, counts per bin)`, stacked; `bin_width` is the
/// time of one bin in `unit`.
pub fn stacked_histogram(
    title: &str,
    series: &[(String, Vec<usize>)],
    bin_width: f64,
    unit: &str,
) -> String {
    let bins = series.first().map_or(0, |s| s.1.len());
    let (left, top, plot_h) = (50.0, 24.0, 180.0);
    let legend_rows = series.len().div_ceil(3);
    let height = top + plot_h + 40.0 + 18.0 * legend_rows as f64;
    let totals: Vec<usize> = (0..bins)
        .map(|b| series.iter().map(|s| s.1[b]).sum())
        .collect();
    let max = totals.iter().copied().max().unwrap_or(0).max(1) as f64;
    let plot_w = WIDTH - left - 10.0;
    let bar_w = if bins > 0 {
        plot_w / bins as f64
    } else {
        plot_w
    };
    let mut out = open(title, height);
    axes(&mut out, left, top, plot_w, plot_h, &number(max), "0");
    for b in 0..bins {
        let mut y = top + plot_h;
        for (i, (_, counts)) in series.iter().enumerate() {
            if counts[b] == 0 {
                continue;
            }
            let h = plot_h * counts[b] as f64 / max;
            y -= h;
            let _ = write!(
                out,
                r#"<rect x="{:.1}" y="{y:.1}" width="{:.1}" height="{h:.1}" fill="{}"/>"#,
                left + bar_w * b as f64,
                (bar_w - 0.5).max(0.5),
                PALETTE[i % PALETTE.len()]
            );
        }
    }
    let _ = write!(
        out,
        r#"<text x="{left:.1}" y="{:.1}" font-size="11">0</text><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{} {unit}</text>"#,
        top + plot_h + 14.0,
        left + plot_w,
        top + plot_h + 14.0,
        number(bin_width * bins as f64)
    );
    legend(
        &mut out,
        series.iter().map(|s| s.0.as_str()),
        top + plot_h + 34.0,
    );
    out.push_str("</svg>");
    out
}

/// Lines of `(x, y)` points, each series scaled on its own y range into a shared frame
/// (the legend gives each range).
pub fn line_chart(title: &str, series: &[(String, Vec<(f64, f64)>)], x_unit: &str) -> String {
    let (left, top, plot_h) = (50.0, 24.0, 180.0);
    let plot_w = WIDTH - left - 10.0;
    let legend_rows = series.len();
    let height = top + plot_h + 40.0 + 18.0 * legend_rows as f64;
    let xs = series.iter().flat_map(|s| s.1.iter().map(|p| p.0));
    let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    let (x0, x1) = if x0.is_finite() {
        (x0, x1.max(x0 + 1e-9))
    } else {
        (0.0, 1.0)
    };
    let mut out = open(title, height);
    axes(&mut out, left, top, plot_w, plot_h, "max", "min");
    let mut labels = Vec::new();
    for (i, (name, points)) in series.iter().enumerate() {
        let (y0, y1) = points
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                (a.min(p.1), b.max(p.1))
            });
        let span = if y1 > y0 { y1 - y0 } else { 1.0 };
        let mut path = String::new();
        for (j, (x, y)) in points.iter().enumerate() {
            let px = left + plot_w * (x - x0) / (x1 - x0);
            let py = top + plot_h - plot_h * if y1 > y0 { (y - y0) / span } else { 0.5 };
            let _ = write!(path, "{}{px:.1},{py:.1}", if j == 0 { "M" } else { " L" });
        }
        let colour = PALETTE[i % PALETTE.len()];
        let _ = write!(
            out,
            r#"<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>"#
        );
        if points.len() == 1 {
            let _ = write!(
                out,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"/>"#,
                left,
                top + plot_h / 2.0
            );
        }
        labels.push(format!("{name} [{} … {}]", number(y0), number(y1)));
    }
    let _ = write!(
        out,
        r#"<text x="{left:.1}" y="{:.1}" font-size="11">{} {x_unit}</text><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{} {x_unit}</text>"#,
        top + plot_h + 14.0,
        number(x0),
        left + plot_w,
        top + plot_h + 14.0,
        number(x1)
    );
    let y = top + plot_h + 34.0;
    for (i, label) in labels.iter().enumerate() {
        let _ = write!(
            out,
            r#"<rect x="{left:.1}" y="{:.1}" width="10" height="10" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="12">{}</text>"#,
            y + 18.0 * i as f64 - 9.0,
            PALETTE[i % PALETTE.len()],
            left + 14.0,
            y + 18.0 * i as f64,
            html_escape(&shorten(label, 90))
        );
    }
    out.push_str("</svg>");
    out
}

fn open(title: &str, height: f64) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0}" viewBox="0 0 {WIDTH} {height:.0}" font-family="sans-serif" role="img"><title>{0}</title><text x="4" y="14" font-size="13" font-weight="bold">{0}</text>"#,
        html_escape(title)
    )
}

fn axes(
    out: &mut String,
    left: f64,
    top: f64,
    w: f64,
    h: f64,
    top_label: &str,
    bottom_label: &str,
) {
    let _ = write!(
        out,
        r##"<line x1="{left:.1}" y1="{top:.1}" x2="{left:.1}" y2="{:.1}" stroke="#444"/><line x1="{left:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#444"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"##,
        top + h,
        top + h,
        left + w,
        top + h,
        left - 4.0,
        top + 10.0,
        html_escape(top_label),
        left - 4.0,
        top + h,
        html_escape(bottom_label)
    );
}

fn legend<'a>(out: &mut String, names: impl Iterator<Item = &'a str>, y: f64) {
    for (i, name) in names.enumerate() {
        let x = 50.0 + 225.0 * (i % 3) as f64;
        let y = y + 18.0 * (i / 3) as f64;
        let _ = write!(
            out,
            r#"<rect x="{x:.1}" y="{:.1}" width="10" height="10" fill="{}"/><text x="{:.1}" y="{y:.1}" font-size="12">{}</text>"#,
            y - 9.0,
            PALETTE[i % PALETTE.len()],
            x + 14.0,
            html_escape(&shorten(name, 30))
        );
    }
}

/// A number for a label: integers without decimals, others with up to 4 significant digits.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

fn shorten(text: &str, max: usize) -> String {
    replay_support::text::shorten(text, max)
}

/// A one-line sparkline of `values` (for Markdown, where images cannot be embedded).
pub fn sparkline(values: &[usize]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|&v| {
            if max == 0 || v == 0 {
                ' '
            } else {
                BARS[(v * 7 / max).min(7)]
            }
        })
        .collect()
}
