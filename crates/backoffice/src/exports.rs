//! Exports of a procedure's applications for its section: CSV (UTF-8 with
//! BOM or Shift_JIS) streamed as it is read, `.xlsx` written row by row to a
//! temporary file, and a workbook grouped by a pair of choices (the high
//! school's 合否判定資料: one sheet per school and department).
//!
//! Applications are read in pages of 1,000 by id, so memory stays flat
//! whatever the number of applications; filters are the inbox's.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use export::{Cell, Column, CsvEncoding, CsvRows, ExportRow, XlsxRows};
use platform::accounts::Staff;
use platform::audit::{self, Actor};
use platform::db::{Db, StoreError, Timestamp};
use platform::i18n::Lang;
use procedures::applications::Status;
use procedures::catalogue::Procedure;
use procedures::form::FormDefinition;
use procedures::form::definition::Kind;
use sqlx::AssertSqlSafe;

use crate::Backoffice;
use crate::inbox::Filter;

const PAGE: i64 = 1000;

/// Which applications to export.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub status: Option<Status>,
    pub received_from: Option<chrono::NaiveDate>,
    pub received_to: Option<chrono::NaiveDate>,
}

impl From<&Filter> for Selection {
    fn from(f: &Filter) -> Selection {
        Selection {
            status: f.status,
            received_from: f.received_from,
            received_to: f.received_to,
        }
    }
}

/// Reads the next page of applications of `procedure` after id `after`.
async fn next_page(
    db: &Db,
    procedure: &Procedure,
    sel: &Selection,
    after: i64,
) -> Result<Vec<(i64, ExportRow)>, StoreError> {
    let mut sql = String::from(
        "select id, receipt_number, status, submitted_at, answers from applications \
         where procedure_id = $1 and organisation_id = $2 and status <> 'draft' and id > $3",
    );
    let mut n = 4;
    if sel.status.is_some() {
        sql.push_str(&format!(" and status = ${n}"));
        n += 1;
    }
    let jst = chrono::FixedOffset::east_opt(9 * 3600).expect("valid offset");
    let day = |d: chrono::NaiveDate| {
        Timestamp(
            d.and_hms_opt(0, 0, 0)
                .expect("midnight")
                .and_local_timezone(jst)
                .single()
                .expect("no DST")
                .with_timezone(&chrono::Utc),
        )
    };
    if sel.received_from.is_some() {
        sql.push_str(&format!(" and submitted_at >= ${n}"));
        n += 1;
    }
    if sel.received_to.is_some() {
        sql.push_str(&format!(" and submitted_at < ${n}"));
        n += 1;
    }
    sql.push_str(&format!(" order by id limit ${n}"));
    let mut q = sqlx::query(AssertSqlSafe(sql))
        .bind(procedure.id)
        .bind(procedure.organisation_id)
        .bind(after);
    if let Some(s) = sel.status {
        q = q.bind(s.code());
    }
    if let Some(d) = sel.received_from {
        q = q.bind(day(d));
    }
    if let Some(d) = sel.received_to.and_then(|d| d.succ_opt()) {
        q = q.bind(day(d));
    }
    let rows = q.bind(PAGE).fetch_all(db.pool()).await?;
    let tr_ja = |s: &str| -> String {
        Status::parse(s)
            .map(|st| status_ja(st).to_string())
            .unwrap_or_else(|| s.to_string())
    };
    use sqlx::Row;
    rows.iter()
        .map(|r| {
            let id: i64 = r.try_get(0)?;
            let submitted: Option<Timestamp> = r.try_get(3)?;
            let answers: String = r.try_get(4)?;
            Ok((
                id,
                ExportRow {
                    receipt_number: r.try_get::<Option<String>, _>(1)?.unwrap_or_default(),
                    status: tr_ja(&r.try_get::<String, _>(2)?),
                    submitted_at: submitted
                        .map(|t| t.jst().format("%Y-%m-%d %H:%M").to_string())
                        .unwrap_or_default(),
                    answers: serde_json::from_str(&answers).unwrap_or_default(),
                },
            ))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(StoreError::from)
}

/// Status names as exported (Japanese: the exports are for the section's work).
fn status_ja(s: Status) -> &'static str {
    match s {
        Status::Draft => "下書き",
        Status::Submitted => "送信済",
        Status::InReview => "処理中",
        Status::Returned => "差し戻し",
        Status::Completed => "処理完了",
        Status::Rejected => "申請却下",
        Status::Withdrawn => "取下げ",
    }
}

/// Records the export in the audit log (it hands out personal data).
async fn record(
    db: &Db,
    staff: &Staff,
    procedure: &Procedure,
    format: &str,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    audit::append(
        &mut tx,
        audit::Entry {
            organisation_id: Some(procedure.organisation_id),
            actor: Actor::Staff(staff.id),
            action: "applications.exported",
            subject_kind: "procedure",
            subject_id: Some(procedure.id),
            detail: serde_json::json!({"format": format}),
        },
    )
    .await?;
    tx.commit().await
}

fn file_name(procedure: &Procedure, ext: &str) -> String {
    let date = Timestamp::now().jst().format("%Y%m%d");
    format!("{}-{date}.{ext}", procedure.code)
}

fn disposition(name: &str) -> HeaderValue {
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "attachment; filename=\"export.{}\"; filename*=UTF-8''{encoded}",
        name.rsplit('.').next().unwrap_or("bin")
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// Streams the CSV export: rows are read, encoded and sent page by page.
pub async fn csv(
    state: &Backoffice,
    staff: &Staff,
    procedure: Procedure,
    def: Arc<FormDefinition>,
    sel: Selection,
    encoding: CsvEncoding,
) -> Result<Response, StoreError> {
    record(
        &state.platform.db,
        staff,
        &procedure,
        if encoding == CsvEncoding::ShiftJis {
            "csv-sjis"
        } else {
            "csv-utf8"
        },
    )
    .await?;
    let db = state.platform.db.clone();
    let name = file_name(&procedure, "csv");
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    tokio::spawn(async move {
        let columns: Vec<Column> = export::columns(&def);
        let mut w = CsvRows::new(encoding);
        if tx.send(Ok(w.header(&columns))).await.is_err() {
            return;
        }
        let mut after = 0;
        loop {
            let page = match next_page(&db, &procedure, &sel, after).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "export failed");
                    let _ = tx.send(Err(std::io::Error::other("export failed"))).await;
                    return;
                }
            };
            let Some(last) = page.last().map(|(id, _)| *id) else {
                break;
            };
            let mut chunk = Vec::with_capacity(page.len() * 256);
            for (_, row) in &page {
                chunk.extend(w.row(&export::cells(&columns, row)));
            }
            if tx.send(Ok(chunk)).await.is_err() {
                return; // the client went away
            }
            after = last;
        }
        if w.replaced > 0 {
            tracing::info!(
                replaced = w.replaced,
                "Shift_JIS export: characters outside CP932 written as 〓"
            );
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut res = Body::from_stream(stream).into_response();
    let ct = match encoding {
        CsvEncoding::Utf8Bom => "text/csv; charset=utf-8",
        CsvEncoding::ShiftJis => "text/csv; charset=Shift_JIS",
    };
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    res.headers_mut()
        .insert(header::CONTENT_DISPOSITION, disposition(&name));
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(res)
}

/// A temporary directory for one export, removed when dropped.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(state: &Backoffice) -> std::io::Result<TempDir> {
    let dir = state
        .platform
        .config
        .data_dir
        .join("tmp")
        .join(format!("export-{}", platform::crypto::random_token()));
    std::fs::create_dir_all(&dir)?;
    Ok(TempDir(dir))
}

/// Streams a finished file, then removes its directory.
async fn send_file(
    dir: TempDir,
    path: std::path::PathBuf,
    name: &str,
) -> Result<Response, StoreError> {
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| StoreError::Conflict(e.to_string()))?;
    let stream = futures_util::stream::unfold((file, Some(dir)), |(mut file, dir)| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => {
                drop(dir);
                None
            }
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(buf), (file, dir)))
            }
            Err(e) => Some((Err(e), (file, None))),
        }
    });
    let mut res = Body::from_stream(stream).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    );
    res.headers_mut()
        .insert(header::CONTENT_DISPOSITION, disposition(name));
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(res)
}

/// The `.xlsx` export: rows go from the database to the worksheet's temporary
/// file through a small channel, then the finished file is streamed.
pub async fn xlsx(
    state: &Backoffice,
    staff: &Staff,
    procedure: Procedure,
    def: Arc<FormDefinition>,
    sel: Selection,
) -> Result<Response, StoreError> {
    record(&state.platform.db, staff, &procedure, "xlsx").await?;
    let dir = temp_dir(state).map_err(|e| StoreError::Conflict(e.to_string()))?;
    let path = dir.0.join("export.xlsx");
    let columns = export::columns(&def);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Vec<Cell>>>(2);
    let sheet = procedure.name.clone();
    let (tmp, out) = (dir.0.clone(), path.clone());
    let writer = tokio::task::spawn_blocking(move || -> Result<(), String> {
        let mut x = XlsxRows::new(&sheet, &columns, &tmp).map_err(|e| e.to_string())?;
        for page in rx {
            for cells in page {
                x.row(&cells).map_err(|e| e.to_string())?;
            }
        }
        x.save(&out).map_err(|e| e.to_string())
    });
    let columns = export::columns(&def);
    let mut after = 0;
    loop {
        let page = next_page(&state.platform.db, &procedure, &sel, after).await?;
        let Some(last) = page.last().map(|(id, _)| *id) else {
            break;
        };
        let cells: Vec<Vec<Cell>> = page
            .iter()
            .map(|(_, r)| export::cells(&columns, r))
            .collect();
        let sent = {
            let tx = tx.clone();
            tokio::task::spawn_blocking(move || tx.send(cells))
                .await
                .map_err(|e| StoreError::Conflict(e.to_string()))?
        };
        if sent.is_err() {
            break; // the writer stopped; its error is reported below
        }
        after = last;
    }
    drop(tx);
    writer
        .await
        .map_err(|e| StoreError::Conflict(e.to_string()))?
        .map_err(StoreError::Conflict)?;
    send_file(dir, path, &file_name(&procedure, "xlsx")).await
}

/// A sheet of the grouped workbook: its title and rows.
type Group = (String, Vec<Vec<Cell>>);

/// A choice that depends on another (school → department), if the form has one:
/// (parent question, child question).
pub fn grouping(def: &FormDefinition) -> Option<(String, String)> {
    def.questions().find_map(|(_, q)| match &q.kind {
        Kind::Choice {
            options_by: Some(parent),
            ..
        } => Some((parent.clone(), q.id.clone())),
        _ => None,
    })
}

/// The grouped workbook: one sheet per value pair of the dependent choices
/// (per school and department), applicants in receipt order, with the columns
/// a selection meeting uses (receipt number, names, date of birth, the other
/// short answers).
pub async fn grouped(
    state: &Backoffice,
    staff: &Staff,
    procedure: Procedure,
    def: Arc<FormDefinition>,
    sel: Selection,
) -> Result<Response, StoreError> {
    let Some((parent, child)) = grouping(&def) else {
        return Err(StoreError::NotFound);
    };
    record(&state.platform.db, staff, &procedure, "xlsx-grouped").await?;
    let columns: Vec<Column> = export::columns(&def)
        .into_iter()
        .filter(|c| !matches!(c.header.as_str(), "状況" | "送信日時"))
        .collect();
    let parent_q = def.question(&parent).cloned();
    let child_q = def.question(&child).cloned();
    let mut groups: std::collections::BTreeMap<(usize, usize), Group> =
        std::collections::BTreeMap::new();
    let mut after = 0;
    loop {
        let page = next_page(&state.platform.db, &procedure, &sel, after).await?;
        let Some(last) = page.last().map(|(id, _)| *id) else {
            break;
        };
        for (_, row) in &page {
            let pv = row
                .answers
                .get(&parent)
                .and_then(|v| v.as_str())
                .unwrap_or("");
            let cv = row
                .answers
                .get(&child)
                .and_then(|v| v.as_str())
                .unwrap_or("");
            let (pi, plabel) = option_position(parent_q.as_ref(), pv, &row.answers);
            let (ci, clabel) = option_position(child_q.as_ref(), cv, &row.answers);
            let entry = groups
                .entry((pi, ci))
                .or_insert_with(|| (format!("{plabel} {clabel}"), Vec::new()));
            entry.1.push(export::cells(&columns, row));
        }
        after = last;
    }
    let dir = temp_dir(state).map_err(|e| StoreError::Conflict(e.to_string()))?;
    let path = dir.0.join("grouped.xlsx");
    let headers: Vec<String> = columns.iter().map(|c| c.header.clone()).collect();
    let groups: Vec<(String, Vec<Vec<Cell>>)> = groups.into_values().collect();
    let (tmp, out) = (dir.0.clone(), path.clone());
    tokio::task::spawn_blocking(move || export::grouped_workbook(&groups, &headers, &tmp, &out))
        .await
        .map_err(|e| StoreError::Conflict(e.to_string()))?
        .map_err(|e| StoreError::Conflict(e.to_string()))?;
    send_file(dir, path, &file_name(&procedure, "by-group.xlsx")).await
}

fn option_position(
    q: Option<&procedures::form::Question>,
    value: &str,
    answers: &serde_json::Map<String, serde_json::Value>,
) -> (usize, String) {
    let Some(q) = q else {
        return (usize::MAX, value.to_string());
    };
    let options = procedures::form::answers::options_for(&q.kind, answers);
    match options.iter().position(|o| o.value == value) {
        Some(i) => (i, options[i].label.clone()),
        None => (
            usize::MAX,
            if value.is_empty() {
                "（未回答）".into()
            } else {
                value.to_string()
            },
        ),
    }
}

/// The label of a language-independent status for exports (used by the API too).
pub fn status_label(s: Status, _lang: Lang) -> &'static str {
    status_ja(s)
}
