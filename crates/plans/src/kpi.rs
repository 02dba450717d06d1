//! KPI arithmetic, free of storage: targets as the seeds write them, the
//! achievement ratio (Mie's convention), roll-ups and progress grades.

use serde::Serialize;

/// A target as the plans write them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// A number: `3,300`.
    Value { value: f64 },
    /// A range: `90~100`.
    Range { low: f64, high: f64 },
    /// A lower bound: `50以上`.
    AtLeast { value: f64 },
    /// An upper bound: `10以下`.
    AtMost { value: f64 },
    /// Words: `半数`, `全業務`, `更なる拡大を目指す`.
    Text { text: String },
}

impl Target {
    pub fn from_parts(kind: &str, value: Option<f64>, high: Option<f64>, text: &str) -> Target {
        match (kind, value, high) {
            ("value", Some(v), _) => Target::Value { value: v },
            ("range", Some(l), Some(h)) => Target::Range { low: l, high: h },
            ("at_least", Some(v), _) => Target::AtLeast { value: v },
            ("at_most", Some(v), _) => Target::AtMost { value: v },
            _ => Target::Text {
                text: text.to_string(),
            },
        }
    }

    /// (kind, value, value_high, text) as stored.
    pub fn parts(&self) -> (&'static str, Option<f64>, Option<f64>, String) {
        match self {
            Target::Value { value } => ("value", Some(*value), None, String::new()),
            Target::Range { low, high } => ("range", Some(*low), Some(*high), String::new()),
            Target::AtLeast { value } => ("at_least", Some(*value), None, String::new()),
            Target::AtMost { value } => ("at_most", Some(*value), None, String::new()),
            Target::Text { text } => ("text", None, None, text.clone()),
        }
    }

    /// The target as the seeds write it (`3,300`, `90~100`, `50以上`, `半数`).
    pub fn display(&self, unit: &str) -> String {
        match self {
            Target::Value { value } => format!("{}{unit}", number(*value)),
            Target::Range { low, high } => format!("{}~{}{unit}", number(*low), number(*high)),
            Target::AtLeast { value } => format!("{}{unit}以上", number(*value)),
            Target::AtMost { value } => format!("{}{unit}以下", number(*value)),
            Target::Text { text } => text.clone(),
        }
    }

    /// A number to draw in a chart, if the target has one.
    pub fn chart_value(&self) -> Option<f64> {
        match self {
            Target::Value { value } | Target::AtLeast { value } | Target::AtMost { value } => {
                Some(*value)
            }
            Target::Range { low, .. } => Some(*low),
            Target::Text { .. } => None,
        }
    }
}

/// A number with thousands separators, without needless decimals.
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let negative = v < 0.0;
    let v = v.abs();
    let (int, frac) = if v.fract().abs() < 1e-9 {
        (v as i64, String::new())
    } else {
        let s = format!("{v:.2}");
        let s = s.trim_end_matches('0').trim_end_matches('.').to_string();
        let (i, f) = s.split_once('.').unwrap_or((&s, ""));
        (
            i.parse().unwrap_or(0),
            if f.is_empty() {
                String::new()
            } else {
                format!(".{f}")
            },
        )
    };
    let digits = int.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{}{out}{frac}", if negative { "-" } else { "" })
}

/// Higher or lower is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Higher,
    Lower,
}

impl Direction {
    pub fn parse(s: &str) -> Direction {
        if s == "lower" {
            Direction::Lower
        } else {
            Direction::Higher
        }
    }
}

/// Rounds to two decimals as Mie's report does (31.8 of 40 = 0.795 → 0.80),
/// except that a ratio short of the target never rounds up to 1.00: 0.996 is
/// shown as 0.99, so "achieved" always means achieved.
fn two_decimals(x: f64) -> f64 {
    let r = (x * 100.0 + 1e-9).round() / 100.0;
    if r >= 1.0 && x < 1.0 { 0.99 } else { r }
}

/// The achievement ratio of `actual` against `target`: actual ÷ target,
/// capped at 1.00, rounded to two decimals (Mie's convention). Lower-is-better inverts
/// it (target ÷ actual); a range or a bound is judged against its bound (the
/// lower end of a range when higher is better, the upper end when lower is);
/// words have no ratio. No ratio either when it would divide by zero or the
/// values are not numbers: never NaN, never a panic.
pub fn achievement(target: &Target, actual: Option<f64>, direction: Direction) -> Option<f64> {
    let actual = actual.filter(|a| a.is_finite())?;
    let (bound, dir) = match (target, direction) {
        (Target::Value { value }, d) => (*value, d),
        (Target::Range { low, .. }, Direction::Higher) => (*low, Direction::Higher),
        (Target::Range { high, .. }, Direction::Lower) => (*high, Direction::Lower),
        (Target::AtLeast { value }, _) => (*value, Direction::Higher),
        (Target::AtMost { value }, _) => (*value, Direction::Lower),
        (Target::Text { .. }, _) => return None,
    };
    if !bound.is_finite() {
        return None;
    }
    let ratio = match dir {
        Direction::Higher => {
            if bound <= 0.0 {
                return if bound == 0.0 && actual >= 0.0 {
                    Some(1.0)
                } else {
                    None
                };
            }
            actual / bound
        }
        Direction::Lower => {
            if actual <= 0.0 {
                return if bound >= 0.0 { Some(1.0) } else { None };
            }
            bound / actual
        }
    };
    if !ratio.is_finite() {
        return None;
    }
    Some(two_decimals(ratio.clamp(0.0, 1.0)))
}

/// A roll-up of achievement ratios (per project, vision, department, plan).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RollUp {
    /// KPIs with a ratio for the year.
    pub measured: usize,
    /// Of those, achieved (ratio 1.00).
    pub achieved: usize,
    /// KPIs without a ratio (words, no actual yet).
    pub unmeasured: usize,
    pub share_achieved: Option<f64>,
    pub average_ratio: Option<f64>,
}

pub fn roll_up(ratios: &[Option<f64>]) -> RollUp {
    let measured: Vec<f64> = ratios.iter().filter_map(|r| *r).collect();
    let achieved = measured.iter().filter(|r| **r >= 1.0).count();
    RollUp {
        measured: measured.len(),
        achieved,
        unmeasured: ratios.len() - measured.len(),
        share_achieved: (!measured.is_empty())
            .then(|| two_decimals(achieved as f64 / measured.len() as f64)),
        average_ratio: (!measured.is_empty())
            .then(|| two_decimals(measured.iter().sum::<f64>() / measured.len() as f64)),
    }
}

/// 進展度: A 進んだ, B ある程度進んだ, C あまり進まなかった, D 進まなかった.
pub fn grade(average_ratio: Option<f64>, rules: &crate::data::GradeRules) -> Option<char> {
    let r = average_ratio?;
    Some(if r >= rules.a {
        'A'
    } else if r >= rules.b {
        'B'
    } else if r >= rules.c {
        'C'
    } else {
        'D'
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mie_and_toyama_examples() {
        // Toyama 電子申請対応手続数, FY2021: 1,792 against 3,300.
        assert_eq!(
            achievement(
                &Target::Value { value: 3300.0 },
                Some(1792.0),
                Direction::Higher
            ),
            Some(0.54)
        );
        // Over the target is capped at 1.00.
        assert_eq!(
            achievement(
                &Target::Value { value: 6500.0 },
                Some(7541.0),
                Direction::Higher
            ),
            Some(1.0)
        );
        assert_eq!(
            achievement(
                &Target::Value { value: 100.0 },
                Some(80.0),
                Direction::Higher
            ),
            Some(0.8)
        );
        // Mie's main indicator, FY2021: 31.8% against 40.0%, reported as 0.80.
        assert_eq!(
            achievement(
                &Target::Value { value: 40.0 },
                Some(31.8),
                Direction::Higher
            ),
            Some(0.8)
        );
        // Short of the target is never shown as achieved.
        assert_eq!(
            achievement(
                &Target::Value { value: 1000.0 },
                Some(998.0),
                Direction::Higher
            ),
            Some(0.99)
        );
    }

    #[test]
    fn lower_is_better_ranges_bounds_and_words() {
        assert_eq!(
            achievement(
                &Target::Value { value: 50.0 },
                Some(100.0),
                Direction::Lower
            ),
            Some(0.5)
        );
        assert_eq!(
            achievement(&Target::Value { value: 50.0 }, Some(40.0), Direction::Lower),
            Some(1.0)
        );
        assert_eq!(
            achievement(
                &Target::Range {
                    low: 90.0,
                    high: 100.0
                },
                Some(85.5),
                Direction::Higher
            ),
            Some(0.95)
        );
        assert_eq!(
            achievement(
                &Target::Range {
                    low: 90.0,
                    high: 100.0
                },
                Some(95.0),
                Direction::Higher
            ),
            Some(1.0)
        );
        assert_eq!(
            achievement(
                &Target::AtLeast { value: 50.0 },
                Some(25.0),
                Direction::Higher
            ),
            Some(0.5)
        );
        assert_eq!(
            achievement(
                &Target::Text {
                    text: "半数".into()
                },
                Some(3.0),
                Direction::Higher
            ),
            None
        );
    }

    #[test]
    fn zero_or_missing_never_gives_nan() {
        assert_eq!(
            achievement(&Target::Value { value: 0.0 }, Some(5.0), Direction::Higher),
            Some(1.0)
        );
        assert_eq!(
            achievement(&Target::Value { value: -1.0 }, Some(5.0), Direction::Higher),
            None
        );
        assert_eq!(
            achievement(&Target::Value { value: 10.0 }, None, Direction::Higher),
            None
        );
        assert_eq!(
            achievement(
                &Target::Value { value: f64::NAN },
                Some(1.0),
                Direction::Higher
            ),
            None
        );
        assert_eq!(
            achievement(
                &Target::Value { value: 10.0 },
                Some(f64::INFINITY),
                Direction::Higher
            ),
            None
        );
        assert_eq!(
            achievement(&Target::Value { value: 10.0 }, Some(0.0), Direction::Lower),
            Some(1.0)
        );
    }

    #[test]
    fn roll_ups_and_grades() {
        let r = roll_up(&[Some(1.0), Some(0.54), None, Some(1.0)]);
        assert_eq!((r.measured, r.achieved, r.unmeasured), (3, 2, 1));
        assert_eq!(r.share_achieved, Some(0.67));
        assert_eq!(r.average_ratio, Some(0.85));
        let rules = crate::data::GradeRules::default();
        assert_eq!(grade(Some(1.0), &rules), Some('A'));
        assert_eq!(grade(Some(0.84), &rules), Some('B'));
        assert_eq!(grade(Some(0.6), &rules), Some('C'));
        assert_eq!(grade(Some(0.1), &rules), Some('D'));
        assert_eq!(grade(None, &rules), None);
    }

    #[test]
    fn targets_read_as_the_seeds_write_them() {
        assert_eq!(Target::Value { value: 10000.0 }.display(""), "10,000");
        assert_eq!(
            Target::Range {
                low: 90.0,
                high: 100.0
            }
            .display("%"),
            "90~100%"
        );
        assert_eq!(Target::AtLeast { value: 50.0 }.display(""), "50以上");
        assert_eq!(number(146649.0), "146,649");
        assert_eq!(number(0.5), "0.5");
    }
}
