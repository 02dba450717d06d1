//! The resident's use cases on applications, the same for the pages and the
//! JSON API: starting a draft, saving one page of answers (files included),
//! checking everything, sending it, withdrawing it, discarding a draft.
//!
//! Every function that acts for a resident takes the resident's id and the
//! store matches it in its queries: another resident's application is "not
//! found", never "forbidden". Nothing typed is lost: answers with problems are
//! kept as pending input until they are corrected.

use std::sync::Arc;

use platform::audit::{self, Actor};
use platform::db::{Db, StoreError, StoreResult, Timestamp};
use platform::identity::{Requirement, Verified};
use serde_json::{Map, Value};

use crate::applications::{
    self, Application, ApplicationSummary, Attachment, Event, NewFile, Status,
};
use crate::catalogue::Procedure;
use crate::form::answers::{self, Issue};
use crate::form::definition::{Kind, Page};
use crate::form::{FormDefinition, display};
use crate::service::state::Procedures;
use crate::store::applications as store;
use crate::store::catalogue as catalogue_store;
use crate::submission::{NewSubmission, Submission, SubmitError, Submitted};

/// Why a resident's action on an application was refused.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("not found")]
    NotFound,
    /// The application's current status does not allow it.
    #[error("not allowed in status {0:?}")]
    InvalidTransition(Status),
    /// The procedure needs the applicant identified otherwise than the session was.
    #[error("the procedure requires identification by {}", .0.code())]
    IdentityRequired(Requirement),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether a session identified as `identity` may apply for `procedure`.
pub fn identity_allows(
    state: &Procedures,
    procedure: &Procedure,
    identity: Option<&Verified>,
) -> Result<(), Requirement> {
    let requirement = procedure.requirement();
    let card_acr = state
        .platform
        .config
        .identity
        .mynumber_card
        .as_ref()
        .map(|c| c.required_acr.as_slice())
        .unwrap_or(&[]);
    if requirement.satisfied_by(identity, card_acr) {
        Ok(())
    } else {
        Err(requirement)
    }
}

/// Starts a draft of `procedure` for the resident.
pub async fn create_draft(
    db: &Db,
    resident_id: i64,
    procedure: &Procedure,
) -> StoreResult<Application> {
    let form_id = procedure.current_form_id.ok_or(StoreError::NotFound)?;
    let mut tx = db.begin().await?;
    let app =
        store::insert_draft(&mut tx, resident_id, procedure, form_id, Timestamp::now()).await?;
    store::insert_event(
        &mut tx,
        &app,
        Actor::Resident(resident_id),
        "created",
        None,
        Some(Status::Draft),
        "",
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(app)
}

/// Starts a draft of procedure `procedure_id` if it accepts applications now;
/// the draft and the form it asks.
pub async fn start(
    state: &Procedures,
    resident_id: i64,
    identity: Option<&Verified>,
    procedure_id: i64,
) -> Result<(Application, Arc<FormDefinition>), ActionError> {
    let db = &state.platform.db;
    let procedure = catalogue_store::procedure_by_id(db, procedure_id)
        .await?
        .filter(Procedure::accepts_applications)
        .ok_or(ActionError::NotFound)?;
    identity_allows(state, &procedure, identity).map_err(ActionError::IdentityRequired)?;
    let app = create_draft(db, resident_id, &procedure).await?;
    let def = state.forms.get(db, app.form_version_id).await?;
    let app = crate::service::profile::prefill_draft(state, app, &def, identity).await?;
    Ok((app, def))
}

/// Where a resident who asked to apply (before signing in or up) continues:
/// their latest draft of the procedure, or a new one.
pub async fn resume_or_start(
    state: &Procedures,
    resident_id: i64,
    identity: Option<&Verified>,
    procedure_id: i64,
) -> Result<(Application, Arc<FormDefinition>), ActionError> {
    let db = &state.platform.db;
    if let Some(app) = store::latest_draft(db, resident_id, procedure_id).await? {
        if let Some(procedure) = catalogue_store::procedure_by_id(db, procedure_id).await? {
            identity_allows(state, &procedure, identity).map_err(ActionError::IdentityRequired)?;
        }
        let def = state.forms.get(db, app.form_version_id).await?;
        return Ok((app, def));
    }
    start(state, resident_id, identity, procedure_id).await
}

/// The resident's application `id`, or None (also when it is someone else's).
pub async fn for_resident(db: &Db, id: i64, resident_id: i64) -> StoreResult<Option<Application>> {
    store::for_resident(db, id, resident_id).await
}

/// The resident's application `id` with its form and procedure; NotFound for anyone else's.
pub async fn load_for_resident(
    state: &Procedures,
    id: i64,
    resident_id: i64,
) -> Result<(Application, Arc<FormDefinition>, Procedure), ActionError> {
    let db = &state.platform.db;
    let app = store::for_resident(db, id, resident_id)
        .await?
        .ok_or(ActionError::NotFound)?;
    let def = state.forms.get(db, app.form_version_id).await?;
    let procedure = catalogue_store::procedure_by_id(db, app.procedure_id)
        .await?
        .ok_or(ActionError::NotFound)?;
    Ok((app, def, procedure))
}

/// A page of a list: at most `limit` rows after the key of the last row of
/// the previous page.
#[derive(Debug, Clone, Copy)]
pub struct ListPage {
    pub before: Option<(Timestamp, i64)>,
    pub limit: i64,
}

/// The resident's applications, most recently changed first, a page at a time.
pub async fn list_for_resident(
    db: &Db,
    resident_id: i64,
    page: ListPage,
) -> StoreResult<Vec<ApplicationSummary>> {
    store::list_for_resident(db, resident_id, page.before, page.limit.clamp(1, 500)).await
}

/// An application by id, whoever it belongs to (for callers that scoped it themselves).
pub async fn by_id(db: &Db, id: i64) -> StoreResult<Option<Application>> {
    store::by_id(db, id).await
}

/// An application's history, oldest first (callers check who may see it).
pub async fn events(db: &Db, application_id: i64) -> StoreResult<Vec<Event>> {
    store::events(db, application_id).await
}

/// An application's attachments (callers check who may see them).
pub async fn attachments(db: &Db, application_id: i64) -> StoreResult<Vec<Attachment>> {
    store::attachments(db, application_id).await
}

/// One attachment of the resident's application `id`.
pub async fn attachment_for_resident(
    db: &Db,
    id: i64,
    attachment_id: i64,
    resident_id: i64,
) -> StoreResult<Option<Attachment>> {
    let Some(app) = store::for_resident(db, id, resident_id).await? else {
        return Ok(None);
    };
    Ok(store::attachments(db, app.id)
        .await?
        .into_iter()
        .find(|a| a.id == attachment_id))
}

/// What the section asked the resident to correct, when the application was returned.
pub async fn returned_message(db: &Db, app: &Application) -> StoreResult<Option<String>> {
    if app.status() != Status::Returned {
        return Ok(None);
    }
    let events = store::events(db, app.id).await?;
    Ok(events
        .into_iter()
        .rev()
        .find(|e| e.status_to.as_deref() == Some("returned"))
        .map(|e| e.comment))
}

/// Saves a draft's answers and pending input. Refused (NotFound) unless it is
/// the resident's and still editable.
pub async fn save_answers(
    db: &Db,
    id: i64,
    resident_id: i64,
    answers: &Map<String, Value>,
    pending: &Map<String, Value>,
) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    store::save_answers(&mut tx, id, resident_id, answers, pending).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks the whole application as stored: its normalised answers (file
/// metadata filled in) and every problem left.
pub async fn check_all(
    state: &Procedures,
    app: &Application,
    def: &FormDefinition,
) -> StoreResult<(Map<String, Value>, Vec<Issue>)> {
    let atts = store::attachments(&state.platform.db, app.id).await?;
    let mut raw = app.answers_map();
    raw.extend(applications::file_answers(def, &atts));
    let (mut normalised, issues) = answers::validate_all(def, &raw, &state.platform.keys);
    applications::resolve_files(&mut normalised, def, &atts);
    Ok((normalised, issues))
}

/// Removes the attachments `remove` (those of `page`'s questions only) and
/// stores `files` for the file questions of `page`, each checked for its
/// real type, size and count. Returns the problems with files that were refused.
pub async fn store_uploads(
    state: &Procedures,
    app: &Application,
    page: &Page,
    remove: &[i64],
    files: &[NewFile],
) -> StoreResult<Vec<Issue>> {
    let db = &state.platform.db;
    let mut upload_issues = Vec::new();
    let existing = store::attachments(db, app.id).await?;
    for att_id in remove {
        if existing
            .iter()
            .any(|a| a.id == *att_id && page.questions.iter().any(|q| q.id == a.question_id))
        {
            let mut tx = db.begin().await?;
            store::delete_attachment(&mut tx, app.id, *att_id).await?;
            tx.commit().await?;
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
        for upload in files.iter().filter(|u| u.question_id == q.id) {
            let already = store::attachments(db, app.id)
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
            // Each problem names the file chosen and says what is allowed.
            let shown_name: String = upload.filename.chars().take(60).collect();
            let types = accept
                .iter()
                .map(|k| k.label())
                .collect::<Vec<_>>()
                .join("、");
            if upload.bytes.is_empty() {
                upload_issues.push(issue(
                    "answer.file_empty",
                    vec![("label", q.label.clone()), ("filename", shown_name)],
                ));
                continue;
            }
            if upload.bytes.len() as u64 > u64::from(*max_size_kb) * 1024 {
                upload_issues.push(issue(
                    "answer.file_too_large",
                    vec![
                        ("label", q.label.clone()),
                        ("filename", shown_name),
                        ("size", display::size_text(upload.bytes.len() as i64)),
                        ("max", display::size_text(i64::from(*max_size_kb) * 1024)),
                    ],
                ));
                continue;
            }
            let kind = platform::files::sniff(&upload.bytes, &upload.filename);
            match kind.filter(|k| accept.contains(k)) {
                None => {
                    let (key, found) = match kind {
                        Some(k) => ("answer.file_wrong_type", k.label().to_string()),
                        None => ("answer.file_unreadable", String::new()),
                    };
                    upload_issues.push(issue(
                        key,
                        vec![
                            ("label", q.label.clone()),
                            ("filename", shown_name),
                            ("found", found),
                            ("types", types),
                        ],
                    ));
                }
                Some(kind) => {
                    let key = state
                        .platform
                        .files
                        .put(&upload.bytes)
                        .await
                        .map_err(|e| StoreError::Other(format!("storing a file: {e}")))?;
                    let filename = applications::clean_filename(&upload.filename, kind);
                    let mut tx = db.begin().await?;
                    store::insert_attachment(
                        &mut tx,
                        app,
                        &q.id,
                        &filename,
                        kind,
                        upload.bytes.len() as i64,
                        &key,
                    )
                    .await?;
                    tx.commit().await?;
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
) -> StoreResult<()> {
    let db = &state.platform.db;
    let atts = store::attachments(db, app.id).await?;
    let mut answers = app.answers_map();
    answers.extend(applications::file_answers(def, &atts));
    applications::resolve_files(&mut answers, def, &atts);
    save_answers(db, app.id, app.resident_id, &answers, &app.pending_map()).await
}

/// One page of input as the resident sent it.
#[derive(Debug, Clone, Default)]
pub struct PageInput {
    /// The page's raw answers (the shape `form::answers::validate_page`
    /// takes), group items the resident removed already taken out.
    pub raw: Map<String, Value>,
    /// The typed text of the page's fields (My Numbers excluded), kept for the
    /// fields that have a problem; None when group items were removed, since
    /// the items' positions shifted.
    pub typed: Option<Map<String, Value>>,
    /// Attachments to remove.
    pub remove_files: Vec<i64>,
    /// Files sent for the page's file questions.
    pub files: Vec<NewFile>,
}

/// What saving one page's input produced.
pub struct PageSave {
    pub issues: Vec<Issue>,
    pub answers: Map<String, Value>,
    pub pending: Map<String, Value>,
}

/// Stores the uploads and removals of `input`, validates the page's input and
/// saves it in the draft: valid answers as answers, the typed text of fields
/// with problems as pending input. Nothing typed is lost, valid or not.
pub async fn save_page(
    state: &Procedures,
    app: &Application,
    def: &FormDefinition,
    page: &Page,
    input: PageInput,
) -> StoreResult<PageSave> {
    let db = &state.platform.db;
    let upload_issues = store_uploads(state, app, page, &input.remove_files, &input.files).await?;

    let current = app.answers_map();
    let mut raw = input.raw;
    let atts = store::attachments(db, app.id).await?;
    raw.extend(
        applications::file_answers(def, &atts)
            .into_iter()
            .filter(|(k, _)| page.questions.iter().any(|q| &q.id == k)),
    );

    // Earlier pages decide what this page shows.
    let mut before = current.clone();
    for q in &page.questions {
        before.remove(&q.id);
    }
    let (page_answers, issues) = answers::validate_page(page, &raw, &before, &state.platform.keys);
    // A file chosen but refused: what was wrong with it is the field's problem,
    // not "choose a file".
    let mut issues: Vec<_> = issues
        .into_iter()
        .filter(|i| !upload_issues.iter().any(|u| u.field == i.field))
        .collect();
    issues.splice(0..0, upload_issues);

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
    if let Some(typed) = input.typed {
        pending.extend(typed.into_iter().filter(|(k, _)| {
            let top = k.split('.').next().unwrap_or("");
            issues
                .iter()
                .any(|i| i.field.split('.').next() == Some(top))
        }));
    }
    save_answers(db, app.id, app.resident_id, &new_answers, &pending).await?;
    Ok(PageSave {
        issues,
        answers: new_answers,
        pending,
    })
}

/// Changes some answers of a draft (the API): `changes` replace answers, a
/// null removes one. Everything is validated again, what is valid is kept, and
/// the problems of the answers changed are returned with the saved application.
pub async fn update_answers(
    state: &Procedures,
    app: &Application,
    def: &FormDefinition,
    changes: &Map<String, Value>,
) -> Result<(Application, Vec<Issue>), ActionError> {
    let db = &state.platform.db;
    let mut raw = app.answers_map();
    for (k, v) in changes {
        if v.is_null() {
            raw.remove(k);
        } else {
            raw.insert(k.clone(), v.clone());
        }
    }
    let atts = store::attachments(db, app.id).await?;
    let (mut normalised, issues) = answers::validate_all(def, &raw, &state.platform.keys);
    applications::resolve_files(&mut normalised, def, &atts);
    save_answers(db, app.id, app.resident_id, &normalised, &Map::new()).await?;
    let app = store::for_resident(db, app.id, app.resident_id)
        .await?
        .ok_or(ActionError::NotFound)?;
    Ok((app, only_for(issues, changes)))
}

/// Starts a draft of `procedure` with `given` answers (the API): what is
/// valid is kept; the problems of the answers given are returned.
pub async fn create_with_answers(
    state: &Procedures,
    resident_id: i64,
    procedure: &Procedure,
    def: &FormDefinition,
    given: &Map<String, Value>,
) -> Result<(Application, Vec<Issue>), ActionError> {
    let db = &state.platform.db;
    let app = create_draft(db, resident_id, procedure).await?;
    let (normalised, issues) = answers::validate_all(def, given, &state.platform.keys);
    let kept: Map<String, Value> = normalised.into_iter().collect();
    save_answers(db, app.id, resident_id, &kept, &Map::new()).await?;
    let app = store::for_resident(db, app.id, resident_id)
        .await?
        .ok_or(ActionError::NotFound)?;
    Ok((app, only_for(issues, given)))
}

/// The problems of the questions named in `given`.
fn only_for(issues: Vec<Issue>, given: &Map<String, Value>) -> Vec<Issue> {
    issues
        .into_iter()
        .filter(|i| given.contains_key(i.field.split('.').next().unwrap_or("")))
        .collect()
}

/// What sending an application led to.
#[derive(Debug)]
pub enum Sent {
    /// It had been sent already (a second tap, a retry): the application as it is.
    Already(Application),
    /// Something is missing or wrong: nothing was sent.
    Invalid(Vec<Issue>),
    /// Sent now (durable), with its receipt number.
    Submitted(Submitted),
}

/// Sends the resident's draft (or corrected application) if every answer checks.
pub async fn submit(
    state: &Procedures,
    app: &Application,
    def: &FormDefinition,
    identity: Option<&Verified>,
) -> Result<Sent, SubmitError> {
    if app.status() == Status::Submitted && app.receipt_number.is_some() {
        return Ok(Sent::Already(app.clone()));
    }
    if !app.status().editable() {
        return Err(SubmitError::InvalidTransition(app.status()));
    }
    let db = &state.platform.db;
    let procedure = catalogue_store::procedure_by_id(db, app.procedure_id)
        .await?
        .ok_or(SubmitError::NotFound)?;
    identity_allows(state, &procedure, identity).map_err(SubmitError::IdentityRequired)?;
    if !platform::account_links::email_verified(db, app.resident_id).await? {
        return Err(SubmitError::EmailUnverified);
    }
    // How the applicant was identified is kept with the application.
    let identified = identity.cloned().unwrap_or_else(Verified::password);
    let mut tx = db.begin().await?;
    store::set_identified_by(
        &mut tx,
        app.id,
        &serde_json::to_string(&identified).unwrap_or_default(),
    )
    .await?;
    tx.commit().await?;
    let (answers, issues) = check_all(state, app, def).await?;
    if !issues.is_empty() {
        return Ok(Sent::Invalid(issues));
    }
    let submitted = state
        .writer
        .submit(Submission::Existing {
            application_id: app.id,
            resident_id: app.resident_id,
            answers: Value::Object(answers).to_string(),
        })
        .await?;
    Ok(Sent::Submitted(submitted))
}

/// A new application sent at once (the API), under an idempotency key.
pub struct NewApplication<'a> {
    pub resident_id: i64,
    pub procedure: &'a Procedure,
    pub def: &'a FormDefinition,
    pub answers: &'a Map<String, Value>,
    pub idempotency_key: String,
    /// SHA-256 of the request, to tell a retry from another request under the same key.
    pub request_hash: String,
    /// How the API client's session was identified.
    pub identity: Option<&'a Verified>,
}

/// Creates and sends an application at once if every answer checks (the
/// same key with the same request returns the application written before).
pub async fn submit_new(state: &Procedures, new: NewApplication<'_>) -> Result<Sent, SubmitError> {
    identity_allows(state, new.procedure, new.identity).map_err(SubmitError::IdentityRequired)?;
    if !platform::account_links::email_verified(&state.platform.db, new.resident_id).await? {
        return Err(SubmitError::EmailUnverified);
    }
    let (normalised, issues) = answers::validate_all(new.def, new.answers, &state.platform.keys);
    if !issues.is_empty() {
        return Ok(Sent::Invalid(issues));
    }
    let db = &state.platform.db;
    let org = state
        .platform
        .orgs
        .get(db, new.procedure.organisation_id)
        .await?
        .ok_or(SubmitError::NotFound)?;
    let form_version_id = new.procedure.current_form_id.ok_or(SubmitError::NotFound)?;
    let submitted = state
        .writer
        .submit(Submission::New(NewSubmission {
            resident_id: new.resident_id,
            organisation_id: new.procedure.organisation_id,
            organisation_code: org.code.clone(),
            section_id: new.procedure.section_id,
            procedure_id: new.procedure.id,
            form_version_id,
            answers: Value::Object(normalised).to_string(),
            idempotency_key: new.idempotency_key,
            request_hash: new.request_hash,
            identified_by: serde_json::to_string(
                &new.identity.cloned().unwrap_or_else(Verified::password),
            )
            .unwrap_or_default(),
        }))
        .await?;
    Ok(Sent::Submitted(submitted))
}

/// Withdraws (取下げ) a submitted application that is not yet decided.
pub async fn withdraw(
    db: &Db,
    id: i64,
    resident_id: i64,
    reason: &str,
) -> Result<Application, ActionError> {
    let mut tx = db.begin().await?;
    let app = store::for_resident_in(&mut tx, id, resident_id)
        .await?
        .ok_or(ActionError::NotFound)?;
    let from = app.status();
    if !from.withdrawable() {
        return Err(ActionError::InvalidTransition(from));
    }
    let updated = store::mark_withdrawn(&mut tx, id, app.version, Timestamp::now())
        .await?
        .ok_or(ActionError::Store(StoreError::Conflict(
            "application changed meanwhile".into(),
        )))?;
    let reason: String = reason.chars().take(1000).collect();
    store::insert_event(
        &mut tx,
        &updated,
        Actor::Resident(resident_id),
        "withdrawn",
        Some(from),
        Some(Status::Withdrawn),
        &reason,
        None,
    )
    .await?;
    audit::append(
        &mut tx,
        audit::Entry {
            organisation_id: Some(updated.organisation_id),
            actor: Actor::Resident(resident_id),
            action: "application.withdrawn",
            subject_kind: "application",
            subject_id: Some(id),
            detail: serde_json::json!({"from": from.code(), "receipt_number": updated.receipt_number}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(updated)
}

/// Deletes a draft (never a submitted application).
pub async fn discard_draft(db: &Db, id: i64, resident_id: i64) -> Result<(), ActionError> {
    let mut tx = db.begin().await?;
    let status = store::status_for_resident(&mut tx, id, resident_id).await?;
    match status.as_deref().and_then(Status::parse) {
        None => return Err(ActionError::NotFound),
        Some(Status::Draft) => {}
        Some(other) => return Err(ActionError::InvalidTransition(other)),
    }
    store::delete_draft(&mut tx, id).await?;
    tx.commit().await?;
    Ok(())
}
