//! Approval routes (決裁ルート) and cases (電子決裁).
//!
//! A procedure's route is a list of steps: the first is the drafting of the
//! decision (起案, by section staff), the others are sign-offs (審査, 決裁 …,
//! by approvers of the section). A step marked simple (簡易決裁) may be
//! signed off by any member of the section, the drafter included; other steps
//! need someone who neither drafted the case nor signed an earlier step of it
//! (separation of duties). An approver who is away can delegate (代決): the
//! delegate then signs for them, and the record says on whose behalf.
//!
//! A case is one proposed decision (許可・交付 or 不許可・却下) with its reasons,
//! moving through the steps: approved at the last step, it decides the
//! application; sent back, it returns one step (to the drafter from the first
//! sign-off); rejected, it ends and the section drafts anew.

use platform::accounts::{Role, Staff};
use platform::db::{Db, DbBool, StoreError, StoreResult, Timestamp};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

/// Who may act on a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepRole {
    SectionStaff,
    Approver,
}

impl StepRole {
    pub fn allows(self, staff: &Staff) -> bool {
        match self {
            StepRole::SectionStaff => staff.has(Role::SectionStaff) || staff.has(Role::Approver),
            StepRole::Approver => staff.has(Role::Approver),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    pub role: StepRole,
    /// 簡易決裁: any member of the section may sign, the drafter included.
    #[serde(default)]
    pub simple: bool,
}

/// The route used when a procedure has none of its own: 起案 → 決裁.
pub fn default_route() -> Vec<Step> {
    vec![
        Step {
            name: "起案".into(),
            name_en: "Draft".into(),
            role: StepRole::SectionStaff,
            simple: false,
        },
        Step {
            name: "決裁".into(),
            name_en: "Decision".into(),
            role: StepRole::Approver,
            simple: false,
        },
    ]
}

/// Checks a route: at least a drafting step and one sign-off, the first step by section staff.
pub fn check_route(steps: &[Step]) -> Result<(), &'static str> {
    if steps.len() < 2 || steps.len() > 10 {
        return Err("approval.error.route_length");
    }
    if steps[0].role != StepRole::SectionStaff {
        return Err("approval.error.route_first_step");
    }
    if steps
        .iter()
        .any(|s| s.name.trim().is_empty() || s.name.chars().count() > 40)
    {
        return Err("approval.error.route_step_name");
    }
    Ok(())
}

/// The route of a procedure.
pub async fn route_for(db: &Db, procedure_id: i64) -> StoreResult<Vec<Step>> {
    let steps: Option<String> =
        sqlx::query_scalar("select steps from approval_routes where procedure_id = $1")
            .bind(procedure_id)
            .fetch_optional(db.pool())
            .await?;
    Ok(steps
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_else(default_route))
}

/// Sets a procedure's route (organisation admins).
pub async fn set_route(
    db: &Db,
    organisation_id: i64,
    procedure_id: i64,
    steps: &[Step],
    by: Option<i64>,
) -> StoreResult<()> {
    check_route(steps).map_err(|k| StoreError::Conflict(k.into()))?;
    let json = serde_json::to_string(steps).map_err(|e| StoreError::Conflict(e.to_string()))?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "insert into approval_routes (procedure_id, organisation_id, steps, updated_at, updated_by) \
         values ($1, $2, $3, $4, $5) on conflict (procedure_id) do update set steps = excluded.steps, \
         updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )
    .bind(procedure_id)
    .bind(organisation_id)
    .bind(&json)
    .bind(Timestamp::now())
    .bind(by)
    .execute(&mut *tx)
    .await?;
    platform::audit::append(
        &mut tx,
        platform::audit::Entry {
            organisation_id: Some(organisation_id),
            actor: by
                .map(platform::audit::Actor::Staff)
                .unwrap_or(platform::audit::Actor::Cli),
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

/// The proposed outcome of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 許可・交付: the application is granted; it ends 処理完了.
    Grant,
    /// 不許可・却下: refused; it ends 申請却下.
    Refuse,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Grant => "grant",
            Outcome::Refuse => "refuse",
        }
    }
    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "grant" => Some(Outcome::Grant),
            "refuse" => Some(Outcome::Refuse),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CaseRow {
    pub id: i64,
    pub application_id: i64,
    pub outcome: String,
    pub reason: String,
    pub steps: String,
    pub current_step: i64,
    pub status: String,
    pub drafted_by: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub decided_at: Option<Timestamp>,
}

impl CaseRow {
    pub fn steps(&self) -> Vec<Step> {
        serde_json::from_str(&self.steps).unwrap_or_else(|_| default_route())
    }
    pub fn outcome(&self) -> Outcome {
        Outcome::parse(&self.outcome).unwrap_or(Outcome::Grant)
    }
    pub fn is_pending(&self) -> bool {
        self.status == "pending"
    }
}

macro_rules! case_columns {
    () => {
        "id, application_id, outcome, reason, steps, current_step, status, drafted_by, created_at, updated_at, decided_at"
    };
}
pub(crate) use case_columns;

/// The pending case of an application, if any.
pub async fn pending_case(
    conn: &mut AnyConnection,
    application_id: i64,
) -> StoreResult<Option<CaseRow>> {
    Ok(sqlx::query_as(concat!(
        "select ",
        case_columns!(),
        " from approval_cases where application_id = $1 and status = 'pending'"
    ))
    .bind(application_id)
    .fetch_optional(conn)
    .await?)
}

/// Every case of an application, oldest first.
pub async fn cases(db: &Db, application_id: i64) -> StoreResult<Vec<CaseRow>> {
    Ok(sqlx::query_as(concat!(
        "select ",
        case_columns!(),
        " from approval_cases where application_id = $1 order by id"
    ))
    .bind(application_id)
    .fetch_all(db.pool())
    .await?)
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ActionRow {
    pub id: i64,
    pub case_id: i64,
    pub step: i64,
    pub step_name: String,
    pub actor_id: i64,
    pub actor_name: String,
    pub on_behalf_of: Option<i64>,
    pub on_behalf_of_name: Option<String>,
    pub action: String,
    pub comment: String,
    pub at: Timestamp,
}

/// The actions on an application's cases, oldest first.
pub async fn actions(db: &Db, application_id: i64) -> StoreResult<Vec<ActionRow>> {
    Ok(sqlx::query_as(
        "select a.id, a.case_id, a.step, a.step_name, a.actor_id, s.name as actor_name, a.on_behalf_of, \
         b.name as on_behalf_of_name, a.action, a.comment, a.at from approval_actions a \
         join approval_cases c on c.id = a.case_id join staff s on s.id = a.actor_id \
         left join staff b on b.id = a.on_behalf_of where c.application_id = $1 order by a.id",
    )
    .bind(application_id)
    .fetch_all(db.pool())
    .await?)
}

/// Who signed which step of `case` since it was last (re)drafted.
async fn signers(conn: &mut AnyConnection, case_id: i64) -> StoreResult<Vec<i64>> {
    let rows: Vec<(i64, Option<i64>, String)> =
        sqlx::query_as("select actor_id, on_behalf_of, action from approval_actions where case_id = $1 order by id")
            .bind(case_id)
            .fetch_all(conn)
            .await?;
    let mut out = Vec::new();
    for (actor, behalf, action) in rows {
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
    case: &CaseRow,
) -> StoreResult<Option<Option<i64>>> {
    let steps = case.steps();
    let Some(step) = steps.get(case.current_step as usize) else {
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
    let now = Timestamp::now();
    let delegators: Vec<(i64, String, i64, DbBool)> = sqlx::query_as(
        "select s.id, s.roles, s.section_id, s.disabled from delegations d join staff s on s.id = d.from_staff_id \
         where d.to_staff_id = $1 and d.organisation_id = $2 and d.revoked_at is null and d.starts_at <= $3 and d.ends_at > $3",
    )
    .bind(staff.id)
    .bind(staff.organisation_id)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    for (id, roles, section_id, disabled) in delegators {
        let roles = platform::accounts::parse_roles(&roles);
        let delegator = Staff {
            id,
            organisation_id: staff.organisation_id,
            section_id,
            email: String::new(),
            name: String::new(),
            roles,
        };
        if !disabled.0
            && section_id == staff.section_id
            && id != staff.id
            && eligible(id, step.role.allows(&delegator))
            && eligible(staff.id, true)
        {
            return Ok(Some(Some(id)));
        }
    }
    Ok(None)
}

/// A delegation.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Delegation {
    pub id: i64,
    pub from_staff_id: i64,
    pub from_name: String,
    pub to_staff_id: i64,
    pub to_name: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// Delegations given or received by `staff`, current and future.
pub async fn delegations_of(db: &Db, staff: &Staff) -> StoreResult<Vec<Delegation>> {
    Ok(sqlx::query_as(
        "select d.id, d.from_staff_id, f.name as from_name, d.to_staff_id, t.name as to_name, d.starts_at, d.ends_at, \
         d.revoked_at from delegations d join staff f on f.id = d.from_staff_id join staff t on t.id = d.to_staff_id \
         where d.organisation_id = $1 and (d.from_staff_id = $2 or d.to_staff_id = $2) and d.ends_at > $3 \
         order by d.starts_at",
    )
    .bind(staff.organisation_id)
    .bind(staff.id)
    .bind(Timestamp::now())
    .fetch_all(db.pool())
    .await?)
}

/// `from` (an approver) delegates to `to_staff_id` (same organisation) for [starts, ends).
pub async fn delegate(
    db: &Db,
    from: &Staff,
    to_staff_id: i64,
    starts: Timestamp,
    ends: Timestamp,
) -> Result<i64, &'static str> {
    if !from.has(Role::Approver) {
        return Err("approval.error.only_approvers_delegate");
    }
    if ends <= starts || ends.0 - starts.0 > chrono::Duration::days(366) {
        return Err("approval.error.delegation_period");
    }
    if to_staff_id == from.id {
        return Err("approval.error.delegation_self");
    }
    let to: Option<(i64, i64)> =
        sqlx::query_as("select id, organisation_id from staff where id = $1 and disabled = $2")
            .bind(to_staff_id)
            .bind(false)
            .fetch_optional(db.pool())
            .await
            .map_err(|_| "error.internal_error")?;
    match to {
        Some((_, org)) if org == from.organisation_id => {}
        _ => return Err("approval.error.delegate_unknown"),
    }
    let mut tx = db.begin().await.map_err(|_| "error.internal_error")?;
    let id: i64 = sqlx::query_scalar(
        "insert into delegations (organisation_id, from_staff_id, to_staff_id, starts_at, ends_at, created_at) \
         values ($1, $2, $3, $4, $5, $6) returning id",
    )
    .bind(from.organisation_id)
    .bind(from.id)
    .bind(to_staff_id)
    .bind(starts)
    .bind(ends)
    .bind(Timestamp::now())
    .fetch_one(&mut *tx)
    .await
    .map_err(|_| "error.internal_error")?;
    platform::audit::append(
        &mut tx,
        platform::audit::Entry {
            organisation_id: Some(from.organisation_id),
            actor: platform::audit::Actor::Staff(from.id),
            action: "delegation.created",
            subject_kind: "delegation",
            subject_id: Some(id),
            detail: serde_json::json!({"to": to_staff_id, "starts_at": starts, "ends_at": ends}),
        },
    )
    .await
    .map_err(|_| "error.internal_error")?;
    tx.commit().await.map_err(|_| "error.internal_error")?;
    Ok(id)
}

/// Ends a delegation early (its giver only).
pub async fn revoke_delegation(db: &Db, from: &Staff, id: i64) -> StoreResult<bool> {
    let mut tx = db.begin().await?;
    let done = sqlx::query("update delegations set revoked_at = $1 where id = $2 and from_staff_id = $3 and revoked_at is null")
        .bind(Timestamp::now())
        .bind(id)
        .bind(from.id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 1 {
        platform::audit::append(
            &mut tx,
            platform::audit::Entry {
                organisation_id: Some(from.organisation_id),
                actor: platform::audit::Actor::Staff(from.id),
                action: "delegation.revoked",
                subject_kind: "delegation",
                subject_id: Some(id),
                detail: serde_json::json!({}),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_need_a_drafting_step_and_a_sign_off() {
        assert!(check_route(&default_route()).is_ok());
        assert!(check_route(&default_route()[..1]).is_err());
        let mut r = default_route();
        r[0].role = StepRole::Approver;
        assert_eq!(check_route(&r), Err("approval.error.route_first_step"));
    }
}
