//! Applications: a resident's drafts and submissions, their status and
//! history, and their attachments, and the rules about their answers that
//! need no storage (file answers, safe file names, what the API shows).
//! Storage is in `store::applications`; the resident's use cases in
//! `service::applications`, where every query is scoped to the resident.

use platform::db::Timestamp;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::form::{FormDefinition, Kind};

/// Where an application is in its life. The Japanese names are the ones
/// residents already know from other online application services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 下書き: not yet sent.
    Draft,
    /// 送信済: received, not yet being processed.
    Submitted,
    /// 処理中: staff are reviewing it.
    InReview,
    /// 差し戻し: returned to the resident for correction.
    Returned,
    /// 処理完了: decided and closed (granted / issued).
    Completed,
    /// 申請却下: refused.
    Rejected,
    /// 取下げ: withdrawn by the resident.
    Withdrawn,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Draft,
        Status::Submitted,
        Status::InReview,
        Status::Returned,
        Status::Completed,
        Status::Rejected,
        Status::Withdrawn,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::InReview => "in_review",
            Status::Returned => "returned",
            Status::Completed => "completed",
            Status::Rejected => "rejected",
            Status::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.code() == s)
    }

    /// The catalogue key of its name (`status.submitted` = 送信済).
    pub fn label_key(self) -> &'static str {
        match self {
            Status::Draft => "status.draft",
            Status::Submitted => "status.submitted",
            Status::InReview => "status.in_review",
            Status::Returned => "status.returned",
            Status::Completed => "status.completed",
            Status::Rejected => "status.rejected",
            Status::Withdrawn => "status.withdrawn",
        }
    }

    /// Whether the resident may still withdraw it.
    pub fn withdrawable(self) -> bool {
        matches!(
            self,
            Status::Submitted | Status::InReview | Status::Returned
        )
    }

    /// Whether the resident may edit its answers.
    pub fn editable(self) -> bool {
        matches!(self, Status::Draft | Status::Returned)
    }
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Application {
    pub id: i64,
    pub organisation_id: i64,
    pub section_id: i64,
    pub procedure_id: i64,
    pub form_version_id: i64,
    pub resident_id: i64,
    pub status: String,
    #[serde(skip)]
    pub answers: String,
    #[serde(skip)]
    pub pending: String,
    pub receipt_number: Option<String>,
    pub fiscal_year: Option<i64>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub submitted_at: Option<Timestamp>,
}

impl Application {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Draft)
    }

    pub fn answers_map(&self) -> Map<String, Value> {
        serde_json::from_str(&self.answers).unwrap_or_default()
    }

    pub fn pending_map(&self) -> Map<String, Value> {
        serde_json::from_str(&self.pending).unwrap_or_default()
    }
}

/// A row of the resident's list of applications.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct ApplicationSummary {
    pub id: i64,
    pub procedure_id: i64,
    pub procedure_name: String,
    pub procedure_name_en: String,
    pub organisation_name: String,
    pub organisation_name_en: String,
    pub status: String,
    pub receipt_number: Option<String>,
    pub updated_at: Timestamp,
    pub submitted_at: Option<Timestamp>,
}

impl ApplicationSummary {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Draft)
    }
}

/// One event of an application's history.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Event {
    pub id: i64,
    pub at: Timestamp,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub kind: String,
    pub status_from: Option<String>,
    pub status_to: Option<String>,
    pub comment: String,
    #[serde(skip)]
    pub answers: Option<String>,
}

/// An attachment's metadata.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Attachment {
    pub id: i64,
    pub application_id: i64,
    pub question_id: String,
    pub filename: String,
    pub kind: String,
    pub size: i64,
    #[serde(skip)]
    pub storage_key: String,
    pub created_at: Timestamp,
}

/// Fills the metadata of file answers from the application's attachments and
/// drops references to files that are not the application's.
pub fn resolve_files(answers: &mut Map<String, Value>, def: &FormDefinition, atts: &[Attachment]) {
    for (_, q) in def.questions() {
        if !matches!(q.kind, Kind::File { .. }) {
            continue;
        }
        let Some(Value::Array(items)) = answers.get(&q.id) else {
            continue;
        };
        let resolved: Vec<Value> = items
            .iter()
            .filter_map(|v| v.get("attachment_id").and_then(Value::as_i64))
            .filter_map(|id| atts.iter().find(|a| a.id == id && a.question_id == q.id))
            .map(|a| serde_json::json!({"attachment_id": a.id, "filename": a.filename, "kind": a.kind, "size": a.size}))
            .collect();
        if resolved.is_empty() {
            answers.remove(&q.id);
        } else {
            answers.insert(q.id.clone(), Value::Array(resolved));
        }
    }
}

/// Raw file answers: the ids of the application's attachments for each file question.
pub fn file_answers(def: &FormDefinition, atts: &[Attachment]) -> Map<String, Value> {
    let mut raw = Map::new();
    for (_, q) in def.questions() {
        if matches!(q.kind, Kind::File { .. }) {
            let ids: Vec<Value> = atts
                .iter()
                .filter(|a| a.question_id == q.id)
                .map(|a| serde_json::json!({"attachment_id": a.id}))
                .collect();
            if !ids.is_empty() {
                raw.insert(q.id.clone(), Value::Array(ids));
            }
        }
    }
    raw
}

/// A safe file name to keep: the base name, without control characters, with
/// the extension of the verified type.
pub fn clean_filename(name: &str, kind: platform::files::FileKind) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let base: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>'))
        .take(120)
        .collect();
    let base = base.trim();
    let stem = base.rsplit_once('.').map(|(s, _)| s).unwrap_or(base);
    let stem = if stem.is_empty() { "file" } else { stem };
    format!("{stem}.{}", kind.extension())
}

/// Answers as the resident's API shows them: My Numbers only by their last four digits.
pub fn public_answers(def: &FormDefinition, answers: &Map<String, Value>) -> Value {
    let mut out = answers.clone();
    for (_, q) in def.questions() {
        match &q.kind {
            Kind::MyNumber => {
                if let Some(v) = out.get_mut(&q.id)
                    && let Some(o) = v.as_object_mut()
                {
                    o.remove("sealed");
                }
            }
            Kind::Group { questions, .. } => {
                if let Some(Value::Array(items)) = out.get_mut(&q.id) {
                    for item in items {
                        for inner in questions
                            .iter()
                            .filter(|iq| matches!(iq.kind, Kind::MyNumber))
                        {
                            if let Some(o) = item.get_mut(&inner.id).and_then(Value::as_object_mut)
                            {
                                o.remove("sealed");
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Value::Object(out)
}

/// A file a resident sends for a file question.
#[derive(Debug, Clone)]
pub struct NewFile {
    /// The question it answers.
    pub question_id: String,
    /// The name the resident's device gave it.
    pub filename: String,
    pub bytes: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use platform::files::FileKind;

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(
            clean_filename("../../etc/passwd", FileKind::Pdf),
            "passwd.pdf"
        );
        assert_eq!(
            clean_filename("C:\\Users\\taro\\住民票.jpeg", FileKind::Jpeg),
            "住民票.jpg"
        );
        assert_eq!(clean_filename("evil\".exe", FileKind::Png), "evil.png");
        assert_eq!(clean_filename("", FileKind::Pdf), "file.pdf");
    }
}
