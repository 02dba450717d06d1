//! Solr date math: `NOW`, ISO dates and times, `-1DAY`, `/MONTH`.

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveTime, TimeDelta, Timelike, Utc};

/// Parses `NOW`, `2024-01-01T00:00:00Z`, `2024-01-01T00:00:00.5`,
/// `2024-01-01` and so on, followed by Solr date math such as `-1DAY` or
/// `/DAY`.
pub(super) fn parse_date_math(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, &'static str> {
    let (mut t, rest) = match s.strip_prefix("NOW") {
        Some(r) => (now, r),
        None => parse_date_prefix(s)?,
    };
    let mut chars = rest.chars().peekable();
    while let Some(op) = chars.next() {
        match op {
            '/' => {
                let unit = take_unit(&mut chars);
                t = round_date(t, &unit).ok_or("invalid rounding in date math")?;
            }
            '+' | '-' => {
                let mut n: i64 = 0;
                let mut any = false;
                while let Some(d) = chars.peek().and_then(|c| c.to_digit(10)) {
                    chars.next();
                    n = n
                        .checked_mul(10)
                        .and_then(|n| n.checked_add(i64::from(d)))
                        .ok_or("number too large")?;
                    any = true;
                }
                if !any {
                    return Err("expected a number in date math");
                }
                let unit = take_unit(&mut chars);
                t = add_date(t, if op == '-' { -n } else { n }, &unit)
                    .ok_or("date out of range")?;
            }
            _ => return Err("unexpected character in date math"),
        }
    }
    Ok(t)
}

fn take_unit(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    let mut unit = String::new();
    while let Some(c) = chars.peek().copied().filter(char::is_ascii_alphabetic) {
        chars.next();
        unit.push(c.to_ascii_uppercase());
    }
    unit
}

fn round_date(t: DateTime<Utc>, unit: &str) -> Option<DateTime<Utc>> {
    let d = t.date_naive();
    let n = match unit {
        "YEAR" | "YEARS" => NaiveDate::from_ymd_opt(d.year(), 1, 1)?.and_hms_opt(0, 0, 0)?,
        "MONTH" | "MONTHS" => {
            NaiveDate::from_ymd_opt(d.year(), d.month(), 1)?.and_hms_opt(0, 0, 0)?
        }
        "DAY" | "DAYS" | "DATE" => d.and_hms_opt(0, 0, 0)?,
        "HOUR" | "HOURS" => d.and_hms_opt(t.hour(), 0, 0)?,
        "MINUTE" | "MINUTES" => d.and_hms_opt(t.hour(), t.minute(), 0)?,
        "SECOND" | "SECONDS" => d.and_hms_opt(t.hour(), t.minute(), t.second())?,
        "MILLI" | "MILLIS" | "MILLISECOND" | "MILLISECONDS" => d.and_hms_milli_opt(
            t.hour(),
            t.minute(),
            t.second(),
            t.timestamp_subsec_millis(),
        )?,
        _ => return None,
    };
    Some(n.and_utc())
}

fn add_date(t: DateTime<Utc>, n: i64, unit: &str) -> Option<DateTime<Utc>> {
    let months = |m: i64| {
        let m = Months::new(u32::try_from(m.unsigned_abs()).ok()?);
        if n >= 0 {
            t.checked_add_months(m)
        } else {
            t.checked_sub_months(m)
        }
    };
    let delta = match unit {
        "YEAR" | "YEARS" => return months(n.checked_mul(12)?),
        "MONTH" | "MONTHS" => return months(n),
        "WEEK" | "WEEKS" => TimeDelta::try_weeks(n)?,
        "DAY" | "DAYS" | "DATE" => TimeDelta::try_days(n)?,
        "HOUR" | "HOURS" => TimeDelta::try_hours(n)?,
        "MINUTE" | "MINUTES" => TimeDelta::try_minutes(n)?,
        "SECOND" | "SECONDS" => TimeDelta::try_seconds(n)?,
        "MILLI" | "MILLIS" | "MILLISECOND" | "MILLISECONDS" => TimeDelta::try_milliseconds(n)?,
        _ => return None,
    };
    t.checked_add_signed(delta)
}

/// Parses `YYYY-MM-DD[THH:MM[:SS[.fff]]][Z]` at the start of `s`; returns
/// the instant (UTC) and what follows.
fn parse_date_prefix(s: &str) -> Result<(DateTime<Utc>, &str), &'static str> {
    const BAD: &str = "expected a date like 2024-01-01T00:00:00Z or NOW";
    let b = s.as_bytes();
    let mut i = 0usize;
    let num = |i: &mut usize, n: usize| -> Option<u32> {
        let part = b.get(*i..*i + n)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        *i += n;
        Some(part.iter().fold(0u32, |a, d| a * 10 + u32::from(d - b'0')))
    };
    let expect = |i: &mut usize, c: u8| -> Option<()> { (b.get(*i) == Some(&c)).then(|| *i += 1) };
    let year = num(&mut i, 4).ok_or(BAD)?;
    expect(&mut i, b'-').ok_or(BAD)?;
    let month = num(&mut i, 2).ok_or(BAD)?;
    expect(&mut i, b'-').ok_or(BAD)?;
    let day = num(&mut i, 2).ok_or(BAD)?;
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).map_err(|_| BAD)?, month, day)
        .ok_or("invalid date")?;
    let mut time = NaiveTime::MIN;
    if expect(&mut i, b'T').is_some() {
        let hour = num(&mut i, 2).ok_or(BAD)?;
        expect(&mut i, b':').ok_or(BAD)?;
        let minute = num(&mut i, 2).ok_or(BAD)?;
        let mut second = 0;
        let mut nano = 0;
        if expect(&mut i, b':').is_some() {
            second = num(&mut i, 2).ok_or(BAD)?;
            if expect(&mut i, b'.').is_some() {
                let start = i;
                while b.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                let digits = b.get(start..i).unwrap_or(&[]);
                if digits.is_empty() {
                    return Err(BAD);
                }
                for k in 0..9 {
                    nano = nano * 10 + digits.get(k).map_or(0, |d| u32::from(d - b'0'));
                }
            }
        }
        time = NaiveTime::from_hms_nano_opt(hour, minute, second, nano).ok_or("invalid time")?;
    }
    expect(&mut i, b'Z');
    let rest = s.get(i..).ok_or(BAD)?;
    Ok((date.and_time(time).and_utc(), rest))
}
