//! The Japanese fiscal year (年度), which runs from 1 April to 31 March.
//!
//! A fiscal year is identified by the Western year in which it starts
//! (FY2025 = 2025-04-01..=2026-03-31).
//!
//! Era labels follow the calendar-year convention for 元年: the fiscal year
//! is named after the era in force at the end of the calendar year in which
//! it starts. FY2019 started on 2019-04-01 under 平成 but is called
//! `令和元年度` (the government's convention after the 2019 era change), and
//! `平成31年度` is never produced; likewise FY1989 is `平成元年度`, FY1926
//! `昭和元年度` and FY1912 `大正元年度`.

use chrono::{Datelike, NaiveDate};

use crate::wareki::to_wareki;

/// The fiscal year of `date`: the Western year in which its fiscal year
/// starts (2026-03-31 → 2025, 2026-04-01 → 2026).
pub fn fiscal_year_of(date: NaiveDate) -> i32 {
    if date.month() >= 4 {
        date.year()
    } else {
        date.year() - 1
    }
}

/// The era and era year that name a fiscal year, or `None` when the fiscal
/// year is outside the era calendar (before 1873).
fn fiscal_era(fy: i32) -> Option<(crate::wareki::Era, u32)> {
    let year_end = NaiveDate::from_ymd_opt(fy, 12, 31)?;
    let (era, year, _, _) = to_wareki(year_end)?;
    Some((era, year))
}

/// The Japanese label of a fiscal year, e.g. `令和7年度` for 2025,
/// `令和元年度` for 2019, `平成30年度` for 2018. Outside the era calendar
/// (before 1873) the Western year is used, e.g. `1872年度`.
pub fn fiscal_year_label_ja(fy: i32) -> String {
    match fiscal_era(fy) {
        Some((era, 1)) => format!("{}元年度", era.name_ja()),
        Some((era, year)) => format!("{}{}年度", era.name_ja(), year),
        None => format!("{fy}年度"),
    }
}

/// The English label of a fiscal year, e.g. `FY2025`.
pub fn fiscal_year_label_en(fy: i32) -> String {
    format!("FY{fy}")
}

/// The short era label used in receipt numbers, e.g. `R7` for 2025, `R1`
/// for 2019, `H30` for 2018. Outside the era calendar (before 1873) the
/// Western year is used, e.g. `1872`.
pub fn fiscal_year_short(fy: i32) -> String {
    match fiscal_era(fy) {
        Some((era, year)) => format!("{}{}", era.initial(), year),
        None => fy.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn fiscal_year_boundaries() {
        assert_eq!(fiscal_year_of(d(2026, 3, 31)), 2025);
        assert_eq!(fiscal_year_of(d(2026, 4, 1)), 2026);
        assert_eq!(fiscal_year_of(d(2025, 1, 1)), 2024);
        assert_eq!(fiscal_year_of(d(2025, 12, 31)), 2025);
        assert_eq!(fiscal_year_of(NaiveDate::MIN), NaiveDate::MIN.year() - 1);
        assert_eq!(fiscal_year_of(NaiveDate::MAX), NaiveDate::MAX.year());
    }

    #[test]
    fn japanese_labels() {
        assert_eq!(fiscal_year_label_ja(2025), "令和7年度");
        assert_eq!(fiscal_year_label_ja(2020), "令和2年度");
        assert_eq!(fiscal_year_label_ja(2019), "令和元年度");
        assert_eq!(fiscal_year_label_ja(2018), "平成30年度");
        assert_eq!(fiscal_year_label_ja(1989), "平成元年度");
        assert_eq!(fiscal_year_label_ja(1988), "昭和63年度");
        assert_eq!(fiscal_year_label_ja(1926), "昭和元年度");
        assert_eq!(fiscal_year_label_ja(1925), "大正14年度");
        assert_eq!(fiscal_year_label_ja(1912), "大正元年度");
        assert_eq!(fiscal_year_label_ja(1911), "明治44年度");
        assert_eq!(fiscal_year_label_ja(1873), "明治6年度");
        assert_eq!(fiscal_year_label_ja(1872), "1872年度");
        assert_eq!(fiscal_year_label_ja(i32::MAX), format!("{}年度", i32::MAX));
        assert_eq!(fiscal_year_label_ja(i32::MIN), format!("{}年度", i32::MIN));
    }

    #[test]
    fn heisei_31_nendo_is_never_produced() {
        for fy in 1800..=2200 {
            assert_ne!(fiscal_year_label_ja(fy), "平成31年度");
            assert_ne!(fiscal_year_short(fy), "H31");
        }
    }

    #[test]
    fn english_and_short_labels() {
        assert_eq!(fiscal_year_label_en(2025), "FY2025");
        assert_eq!(fiscal_year_short(2025), "R7");
        assert_eq!(fiscal_year_short(2019), "R1");
        assert_eq!(fiscal_year_short(2018), "H30");
        assert_eq!(fiscal_year_short(1988), "S63");
        assert_eq!(fiscal_year_short(1872), "1872");
    }
}
