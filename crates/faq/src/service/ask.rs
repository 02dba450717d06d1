//! Answering residents: a question searched, its results with the procedures
//! they lead to, the sections to call when the answer is not certain, and the
//! masked question logged (bounded per client); an entry as residents see
//! it; their feedback; the coverage of the business areas. The chat page, the
//! widget and `GET|POST /api/v1/faq/search` all ask through [`ask`].

use platform::db::Db;
use platform::i18n::Tr;

use super::error::AskError;
use super::state::Faq;
use crate::entry::Entry;
use crate::index::Hit;
use crate::learning;
use crate::model::{
    Answer, Contact, Coverage, MAX_QUESTION_CHARS, NewQuestion, ProcedureLink, Question, Shown,
};
use crate::store;

/// Questions logged per client and minute; beyond, answered but not logged.
const LOG_PER_MINUTE: u32 = 60;

/// Whether an organisation has the code `code`.
pub async fn is_known_organisation(faq: &Faq, code: &str) -> Result<bool, AskError> {
    Ok(platform::orgs::organisation_by_code(&faq.platform.db, code)
        .await?
        .is_some())
}

/// Answers a question: checks it, searches, looks up the procedures and
/// contacts, logs the masked question. Names and the message are in `tr`'s
/// language, and so are the entries where they have an English version and
/// `tr` is English.
pub async fn ask(faq: &Faq, question: Question<'_>, tr: &Tr) -> Result<Answer, AskError> {
    // Nothing but spaces and control characters is no question.
    if question
        .text
        .chars()
        .all(|c| c.is_whitespace() || c.is_control())
    {
        return Err(AskError::QuestionEmpty);
    }
    let limit = match question.limit {
        None => 10,
        Some(n) if (1..=50).contains(&n) => n as usize,
        Some(_) => return Err(AskError::BadLimit),
    };
    let organisation = question.organisation.filter(|s| !s.is_empty());
    if let Some(code) = organisation
        && !is_known_organisation(faq, code).await?
    {
        return Err(AskError::UnknownOrganisation);
    }
    let text: String = question.text.chars().take(MAX_QUESTION_CHARS).collect();
    let (found, confident) = faq
        .engine
        .search(&text, limit, organisation)
        .await
        .map_err(AskError::Engine)?;
    let analyzer = faq.engine.analyzer().await.mode().to_string();
    let english = found.english;
    let db = &faq.platform.db;
    let mut results = Vec::new();
    for hit in &found.hits {
        results.push(shown(db, hit, english, tr).await?);
    }
    let mut contacts = Vec::new();
    if !confident {
        for hit in found.hits.iter().take(3) {
            if let Some(c) = contact(db, &hit.entry, tr).await?
                && !contacts
                    .iter()
                    .any(|x: &Contact| x.section == c.section && x.organisation == c.organisation)
            {
                contacts.push(c);
            }
        }
    }
    let message = if found.hits.is_empty() {
        tr.t("faq.answer.nothing").to_string()
    } else if confident {
        String::new()
    } else {
        tr.t("faq.answer.unsure").to_string()
    };
    // The log: masked, and bounded per client so that it cannot be flooded.
    let key = format!("faq-log:{}", question.client);
    let window = std::time::Duration::from_secs(60);
    let question_id = if faq.platform.limiter.allowed(&key, LOG_PER_MINUTE, window) {
        faq.platform.limiter.hit(&key, window);
        let top = found.hits.first();
        let organisation_id = match organisation.or(top.map(|h| h.entry.organisation.as_str())) {
            Some(code) if !code.is_empty() => platform::orgs::organisation_by_code(db, code)
                .await?
                .map(|o| o.id),
            _ => None,
        };
        let shown_ids: Vec<String> = found
            .hits
            .iter()
            .take(5)
            .map(|h| h.entry.id.clone())
            .collect();
        let mut tx = db.begin().await?;
        let id = store::log_question_in(
            &mut tx,
            NewQuestion {
                organisation_id,
                question: &learning::mask(&text),
                language: if english { "en" } else { "ja" },
                mode: found.mode,
                confident,
                top_score: top.map(|h| f64::from(h.score)),
                area: top.map(|h| h.entry.area.as_str()).unwrap_or(""),
                shown: &shown_ids,
            },
        )
        .await?;
        tx.commit().await?;
        Some(id)
    } else {
        None
    };
    Ok(Answer {
        question_id,
        results,
        confident,
        mode: found.mode.to_string(),
        analyzer,
        language: if english { "en" } else { "ja" },
        message,
        contacts,
    })
}

/// An answerable entry as residents see it (its page), or `None`.
pub async fn entry(faq: &Faq, id: &str, tr: &Tr) -> Result<Option<Shown>, AskError> {
    let index = faq.engine.index().await.map_err(AskError::Engine)?;
    let Some(e) = index.entries().iter().find(|e| e.id == id).cloned() else {
        return Ok(None);
    };
    let hit = Hit {
        entry: e,
        score: 0.0,
        lexical: 0.0,
        semantic: None,
        english: false,
    };
    Ok(Some(shown(&faq.platform.db, &hit, false, tr).await?))
}

/// One result as shown: in English if the question was (or `tr` is) and the
/// entry has an English version, with the procedure it leads to.
async fn shown(db: &Db, hit: &Hit, english: bool, tr: &Tr) -> Result<Shown, AskError> {
    let e = &hit.entry;
    let use_en = (english || tr.is_en()) && !e.question_en.is_empty() && !e.answer_en.is_empty();
    let procedure = if e.procedure.is_empty() {
        None
    } else {
        store::published_procedure(db, &e.procedure, &e.organisation)
            .await?
            .map(|p| ProcedureLink {
                code: e.procedure.clone(),
                name: tr.pick(&p.name, &p.name_en).to_string(),
                url: format!("/procedures/{}", p.id),
            })
    };
    Ok(Shown {
        id: e.id.clone(),
        question: if use_en {
            e.question_en.clone()
        } else {
            e.question.clone()
        },
        answer: if use_en {
            e.answer_en.clone()
        } else {
            e.answer.clone()
        },
        area: e.area.clone(),
        url: e.url.clone(),
        procedure,
        score: (hit.score * 10_000.0).round() / 10_000.0,
        lang: if use_en { "en" } else { "ja" },
    })
}

/// The section to call about an entry, if it names one that exists.
async fn contact(db: &Db, e: &Entry, tr: &Tr) -> Result<Option<Contact>, AskError> {
    if e.organisation.is_empty() {
        return Ok(None);
    }
    let Some(s) = store::section_contact(db, &e.organisation, &e.section).await? else {
        return Ok(None);
    };
    if s.name.is_empty() {
        return Ok(None);
    }
    Ok(Some(Contact {
        organisation: tr.pick(&s.organisation, &s.organisation_en).to_string(),
        section: tr.pick(&s.name, &s.name_en).to_string(),
        phone: s.phone,
        email: s.email,
    }))
}

/// Records "this helped" / "this did not help" for a logged question (the
/// last word counts); `entry` is the entry the resident judged. The caller
/// has checked the question's token.
pub async fn feedback(
    faq: &Faq,
    question_id: i64,
    helped: bool,
    entry: &str,
) -> Result<(), AskError> {
    let mut tx = faq.platform.db.begin().await?;
    store::feedback_in(&mut tx, question_id, helped, entry).await?;
    tx.commit().await?;
    Ok(())
}

/// The coverage of the organisation with the code `organisation` (an unknown
/// code is an error), or with `None` of the whole installation.
pub async fn coverage_of_code(faq: &Faq, organisation: Option<&str>) -> Result<Coverage, AskError> {
    let organisation_id = match organisation {
        Some(code) => Some(
            platform::orgs::organisation_by_code(&faq.platform.db, code)
                .await?
                .ok_or(AskError::UnknownOrganisation)?
                .id,
        ),
        None => None,
    };
    coverage(faq, organisation_id).await
}

/// The coverage of one organisation (or, with `None`, the whole
/// installation), with the modes the search runs in.
pub async fn coverage(faq: &Faq, organisation_id: Option<i64>) -> Result<Coverage, AskError> {
    let areas = store::coverage(&faq.platform.db, organisation_id).await?;
    let covered = areas.iter().filter(|a| a.entries > 0).count();
    let index = faq.engine.index().await.map_err(AskError::Engine)?;
    Ok(Coverage {
        areas,
        covered,
        mode: index.mode(),
        analyzer: index.analyzer().mode(),
    })
}
