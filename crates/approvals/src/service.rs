//! The approvals' use cases. Those that change a case take the caller's
//! write transaction: the module that owns the subject changes the subject in
//! the same transaction, so both commit together or not at all. Each records
//! its approval action and, unless it decides the subject (which the owning
//! module records as its own decision), its audit record.

use platform::accounts::{Role, Staff};
use platform::audit::{self, Actor};
use platform::db::{Db, StoreError, StoreResult, Timestamp, WriteTx};
use sqlx::AnyConnection;

use crate::model::{
    Case, CaseAction, Delegation, Outcome, Step, Subject, check_route, default_route,
};
use crate::store;

/// Why an approval action was refused. Each carries its message key.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// The case (or its absence) does not allow it.
    #[error("invalid transition: {0}")]
    InvalidTransition(&'static str),
    /// This staff member may not do it (role, separation of duties).
    #[error("not allowed: {0}")]
    NotAllowed(&'static str),
    /// The input is not acceptable (a route, a delegation): its message key.
    #[error("invalid: {0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ApprovalError {
    /// The message key.
    pub fn key(&self) -> &'static str {
        match self {
            ApprovalError::InvalidTransition(k)
            | ApprovalError::NotAllowed(k)
            | ApprovalError::Invalid(k) => k,
            ApprovalError::Store(_) => "error.internal_error",
        }
    }
}

/// The route of a procedure (the default route when it has none).
pub async fn route_for(db: &Db, procedure_id: i64) -> StoreResult<Vec<Step>> {
    Ok(store::route(db, procedure_id)
        .await?
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_else(default_route))
}

/// Sets a procedure's route (organisation admins), with its audit record.
pub async fn set_route(
    db: &Db,
    organisation_id: i64,
    procedure_id: i64,
    steps: &[Step],
    by: Option<i64>,
) -> Result<(), ApprovalError> {
    check_route(steps).map_err(ApprovalError::Invalid)?;
    let json = serde_json::to_string(steps).map_err(|e| StoreError::Conflict(e.to_string()))?;
    let mut tx = db.begin().await?;
    store::set_route(&mut tx, organisation_id, procedure_id, &json, by).await?;
    audit::append(
        &mut tx,
        audit::Entry {
            organisation_id: Some(organisation_id),
            actor: by.map(Actor::Staff).unwrap_or(Actor::Cli),
            action: "approval_route.set",
            subject_kind: "procedure",
            subject_id: Some(procedure_id),
            detail: serde_json::json!({"steps": steps.iter().map(|s| &s.name).collect::<Vec<_>>()}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The pending case of an application, if any (inside the caller's transaction).
pub async fn pending_case(
    conn: &mut AnyConnection,
    application_id: i64,
) -> StoreResult<Option<Case>> {
    store::pending_case(conn, application_id).await
}

/// Every case of an application, oldest first.
pub async fn cases(db: &Db, application_id: i64) -> StoreResult<Vec<Case>> {
    store::cases(db, application_id).await
}

/// One case of an application.
pub async fn case_of(db: &Db, case_id: i64, application_id: i64) -> StoreResult<Option<Case>> {
    store::case_of(db, case_id, application_id).await
}

/// The actions on an application's cases, oldest first.
pub async fn actions(db: &Db, application_id: i64) -> StoreResult<Vec<CaseAction>> {
    store::actions(db, application_id).await
}

/// Who signed which step of `case` since it was last (re)drafted.
async fn signers(conn: &mut AnyConnection, case_id: i64) -> StoreResult<Vec<i64>> {
    let mut out = Vec::new();
    for (actor, behalf, action) in store::case_history(conn, case_id).await? {
        match action.as_str() {
            "drafted" | "redrafted" => out.clear(),
            "approved" => out.push(behalf.unwrap_or(actor)),
            _ => {}
        }
    }
    Ok(out)
}

/// How `staff` may act on the current step of `case`: in their own name
/// (`Some(None)`), on behalf of an absent approver (`Some(Some(id))`), or not at all.
pub async fn may_act(
    conn: &mut AnyConnection,
    staff: &Staff,
    case: &Case,
) -> StoreResult<Option<Option<i64>>> {
    let Some(step) = case.current() else {
        return Ok(None);
    };
    let signed = signers(conn, case.id).await?;
    let eligible = |id: i64, roles_ok: bool| -> bool {
        roles_ok && (step.simple || (id != case.drafted_by && !signed.contains(&id)))
    };
    if eligible(staff.id, step.role.allows(staff)) {
        return Ok(Some(None));
    }
    // 代決: someone of the same section with the step's role delegated to this staff member, now.
    for d in store::delegators_of(conn, staff, Timestamp::now()).await? {
        let delegator = Staff {
            id: d.id,
            organisation_id: staff.organisation_id,
            section_id: d.section_id,
            email: String::new(),
            name: String::new(),
            roles: platform::accounts::parse_roles(&d.roles),
        };
        if !d.disabled.0
            && d.section_id == staff.section_id
            && d.id != staff.id
            && eligible(d.id, step.role.allows(&delegator))
            && eligible(staff.id, true)
        {
            return Ok(Some(Some(d.id)));
        }
    }
    Ok(None)
}

/// The pending cases of `staff`'s section that they may sign now.
pub async fn waiting_for(db: &Db, staff: &Staff) -> StoreResult<Vec<Case>> {
    let pending = store::pending_in_section(db, staff.organisation_id, staff.section_id).await?;
    let mut conn = db.connection().await?;
    let mut out = Vec::new();
    for c in pending {
        if may_act(&mut conn, staff, &c).await?.is_some() {
            out.push(c);
        }
    }
    Ok(out)
}

/// Who may sign the current step of `case` in their own name or for someone
/// (their id), read outside any transaction.
pub async fn may_sign(db: &Db, staff: &Staff, case: &Case) -> StoreResult<Option<Option<i64>>> {
    let mut conn = db.connection().await?;
    may_act(&mut conn, staff, case).await
}

#[allow(
    clippy::too_many_arguments,
    reason = "one row of approval_actions: each argument is a column"
)]
async fn record_action(
    tx: &mut WriteTx,
    case: &Case,
    subject: &Subject,
    staff: &Staff,
    on_behalf_of: Option<i64>,
    step: i64,
    action: &str,
    comment: &str,
) -> StoreResult<()> {
    let step_name = usize::try_from(step)
        .ok()
        .and_then(|i| case.steps().into_iter().nth(i))
        .map(|s| s.name)
        .unwrap_or_default();
    store::insert_action(
        tx,
        store::NewAction {
            case_id: case.id,
            organisation_id: subject.organisation_id,
            step,
            step_name: &step_name,
            actor_id: staff.id,
            on_behalf_of,
            action,
            comment,
        },
    )
    .await
}

async fn audit_case(
    tx: &mut WriteTx,
    subject: &Subject,
    staff: &Staff,
    action: &str,
    detail: serde_json::Value,
) -> StoreResult<()> {
    audit::append(
        tx,
        audit::Entry {
            organisation_id: Some(subject.organisation_id),
            actor: Actor::Staff(staff.id),
            action,
            subject_kind: subject.kind,
            subject_id: Some(subject.id),
            detail,
        },
    )
    .await?;
    Ok(())
}

/// 起案: proposes a decision on `subject` along `route` (the procedure's
/// route, copied into the case). The drafting step must be theirs.
pub async fn draft(
    tx: &mut WriteTx,
    staff: &Staff,
    subject: &Subject,
    route: &[Step],
    outcome: Outcome,
    reason: &str,
) -> Result<Case, ApprovalError> {
    if !route.first().is_some_and(|s| s.role.allows(staff)) {
        return Err(ApprovalError::NotAllowed("approval.error.role"));
    }
    let steps = serde_json::to_string(route).map_err(|e| StoreError::Conflict(e.to_string()))?;
    let created = store::insert_case(
        tx,
        subject,
        outcome,
        reason,
        &steps,
        staff.id,
        Timestamp::now(),
    )
    .await?;
    record_action(tx, &created, subject, staff, None, 0, "drafted", reason).await?;
    audit_case(
        tx,
        subject,
        staff,
        "approval.drafted",
        serde_json::json!({"case": created.id, "outcome": outcome.code()}),
    )
    .await?;
    Ok(created)
}

/// Whether `staff` may revise `case`: it must be back with its drafter, and
/// they must be its drafter or section staff.
pub fn check_redraft(staff: &Staff, case: &Case) -> Result<(), ApprovalError> {
    if case.current_step != 0 {
        return Err(ApprovalError::InvalidTransition(
            "approval.error.not_with_drafter",
        ));
    }
    if !(case.drafted_by == staff.id || staff.has(Role::SectionStaff)) {
        return Err(ApprovalError::NotAllowed("approval.error.role"));
    }
    Ok(())
}

/// The drafter revises a case sent back to them and sends it on again.
pub async fn redraft(
    tx: &mut WriteTx,
    staff: &Staff,
    subject: &Subject,
    case: &Case,
    outcome: Outcome,
    reason: &str,
) -> Result<(), ApprovalError> {
    check_redraft(staff, case)?;
    store::redraft_case(tx, case.id, outcome, reason, staff.id, Timestamp::now()).await?;
    record_action(tx, case, subject, staff, None, 0, "redrafted", reason).await?;
    audit_case(
        tx,
        subject,
        staff,
        "approval.redrafted",
        serde_json::json!({"case": case.id, "outcome": outcome.code()}),
    )
    .await?;
    Ok(())
}

/// A sign-off on the current step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Sign the step; at the last step this decides the subject.
    Approve,
    /// Send the case back one step.
    SendBack,
    /// End the case: the section must draft anew.
    Reject,
}

/// What a sign-off did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signed {
    /// The last step was signed: the case decides the subject with this
    /// outcome (the owning module records the decision).
    Decided(Outcome),
    /// The case moved on to the next step.
    Approved,
    SentBack,
    Rejected,
}

/// The right to sign the current step of a case, in one's own name or for
/// an absent approver; only [`authorize`] gives one.
#[derive(Debug)]
pub struct SignOff {
    case_id: i64,
    on_behalf_of: Option<i64>,
}

/// Whether `staff` may sign the current step of `case` now: it must be past
/// its drafting step, and they must hold the step's role without having
/// drafted the case or signed an earlier step (unless the step is simple),
/// or stand in for someone who does.
pub async fn authorize(
    conn: &mut AnyConnection,
    staff: &Staff,
    case: &Case,
) -> Result<SignOff, ApprovalError> {
    if case.current_step == 0 {
        return Err(ApprovalError::InvalidTransition(
            "approval.error.with_drafter",
        ));
    }
    let on_behalf_of = may_act(conn, staff, case)
        .await?
        .ok_or(ApprovalError::NotAllowed("approval.error.not_your_step"))?;
    Ok(SignOff {
        case_id: case.id,
        on_behalf_of,
    })
}

/// Signs the current step of `case` as `staff` (as a delegate when the
/// sign-off says so, and recorded as such).
pub async fn sign(
    tx: &mut WriteTx,
    staff: &Staff,
    subject: &Subject,
    case: &Case,
    signoff: SignOff,
    decision: Decision,
    comment: &str,
) -> Result<Signed, ApprovalError> {
    if signoff.case_id != case.id {
        return Err(ApprovalError::NotAllowed("approval.error.not_your_step"));
    }
    let on_behalf_of = signoff.on_behalf_of;
    let now = Timestamp::now();
    let step = case.current_step;
    let detail = serde_json::json!({"case": case.id, "step": step});
    Ok(match decision {
        Decision::Approve => {
            record_action(
                tx,
                case,
                subject,
                staff,
                on_behalf_of,
                step,
                "approved",
                comment,
            )
            .await?;
            let last = usize::try_from(step).map_or(true, |s| s + 1 >= case.steps().len());
            if last {
                store::end_case(tx, case.id, "approved", now).await?;
                Signed::Decided(case.outcome())
            } else {
                store::move_case(tx, case.id, 1, now).await?;
                audit_case(tx, subject, staff, "approval.approved", detail).await?;
                Signed::Approved
            }
        }
        Decision::SendBack => {
            record_action(
                tx,
                case,
                subject,
                staff,
                on_behalf_of,
                step,
                "sent_back",
                comment,
            )
            .await?;
            store::move_case(tx, case.id, -1, now).await?;
            audit_case(tx, subject, staff, "approval.sent_back", detail).await?;
            Signed::SentBack
        }
        Decision::Reject => {
            record_action(
                tx,
                case,
                subject,
                staff,
                on_behalf_of,
                step,
                "rejected",
                comment,
            )
            .await?;
            store::end_case(tx, case.id, "rejected", now).await?;
            audit_case(tx, subject, staff, "approval.rejected", detail).await?;
            Signed::Rejected
        }
    })
}

/// Cancels a pending case (its subject went back to the applicant).
pub async fn cancel(
    tx: &mut WriteTx,
    staff: &Staff,
    subject: &Subject,
    case: &Case,
) -> StoreResult<()> {
    store::end_case(tx, case.id, "cancelled", Timestamp::now()).await?;
    record_action(
        tx,
        case,
        subject,
        staff,
        None,
        case.current_step,
        "cancelled",
        "",
    )
    .await
}

/// Delegations given or received by `staff`, current and future.
pub async fn delegations_of(db: &Db, staff: &Staff) -> StoreResult<Vec<Delegation>> {
    store::delegations_of(db, staff).await
}

/// `from` (an approver) delegates to `to_staff_id` (same organisation) for [starts, ends).
pub async fn delegate(
    db: &Db,
    from: &Staff,
    to_staff_id: i64,
    starts: Timestamp,
    ends: Timestamp,
) -> Result<i64, ApprovalError> {
    if !from.has(Role::Approver) {
        return Err(ApprovalError::Invalid(
            "approval.error.only_approvers_delegate",
        ));
    }
    if ends <= starts || ends.0 - starts.0 > chrono::Duration::days(366) {
        return Err(ApprovalError::Invalid("approval.error.delegation_period"));
    }
    if to_staff_id == from.id {
        return Err(ApprovalError::Invalid("approval.error.delegation_self"));
    }
    if store::organisation_of_enabled_staff(db, to_staff_id).await? != Some(from.organisation_id) {
        return Err(ApprovalError::Invalid("approval.error.delegate_unknown"));
    }
    let mut tx = db.begin().await?;
    let id = store::insert_delegation(&mut tx, from, to_staff_id, starts, ends).await?;
    audit::append(
        &mut tx,
        audit::Entry {
            organisation_id: Some(from.organisation_id),
            actor: Actor::Staff(from.id),
            action: "delegation.created",
            subject_kind: "delegation",
            subject_id: Some(id),
            detail: serde_json::json!({"to": to_staff_id, "starts_at": starts, "ends_at": ends}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Ends a delegation early (its giver only); whether there was one to end.
pub async fn revoke_delegation(db: &Db, from: &Staff, id: i64) -> StoreResult<bool> {
    let mut tx = db.begin().await?;
    let done = store::revoke_delegation(&mut tx, from, id).await?;
    if done {
        audit::append(
            &mut tx,
            audit::Entry {
                organisation_id: Some(from.organisation_id),
                actor: Actor::Staff(from.id),
                action: "delegation.revoked",
                subject_kind: "delegation",
                subject_id: Some(id),
                detail: serde_json::json!({}),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(done)
}
