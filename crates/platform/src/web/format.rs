//! Values as people read them on a page.

use crate::db::Timestamp;
use crate::i18n::Tr;

/// A time as residents and staff read it: in Japan time, `2026年4月1日 09:30`
/// or `2026-04-01 09:30`.
pub fn format_time(t: &Timestamp, tr: &Tr) -> String {
    let jst = t.jst();
    if tr.is_en() {
        jst.format("%Y-%m-%d %H:%M").to_string()
    } else {
        jst.format("%Y年%-m月%-d日 %H:%M").to_string()
    }
}
