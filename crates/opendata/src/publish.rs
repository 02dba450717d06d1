//! The platform publishes itself: every local government with published
//! procedures gets two datasets, kept current by [`run`]:
//! - 手続一覧 (the procedure catalogue: what can be applied for, and whether online);
//! - 手続別・月別の申請件数 (applications received per procedure and month:
//!   online here, and on paper where a section recorded it).
//!
//! Each is a CSV resource (UTF-8 with BOM, so that spreadsheet programs read
//! it), replaced only when its content changes, so `metadata_modified` means
//! something to harvesters.

use serde_json::Map;
use sqlx::Row;

use crate::OpenData;
use crate::model::{self, Dataset, Resource};
use crate::store;

/// How often the published datasets are brought up to date.
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Runs [`run`] now and then every [`EVERY`], in the background.
pub fn spawn(state: OpenData) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(e) = run(&state).await {
                tracing::warn!(error = %e, "publishing the platform's own datasets failed");
            }
            tokio::time::sleep(EVERY).await;
        }
    })
}

/// Brings every organisation's published datasets up to date; returns how many changed.
pub async fn run(state: &OpenData) -> anyhow::Result<usize> {
    let db = &state.platform.db;
    let orgs = platform::orgs::list_organisations(db).await?;
    let mut changed = 0;
    for org in orgs {
        match publish_organisation(state, &org).await {
            Ok(n) => changed += n,
            // One organisation's failure (e.g. another node publishing at the same
            // moment) does not stop the others; the next run tries again.
            Err(e) => tracing::warn!(error = %e, organisation = %org.code, "publishing failed"),
        }
    }
    if changed > 0 {
        state.catalogue.refresh().await?;
    }
    Ok(changed)
}

/// Brings one organisation's published datasets up to date; returns how many changed.
async fn publish_organisation(
    state: &OpenData,
    org: &platform::orgs::Organisation,
) -> anyhow::Result<usize> {
    let db = &state.platform.db;
    let mut changed = 0;
    {
        let procedures = sqlx::query(
            "select p.id, p.code, p.name, p.name_en, p.category, p.online, p.fee_yen, p.annual_volume, s.name as section, s.department \
             from procedures p join sections s on s.id = p.section_id \
             where p.organisation_id = $1 and p.status = 'published' order by p.code",
        )
        .bind(org.id)
        .fetch_all(db.pool())
        .await?;
        if procedures.is_empty() {
            return Ok(0);
        }
        let publisher = store::default_organization(db, org).await?;
        // 手続一覧.
        let mut csv = String::from(
            "\u{feff}全国地方公共団体コード,地方公共団体名,手続コード,手続名,手続名_英語,分野,担当部局,担当課,オンライン申請,手数料(円),年間受付件数,申請ページURL\r\n",
        );
        for p in &procedures {
            let code: String = p.try_get("code")?;
            let id: i64 = p.try_get("id")?;
            let category: String = p.try_get("category")?;
            let online: i64 = p
                .try_get::<i64, _>("online")
                .or_else(|_| p.try_get::<bool, _>("online").map(i64::from))?;
            let fee: Option<i64> = p.try_get("fee_yen")?;
            let volume: Option<i64> = p.try_get("annual_volume")?;
            let row = [
                org.code.clone(),
                org.name.clone(),
                code.clone(),
                p.try_get("name")?,
                p.try_get("name_en")?,
                procedures::catalogue::category(&category)
                    .map(|c| c.1.to_string())
                    .unwrap_or(category),
                p.try_get("department")?,
                p.try_get("section")?,
                if online != 0 {
                    "可".into()
                } else {
                    "不可".into()
                },
                fee.map(|f| f.to_string()).unwrap_or_default(),
                volume.map(|v| v.to_string()).unwrap_or_default(),
                format!("{}/procedures/{id}", state.catalogue.site_url()),
            ];
            csv.push_str(&csv_line(&row));
        }
        if publish_one(
            state,
            &publisher,
            &format!("procedures:{}", org.code),
            &format!("{}-procedures", publisher.name),
            &format!("{} 行政手続一覧", org.name),
            &format!(
                "{}がオンラインで受け付ける手続の一覧です（分野、担当課、手数料、申請ページ）。madoguchi が公開中の手続から自動で作成し、変更があると更新します。\n\nThe procedures {} offers online, generated from the published catalogue.",
                org.name, org.name_en
            ),
            &["行政手続", "オンライン申請", "手続一覧"],
            "procedures.csv",
            csv.into_bytes(),
        )
        .await?
        {
            changed += 1;
        }

        // 月別申請件数: online applications by month of submission (UTC, as stored), and paper where recorded.
        let counts = sqlx::query(
            "select p.code, p.name, substr(a.submitted_at, 1, 7) as month, count(*) as n \
             from applications a join procedures p on p.id = a.procedure_id \
             where a.organisation_id = $1 and a.submitted_at is not null \
             group by p.code, p.name, substr(a.submitted_at, 1, 7) order by 3, 1",
        )
        .bind(org.id)
        .fetch_all(db.pool())
        .await?;
        let paper = sqlx::query(
            "select procedure_code, month, count from od_paper_counts where organisation_id = $1",
        )
        .bind(org.id)
        .fetch_all(db.pool())
        .await?;
        let mut rows: std::collections::BTreeMap<(String, String), (String, i64, Option<i64>)> =
            std::collections::BTreeMap::new();
        for r in &counts {
            let code: String = r.try_get("code")?;
            let month: String = r.try_get("month")?;
            let n: i64 = r.try_get("n")?;
            rows.insert((month, code), (r.try_get("name")?, n, None));
        }
        for r in &paper {
            let code: String = r.try_get("procedure_code")?;
            let month: String = r.try_get("month")?;
            let n: i64 = r.try_get("count")?;
            let name = procedures
                .iter()
                .find(|p| p.try_get::<String, _>("code").ok().as_deref() == Some(code.as_str()))
                .and_then(|p| p.try_get::<String, _>("name").ok())
                .unwrap_or_default();
            rows.entry((month, code)).or_insert((name, 0, None)).2 = Some(n);
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
        if publish_one(
            state,
            &publisher,
            &format!("applications:{}", org.code),
            &format!("{}-applications-monthly", publisher.name),
            &format!("{} 手続別・月別申請件数", org.name),
            &format!(
                "{}が受け付けた申請の件数を手続・月ごとに集計したものです。オンライン申請は madoguchi の受付記録から自動で集計し、紙の申請は担当課が記録した月のみ記載します（空欄は記録なし）。\n\nApplications {} received per procedure and month: online ones counted automatically, paper ones where a section recorded them (blank: not recorded).",
                org.name, org.name_en
            ),
            &["行政手続", "オンライン申請", "申請件数", "統計"],
            "applications-monthly.csv",
            csv.into_bytes(),
        )
        .await?
        {
            changed += 1;
        }
    }
    Ok(changed)
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

/// Creates or updates one published dataset; true when something changed.
#[allow(clippy::too_many_arguments)]
async fn publish_one(
    state: &OpenData,
    publisher: &model::Organization,
    key: &str,
    name: &str,
    title: &str,
    notes: &str,
    tags: &[&str],
    filename: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<bool> {
    let db = &state.platform.db;
    let _writing = state.writing.lock().await;
    let file_key = platform::crypto::sha256_hex(&bytes);
    let existing = store::dataset_by_publisher_key(db, key).await?;
    // The resource this module manages: the upload under its file name. Staff
    // may add others, retitle the dataset or delete it (deleted: not published again).
    let managed = |d: &Dataset| {
        d.resources
            .iter()
            .position(|r| r.url_type == "upload" && r.url == filename)
    };
    if let Some(d) = &existing {
        if d.state == "deleted" {
            return Ok(false);
        }
        if let Some(i) = managed(d)
            && d.resources[i].file_key.as_deref() == Some(file_key.as_str())
        {
            return Ok(false);
        }
    }
    let stored = state.platform.files.put(&bytes).await?;
    let now = model::now();
    let resource = |id: String, created: String| Resource {
        id,
        dataset_id: String::new(),
        position: 0,
        name: title.to_string(),
        description: "UTF-8 (BOM付き) の CSV です。 / CSV in UTF-8 with a byte order mark.".into(),
        format: "CSV".into(),
        mimetype: "text/csv".into(),
        url: filename.to_string(),
        url_type: "upload".into(),
        file_key: Some(stored.clone()),
        size: Some(bytes.len() as i64),
        hash: String::new(),
        extras: Map::new(),
        created_at: created,
        modified_at: now.clone(),
    };
    let mut tx = db.begin().await?;
    let seq = store::bump(&mut tx).await?;
    match existing {
        Some(mut d) => {
            match managed(&d) {
                Some(i) => {
                    let old = &d.resources[i];
                    let mut r = resource(old.id.clone(), old.created_at.clone());
                    r.dataset_id = d.id.clone();
                    r.position = old.position;
                    r.name = old.name.clone();
                    r.description = old.description.clone();
                    d.resources[i] = r;
                }
                None => {
                    let mut r = resource(model::new_id(), now.clone());
                    r.dataset_id = d.id.clone();
                    d.resources.insert(0, r);
                }
            }
            d.modified_at = now.clone();
            store::save_dataset(&mut tx, &d, seq, false).await?;
        }
        None => {
            let mut unique_name = name.to_string();
            if store::dataset_exists(&mut tx, &unique_name).await? {
                unique_name = format!("{name}-{}", &file_key[..6]);
            }
            let id = model::new_id();
            let mut r = resource(model::new_id(), now.clone());
            r.dataset_id = id.clone();
            let d = Dataset {
                id,
                name: unique_name,
                title: title.to_string(),
                notes: notes.to_string(),
                owner_org: publisher.id.clone(),
                license_id: model::DEFAULT_LICENCE.into(),
                author: String::new(),
                author_email: String::new(),
                maintainer: String::new(),
                maintainer_email: String::new(),
                url: String::new(),
                version: String::new(),
                private: false,
                state: "active".into(),
                tags: tags.iter().map(|t| t.to_string()).collect(),
                group_ids: Vec::new(),
                extras: vec![("publisher".into(), "madoguchi".into())],
                creator_user_id: model::id_for("user", "madoguchi"),
                publisher_key: Some(key.to_string()),
                created_at: now.clone(),
                modified_at: now.clone(),
                resources: vec![r],
            };
            store::save_dataset(&mut tx, &d, seq, true).await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}
