//! What the resident's pages and the API share: loading an application with
//! its form, the order of pages, saving one page's input (files included),
//! checking a whole application, and wording validation problems.

use std::sync::Arc;

use platform::i18n::Tr;
use platform::web::{AppError, CsrfMultipart, Errors};
use serde_json::{Map, Value};

use crate::Procedures;
use crate::applications::{self, Application, Attachment};
use crate::catalogue::{self, Procedure};
use crate::form::answers::{self, Issue, page_visible};
use crate::form::definition::{Kind, Page};
use crate::form::{FormDefinition, html};

/// Words `issues` in the resident's language.
pub fn localize(issues: &[Issue], tr: &Tr) -> Errors {
    let mut errors = Errors::new();
    for i in issues {
        if !errors.has(&i.field) {
            errors.add(i.field.clone(), i.key, tr.f(i.key, &i.args));
        }
    }
    errors
}

pub fn visible_pages<'a>(def: &'a FormDefinition, answers: &Map<String, Value>) -> Vec<&'a Page> {
    def.pages
        .iter()
        .filter(|p| page_visible(p, answers))
        .collect()
}

pub fn first_page<'a>(def: &'a FormDefinition, answers: &Map<String, Value>) -> Option<&'a Page> {
    def.pages.iter().find(|p| page_visible(p, answers))
}

/// The next shown page after `after`.
pub fn next_page<'a>(
    def: &'a FormDefinition,
    after: &str,
    answers: &Map<String, Value>,
) -> Option<&'a Page> {
    let i = def.page_index(after)?;
    def.pages[i + 1..].iter().find(|p| page_visible(p, answers))
}

/// The shown page before `before`.
pub fn prev_page<'a>(
    def: &'a FormDefinition,
    before: &str,
    answers: &Map<String, Value>,
) -> Option<&'a Page> {
    let i = def.page_index(before)?;
    def.pages[..i]
        .iter()
        .rev()
        .find(|p| page_visible(p, answers))
}

/// The page holding the question a field belongs to.
pub fn page_of_field<'a>(def: &'a FormDefinition, field: &str) -> Option<&'a Page> {
    let top = field.split('.').next()?;
    def.pages
        .iter()
        .find(|p| p.questions.iter().any(|q| q.id == top))
}

/// The resident's application `id` with its form and procedure; 404 for anyone else's.
pub async fn load_for_resident(
    state: &Procedures,
    id: i64,
    resident_id: i64,
) -> Result<(Application, Arc<FormDefinition>, Procedure), AppError> {
    let db = &state.platform.db;
    let app = applications::for_resident(db, id, resident_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let def = state.forms.get(db, app.form_version_id).await?;
    let procedure = catalogue::procedure_by_id(db, app.procedure_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((app, def, procedure))
}

/// Raw file answers: the ids of the application's attachments for each file question.
fn file_answers(def: &FormDefinition, atts: &[Attachment]) -> Map<String, Value> {
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

/// Checks the whole application as stored: its normalised answers (file
/// metadata filled in) and every problem left.
pub async fn check_all(
    state: &Procedures,
    app: &Application,
    def: &FormDefinition,
) -> Result<(Map<String, Value>, Vec<Issue>), AppError> {
    let atts = applications::attachments(&state.platform.db, app.id).await?;
    let mut raw = app.answers_map();
    raw.extend(file_answers(def, &atts));
    let (mut normalised, issues) = answers::validate_all(def, &raw, &state.platform.keys);
    applications::resolve_files(&mut normalised, def, &atts);
    Ok((normalised, issues))
}

/// Applies the file removals (`_remove_file`) and stores the uploads of
/// `form` for the file questions of `page`, each checked for its real type,
/// size and count. Returns the problems with uploads that were refused.
pub async fn store_uploads(
    state: &Procedures,
    app: &Application,
    page: &Page,
    form: &CsrfMultipart,
) -> Result<Vec<Issue>, AppError> {
    let db = &state.platform.db;
    let mut upload_issues = Vec::new();
    let existing = applications::attachments(db, app.id).await?;
    for remove in form.fields.get_all("_remove_file") {
        if let Ok(att_id) = remove.parse::<i64>()
            && existing
                .iter()
                .any(|a| a.id == att_id && page.questions.iter().any(|q| q.id == a.question_id))
        {
            applications::remove_attachment(db, app.id, att_id).await?;
        }
    }
    for q in &page.questions {
        let Kind::File {
            accept,
            max_size_kb,
            max_files,
        } = &q.kind
        else {
            continue;
        };
        for upload in form.files.iter().filter(|u| u.field == q.id) {
            let already = applications::attachments(db, app.id)
                .await?
                .iter()
                .filter(|a| a.question_id == q.id)
                .count();
            let issue = |key: &'static str, args: Vec<(&'static str, String)>| Issue {
                field: q.id.clone(),
                key,
                args,
            };
            if already as u32 >= *max_files {
                upload_issues.push(issue(
                    "answer.file_too_many",
                    vec![("label", q.label.clone()), ("max", max_files.to_string())],
                ));
                continue;
            }
            if upload.bytes.is_empty() {
                upload_issues.push(issue("answer.file_empty", vec![("label", q.label.clone())]));
                continue;
            }
            if upload.bytes.len() as u64 > u64::from(*max_size_kb) * 1024 {
                upload_issues.push(issue(
                    "answer.file_too_large",
                    vec![
                        ("label", q.label.clone()),
                        (
                            "max",
                            crate::form::display::size_text(i64::from(*max_size_kb) * 1024),
                        ),
                    ],
                ));
                continue;
            }
            let kind = platform::files::sniff(&upload.bytes, &upload.filename);
            match kind.filter(|k| accept.contains(k)) {
                None => {
                    let types = accept
                        .iter()
                        .map(|k| k.label())
                        .collect::<Vec<_>>()
                        .join("、");
                    upload_issues.push(issue(
                        "answer.file_wrong_type",
                        vec![("label", q.label.clone()), ("types", types)],
                    ));
                }
                Some(kind) => {
                    let key = state
                        .platform
                        .files
                        .put(&upload.bytes)
                        .await
                        .map_err(AppError::internal)?;
                    let filename = clean_filename(&upload.filename, kind);
                    applications::add_attachment(
                        db,
                        app,
                        &q.id,
                        &filename,
                        kind,
                        upload.bytes.len() as i64,
                        &key,
                    )
                    .await?;
                }
            }
        }
    }
    Ok(upload_issues)
}

/// Sets the answer of every file question from the application's attachments
/// and saves, leaving the other answers as they are (the API's uploads).
pub async fn sync_file_answers(
    state: &Procedures,
    app: &Application,
    def: &FormDefinition,
) -> Result<(), AppError> {
    let db = &state.platform.db;
    let atts = applications::attachments(db, app.id).await?;
    let mut answers = app.answers_map();
    answers.extend(file_answers(def, &atts));
    applications::resolve_files(&mut answers, def, &atts);
    applications::save_answers(db, app.id, app.resident_id, &answers, &app.pending_map()).await?;
    Ok(())
}

/// What saving one page's input produced.
pub struct PageSave {
    pub issues: Vec<Issue>,
    pub answers: Map<String, Value>,
    pub pending: Map<String, Value>,
}

/// Stores the uploads and removals of `form`, validates the page's input and
/// saves it in the draft: valid answers as answers, the typed text of fields
/// with problems as pending input. Nothing typed is lost, valid or not.
pub async fn save_page(
    state: &Procedures,
    app: &Application,
    def: &FormDefinition,
    page: &Page,
    form: &CsrfMultipart,
) -> Result<PageSave, AppError> {
    let db = &state.platform.db;
    let upload_issues = store_uploads(state, app, page, form).await?;

    // The page's input as raw answers, with group items the resident asked to remove taken out.
    let current = app.answers_map();
    let mut raw = html::raw_from_form(page, &form.fields, &current);
    for q in &page.questions {
        if let Kind::Group { .. } = q.kind {
            let remove: Vec<usize> = form
                .fields
                .get_all(&format!("_remove_item.{}", q.id))
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect();
            if let Some(Value::Array(items)) = raw.get_mut(&q.id) {
                let kept: Vec<Value> = items
                    .drain(..)
                    .enumerate()
                    .filter(|(i, _)| !remove.contains(i))
                    .map(|(_, v)| v)
                    .collect();
                *items = kept;
            }
        }
    }
    let atts = applications::attachments(db, app.id).await?;
    raw.extend(
        file_answers(def, &atts)
            .into_iter()
            .filter(|(k, _)| page.questions.iter().any(|q| &q.id == k)),
    );

    // Earlier pages decide what this page shows.
    let mut before = current.clone();
    for q in &page.questions {
        before.remove(&q.id);
    }
    let (page_answers, mut issues) =
        answers::validate_page(page, &raw, &before, &state.platform.keys);
    issues.extend(upload_issues);

    let mut new_answers = before;
    let mut page_answers = page_answers;
    applications::resolve_files(&mut page_answers, def, &atts);
    new_answers.extend(page_answers);

    // Pending input: drop this page's old entries, keep what has problems now.
    let mut pending = app.pending_map();
    let page_ids: Vec<&str> = page.questions.iter().map(|q| q.id.as_str()).collect();
    pending.retain(|k, _| {
        let top = k
            .trim_start_matches("_items.")
            .split('.')
            .next()
            .unwrap_or("");
        !page_ids.contains(&top)
    });
    let issue_fields: Vec<String> = issues.iter().map(|i| i.field.clone()).collect();
    // After removing group items the indices shift: keep typed text only when nothing was removed.
    let removed_items = page.questions.iter().any(|q| {
        !form
            .fields
            .get_all(&format!("_remove_item.{}", q.id))
            .is_empty()
    });
    if !removed_items {
        pending.extend(html::pending_from_form(page, &form.fields, &issue_fields));
    }
    applications::save_answers(db, app.id, app.resident_id, &new_answers, &pending).await?;
    Ok(PageSave {
        issues,
        answers: new_answers,
        pending,
    })
}

/// A safe file name to keep: the base name, without control characters, with
/// the extension of the verified type.
fn clean_filename(name: &str, kind: platform::files::FileKind) -> String {
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
