//! Checking and normalising one cell by its column's kind: codes with
//! check digits, coordinates, counts, telephone numbers, URLs, dates (the
//! Japanese eras too), times, weekdays and 有/無.

use jp::lg_code::LocalGovernmentCode;
use unicode_normalization::UnicodeNormalization;

use super::schema::ColumnKind;

/// A header name for comparison: NFKC, no whitespace or BOM, ASCII
/// lowercase.
pub(super) fn header_key(name: &str) -> String {
    name.nfkc()
        .filter(|c| !c.is_whitespace() && *c != '\u{feff}' && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Trims (ASCII and ideographic spaces), normalises line breaks to `\n`
/// and drops other control characters.
pub(super) fn clean_text(raw: &str) -> String {
    raw.replace("\r\n", "\n")
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect::<String>()
        .trim()
        .to_string()
}

/// NFKC, then [`clean_text`].
fn nfkc(raw: &str) -> String {
    clean_text(&raw.nfkc().collect::<String>())
}

type CellResult = Result<String, (&'static str, String)>;

/// Checks and normalises one cell. An empty cell is `Ok("")`.
pub(super) fn check_cell(kind: ColumnKind, raw: &str) -> CellResult {
    let text = clean_text(raw);
    if text.is_empty() {
        return Ok(String::new());
    }
    match kind {
        ColumnKind::Text => Ok(text),
        ColumnKind::Kana => Ok(nfkc(&text)
            .chars()
            .map(|c| match c {
                '\u{3041}'..='\u{3096}' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
                _ => c,
            })
            .collect()),
        ColumnKind::Code => Ok(nfkc(&text)),
        ColumnKind::LgCode => check_lg_code(&text),
        ColumnKind::Latitude => check_degrees(&text, 90.0, "opendata.row.latitude"),
        ColumnKind::Longitude => check_degrees(&text, 180.0, "opendata.row.longitude"),
        ColumnKind::Count => check_count(&text),
        ColumnKind::Phone => check_phone(&text),
        ColumnKind::CorporateNumber => check_corporate_number(&text),
        ColumnKind::Url => check_url(&text),
        ColumnKind::Date => check_date(&text),
        ColumnKind::Time => check_time(&text),
        ColumnKind::Weekdays => check_weekdays(&text),
        ColumnKind::Presence => check_presence(&text),
        ColumnKind::OneOf(values) => {
            let key = header_key(&text);
            values
                .iter()
                .find(|v| header_key(v) == key)
                .map(|v| v.to_string())
                .ok_or(("opendata.row.one_of", text))
        }
    }
}

fn check_lg_code(text: &str) -> CellResult {
    if let Ok(code) = LocalGovernmentCode::parse(text) {
        return Ok(code.as_str().to_string());
    }
    let normalized = nfkc(text);
    let digits: String = normalized.chars().filter(char::is_ascii_digit).collect();
    let only_digits = normalized
        .chars()
        .all(|c| c.is_ascii_digit() || c == '-' || c == ' ');
    if only_digits && (4..=5).contains(&digits.len()) {
        // A 5-digit 団体コード without its check digit, or a code whose
        // leading zero a spreadsheet dropped: suggest the code it may be.
        let complete = |base: &str| -> Vec<String> {
            (0..=9)
                .filter_map(|d| LocalGovernmentCode::parse(&format!("{base}{d}")).ok())
                .map(|c| c.as_str().to_string())
                .collect()
        };
        let candidates = if digits.len() == 4 {
            complete(&format!("0{digits}"))
        } else {
            let appended = complete(&digits);
            if appended.is_empty() {
                LocalGovernmentCode::parse(&format!("0{digits}"))
                    .map(|c| vec![c.as_str().to_string()])
                    .unwrap_or_default()
            } else {
                appended
            }
        };
        let value = if candidates.is_empty() {
            normalized
        } else {
            format!("{normalized} → {}", candidates.join(" / "))
        };
        return Err(("opendata.row.lg_code_short", value));
    }
    Err(("opendata.row.lg_code", text.to_string()))
}

fn check_degrees(text: &str, limit: f64, code: &'static str) -> CellResult {
    let value = nfkc(text).replace(['−', '－', '‐'], "-");
    let ok = value
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+'))
        && value
            .parse::<f64>()
            .is_ok_and(|v| v.is_finite() && (-limit..=limit).contains(&v));
    if ok {
        Ok(value)
    } else {
        Err((code, text.to_string()))
    }
}

fn check_count(text: &str) -> CellResult {
    let value = nfkc(text);
    let digits = value.trim_end_matches(['人', '名']).trim().replace(',', "");
    if !digits.is_empty() && digits.len() <= 12 && digits.chars().all(|c| c.is_ascii_digit()) {
        let trimmed = digits.trim_start_matches('0');
        Ok(if trimmed.is_empty() { "0" } else { trimmed }.to_string())
    } else {
        Err(("opendata.row.integer", text.to_string()))
    }
}

fn check_phone(text: &str) -> CellResult {
    let value: String = nfkc(text)
        .chars()
        .map(|c| match c {
            '‐' | '‑' | '‒' | '–' | '—' | '―' | '−' | 'ー' | 'ｰ' => '-',
            _ => c,
        })
        .collect();
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | '(' | ')' | '+' | ' '));
    if allowed && (3..=15).contains(&digits) {
        Ok(value)
    } else {
        Err(("opendata.row.phone", text.to_string()))
    }
}

/// 法人番号: 13 digits, the first a check digit: `9 − (Σ Pn·Qn mod 9)`
/// over the other twelve, `Qn` 1 for odd `n` and 2 for even `n` counted
/// from the right.
fn check_corporate_number(text: &str) -> CellResult {
    let value: String = nfkc(text)
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .collect();
    let digits: Vec<u32> = value.chars().filter_map(|c| c.to_digit(10)).collect();
    let valid = digits.len() == 13
        && value.chars().all(|c| c.is_ascii_digit())
        && digits.split_first().is_some_and(|(check, rest)| {
            let sum: u32 = rest
                .iter()
                .rev()
                .enumerate()
                .map(|(i, d)| d * if i % 2 == 0 { 1 } else { 2 })
                .sum();
            *check == 9 - sum % 9
        });
    if valid {
        Ok(value)
    } else {
        Err(("opendata.row.corporate_number", text.to_string()))
    }
}

fn check_url(text: &str) -> CellResult {
    let value = nfkc(text);
    let lower = value.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    if rest.is_some_and(|r| !r.is_empty()) && !value.chars().any(char::is_whitespace) {
        Ok(value)
    } else {
        Err(("opendata.row.url", text.to_string()))
    }
}

fn check_date(text: &str) -> CellResult {
    let err = || ("opendata.row.date", text.to_string());
    let value = nfkc(text);
    // A date and time from a spreadsheet (`2024/04/01 0:00`): the date.
    let value = value
        .split(|c: char| c.is_whitespace() || c == 'T')
        .next()
        .unwrap_or("")
        .to_string();
    // A Japanese era: 令和6年4月1日, 平成31年4月1日, 令和元年….
    let eras = [("令和", 2018), ("平成", 1988), ("昭和", 1925)];
    let (offset, rest) = eras
        .iter()
        .find_map(|(name, offset)| value.strip_prefix(name).map(|rest| (Some(*offset), rest)))
        .unwrap_or((None, value.as_str()));
    let rest = rest.replacen("元", "1", 1);
    let parts: Vec<&str> = rest
        .split(['-', '/', '.', '年', '月', '日'])
        .filter(|p| !p.trim().is_empty())
        .collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(err());
    };
    let (Ok(y), Ok(m), Ok(d)) = (
        y.trim().parse::<i32>(),
        m.trim().parse::<u32>(),
        d.trim().parse::<u32>(),
    ) else {
        return Err(err());
    };
    let year = match offset {
        Some(offset) if (1..=99).contains(&y) => offset + y,
        Some(_) => return Err(err()),
        None if (1000..=9999).contains(&y) => y,
        None => return Err(err()),
    };
    chrono::NaiveDate::from_ymd_opt(year, m, d)
        .map(|date| date.format("%Y-%m-%d").to_string())
        .ok_or_else(err)
}

fn check_time(text: &str) -> CellResult {
    let err = || ("opendata.row.time", text.to_string());
    let value = nfkc(text);
    let value = value.trim_end_matches('分');
    let parts: Vec<&str> = value.split([':', '時']).collect();
    let (h, m) = match parts.as_slice() {
        [h] | [h, ""] => (*h, "0"),
        [h, m] | [h, m, _] => (*h, *m),
        _ => return Err(err()),
    };
    let valid_part =
        |p: &str| !p.is_empty() && p.len() <= 2 && p.chars().all(|c| c.is_ascii_digit());
    if !valid_part(h) || !valid_part(m) {
        return Err(err());
    }
    if let [_, _, s] = parts.as_slice()
        && !(s.len() == 2 && s.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(err());
    }
    let (Ok(h), Ok(m)) = (h.parse::<u32>(), m.parse::<u32>()) else {
        return Err(err());
    };
    if m > 59 || h > 24 || (h == 24 && m != 0) {
        return Err(err());
    }
    Ok(format!("{h:02}:{m:02}"))
}

const WEEKDAYS: [char; 8] = ['月', '火', '水', '木', '金', '土', '日', '祝'];

fn check_weekdays(text: &str) -> CellResult {
    let err = || ("opendata.row.weekdays", text.to_string());
    let value = nfkc(text)
        .replace("曜日", "")
        .replace('曜', "")
        .replace("祝祭日", "祝")
        .replace("祝日", "祝")
        .replace("祭日", "祝")
        .replace("平日", "月火水木金");
    let mut days = [false; 8];
    if matches!(value.as_str(), "毎日" | "全日" | "年中無休") {
        days.iter_mut().take(7).for_each(|d| *d = true);
    } else {
        let mut chars = value.chars().peekable();
        let mut previous: Option<usize> = None;
        while let Some(c) = chars.next() {
            if let Some(day) = WEEKDAYS.iter().position(|w| *w == c) {
                if let Some(d) = days.get_mut(day) {
                    *d = true;
                }
                previous = Some(day);
            } else if matches!(c, '~' | '〜' | '-' | '－' | '‐' | '−' | '–' | '—') {
                // A range: 月～金 (not across 祝).
                let next = chars
                    .peek()
                    .and_then(|n| WEEKDAYS.iter().position(|w| w == n));
                match (previous, next) {
                    (Some(from), Some(to)) if from < 7 && to < 7 && from <= to => {
                        days.iter_mut()
                            .skip(from)
                            .take(to - from + 1)
                            .for_each(|d| *d = true);
                        previous = Some(to);
                        chars.next();
                    }
                    _ => return Err(err()),
                }
            } else if !matches!(c, ',' | '、' | '・' | ';' | ' ' | '/' | '，') {
                return Err(err());
            }
        }
    }
    if !days.iter().any(|d| *d) {
        return Err(err());
    }
    Ok(WEEKDAYS
        .iter()
        .zip(days)
        .filter(|(_, on)| *on)
        .map(|(d, _)| d.to_string())
        .collect::<Vec<_>>()
        .join(","))
}

fn check_presence(text: &str) -> CellResult {
    let value = nfkc(text).to_lowercase();
    match value.as_str() {
        "有" | "有り" | "あり" | "アリ" | "○" | "〇" | "◯" | "yes" | "true" => {
            Ok("有".to_string())
        }
        "無" | "無し" | "なし" | "ナシ" | "×" | "✕" | "no" | "false" => {
            Ok("無".to_string())
        }
        _ => Err(("opendata.row.presence", text.to_string())),
    }
}
