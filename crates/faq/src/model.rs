//! The FAQ's domain types: an entry as stored (with its versions), a logged
//! question and what the log keeps of it, the coverage of the business areas,
//! what an import did, and the answer to a question as residents see it.
//! No I/O: the store returns these, the services compose them.

use serde::{Deserialize, Serialize};

use crate::entry::{Entry, RowError};

/// Longest question accepted (characters); longer ones are answered from their beginning.
pub const MAX_QUESTION_CHARS: usize = 10_000;

/// An entry as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Stored {
    pub db_id: i64,
    pub organisation_id: Option<i64>,
    pub version: i64,
    pub updated_at: String,
    pub entry: Entry,
}

/// One version of an entry: its number, when and by whom, and the entry as it was.
#[derive(Debug, Clone)]
pub struct Version {
    pub version: i64,
    pub changed_at: String,
    pub changed_by: String,
    pub entry: Entry,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skipped: Vec<RowError>,
}

/// A logged question.
#[derive(Debug, Clone, Serialize)]
pub struct Logged {
    pub id: i64,
    pub asked_at: String,
    pub organisation_id: Option<i64>,
    pub question: String,
    pub language: String,
    pub mode: String,
    pub confident: bool,
    pub area: String,
    pub shown: Vec<String>,
    pub feedback: String,
}

/// What to log about one question (already masked).
#[derive(Debug, Clone)]
pub struct NewQuestion<'a> {
    pub organisation_id: Option<i64>,
    pub question: &'a str,
    pub language: &'a str,
    pub mode: &'a str,
    pub confident: bool,
    pub top_score: Option<f64>,
    pub area: &'a str,
    pub shown: &'a [String],
}

/// Per business area: entries published, questions asked (and how many
/// answered with confidence, and judged helpful / not helpful).
#[derive(Debug, Clone, Default, Serialize)]
pub struct AreaCoverage {
    pub area: String,
    pub entries: i64,
    pub questions: i64,
    pub confident: i64,
    pub helped: i64,
    pub not_helped: i64,
}

/// The coverage of one organisation or of the whole installation, with the
/// modes the search runs in.
#[derive(Debug, Clone)]
pub struct Coverage {
    pub areas: Vec<AreaCoverage>,
    /// Areas with at least one published entry.
    pub covered: usize,
    /// `lexical` or `lexical+semantic`.
    pub mode: &'static str,
    /// `morphological` or `bigram`.
    pub analyzer: &'static str,
}

/// An organisation's entries for its staff, with the organisation's code.
#[derive(Debug, Clone)]
pub struct StaffEntries {
    pub entries: Vec<Stored>,
    pub organisation: String,
}

/// An entry written for a group of unanswered questions, and the questions
/// it answers. An empty `id` is generated.
#[derive(Debug, Clone, Deserialize)]
pub struct GroupEntry {
    pub question_ids: Vec<i64>,
    #[serde(default)]
    pub id: String,
    pub question: String,
    pub answer: String,
    pub area: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub section: String,
    #[serde(default)]
    pub procedure: String,
    #[serde(default)]
    pub keywords: String,
}

/// A question to answer, as a resident asked it.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    /// The question; it must not be blank.
    pub text: &'a str,
    /// How many results (1 to 50; `None` for 10).
    pub limit: Option<i64>,
    /// An organisation's code to answer from (and the installation's shared
    /// entries), or `None` for all.
    pub organisation: Option<&'a str>,
    /// Who asked (the client's address): the log is bounded per client.
    pub client: &'a str,
}

/// A published procedure an entry leads to, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkedProcedure {
    pub id: i64,
    pub name: String,
    pub name_en: String,
}

/// A section to contact about an entry, with its organisation, as stored.
#[derive(Debug, Clone, Default)]
pub struct SectionContact {
    pub organisation: String,
    pub organisation_en: String,
    pub name: String,
    pub name_en: String,
    pub phone: String,
    pub email: String,
}

/// A contact to offer when the answer is not certain.
#[derive(Debug, Clone, Serialize)]
pub struct Contact {
    pub organisation: String,
    pub section: String,
    pub phone: String,
    pub email: String,
}

/// A procedure an entry leads to.
#[derive(Debug, Clone, Serialize)]
pub struct ProcedureLink {
    pub code: String,
    pub name: String,
    pub url: String,
}

/// One result as shown.
#[derive(Debug, Clone, Serialize)]
pub struct Shown {
    pub id: String,
    pub question: String,
    pub answer: String,
    pub area: String,
    pub url: String,
    pub procedure: Option<ProcedureLink>,
    pub score: f32,
    /// The language of the question and answer shown (`ja` or `en`).
    #[serde(skip)]
    pub lang: &'static str,
}

/// The answer to a question.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub question_id: Option<i64>,
    pub results: Vec<Shown>,
    pub confident: bool,
    pub mode: String,
    pub analyzer: String,
    pub language: &'static str,
    pub message: String,
    pub contacts: Vec<Contact>,
}
