//! How the pages write dates, sizes, excerpts, paragraphs, Solr terms and
//! download links.

use platform::i18n::Tr;

use crate::model;

/// Datasets on a page of results.
pub(super) const PAGE_SIZE: usize = 20;

/// A CKAN timestamp (UTC) in Japan time: `2025年4月1日` or `1 Apr 2025`,
/// with the time of day when `time`.
pub(super) fn jst(ts: &str, tr: &Tr, time: bool) -> String {
    let Some(t) = model::parse_ckan_time(ts) else {
        return ts.to_string();
    };
    let j = (t + chrono::Duration::hours(9)).naive_utc();
    let date = if tr.is_en() {
        j.format("%-d %b %Y").to_string()
    } else {
        j.format("%Y年%-m月%-d日").to_string()
    };
    if time {
        format!("{date} {}", j.format("%H:%M"))
    } else {
        date
    }
}

/// The same instant for `<time datetime>`.
pub(super) fn jst_iso(ts: &str) -> String {
    model::parse_ckan_time(ts)
        .map(|t| {
            (t + chrono::Duration::hours(9))
                .naive_utc()
                .format("%Y-%m-%dT%H:%M:%S+09:00")
                .to_string()
        })
        .unwrap_or_default()
}

/// A file size for people: `850 B`, `12.3 KB`, `4.5 MB`.
pub(super) fn human_size(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    if b < 1024.0 {
        format!("{bytes} B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.1} KB", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} MB", b / 1024.0 / 1024.0)
    } else {
        format!("{:.1} GB", b / 1024.0 / 1024.0 / 1024.0)
    }
}

/// The first `n` characters of a text on one line, with `…` when cut.
pub(super) fn excerpt(text: &str, n: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= n {
        flat
    } else {
        let mut s: String = flat.chars().take(n).collect();
        s.push('…');
        s
    }
}

/// A text as paragraphs (split at blank lines) of lines, for `<p>` and `<br>`.
pub(super) fn paragraphs(text: &str) -> Vec<Vec<String>> {
    let text = text.replace("\r\n", "\n");
    text.split("\n\n")
        .map(|p| {
            p.lines()
                .map(|l| l.trim_end().to_string())
                .filter(|l| !l.trim().is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|p| !p.is_empty())
        .collect()
}

/// A value as a quoted Solr term (`"a \"b\""`), whatever it holds.
pub(super) fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The relative download URL of a stored file (absolute URLs name the configured site).
pub(super) fn download_path(r: &model::Resource) -> String {
    format!(
        "/dataset/{}/resource/{}/download/{}",
        r.dataset_id,
        r.id,
        platform::web::encode_component(&model::download_name(&r.url))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_for_solr() {
        assert_eq!(quoted("公園"), "\"公園\"");
        assert_eq!(quoted("a\"b\\"), "\"a\\\"b\\\\\"");
    }

    #[test]
    fn sizes_and_excerpts() {
        assert_eq!(human_size(850), "850 B");
        assert_eq!(human_size(12_600), "12.3 KB");
        assert_eq!(human_size(4_718_592), "4.5 MB");
        assert_eq!(excerpt("あ い\nう", 10), "あ い う");
        assert_eq!(excerpt("あいうえお", 3), "あいう…");
    }

    #[test]
    fn notes_become_paragraphs_of_lines() {
        let p = paragraphs("一行目\n二行目\n\n次の段落\r\n");
        assert_eq!(p, vec![vec!["一行目", "二行目"], vec!["次の段落"]]);
    }
}
