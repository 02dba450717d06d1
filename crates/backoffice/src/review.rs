//! What staff do to an application: start the review, return it for
//! correction, draft a decision and move it through the approval route.
//!
//! Every action runs in one write transaction: the application's new status
//! and version, its history event, the approval case and action, the audit
//! record and the notification job commit together or not at all. Actions
//! carry the version of the application the staff member saw: if someone acted
//! meanwhile (two approvers clicking at once), the second gets [`ActionError::Stale`]
//! and nothing changes (optimistic locking; the update is conditional on the
//! version, so it holds across nodes too).

use platform::accounts::{Role, Staff};
use platform::audit::{self, Actor};
use platform::db::{Db, StoreError, Timestamp, WriteTx};
use procedures::application_columns;
use procedures::applications::{self, Application, Status};
use serde_json::json;

use crate::approvals::{self, CaseRow, Outcome, case_columns};

/// A staff action on an application.
#[derive(Debug, Clone)]
pub enum Action {
    /// 送信済 → 処理中.
    StartReview,
    /// → 差し戻し, with what to fix (sent to the resident).
    Return { message: String },
    /// 起案: propose a decision; it enters the approval route.
    Draft { outcome: Outcome, reason: String },
    /// The drafter revises a case sent back to them and sends it on again.
    Redraft { outcome: Outcome, reason: String },
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

/// Loads the application for `staff` (their organisation and section only).
pub async fn load_for_staff(db: &Db, staff: &Staff, id: i64) -> Result<Application, ActionError> {
    sqlx::query_as(concat!(
        "select ",
        application_columns!(),
        " from applications where id = $1 and organisation_id = $2 and section_id = $3 and status <> 'draft'"
    ))
    .bind(id)
    .bind(staff.organisation_id)
    .bind(staff.section_id)
    .fetch_optional(db.pool())
    .await
    .map_err(StoreError::from)?
    .ok_or(ActionError::NotFound)
}

async fn record(
    tx: &mut WriteTx,
    app: &Application,
    staff: &Staff,
    kind: &str,
    from: Status,
    to: Status,
    comment: &str,
) -> Result<(), ActionError> {
    applications::insert_event(
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

#[allow(clippy::too_many_arguments)] // one row of approval_actions: each argument is a column
async fn case_action(
    tx: &mut WriteTx,
    case: &CaseRow,
    app: &Application,
    staff: &Staff,
    on_behalf_of: Option<i64>,
    step: i64,
    action: &str,
    comment: &str,
) -> Result<(), ActionError> {
    let steps = case.steps();
    let step_name = steps
        .get(step as usize)
        .map(|s| s.name.clone())
        .unwrap_or_default();
    sqlx::query(
        "insert into approval_actions (case_id, organisation_id, step, step_name, actor_id, on_behalf_of, action, comment, at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(case.id)
    .bind(app.organisation_id)
    .bind(step)
    .bind(step_name)
    .bind(staff.id)
    .bind(on_behalf_of)
    .bind(action)
    .bind(comment)
    .bind(Timestamp::now())
    .execute(&mut **tx)
    .await
    .map_err(StoreError::from)?;
    Ok(())
}

/// Does `action` as `staff` on application `id`, which they saw at `version`.
pub async fn act(
    db: &Db,
    staff: &Staff,
    id: i64,
    version: i64,
    action: Action,
) -> Result<Application, ActionError> {
    let mut tx = db.begin().await?;
    let app: Application = sqlx::query_as(concat!(
        "select ",
        application_columns!(),
        " from applications where id = $1 and organisation_id = $2 and section_id = $3 and status <> 'draft'"
    ))
    .bind(id)
    .bind(staff.organisation_id)
    .bind(staff.section_id)
    .fetch_optional(&mut *tx)
    .await
    .map_err(StoreError::from)?
    .ok_or(ActionError::NotFound)?;
    if app.version != version {
        return Err(ActionError::Stale);
    }
    if !(staff.has(Role::SectionStaff) || staff.has(Role::Approver)) {
        return Err(ActionError::NotAllowed("review.error.role"));
    }
    let status = app.status();
    let case = approvals::pending_case(&mut tx, app.id).await?;
    let now = Timestamp::now();
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
                sqlx::query(
                    "update approval_cases set status = 'cancelled', updated_at = $1 where id = $2",
                )
                .bind(now)
                .bind(c.id)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
                case_action(
                    &mut tx,
                    c,
                    &app,
                    staff,
                    None,
                    c.current_step,
                    "cancelled",
                    "",
                )
                .await?;
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
            let route = approvals::route_for(db, app.procedure_id).await?;
            if !route[0].role.allows(staff) {
                return Err(ActionError::NotAllowed("review.error.role"));
            }
            let steps =
                serde_json::to_string(&route).map_err(|e| StoreError::Conflict(e.to_string()))?;
            let created: CaseRow = sqlx::query_as(concat!(
                "insert into approval_cases (organisation_id, section_id, application_id, outcome, reason, steps, \
                 current_step, status, drafted_by, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, 1, 'pending', $7, $8, $8) \
                 returning ",
                case_columns!()
            ))
            .bind(app.organisation_id)
            .bind(app.section_id)
            .bind(app.id)
            .bind(outcome.code())
            .bind(&reason)
            .bind(steps)
            .bind(staff.id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(StoreError::from)?;
            case_action(&mut tx, &created, &app, staff, None, 0, "drafted", &reason).await?;
            record(&mut tx, &app, staff, "decision_drafted", status, status, "").await?;
            audit(
                &mut tx,
                &app,
                staff,
                "approval.drafted",
                json!({"case": created.id, "outcome": outcome.code()}),
            )
            .await?;
        }
        Action::Redraft { outcome, reason } => {
            let c = case
                .as_ref()
                .ok_or(ActionError::InvalidTransition("review.error.no_case"))?;
            if c.current_step != 0 {
                return Err(ActionError::InvalidTransition(
                    "review.error.not_with_drafter",
                ));
            }
            if !(c.drafted_by == staff.id || staff.has(Role::SectionStaff)) {
                return Err(ActionError::NotAllowed("review.error.role"));
            }
            let reason = text("reason", reason, *outcome == Outcome::Refuse)?;
            sqlx::query("update approval_cases set outcome = $1, reason = $2, current_step = 1, drafted_by = $3, updated_at = $4 where id = $5")
                .bind(outcome.code())
                .bind(&reason)
                .bind(staff.id)
                .bind(now)
                .bind(c.id)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::from)?;
            case_action(&mut tx, c, &app, staff, None, 0, "redrafted", &reason).await?;
            audit(
                &mut tx,
                &app,
                staff,
                "approval.redrafted",
                json!({"case": c.id, "outcome": outcome.code()}),
            )
            .await?;
        }
        Action::Approve { comment } | Action::SendBack { comment } | Action::Reject { comment } => {
            let c = case
                .as_ref()
                .ok_or(ActionError::InvalidTransition("review.error.no_case"))?;
            if status != Status::InReview {
                return Err(ActionError::InvalidTransition("review.error.not_in_review"));
            }
            if c.current_step == 0 {
                return Err(ActionError::InvalidTransition("review.error.with_drafter"));
            }
            let on_behalf_of = approvals::may_act(&mut tx, staff, c)
                .await?
                .ok_or(ActionError::NotAllowed("review.error.not_your_step"))?;
            let required = !matches!(action, Action::Approve { .. });
            let comment = text("comment", comment, required)?;
            let steps = c.steps();
            match action {
                Action::Approve { .. } => {
                    case_action(
                        &mut tx,
                        c,
                        &app,
                        staff,
                        on_behalf_of,
                        c.current_step,
                        "approved",
                        &comment,
                    )
                    .await?;
                    let last = c.current_step as usize + 1 >= steps.len();
                    if last {
                        sqlx::query("update approval_cases set status = 'approved', decided_at = $1, updated_at = $1 where id = $2")
                            .bind(now)
                            .bind(c.id)
                            .execute(&mut *tx)
                            .await
                            .map_err(StoreError::from)?;
                        new_status = match c.outcome() {
                            Outcome::Grant => Status::Completed,
                            Outcome::Refuse => Status::Rejected,
                        };
                        let kind = if new_status == Status::Completed {
                            "completed"
                        } else {
                            "rejected"
                        };
                        let shown = if new_status == Status::Rejected {
                            c.reason.clone()
                        } else {
                            String::new()
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
                    } else {
                        sqlx::query("update approval_cases set current_step = current_step + 1, updated_at = $1 where id = $2")
                            .bind(now)
                            .bind(c.id)
                            .execute(&mut *tx)
                            .await
                            .map_err(StoreError::from)?;
                        audit(
                            &mut tx,
                            &app,
                            staff,
                            "approval.approved",
                            json!({"case": c.id, "step": c.current_step}),
                        )
                        .await?;
                    }
                }
                Action::SendBack { .. } => {
                    case_action(
                        &mut tx,
                        c,
                        &app,
                        staff,
                        on_behalf_of,
                        c.current_step,
                        "sent_back",
                        &comment,
                    )
                    .await?;
                    sqlx::query("update approval_cases set current_step = current_step - 1, updated_at = $1 where id = $2")
                        .bind(now)
                        .bind(c.id)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::from)?;
                    audit(
                        &mut tx,
                        &app,
                        staff,
                        "approval.sent_back",
                        json!({"case": c.id, "step": c.current_step}),
                    )
                    .await?;
                }
                _ => {
                    case_action(
                        &mut tx,
                        c,
                        &app,
                        staff,
                        on_behalf_of,
                        c.current_step,
                        "rejected",
                        &comment,
                    )
                    .await?;
                    sqlx::query("update approval_cases set status = 'rejected', updated_at = $1 where id = $2")
                        .bind(now)
                        .bind(c.id)
                        .execute(&mut *tx)
                        .await
                        .map_err(StoreError::from)?;
                    audit(
                        &mut tx,
                        &app,
                        staff,
                        "approval.rejected",
                        json!({"case": c.id, "step": c.current_step}),
                    )
                    .await?;
                }
            }
        }
    }

    // The version moves with every action: the optimistic lock of the next one.
    let updated: Application = sqlx::query_as(concat!(
        "update applications set status = $1, updated_at = $2, version = version + 1 where id = $3 and version = $4 returning ",
        application_columns!()
    ))
    .bind(new_status.code())
    .bind(now)
    .bind(app.id)
    .bind(version)
    .fetch_optional(&mut *tx)
    .await
    .map_err(StoreError::from)?
    .ok_or(ActionError::Stale)?;
    // What one does oneself is not news to oneself.
    sqlx::query(
        "insert into staff_reads (staff_id, application_id, version_seen, read_at) values ($1, $2, $3, $4) \
         on conflict (staff_id, application_id) do update set version_seen = excluded.version_seen, read_at = excluded.read_at",
    )
    .bind(staff.id)
    .bind(app.id)
    .bind(updated.version)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(StoreError::from)?;
    if let Some((kind, payload)) = notify {
        let key = format!("{kind}:{}:{}", app.id, updated.version);
        platform::jobs::enqueue(&mut tx, kind, &payload, Some(&key)).await?;
    }
    tx.commit().await?;
    Ok(updated)
}

/// Records that `staff` opened the application (its personal data): an audit
/// record, and the read mark that clears it from their unread list.
pub async fn record_view(
    db: &Db,
    staff: &Staff,
    app: &Application,
    what: &str,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "insert into staff_reads (staff_id, application_id, version_seen, read_at) values ($1, $2, $3, $4) \
         on conflict (staff_id, application_id) do update set version_seen = excluded.version_seen, read_at = excluded.read_at",
    )
    .bind(staff.id)
    .bind(app.id)
    .bind(app.version)
    .bind(Timestamp::now())
    .execute(&mut *tx)
    .await?;
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
