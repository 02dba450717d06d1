//! The datasets the platform publishes about itself: every local government
//! with published procedures gets two, each one CSV file (UTF-8 with a BOM,
//! so that spreadsheet programs read it):
//! - 手続一覧 (the procedure catalogue: what can be applied for, and whether online);
//! - 手続別・月別の申請件数 (applications received per procedure and month:
//!   online here, and on paper where a section recorded it).
//!
//! Domain logic, pure: the publishing job (`service::publishing`) reads the
//! rows and keeps the datasets current with what these functions make.

use std::collections::BTreeMap;

use platform::orgs::Organisation;

use crate::model::{MonthlyApplications, PaperCount, PublishedProcedure};

/// One dataset the platform publishes: its key (which dataset it is, across
/// runs), CKAN name, title, notes and tags, and its one CSV file.
#[derive(Debug, Clone)]
pub struct OwnDataset {
    /// `procedures:<code>` or `applications:<code>`.
    pub key: String,
    pub name: String,
    pub title: String,
    pub notes: String,
    pub tags: &'static [&'static str],
    pub filename: &'static str,
    pub bytes: Vec<u8>,
}

/// 手続一覧: a local government's published procedures, for its publisher
/// named `publisher`; each links to its page under `site_url`.
pub fn procedure_catalogue(
    org: &Organisation,
    publisher: &str,
    procedures: &[PublishedProcedure],
    site_url: &str,
) -> OwnDataset {
    let mut csv = String::from(
        "\u{feff}全国地方公共団体コード,地方公共団体名,手続コード,手続名,手続名_英語,分野,担当部局,担当課,オンライン申請,手数料(円),年間受付件数,申請ページURL\r\n",
    );
    for p in procedures {
        let row = [
            org.code.clone(),
            org.name.clone(),
            p.code.clone(),
            p.name.clone(),
            p.name_en.clone(),
            procedures::catalogue::category(&p.category)
                .map(|c| c.1.to_string())
                .unwrap_or_else(|| p.category.clone()),
            p.department.clone(),
            p.section.clone(),
            if p.online {
                "可".into()
            } else {
                "不可".into()
            },
            p.fee_yen.map(|f| f.to_string()).unwrap_or_default(),
            p.annual_volume.map(|v| v.to_string()).unwrap_or_default(),
            format!("{site_url}/procedures/{}", p.id),
        ];
        csv.push_str(&csv_line(&row));
    }
    OwnDataset {
        key: format!("procedures:{}", org.code),
        name: format!("{publisher}-procedures"),
        title: format!("{} 行政手続一覧", org.name),
        notes: format!(
            "{}がオンラインで受け付ける手続の一覧です（分野、担当課、手数料、申請ページ）。madoguchi が公開中の手続から自動で作成し、変更があると更新します。\n\nThe procedures {} offers online, generated from the published catalogue.",
            org.name, org.name_en
        ),
        tags: &["行政手続", "オンライン申請", "手続一覧"],
        filename: "procedures.csv",
        bytes: csv.into_bytes(),
    }
}

/// 手続別・月別申請件数: applications per procedure and month, online
/// (by month of submission, UTC as stored) and on paper where recorded.
pub fn monthly_applications(
    org: &Organisation,
    publisher: &str,
    procedures: &[PublishedProcedure],
    online: &[MonthlyApplications],
    paper: &[PaperCount],
) -> OwnDataset {
    let mut rows: BTreeMap<(String, String), (String, i64, Option<i64>)> = BTreeMap::new();
    for r in online {
        rows.insert(
            (r.month.clone(), r.code.clone()),
            (r.name.clone(), r.count, None),
        );
    }
    for r in paper {
        let name = procedures
            .iter()
            .find(|p| p.code == r.procedure_code)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        rows.entry((r.month.clone(), r.procedure_code.clone()))
            .or_insert((name, 0, None))
            .2 = Some(r.count);
    }
    let mut csv = String::from(
        "\u{feff}全国地方公共団体コード,地方公共団体名,年月,手続コード,手続名,オンライン申請件数,紙の申請件数\r\n",
    );
    for ((month, code), (name, online, paper)) in &rows {
        csv.push_str(&csv_line(&[
            org.code.clone(),
            org.name.clone(),
            month.clone(),
            code.clone(),
            name.clone(),
            online.to_string(),
            paper.map(|p| p.to_string()).unwrap_or_default(),
        ]));
    }
    OwnDataset {
        key: format!("applications:{}", org.code),
        name: format!("{publisher}-applications-monthly"),
        title: format!("{} 手続別・月別申請件数", org.name),
        notes: format!(
            "{}が受け付けた申請の件数を手続・月ごとに集計したものです。オンライン申請は madoguchi の受付記録から自動で集計し、紙の申請は担当課が記録した月のみ記載します（空欄は記録なし）。\n\nApplications {} received per procedure and month: online ones counted automatically, paper ones where a section recorded them (blank: not recorded).",
            org.name, org.name_en
        ),
        tags: &["行政手続", "オンライン申請", "申請件数", "統計"],
        filename: "applications-monthly.csv",
        bytes: csv.into_bytes(),
    }
}

fn csv_line(cells: &[String]) -> String {
    let mut line = cells
        .iter()
        .map(|c| {
            if c.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}
