//! What the FAQ's pages and JSON API share at the HTTP edge: who may edit the
//! FAQ, the query string read leniently, the token a question's feedback
//! carries, the domain errors as [`AppError`] (the field each is about, its
//! message in the requester's language), and the CSV download.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use platform::accounts::Staff;
use platform::i18n::Tr;
use platform::web::error::{AppError, FieldError};
use platform::web::{FormData, parse_urlencoded};

use crate::entry::RowError;
use crate::service::{AskError, EntryError};

/// Staff who may edit the organisation's FAQ: anyone of its staff.
pub fn faq_staff(staff: &Staff) -> Result<(), AppError> {
    if staff.roles.is_empty() {
        Err(AppError::Forbidden { code: "forbidden" })
    } else {
        Ok(())
    }
}

/// Reads the query string leniently (bytes that are not UTF-8 are replaced).
pub fn query_form(raw: Option<String>) -> FormData {
    parse_urlencoded(raw.unwrap_or_default().as_bytes())
}

/// What a question's feedback token is bound to: the token lets that
/// question's feedback (and no other's) be recorded, without a session.
pub fn feedback_binding(question_id: i64) -> String {
    format!("faq-feedback:{question_id}")
}

/// A validation error about one field, its message `key` in `tr`'s language.
pub fn invalid(field: &str, key: &str, tr: &Tr) -> AppError {
    AppError::Validation {
        fields: vec![FieldError {
            field: field.to_string(),
            code: key.to_string(),
            message: tr.t(key).to_string(),
        }],
    }
}

/// [`AskError`] as an [`AppError`]: a refused question is about the field
/// (`q`, `limit`, `organisation`) the search's parameters name.
pub fn ask_error(tr: &Tr) -> impl Fn(AskError) -> AppError + '_ {
    move |e| match e {
        AskError::QuestionEmpty => invalid("q", e.key(), tr),
        AskError::BadLimit => invalid("limit", e.key(), tr),
        AskError::UnknownOrganisation => AppError::NoSuch {
            code: "unknown_organisation",
        },
        AskError::Engine(e) => AppError::Internal(e),
        AskError::Store(e) => e.into(),
    }
}

/// [`EntryError`] as an [`AppError`]: an entry's problems are about its
/// fields, a taken id about `id`, a stale edit about `question`.
pub fn entry_error(tr: &Tr) -> impl Fn(EntryError) -> AppError + '_ {
    move |e| match e {
        EntryError::NotFound => AppError::NotFound,
        EntryError::Invalid(problems) => AppError::Validation {
            fields: problems
                .iter()
                .map(|p| FieldError {
                    field: p.column.clone(),
                    code: p.code.to_string(),
                    message: tr.f1(p.code, "value", &p.value),
                })
                .collect(),
        },
        EntryError::IdTaken => invalid("id", e.key(), tr),
        EntryError::Stale => invalid("question", e.key(), tr),
        EntryError::Engine(e) => AppError::Internal(e),
        EntryError::Store(e) => e.into(),
    }
}

/// An import's problems, each about its line and column of the file.
pub fn row_errors(errors: &[RowError], tr: &Tr) -> AppError {
    AppError::Validation {
        fields: errors
            .iter()
            .map(|e| FieldError {
                field: format!("file.line{}.{}", e.line, e.column),
                code: e.code.to_string(),
                message: e.message(tr),
            })
            .collect(),
    }
}

/// The entries' CSV as a download (`faq.csv`).
pub fn csv_download(bytes: Vec<u8>, shift_jis: bool) -> Response {
    let content_type = if shift_jis {
        "text/csv; charset=Shift_JIS"
    } else {
        "text/csv; charset=utf-8"
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"faq.csv\"",
            ),
        ],
        bytes,
    )
        .into_response()
}
