//! Exports of a procedure's applications for its section: CSV (UTF-8 with
//! BOM or Shift_JIS) produced page by page as it is read, `.xlsx` written row
//! by row to a temporary file, and a workbook grouped by a pair of choices
//! (the high school's 合否判定資料: one sheet per school and department). The
//! web layer streams what these produce.
//!
//! Applications are read in pages of 1,000 by id, so memory stays flat
//! whatever the number of applications; filters are the inbox's. Every export
//! is audited (it hands out personal data).

use std::path::PathBuf;
use std::sync::Arc;

use export::{Cell, Column, CsvEncoding, CsvRows, ExportRow, XlsxRows};
use platform::accounts::Staff;
use platform::audit::{self, Actor};
use platform::db::{StoreError, StoreResult, Timestamp};
use procedures::applications::Status;
use procedures::catalogue::Procedure;
use procedures::form::FormDefinition;
use procedures::form::definition::Kind;
use procedures::service::catalogue;
use tokio::sync::mpsc;

use crate::model::{Selection, status_ja};
use crate::service::state::Backoffice;
use crate::store::exports as store;

const PAGE: i64 = 1000;

/// Why an export cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// No such procedure of the staff member's section, or it has no form
    /// (or, for the grouped workbook, no dependent choices).
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The procedure `id` with its form, if the staff member's section owns it
/// and they may export its applications.
pub async fn exportable(
    state: &Backoffice,
    staff: &Staff,
    id: i64,
) -> Result<(Procedure, Arc<FormDefinition>), ExportError> {
    let db = &state.platform.db;
    let p = catalogue::procedure_by_id(db, id)
        .await?
        .ok_or(ExportError::NotFound)?;
    let mine = p.organisation_id == staff.organisation_id && (p.section_id == staff.section_id);
    if !mine || !staff.handles_applications() {
        return Err(ExportError::NotFound);
    }
    let fid = p.current_form_id.ok_or(ExportError::NotFound)?;
    let def = state.procedures.forms.get(db, fid).await?;
    Ok((p, def))
}

/// Reads the next page of applications of `procedure` after id `after`.
async fn next_page(
    state: &Backoffice,
    procedure: &Procedure,
    sel: &Selection,
    after: i64,
) -> StoreResult<Vec<(i64, ExportRow)>> {
    let rows = store::next_page(&state.platform.db, procedure, sel, after, PAGE).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let status = Status::parse(&r.status)
                .map(|st| status_ja(st).to_string())
                .unwrap_or(r.status);
            (
                r.id,
                ExportRow {
                    receipt_number: r.receipt_number.unwrap_or_default(),
                    status,
                    submitted_at: r
                        .submitted_at
                        .map(|t| t.jst().format("%Y-%m-%d %H:%M").to_string())
                        .unwrap_or_default(),
                    answers: serde_json::from_str(&r.answers).unwrap_or_default(),
                },
            )
        })
        .collect())
}

/// Records the export in the audit log (it hands out personal data).
async fn record(
    state: &Backoffice,
    staff: &Staff,
    procedure: &Procedure,
    format: &str,
) -> Result<(), StoreError> {
    let mut tx = state.platform.db.begin().await?;
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

/// `mie-hs-entrance-20261207-utf8.csv`: the procedure, the day, and what
/// tells two exports apart (the encoding; the status and days chosen).
fn file_name(procedure: &Procedure, sel: &Selection, what: &str, ext: &str) -> String {
    let date = Timestamp::now().jst().format("%Y%m%d");
    let mut name = format!("{}-{date}", procedure.code);
    if let Some(s) = sel.status {
        name.push('-');
        name.push_str(s.code());
    }
    if sel.received_from.is_some() || sel.received_to.is_some() {
        let day = |d: Option<chrono::NaiveDate>| {
            d.map(|d| d.format("%Y%m%d").to_string())
                .unwrap_or_default()
        };
        name.push_str(&format!(
            "-received-{}-{}",
            day(sel.received_from),
            day(sel.received_to)
        ));
    }
    if !what.is_empty() {
        name.push('-');
        name.push_str(what);
    }
    format!("{name}.{ext}")
}

/// A CSV export being produced: its chunks as they are encoded.
pub struct CsvExport {
    pub file_name: String,
    pub encoding: CsvEncoding,
    pub chunks: mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
}

/// Starts the CSV export: rows are read, encoded and handed on page by page.
pub async fn csv(
    state: &Backoffice,
    staff: &Staff,
    procedure: Procedure,
    def: Arc<FormDefinition>,
    sel: Selection,
    encoding: CsvEncoding,
) -> Result<CsvExport, StoreError> {
    record(
        state,
        staff,
        &procedure,
        if encoding == CsvEncoding::ShiftJis {
            "csv-sjis"
        } else {
            "csv-utf8"
        },
    )
    .await?;
    let state = state.clone();
    let file_name = file_name(
        &procedure,
        &sel,
        if encoding == CsvEncoding::ShiftJis {
            "sjis"
        } else {
            "utf8"
        },
        "csv",
    );
    let (tx, rx) = mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    tokio::spawn(async move {
        let columns: Vec<Column> = export::columns(&def);
        let mut w = CsvRows::new(encoding);
        if tx.send(Ok(w.header(&columns))).await.is_err() {
            return;
        }
        let mut after = 0;
        loop {
            let page = match next_page(&state, &procedure, &sel, after).await {
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
    Ok(CsvExport {
        file_name,
        encoding,
        chunks: rx,
    })
}

/// A temporary directory for one export, removed when dropped.
#[derive(Debug)]
pub struct TempDir(PathBuf);

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

/// A finished workbook in a temporary directory, removed once it is dropped
/// (the web layer drops it when the file has been sent).
#[derive(Debug)]
pub struct WorkbookExport {
    pub file_name: String,
    pub path: PathBuf,
    pub dir: TempDir,
}

/// The `.xlsx` export: rows go from the database to the worksheet's temporary
/// file through a small channel.
pub async fn xlsx(
    state: &Backoffice,
    staff: &Staff,
    procedure: Procedure,
    def: Arc<FormDefinition>,
    sel: Selection,
) -> Result<WorkbookExport, StoreError> {
    record(state, staff, &procedure, "xlsx").await?;
    let name = file_name(&procedure, &sel, "", "xlsx");
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
        let page = next_page(state, &procedure, &sel, after).await?;
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
    Ok(WorkbookExport {
        file_name: name,
        path,
        dir,
    })
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
) -> Result<WorkbookExport, ExportError> {
    let Some((parent, child)) = grouping(&def) else {
        return Err(ExportError::NotFound);
    };
    record(state, staff, &procedure, "xlsx-grouped").await?;
    let name = file_name(&procedure, &sel, "by-group", "xlsx");
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
        let page = next_page(state, &procedure, &sel, after).await?;
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
    Ok(WorkbookExport {
        file_name: name,
        path,
        dir,
    })
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
    match options.iter().enumerate().find(|(_, o)| o.value == value) {
        Some((i, o)) => (i, o.label.clone()),
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
