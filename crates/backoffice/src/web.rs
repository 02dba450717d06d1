//! What the staff pages and the staff API share at the HTTP edge: the query
//! strings of the inbox and exports, reading an action from fields, the
//! module's errors as HTTP errors, an application's history as people read
//! it, and exports as downloads.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use export::CsvEncoding;
use platform::files::FileKind;
use platform::i18n::Tr;
use platform::web::{AppError, FormData, format_time};
use procedures::applications::{Attachment, Status};
use serde::Deserialize;

use crate::model::{Action, Filter, Selection};
use crate::service::Backoffice;
use crate::service::exports::{CsvExport, ExportError, WorkbookExport};
use crate::service::review::{ActionError, Change, Detail, Who};

/// The inbox's query string.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct InboxQuery {
    #[serde(default)]
    pub procedure: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub unread: String,
    /// `<sent time>_<id>` of the last row of the previous page.
    #[serde(default)]
    pub before: String,
    /// Receipt number, name or reading (words separated by spaces).
    #[serde(default)]
    pub q: String,
}

impl InboxQuery {
    pub fn filter(&self) -> Filter {
        let date = |s: &str| {
            jp::wareki::parse_date(s)
                .ok()
                .or_else(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        };
        Filter {
            procedure_id: self.procedure.parse().ok(),
            status: Status::parse(&self.status).filter(|s| *s != Status::Draft),
            received_from: date(&self.from),
            received_to: date(&self.to),
            unread_only: matches!(self.unread.as_str(), "1" | "true" | "on"),
            words: crate::model::search_words(&self.q),
            before: platform::web::parse_page_key(&self.before),
        }
    }
}

/// An export's query string.
#[derive(Deserialize, Default)]
pub struct ExportQuery {
    #[serde(default)]
    pub encoding: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

impl ExportQuery {
    pub fn selection(&self) -> Selection {
        let q = InboxQuery {
            status: self.status.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            ..Default::default()
        };
        Selection::from(&q.filter())
    }

    pub fn encoding(&self) -> CsvEncoding {
        if matches!(self.encoding.as_str(), "sjis" | "shift_jis" | "cp932") {
            CsvEncoding::ShiftJis
        } else {
            CsvEncoding::Utf8Bom
        }
    }
}

/// Reads an action from form fields (pages) or JSON turned into fields (API).
pub fn parse_action(fields: &FormData) -> Option<Action> {
    use approvals::model::Outcome;
    let text = |k: &str| fields.text(k).to_string();
    Some(match fields.text("action") {
        "start_review" => Action::StartReview,
        "return" => Action::Return {
            message: text("message"),
        },
        "draft" => Action::Draft {
            outcome: Outcome::parse(fields.text("outcome"))?,
            reason: text("reason"),
        },
        "redraft" => Action::Redraft {
            outcome: Outcome::parse(fields.text("outcome"))?,
            reason: text("reason"),
        },
        "approve" => Action::Approve {
            comment: text("comment"),
        },
        "send_back" => Action::SendBack {
            comment: text("comment"),
        },
        "reject" => Action::Reject {
            comment: text("comment"),
        },
        _ => return None,
    })
}

impl From<ActionError> for AppError {
    fn from(e: ActionError) -> AppError {
        match e {
            ActionError::NotFound => AppError::NotFound,
            ActionError::Store(e) => e.into(),
            ActionError::Stale => AppError::Conflict { code: "stale" },
            ActionError::InvalidTransition(_) => AppError::Conflict {
                code: "invalid_transition",
            },
            ActionError::NotAllowed(_) => AppError::Forbidden { code: "forbidden" },
            ActionError::Invalid(_, _) => AppError::bad_request("invalid_body"),
        }
    }
}

impl From<ExportError> for AppError {
    fn from(e: ExportError) -> AppError {
        match e {
            ExportError::NotFound => AppError::NotFound,
            ExportError::Store(e) => e.into(),
        }
    }
}

/// An event of an application's history as people read it.
pub struct HistoryRow {
    pub at: String,
    pub who: String,
    pub text: String,
    pub comment: String,
}

/// The application's history in `tr`'s language.
pub fn history_rows(d: &Detail, tr: &Tr) -> Vec<HistoryRow> {
    d.history
        .iter()
        .map(|h| HistoryRow {
            at: format_time(&h.at, tr),
            who: match &h.who {
                Who::Staff(name) => name.clone(),
                Who::Applicant => tr.t("staff.applicant").to_string(),
                Who::System => tr.t("staff.system").to_string(),
            },
            text: tr.t(&format!("event.{}", h.kind)).to_string(),
            comment: h.comment.clone(),
        })
        .collect()
}

/// What changed at one resubmission, as people read it.
pub struct ResubmissionRow {
    pub at: String,
    pub asked: String,
    pub changes: Vec<Change>,
}

/// The application's resubmissions in `tr`'s language, the latest first.
pub fn resubmission_rows(d: &Detail, tr: &Tr) -> Vec<ResubmissionRow> {
    d.resubmissions
        .iter()
        .rev()
        .map(|r| ResubmissionRow {
            at: format_time(&r.at, tr),
            asked: r.asked.clone(),
            changes: r.changes.clone(),
        })
        .collect()
}

/// An attachment as a download, with the type the server verified.
pub async fn download(state: &Backoffice, att: &Attachment) -> Result<Response, AppError> {
    let kind = FileKind::parse(&att.kind).unwrap_or(FileKind::Text);
    platform::web::stored_file(&state.platform.files, &att.storage_key, &att.filename, kind).await
}

/// `attachment; filename="export.csv"; filename*=UTF-8''…`.
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
    // The plain name for old clients: the name itself when it is plain ASCII.
    let plain = if name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
    {
        name.to_string()
    } else {
        format!("export.{}", name.rsplit('.').next().unwrap_or("bin"))
    };
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{plain}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

fn download_headers(res: &mut Response, content_type: &'static str, name: &str) {
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_DISPOSITION, disposition(name));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
}

/// A CSV export, streamed as it is produced.
pub fn csv_response(export: CsvExport) -> Response {
    let stream = futures_util::stream::unfold(export.chunks, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let mut res = Body::from_stream(stream).into_response();
    let ct = match export.encoding {
        CsvEncoding::Utf8Bom => "text/csv; charset=utf-8",
        CsvEncoding::ShiftJis => "text/csv; charset=Shift_JIS",
    };
    download_headers(&mut res, ct, &export.file_name);
    res
}

/// A finished workbook, streamed from its temporary file, which is removed
/// once it has been sent.
pub async fn workbook_response(export: WorkbookExport) -> Result<Response, AppError> {
    let WorkbookExport {
        file_name,
        path,
        dir,
    } = export;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(AppError::internal)?;
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
    download_headers(
        &mut res,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &file_name,
    );
    Ok(res)
}
