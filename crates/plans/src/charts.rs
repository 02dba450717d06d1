//! Charts as server-rendered SVG (no JavaScript, no external library). Each
//! chart is an image with a text alternative; the page puts the same data in
//! a table next to it for screen readers and for reading exact values.

use std::fmt::Write;

/// Escapes text for SVG.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One fiscal year of a KPI: its target and actual (as numbers, when they are).
#[derive(Debug, Clone)]
pub struct YearBar {
    pub label: String,
    pub target: Option<f64>,
    pub actual: Option<f64>,
}

const TARGET: &str = "#9db7f9"; // blue-300
const ACTUAL: &str = "#0017c1"; // blue-900
const TEXT: &str = "#333333";
const GRID: &str = "#cccccc";

/// A "nice" axis for values up to `max`: four steps of 1, 2, 2.5 or 5 × 10ⁿ
/// whose top is at least `max`. Returns (step, top).
pub fn axis(max: f64) -> (f64, f64) {
    if !(max.is_finite() && max > 0.0) {
        return (0.25, 1.0);
    }
    let raw = max / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    (step, step * 4.0)
}

/// Target (light) and actual (dark) bars per year; `title` names the chart.
pub fn target_vs_actual(
    id: &str,
    title: &str,
    desc: &str,
    years: &[YearBar],
    legend: (&str, &str),
) -> String {
    let highest = years
        .iter()
        .flat_map(|y| [y.target, y.actual])
        .flatten()
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let (step, max) = axis(highest);
    let (w, h, left, bottom, top) = (640.0, 260.0, 70.0, 40.0, 30.0);
    let plot_h = h - bottom - top;
    let n = years.len().max(1) as f64;
    let slot = (w - left - 10.0) / n;
    let bar = (slot / 3.0).min(40.0);
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"{id}-t {id}-d\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>",
        esc(title),
        esc(desc)
    );
    for i in 0..=4 {
        let v = step * f64::from(i);
        let y = top + plot_h - plot_h * f64::from(i) / 4.0;
        let _ = write!(
            s,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"{GRID}\" stroke-width=\"1\"/>\
             <text x=\"{}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\" fill=\"{TEXT}\">{}</text>",
            w - 10.0,
            left - 6.0,
            y + 4.0,
            esc(&crate::kpi::number(v))
        );
    }
    for (i, y) in years.iter().enumerate() {
        let x0 = left + slot * i as f64 + (slot - bar * 2.0 - 4.0) / 2.0;
        for (j, (v, colour)) in [(y.target, TARGET), (y.actual, ACTUAL)]
            .into_iter()
            .enumerate()
        {
            if let Some(v) = v.filter(|v| v.is_finite() && *v >= 0.0) {
                let bh = plot_h * v / max;
                let _ = write!(
                    s,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{bh:.1}\" fill=\"{colour}\"/>",
                    x0 + (bar + 4.0) * j as f64,
                    top + plot_h - bh
                );
            }
        }
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" fill=\"{TEXT}\">{}</text>",
            left + slot * i as f64 + slot / 2.0,
            h - bottom + 18.0,
            esc(&y.label)
        );
    }
    let _ = write!(
        s,
        "<rect x=\"{left}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{TARGET}\"/><text x=\"{}\" y=\"16\" font-size=\"12\" fill=\"{TEXT}\">{}</text>\
         <rect x=\"{}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{ACTUAL}\"/><text x=\"{}\" y=\"16\" font-size=\"12\" fill=\"{TEXT}\">{}</text></svg>",
        left + 16.0,
        esc(legend.0),
        left + 110.0,
        left + 126.0,
        esc(legend.1)
    );
    s
}

/// A horizontal bar per item for a ratio between 0 and 1 (achievement, shares).
pub fn ratios(id: &str, title: &str, desc: &str, items: &[(String, Option<f64>)]) -> String {
    let row = 28.0;
    let (w, left) = (640.0, 220.0);
    let h = 20.0 + row * items.len().max(1) as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"{id}-t {id}-d\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>",
        esc(title),
        esc(desc)
    );
    let span = w - left - 70.0;
    for (i, (label, v)) in items.iter().enumerate() {
        let y = 10.0 + row * i as f64;
        let short: String = label.chars().take(16).collect();
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\" fill=\"{TEXT}\">{}</text>\
             <rect x=\"{left}\" y=\"{y:.1}\" width=\"{span:.1}\" height=\"16\" fill=\"#f2f2f2\"/>",
            left - 8.0,
            y + 12.0,
            esc(&short)
        );
        if let Some(v) = v.filter(|v| v.is_finite()) {
            let _ = write!(
                s,
                "<rect x=\"{left}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"16\" fill=\"{ACTUAL}\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"{TEXT}\">{:.2}</text>",
                span * v.clamp(0.0, 1.0),
                left + span + 6.0,
                y + 12.0,
                v
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// The roadmap as a timeline: a row per measure, a column per fiscal year,
/// each cell shaded by its status and labelled with `status_label(status)`.
pub fn roadmap(
    id: &str,
    title: &str,
    desc: &str,
    years: &[String],
    rows: &[(String, Vec<Option<&str>>)],
    status_label: impl Fn(&str) -> String,
) -> String {
    let (left, col, row) = (240.0, 110.0, 26.0);
    let w = left + col * years.len() as f64 + 10.0;
    let h = 30.0 + row * rows.len().max(1) as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"{id}-t {id}-d\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>",
        esc(title),
        esc(desc)
    );
    for (j, y) in years.iter().enumerate() {
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"18\" font-size=\"12\" text-anchor=\"middle\" fill=\"{TEXT}\">{}</text>",
            left + col * j as f64 + col / 2.0,
            esc(y)
        );
    }
    for (i, (label, cells)) in rows.iter().enumerate() {
        let y = 26.0 + row * i as f64;
        let short: String = label.chars().take(18).collect();
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\" fill=\"{TEXT}\">{}</text>",
            left - 8.0,
            y + 14.0,
            esc(&short)
        );
        for (j, status) in cells.iter().enumerate() {
            let fill = match status {
                Some("done") => "#197a4b",
                Some("in_progress") => "#0017c1",
                Some("delayed") => "#ce0000",
                Some(_) => "#9db7f9",
                None => "#f2f2f2",
            };
            let mark = status.map(|st| esc(&status_label(st))).unwrap_or_default();
            let text_fill = if matches!(status, Some("planned") | None) {
                TEXT
            } else {
                "#ffffff"
            };
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"20\" fill=\"{fill}\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" fill=\"{text_fill}\">{mark}</text>",
                left + col * j as f64 + 2.0,
                col - 4.0,
                left + col * j as f64 + col / 2.0,
                y + 14.0
            );
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_labelled_and_escape_text() {
        let svg = target_vs_actual(
            "k1",
            "電子申請対応手続数 <累計>",
            "目標と実績",
            &[
                YearBar {
                    label: "R3".into(),
                    target: Some(3300.0),
                    actual: Some(1792.0),
                },
                YearBar {
                    label: "R4".into(),
                    target: None,
                    actual: None,
                },
            ],
            ("目標", "実績"),
        );
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("aria-labelledby=\"k1-t k1-d\""));
        assert!(svg.contains("&lt;累計&gt;"));
        assert!(!svg.contains("NaN"));
        let svg = ratios(
            "r",
            "t",
            "d",
            &[("a".into(), Some(0.54)), ("b".into(), None)],
        );
        assert!(svg.contains("0.54"));
        let svg = roadmap(
            "m",
            "t",
            "d",
            &["R3".into()],
            &[("施策".into(), vec![Some("done")])],
            |s| format!("<{s}>"),
        );
        assert!(svg.contains("&lt;done&gt;"));
    }

    #[test]
    fn axes_are_round() {
        assert_eq!(axis(3.0), (1.0, 4.0));
        assert_eq!(axis(5300.0), (2000.0, 8000.0));
        assert_eq!(axis(100.0), (25.0, 100.0));
        assert_eq!(axis(0.9), (0.25, 1.0));
        assert_eq!(axis(0.0), (0.25, 1.0));
        assert_eq!(axis(f64::NAN), (0.25, 1.0));
    }
}
