//! The back office's domain: what the inbox shows and its rows, a staff
//! action on an application, which applications an export holds, and the
//! applicant's name as staff see it.

use chrono::NaiveDate;
use platform::db::Timestamp;
use procedures::applications::Status;
use procedures::form::FormDefinition;

/// What the inbox shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub procedure_id: Option<i64>,
    pub status: Option<Status>,
    /// Received on or after this day (Japan time).
    pub received_from: Option<NaiveDate>,
    /// Received on or before this day (Japan time).
    pub received_to: Option<NaiveDate>,
    pub unread_only: bool,
    /// Words that must each appear in the receipt number or the answers
    /// (the applicant's name or its reading, in hiragana or katakana).
    pub words: Vec<String>,
    /// Only applications received before this (sent time, id): the next page.
    pub before: Option<(Timestamp, i64)>,
}

/// The words of an inbox search as typed: at most five of at most 50
/// characters, full-width letters and digits folded (a search, not a query
/// language).
pub fn search_words(q: &str) -> Vec<String> {
    q.split_whitespace()
        .take(5)
        .map(|w| jp::width::normalize_width(&w.chars().take(50).collect::<String>()))
        .collect()
}

/// A row of the inbox.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct InboxRow {
    pub id: i64,
    pub procedure_id: i64,
    pub form_version_id: i64,
    pub procedure_name: String,
    pub receipt_number: Option<String>,
    pub status: String,
    pub submitted_at: Timestamp,
    pub version: i64,
    #[serde(skip)]
    pub answers: String,
    #[serde(skip)]
    pub version_seen: Option<i64>,
    /// When the applicant last sent it again after a correction request.
    pub resubmitted_at: Option<Timestamp>,
}

impl InboxRow {
    pub fn unread(&self) -> bool {
        self.version_seen.is_none_or(|v| v < self.version)
    }
}

/// Which applications to export.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub status: Option<Status>,
    pub received_from: Option<NaiveDate>,
    pub received_to: Option<NaiveDate>,
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

/// A staff action on an application.
#[derive(Debug, Clone)]
pub enum Action {
    /// 送信済 → 処理中.
    StartReview,
    /// → 差し戻し, with what to fix (sent to the resident).
    Return { message: String },
    /// 起案: propose a decision; it enters the approval route.
    Draft {
        outcome: approvals::model::Outcome,
        reason: String,
    },
    /// The drafter revises a case sent back to them and sends it on again.
    Redraft {
        outcome: approvals::model::Outcome,
        reason: String,
    },
    /// Sign the current step; at the last step this decides the application.
    Approve { comment: String },
    /// Send the case back one step.
    SendBack { comment: String },
    /// End the case: the section must draft anew.
    Reject { comment: String },
}

impl Action {
    pub fn code(&self) -> &'static str {
        match self {
            Action::StartReview => "start_review",
            Action::Return { .. } => "return",
            Action::Draft { .. } => "draft",
            Action::Redraft { .. } => "redraft",
            Action::Approve { .. } => "approve",
            Action::SendBack { .. } => "send_back",
            Action::Reject { .. } => "reject",
        }
    }
}

/// The name of the applicant, from the form's first name question.
pub fn applicant_name(
    def: &FormDefinition,
    answers: &serde_json::Map<String, serde_json::Value>,
) -> String {
    def.questions()
        .find(|(_, q)| matches!(q.kind, procedures::form::Kind::Name { .. }))
        .and_then(|(_, q)| answers.get(&q.id))
        .map(|v| {
            let part = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("");
            format!("{} {}", part("family"), part("given"))
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

/// Status names as exported (Japanese: the exports are for the section's work).
pub fn status_ja(s: Status) -> &'static str {
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

/// The start of a Japan-time day as UTC. Days outside the years 1 to 9999
/// (which no application has, and which timestamps cannot be written in)
/// count as the first or last day of that range.
pub fn day_start(d: NaiveDate) -> Timestamp {
    let first = NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or(NaiveDate::MIN);
    let last = NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX);
    let d = d.clamp(first, last);
    let utc = d
        .and_time(chrono::NaiveTime::MIN)
        .checked_sub_signed(chrono::Duration::hours(9))
        .unwrap_or_else(|| first.and_time(chrono::NaiveTime::MIN));
    Timestamp(utc.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_starts_at_midnight_in_japan() {
        let d = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
        assert_eq!(day_start(d).to_db_string(), "2026-03-31T15:00:00.000000Z");
        let _ = day_start(NaiveDate::MIN);
        let _ = day_start(NaiveDate::MAX);
    }
}
