//! What staff do to an application, the same for the pages and the API:
//! open it (with what they may do next), start the review, return it for
//! correction, draft a decision and move it through the approval route.
//!
//! Every action runs in one write transaction: the application's new status
//! and version, its history event, the approval case and action (through
//! `approvals::service`, in the same transaction), the audit record and the
//! notification job commit together or not at all. Actions carry the version
//! of the application the staff member saw: if someone acted meanwhile (two
//! approvers clicking at once), the second gets [`ActionError::Stale`] and
//! nothing changes (optimistic locking; the update is conditional on the
//! version, so it holds across nodes too).

use std::sync::Arc;

use approvals::model::{Case, CaseAction, Outcome, Subject};
use approvals::service::{self as approvals_service, ApprovalError, Decision, Signed};
use platform::accounts::Staff;
use platform::audit::{self, Actor};
use platform::db::{StoreError, StoreResult, Timestamp, WriteTx};
use platform::i18n::Tr;
use procedures::applications::{Application, Attachment, Event, Status};
use procedures::catalogue::Procedure;
use procedures::form::FormDefinition;
use procedures::form::display::{self, AnswerRow};
use procedures::service::{applications as resident_applications, catalogue};
use procedures::store::applications::insert_event;
use serde_json::json;

use crate::model::Action;
use crate::service::state::Backoffice;
use crate::store::review as store;

/// Why an action was refused. Each has a message key in the catalogue.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("not found")]
    NotFound,
    /// Someone else acted on the application since this staff member saw it.
    #[error("stale")]
    Stale,
    /// The application's status (or its approval case) does not allow it.
    #[error("invalid transition: {0}")]
    InvalidTransition(&'static str),
    /// This staff member may not do it (role, separation of duties).
    #[error("not allowed: {0}")]
    NotAllowed(&'static str),
    /// A required text is missing or too long: (field, message key).
    #[error("invalid {0}: {1}")]
    Invalid(&'static str, &'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ActionError {
    pub fn key(&self) -> &'static str {
        match self {
            ActionError::NotFound => "error.not_found",
            ActionError::Stale => "review.error.stale",
            ActionError::InvalidTransition(k) | ActionError::NotAllowed(k) => k,
            ActionError::Invalid(_, k) => k,
            ActionError::Store(_) => "error.internal_error",
        }
    }
}

impl From<ApprovalError> for ActionError {
    fn from(e: ApprovalError) -> ActionError {
        match e {
            ApprovalError::InvalidTransition(k) => ActionError::InvalidTransition(k),
            ApprovalError::NotAllowed(k) => ActionError::NotAllowed(k),
            ApprovalError::Invalid(k) => ActionError::Invalid("approval", k),
            ApprovalError::Store(e) => ActionError::Store(e),
        }
    }
}

fn text(field: &'static str, s: &str, required: bool) -> Result<String, ActionError> {
    let s = procedures::form::answers::clean_text(s, true);
    if required && s.is_empty() {
        return Err(ActionError::Invalid(field, "review.error.text_required"));
    }
    if s.chars().count() > 2000 {
        return Err(ActionError::Invalid(field, "review.error.text_too_long"));
    }
    Ok(s)
}

/// The application for `staff` (their organisation and section only).
pub async fn load_for_staff(
    state: &Backoffice,
    staff: &Staff,
    id: i64,
) -> Result<Application, ActionError> {
    // Only those who handle applications open one (the same answer as "not found").
    if !staff.handles_applications() {
        return Err(ActionError::NotFound);
    }
    store::for_staff(&state.platform.db, staff, id)
        .await?
        .ok_or(ActionError::NotFound)
}

/// Records that `staff` opened the application (its personal data): an audit
/// record, and the read mark that clears it from their unread list.
pub async fn record_view(
    state: &Backoffice,
    staff: &Staff,
    app: &Application,
    what: &str,
) -> Result<(), StoreError> {
    let mut tx = state.platform.db.begin().await?;
    store::mark_read(&mut tx, staff.id, app.id, app.version, Timestamp::now()).await?;
    audit::append(
        &mut tx,
        audit::Entry {
            organisation_id: Some(app.organisation_id),
            actor: Actor::Staff(staff.id),
            action: what,
            subject_kind: "application",
            subject_id: Some(app.id),
            detail: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One of the application's attachments, for `staff`; the download is audited.
pub async fn attachment(
    state: &Backoffice,
    staff: &Staff,
    id: i64,
    attachment_id: i64,
) -> Result<Attachment, ActionError> {
    let db = &state.platform.db;
    let app = load_for_staff(state, staff, id).await?;
    let att = resident_applications::attachments(db, app.id)
        .await?
        .into_iter()
        .find(|a| a.id == attachment_id)
        .ok_or(ActionError::NotFound)?;
    record_view(state, staff, &app, "attachment.downloaded").await?;
    Ok(att)
}

/// Who did something in an application's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    Staff(String),
    Applicant,
    System,
}

/// An event of the application's history, with who did it.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub at: Timestamp,
    pub who: Who,
    pub kind: String,
    pub comment: String,
}

/// A change between two versions of the answers.
#[derive(Debug, Clone)]
pub struct Change {
    pub label: String,
    pub before: String,
    pub after: String,
}

/// What changed at one resubmission.
#[derive(Debug, Clone)]
pub struct Resubmission {
    pub at: Timestamp,
    /// The correction the staff asked for, which this resubmission answers.
    pub asked: String,
    pub changes: Vec<Change>,
}

/// What the staff member may do now.
#[derive(Debug, Clone, Default)]
pub struct Allowed {
    pub start_review: bool,
    pub return_: bool,
    pub draft: bool,
    pub redraft: bool,
    pub sign: bool,
    /// Signing for an absent approver (代決): their name.
    pub on_behalf_of: Option<String>,
}

/// Everything the application page and the API show.
pub struct Detail {
    pub app: Application,
    pub def: Arc<FormDefinition>,
    pub procedure: Procedure,
    pub rows: Vec<AnswerRow>,
    pub attachments: Vec<Attachment>,
    pub history: Vec<HistoryEntry>,
    pub resubmissions: Vec<Resubmission>,
    pub cases: Vec<Case>,
    pub actions: Vec<CaseAction>,
    pub allowed: Allowed,
    pub returned_message: Option<String>,
}

/// What changed between consecutive versions of the answers sent.
fn resubmissions(def: &FormDefinition, events: &[Event], tr: &Tr) -> Vec<Resubmission> {
    let snapshots: Vec<(&Event, serde_json::Map<String, serde_json::Value>)> = events
        .iter()
        .filter_map(|e| {
            e.answers
                .as_deref()
                .and_then(|a| serde_json::from_str(a).ok())
                .map(|m| (e, m))
        })
        .collect();
    let mut out = Vec::new();
    for pair in snapshots.windows(2) {
        let [(_, old_answers), (event, new_answers)] = pair else {
            continue;
        };
        let before = display::rows(def, old_answers, tr);
        let after = display::rows(def, new_answers, tr);
        let mut changes = Vec::new();
        for a in &after {
            let b = before.iter().find(|b| b.question_id == a.question_id);
            let old = b.map(|b| b.lines.join(" / ")).unwrap_or_default();
            let new = a.lines.join(" / ");
            if old != new {
                changes.push(Change {
                    label: a.label.clone(),
                    before: old,
                    after: new,
                });
            }
        }
        for b in &before {
            if !after.iter().any(|a| a.question_id == b.question_id) {
                changes.push(Change {
                    label: b.label.clone(),
                    before: b.lines.join(" / "),
                    after: String::new(),
                });
            }
        }
        let asked = events
            .iter()
            .rfind(|e| e.kind == "returned" && e.id < event.id)
            .map(|e| e.comment.clone())
            .unwrap_or_default();
        out.push(Resubmission {
            at: event.at,
            asked,
            changes,
        });
    }
    out
}

/// Loads an application for `staff` (their organisation and section), records
/// the view in the audit log, and works out what they may do. Answers are
/// shown in `tr`'s language.
pub async fn detail(
    state: &Backoffice,
    staff: &Staff,
    id: i64,
    tr: &Tr,
) -> Result<Detail, ActionError> {
    let db = &state.platform.db;
    let app = load_for_staff(state, staff, id).await?;
    record_view(state, staff, &app, "application.viewed").await?;
    let def = state.procedures.forms.get(db, app.form_version_id).await?;
    let procedure = catalogue::procedure_by_id(db, app.procedure_id)
        .await?
        .ok_or(ActionError::NotFound)?;
    let answers = app.answers_map();
    let rows = display::rows(&def, &answers, tr);
    let attachments = resident_applications::attachments(db, id).await?;
    let events = resident_applications::events(db, id).await?;
    let names = store::staff_names(db, staff.organisation_id).await?;
    let name_of = |id: i64| names.iter().find(|(i, _)| *i == id).map(|(_, n)| n.clone());
    let history = events
        .iter()
        .map(|e| HistoryEntry {
            at: e.at,
            who: match e.actor_kind.as_str() {
                "staff" => Who::Staff(e.actor_id.and_then(name_of).unwrap_or_default()),
                "resident" => Who::Applicant,
                _ => Who::System,
            },
            kind: e.kind.clone(),
            comment: e.comment.clone(),
        })
        .collect();
    let resubmissions = resubmissions(&def, &events, tr);
    let cases = approvals_service::cases(db, id).await?;
    let actions = approvals_service::actions(db, id).await?;
    let pending = cases.iter().find(|c| c.is_pending());
    let status = app.status();
    let section_member = staff.handles_applications();
    let mut allowed = Allowed {
        start_review: section_member && status == Status::Submitted,
        return_: section_member && matches!(status, Status::Submitted | Status::InReview),
        draft: section_member && status == Status::InReview && pending.is_none(),
        redraft: section_member && pending.is_some_and(|c| c.current_step == 0),
        ..Default::default()
    };
    if let Some(c) = pending.filter(|c| c.current_step > 0 && status == Status::InReview)
        && let Some(behalf) = approvals_service::may_sign(db, staff, c).await?
    {
        allowed.sign = true;
        allowed.on_behalf_of = behalf.and_then(name_of);
    }
    let returned_message = if status == Status::Returned {
        events
            .iter()
            .rev()
            .find(|e| e.kind == "returned")
            .map(|e| e.comment.clone())
    } else {
        None
    };
    Ok(Detail {
        app,
        def,
        procedure,
        rows,
        attachments,
        history,
        resubmissions,
        cases,
        actions,
        allowed,
        returned_message,
    })
}

/// The application's history event for a staff action.
async fn record(
    tx: &mut WriteTx,
    app: &Application,
    staff: &Staff,
    kind: &str,
    from: Status,
    to: Status,
    comment: &str,
) -> Result<(), ActionError> {
    insert_event(
        tx,
        app,
        Actor::Staff(staff.id),
        kind,
        Some(from),
        Some(to),
        comment,
        None,
    )
    .await?;
    Ok(())
}

async fn audit(
    tx: &mut WriteTx,
    app: &Application,
    staff: &Staff,
    action: &str,
    detail: serde_json::Value,
) -> Result<(), ActionError> {
    audit::append(
        tx,
        audit::Entry {
            organisation_id: Some(app.organisation_id),
            actor: Actor::Staff(staff.id),
            action,
            subject_kind: "application",
            subject_id: Some(app.id),
            detail,
        },
    )
    .await?;
    Ok(())
}

/// Does `action` as `staff` on application `id`, which they saw at `version`.
pub async fn act(
    state: &Backoffice,
    staff: &Staff,
    id: i64,
    version: i64,
    action: Action,
) -> Result<Application, ActionError> {
    let db = &state.platform.db;
    let mut tx = db.begin().await?;
    let app = store::for_staff_in(&mut tx, staff, id)
        .await?
        .ok_or(ActionError::NotFound)?;
    if app.version != version {
        return Err(ActionError::Stale);
    }
    if !staff.handles_applications() {
        return Err(ActionError::NotAllowed("review.error.role"));
    }
    let status = app.status();
    let subject = Subject::application(app.id, app.organisation_id, app.section_id);
    let case = approvals_service::pending_case(&mut tx, app.id).await?;
    let mut new_status = status;
    let mut notify: Option<(&str, serde_json::Value)> = None;

    match &action {
        Action::StartReview => {
            if status != Status::Submitted {
                return Err(ActionError::InvalidTransition("review.error.not_submitted"));
            }
            new_status = Status::InReview;
            record(
                &mut tx,
                &app,
                staff,
                "review_started",
                status,
                new_status,
                "",
            )
            .await?;
            audit(
                &mut tx,
                &app,
                staff,
                "application.review_started",
                json!({}),
            )
            .await?;
        }
        Action::Return { message } => {
            if !matches!(status, Status::Submitted | Status::InReview) {
                return Err(ActionError::InvalidTransition(
                    "review.error.not_returnable",
                ));
            }
            let message = text("message", message, true)?;
            if let Some(c) = &case {
                approvals_service::cancel(&mut tx, staff, &subject, c).await?;
            }
            new_status = Status::Returned;
            record(
                &mut tx, &app, staff, "returned", status, new_status, &message,
            )
            .await?;
            audit(&mut tx, &app, staff, "application.returned", json!({})).await?;
            notify = Some((
                "notify.correction_requested",
                json!({"application_id": app.id, "message": message}),
            ));
        }
        Action::Draft { outcome, reason } => {
            if status != Status::InReview {
                return Err(ActionError::InvalidTransition("review.error.not_in_review"));
            }
            if case.is_some() {
                return Err(ActionError::InvalidTransition("review.error.case_pending"));
            }
            let reason = text("reason", reason, *outcome == Outcome::Refuse)?;
            let route = approvals_service::route_for(db, app.procedure_id).await?;
            approvals_service::draft(&mut tx, staff, &subject, &route, *outcome, &reason).await?;
            record(&mut tx, &app, staff, "decision_drafted", status, status, "").await?;
        }
        Action::Redraft { outcome, reason } => {
            let c = case
                .as_ref()
                .ok_or(ActionError::InvalidTransition("approval.error.no_case"))?;
            approvals_service::check_redraft(staff, c)?;
            let reason = text("reason", reason, *outcome == Outcome::Refuse)?;
            approvals_service::redraft(&mut tx, staff, &subject, c, *outcome, &reason).await?;
        }
        Action::Approve { comment } | Action::SendBack { comment } | Action::Reject { comment } => {
            let c = case
                .as_ref()
                .ok_or(ActionError::InvalidTransition("approval.error.no_case"))?;
            if status != Status::InReview {
                return Err(ActionError::InvalidTransition("review.error.not_in_review"));
            }
            let signoff = approvals_service::authorize(&mut tx, staff, c).await?;
            let decision = match action {
                Action::Approve { .. } => Decision::Approve,
                Action::SendBack { .. } => Decision::SendBack,
                _ => Decision::Reject,
            };
            let comment = text("comment", comment, decision != Decision::Approve)?;
            let signed =
                approvals_service::sign(&mut tx, staff, &subject, c, signoff, decision, &comment)
                    .await?;
            if let Signed::Decided(outcome) = signed {
                new_status = match outcome {
                    Outcome::Grant => Status::Completed,
                    Outcome::Refuse => Status::Rejected,
                };
                let (kind, shown) = if new_status == Status::Completed {
                    ("completed", String::new())
                } else {
                    ("rejected", c.reason.clone())
                };
                record(&mut tx, &app, staff, kind, status, new_status, &shown).await?;
                audit(
                    &mut tx,
                    &app,
                    staff,
                    "application.decided",
                    json!({"case": c.id, "outcome": c.outcome}),
                )
                .await?;
                notify = Some((
                    "notify.decision",
                    json!({"application_id": app.id, "case": c.id}),
                ));
            }
        }
    }

    // The version moves with every action: the optimistic lock of the next one.
    let now = Timestamp::now();
    let updated = store::set_status(&mut tx, app.id, version, new_status, now)
        .await?
        .ok_or(ActionError::Stale)?;
    // What one does oneself is not news to oneself.
    store::mark_read(&mut tx, staff.id, app.id, updated.version, now).await?;
    if let Some((kind, payload)) = notify {
        let key = format!("{kind}:{}:{}", app.id, updated.version);
        platform::jobs::enqueue(&mut tx, kind, &payload, Some(&key)).await?;
    }
    tx.commit().await?;
    Ok(updated)
}

/// The pending cases of the staff member's section that they may sign now,
/// with their applications (those being reviewed).
pub async fn waiting_for(
    state: &Backoffice,
    staff: &Staff,
) -> StoreResult<Vec<(Case, Application)>> {
    let db = &state.platform.db;
    let mut out = Vec::new();
    for c in approvals_service::waiting_for(db, staff).await? {
        if let Some(app) = resident_applications::by_id(db, c.application_id).await?
            && app.status() == Status::InReview
        {
            out.push((c, app));
        }
    }
    Ok(out)
}

/// The procedure named in an approvals list, if it still exists.
pub async fn procedure(state: &Backoffice, id: i64) -> StoreResult<Option<Procedure>> {
    catalogue::procedure_by_id(&state.platform.db, id).await
}
