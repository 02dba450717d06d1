//! The postal-code directory: which prefecture, city and town a 郵便番号
//! stands for, read from Japan Post's data (郵便番号データ, which Japan Post
//! publishes without claiming copyright).
//!
//! Two formats are read, both as text (the caller decodes Shift_JIS):
//! - Japan Post's own CSV, `KEN_ALL.CSV` / `utf_ken_all.csv` (15 columns,
//!   code in the third), with its quirks: notes in parentheses, a town split
//!   over several lines when the note is long, "以下に掲載がない場合" and
//!   "…の次に番地がくる場合" meaning no town, "…一円" meaning the whole city;
//! - the compact form `scripts/setup-postal-codes` writes: one line per place,
//!   `code<TAB>prefecture<TAB>city<TAB>town`, `#` starting a comment.

use std::collections::HashMap;
use std::sync::Arc;

use crate::postal::PostalCode;

/// A place a postal code stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub prefecture: Arc<str>,
    pub city: Arc<str>,
    /// 町域; empty when the code covers the whole city or the rest of it.
    pub town: Box<str>,
}

/// Every postal code with its places, sorted by code.
#[derive(Debug, Default)]
pub struct PostalDirectory {
    entries: Vec<(u32, Place)>,
}

/// Why a directory file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct DirectoryError {
    pub line: usize,
    pub reason: String,
}

#[derive(Default)]
struct Interner(HashMap<String, Arc<str>>);

impl Interner {
    fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.0.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.0.insert(s.to_string(), a.clone());
        a
    }
}

impl PostalDirectory {
    /// Reads either format (see the module's documentation).
    pub fn parse(text: &str) -> Result<PostalDirectory, DirectoryError> {
        let text = text.trim_start_matches('\u{feff}');
        let first = text
            .lines()
            .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .unwrap_or_default();
        if first.contains('\t') || first.is_empty() {
            Self::parse_tsv(text)
        } else {
            Self::parse_ken_all(text)
        }
    }

    fn parse_tsv(text: &str) -> Result<PostalDirectory, DirectoryError> {
        let mut names = Interner::default();
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let [code, prefecture, city, town] = cols[..] else {
                return Err(DirectoryError {
                    line: i + 1,
                    reason: format!("expected 4 tab-separated columns, found {}", cols.len()),
                });
            };
            let code = code_number(code).ok_or_else(|| DirectoryError {
                line: i + 1,
                reason: format!("not a postal code: {code}"),
            })?;
            entries.push((
                code,
                Place {
                    prefecture: names.get(prefecture),
                    city: names.get(city),
                    town: town.into(),
                },
            ));
        }
        Ok(Self::sorted(entries))
    }

    fn parse_ken_all(text: &str) -> Result<PostalDirectory, DirectoryError> {
        let mut names = Interner::default();
        let mut entries = Vec::new();
        // A town whose note did not close on its line continues on the next.
        let mut open: Option<(u32, Arc<str>, Arc<str>, String)> = None;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split(',').map(|c| c.trim_matches('"')).collect();
            let (Some(code), Some(prefecture), Some(city), Some(town)) =
                (cols.get(2), cols.get(6), cols.get(7), cols.get(8))
            else {
                return Err(DirectoryError {
                    line: i + 1,
                    reason: format!(
                        "expected Japan Post's 15 columns, found {} (or the compact 4-column TSV)",
                        cols.len()
                    ),
                });
            };
            let (prefecture, city, town) = (*prefecture, *city, *town);
            let code = code_number(code).ok_or_else(|| DirectoryError {
                line: i + 1,
                reason: format!("not a postal code: {code}"),
            })?;
            let town = match open.take() {
                Some((c, p, ci, mut so_far)) if c == code => {
                    so_far.push_str(town);
                    if unclosed(&so_far) {
                        open = Some((c, p, ci, so_far));
                        continue;
                    }
                    so_far
                }
                Some((c, p, ci, so_far)) => {
                    // A note that never closed: keep what came before it.
                    entries.push((c, place(p, ci, &so_far)));
                    town.to_string()
                }
                None => town.to_string(),
            };
            let prefecture = names.get(prefecture);
            let city = names.get(city);
            if unclosed(&town) {
                open = Some((code, prefecture, city, town));
                continue;
            }
            entries.push((code, place(prefecture, city, &town)));
        }
        if let Some((c, p, ci, so_far)) = open {
            entries.push((c, place(p, ci, &so_far)));
        }
        Ok(Self::sorted(entries))
    }

    fn sorted(mut entries: Vec<(u32, Place)>) -> PostalDirectory {
        entries.sort_by_key(|(c, _)| *c);
        entries.dedup();
        entries.shrink_to_fit();
        PostalDirectory { entries }
    }

    /// The places of `code`, in the data's order; empty when it is unknown.
    pub fn lookup(&self, code: &PostalCode) -> Vec<&Place> {
        let Some(n) = code_number(&code.digits()) else {
            return Vec::new();
        };
        let start = self.entries.partition_point(|(c, _)| *c < n);
        self.entries
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|(c, _)| *c == n)
            .map(|(_, p)| p)
            .collect()
    }

    /// How many places the directory holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn code_number(s: &str) -> Option<u32> {
    let s = s.trim();
    (s.len() == 7 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn unclosed(town: &str) -> bool {
    town.matches('（').count() > town.matches('）').count()
}

fn place(prefecture: Arc<str>, city: Arc<str>, town: &str) -> Place {
    Place {
        prefecture,
        city,
        town: clean_town(town).into(),
    }
}

/// The town as an address is written: without Japan Post's notes.
fn clean_town(town: &str) -> String {
    let town = town.split('（').next().unwrap_or_default();
    if town == "以下に掲載がない場合" || town.ends_with("の次に番地がくる場合")
    {
        return String::new();
    }
    // 「○○町一円」: the whole of a town or village, no town name to add
    // (but 「一円」 alone is a real town in Shiga).
    if let Some(rest) = town.strip_suffix("一円")
        && !rest.is_empty()
    {
        return String::new();
    }
    town.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEN_ALL: &str = "\
24201,\"514  \",\"5140000\",\"ﾐｴｹﾝ\",\"ﾂｼ\",\"ｲｶﾆｹｲｻｲｶﾞﾅｲﾊﾞｱｲ\",\"三重県\",\"津市\",\"以下に掲載がない場合\",0,0,0,0,0,0
24201,\"514  \",\"5140006\",\"ﾐｴｹﾝ\",\"ﾂｼ\",\"ｺｳﾒｲﾁｮｳ\",\"三重県\",\"津市\",\"広明町\",0,0,0,0,0,0
01101,\"060  \",\"0600042\",\"ﾎｯｶｲﾄﾞｳ\",\"ｻｯﾎﾟﾛｼﾁｭｳｵｳｸ\",\"ｵｵﾄﾞｵﾘﾆｼ(1-19ﾁｮｳﾒ)\",\"北海道\",\"札幌市中央区\",\"大通西（１～１９丁目）\",1,0,1,0,0,0
26102,\"602  \",\"6020847\",\"ｷｮｳﾄﾌ\",\"ｷｮｳﾄｼｶﾐｷﾞｮｳｸ\",\"ｵｵﾐﾔﾁｮｳ(ｲﾏﾃﾞｶﾞﾜﾄﾞｵﾘ\",\"京都府\",\"京都市上京区\",\"大宮町（今出川通大宮東入、今出川通大宮西入、\",0,0,0,1,0,0
26102,\"602  \",\"6020847\",\"ｷｮｳﾄﾌ\",\"ｷｮｳﾄｼｶﾐｷﾞｮｳｸ\",\"ﾀﾞｲｺｸﾁｮｳ)\",\"京都府\",\"京都市上京区\",\"大宮通今出川上る）\",0,0,0,1,0,0
26102,\"602  \",\"6020847\",\"ｷｮｳﾄﾌ\",\"ｷｮｳﾄｼｶﾐｷﾞｮｳｸ\",\"ﾀｲｺｳﾁｮｳ\",\"京都府\",\"京都市上京区\",\"大宮町\",0,0,0,1,0,0
13362,\"10003\",\"1000301\",\"ﾄｳｷｮｳﾄ\",\"ﾄｼﾏﾑﾗ\",\"ﾄｼﾏﾑﾗｲﾁｴﾝ\",\"東京都\",\"利島村\",\"利島村一円\",0,0,0,0,0,0
25443,\"52203\",\"5220317\",\"ｼｶﾞｹﾝ\",\"ｲﾇｶﾐｸﾞﾝﾀｶﾞﾁｮｳ\",\"ｲﾁｴﾝ\",\"滋賀県\",\"犬上郡多賀町\",\"一円\",0,0,0,0,0,0
";

    fn one(d: &PostalDirectory, code: &str) -> Vec<String> {
        d.lookup(&PostalCode::parse(code).unwrap())
            .iter()
            .map(|p| format!("{}|{}|{}", p.prefecture, p.city, p.town))
            .collect()
    }

    #[test]
    fn japan_posts_csv_with_its_quirks() {
        let d = PostalDirectory::parse(KEN_ALL).unwrap();
        assert_eq!(one(&d, "514-0006"), ["三重県|津市|広明町"]);
        assert_eq!(one(&d, "〒５１４００００"), ["三重県|津市|"]);
        assert_eq!(one(&d, "060-0042"), ["北海道|札幌市中央区|大通西"]);
        // A note over two lines, then a second town under the same code.
        assert_eq!(one(&d, "602-0847"), ["京都府|京都市上京区|大宮町"]);
        assert_eq!(one(&d, "100-0301"), ["東京都|利島村|"]);
        assert_eq!(one(&d, "522-0317"), ["滋賀県|犬上郡多賀町|一円"]);
        assert!(one(&d, "999-9999").is_empty());
    }

    #[test]
    fn compact_form() {
        let d = PostalDirectory::parse(
            "# postal codes\n5140006\t三重県\t津市\t広明町\n9300001\t富山県\t富山市\t\n9300001\t富山県\t富山市\t奥田町\n",
        )
        .unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(one(&d, "514-0006"), ["三重県|津市|広明町"]);
        assert_eq!(
            one(&d, "930-0001"),
            ["富山県|富山市|", "富山県|富山市|奥田町"]
        );
        let bad = PostalDirectory::parse("5140006\t三重県\t津市\n").unwrap_err();
        assert_eq!(bad.line, 1);
        let bad = PostalDirectory::parse("51400X6\t三重県\t津市\t\n").unwrap_err();
        assert!(bad.reason.contains("51400X6"));
        assert!(PostalDirectory::parse("").unwrap().is_empty());
    }
}
