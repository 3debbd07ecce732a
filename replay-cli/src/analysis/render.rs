//! Rendering a [`Report`] as Markdown or as self-contained HTML.

use std::fmt::Write as _;

use super::svg::{bar_chart, line_chart, number, sparkline, stacked_histogram};
use super::{Report, html_escape, whatif};

/// Markdown, fit for a GitHub step summary (`$GITHUB_STEP_SUMMARY`): tables, and the
/// timeline as a sparkline (a summary cannot embed images).
pub fn render_markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Replay report: {} `{}`\n",
        report.kind,
        md_cell(&report.path.display().to_string())
    );
    if let Some(v) = &report.validation {
        let _ = writeln!(
            out,
            "**Validation against `{}`: {}**\n",
            md_cell(&v.original.display().to_string()),
            md_cell(&v.summary)
        );
    }
    out.push_str("| | |\n|---|---:|\n");
    for (k, v) in &report.totals {
        let _ = writeln!(out, "| {} | {} |", md_cell(k), md_cell(v));
    }
    if let Some(t) = &report.timing {
        let _ = writeln!(
            out,
            "\n## Timing\n\n| gaps | min | mean | median | p95 | max | rate |\n|---:|---:|---:|---:|---:|---:|---:|\n| {} | {} ms | {} ms | {} ms | {} ms | {} ms | {}/s |",
            t.count,
            number(t.min),
            number(t.mean),
            number(t.p50),
            number(t.p95),
            number(t.max),
            number(t.rate_per_s)
        );
    }
    if !report.timeline.series.is_empty() {
        let _ = writeln!(
            out,
            "\n## Timeline\n\nOne column per {} {}.\n\n```text",
            number(report.timeline.bin_width),
            report.timeline.unit
        );
        let width = report
            .timeline
            .series
            .iter()
            .map(|s| s.0.chars().count())
            .max()
            .unwrap_or(0)
            .min(32);
        for (name, counts) in &report.timeline.series {
            let _ = writeln!(
                out,
                "{:<width$} │{}│",
                replay_support::text::shorten(name, 32),
                sparkline(counts)
            );
        }
        out.push_str("```\n");
    }
    for table in &report.counts {
        if table.rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n## {}\n\n| name | count |\n|---|---:|", table.title);
        for (name, count) in &table.rows {
            let _ = writeln!(out, "| `{}` | {count} |", md_cell(name));
        }
    }
    if !report.measurements.is_empty() {
        out.push_str("\n## Measured values\n\n| series | points | first | last | min | max |\n|---|---:|---:|---:|---:|---:|\n");
        for (label, points) in &report.measurements {
            let (min, max) = points
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                    (a.min(p.1), b.max(p.1))
                });
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} | {} |",
                md_cell(label),
                points.len(),
                number(points[0].1),
                number(points[points.len() - 1].1),
                number(min),
                number(max)
            );
        }
    }
    if !report.errors.is_empty() {
        out.push_str("\n## Errors\n\n");
        for e in &report.errors {
            let _ = writeln!(out, "- {}", md_cell(e));
        }
    }
    if let Some(v) = &report.validation {
        out.push_str("\n## Validation\n\n");
        let _ = writeln!(out, "{}\n", md_cell(&v.summary));
        for d in &v.differences {
            let _ = writeln!(out, "- {}", md_cell(d));
        }
        if let Some(detail) = &v.detail {
            let _ = writeln!(out, "\n```text\n{}\n```", detail.trim_end());
        }
    }
    if let Some(section) = &report.whatif {
        whatif::markdown(&mut out, section);
    }
    out
}

/// Text safe in a Markdown table cell: `|` escaped, newlines as spaces.
pub(super) fn md_cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// A self-contained HTML page: tables and SVG plots inline, no script, no network.
pub fn render_html(report: &Report) -> String {
    let title = format!("Replay report: {}", report.path.display());
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{}</style></head><body>\n<h1>{}</h1>\n",
        html_escape(&title),
        STYLE,
        html_escape(&title)
    );
    if let Some(v) = &report.validation {
        let _ = writeln!(
            out,
            "<p class=\"{}\"><strong>Validation against <code>{}</code>:</strong> {}</p>",
            if v.passed { "pass" } else { "fail" },
            html_escape(&v.original.display().to_string()),
            html_escape(&v.summary)
        );
    }
    out.push_str("<table class=\"totals\">");
    for (k, v) in &report.totals {
        let _ = write!(
            out,
            "<tr><th>{}</th><td>{}</td></tr>",
            html_escape(k),
            html_escape(v)
        );
    }
    out.push_str("</table>\n");
    if let Some(t) = &report.timing {
        let _ = writeln!(
            out,
            "<h2>Timing</h2><table><tr><th>gaps</th><th>min</th><th>mean</th><th>median</th><th>p95</th><th>max</th><th>rate</th></tr><tr><td>{}</td><td>{} ms</td><td>{} ms</td><td>{} ms</td><td>{} ms</td><td>{} ms</td><td>{}/s</td></tr></table>",
            t.count,
            number(t.min),
            number(t.mean),
            number(t.p50),
            number(t.p95),
            number(t.max),
            number(t.rate_per_s)
        );
    }
    if !report.timeline.series.is_empty() {
        let what = if report.kind == "cassette" {
            "Interactions over time, by instrument"
        } else {
            "Events over time, by name"
        };
        let _ = writeln!(
            out,
            "<h2>Timeline</h2><figure>{}</figure>",
            stacked_histogram(
                what,
                &report.timeline.series,
                report.timeline.bin_width,
                report.timeline.unit
            )
        );
    }
    if !report.measurements.is_empty() {
        let _ = writeln!(
            out,
            "<h2>Measured values</h2><figure>{}</figure>",
            line_chart(
                "Numeric responses over the session",
                &report.measurements,
                "s"
            )
        );
    }
    for table in &report.counts {
        if table.rows.is_empty() {
            continue;
        }
        let bars: Vec<(String, f64)> = table
            .rows
            .iter()
            .take(20)
            .map(|(n, c)| (n.clone(), *c as f64))
            .collect();
        let _ = write!(
            out,
            "<h2>{}</h2><figure>{}</figure><table><tr><th>name</th><th>count</th></tr>",
            html_escape(&table.title),
            bar_chart(&table.title, &bars)
        );
        for (name, count) in &table.rows {
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{count}</td></tr>",
                html_escape(name)
            );
        }
        out.push_str("</table>\n");
    }
    if !report.errors.is_empty() {
        out.push_str("<h2>Errors</h2><ul class=\"errors\">");
        for e in &report.errors {
            let _ = write!(out, "<li>{}</li>", html_escape(e));
        }
        out.push_str("</ul>\n");
    }
    if let Some(v) = &report.validation {
        let _ = write!(
            out,
            "<h2>Validation</h2><p class=\"{}\">{}</p><ul>",
            if v.passed { "pass" } else { "fail" },
            html_escape(&v.summary)
        );
        for d in &v.differences {
            let _ = write!(out, "<li>{}</li>", html_escape(d));
        }
        out.push_str("</ul>");
        if let Some(detail) = &v.detail {
            let _ = write!(out, "<pre>{}</pre>", html_escape(detail));
        }
        out.push('\n');
    }
    if let Some(section) = &report.whatif {
        whatif::html(&mut out, section);
    }
    out.push_str("<footer>made by <code>replay report</code></footer></body></html>\n");
    out
}

const STYLE: &str = "body{font-family:sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;color:#222}\
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}\
td:last-child,td.num{text-align:right}.pass{color:#0a6b2e}.fail{color:#b00020}.errors li{color:#b00020}\
pre{background:#f6f6f6;padding:.5rem;overflow:auto}figure{margin:.5rem 0}footer{margin-top:2rem;color:#777;font-size:.8rem}";
