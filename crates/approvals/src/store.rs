//! The approvals' tables: routes per procedure, cases, the actions on them,
//! delegations.

use platform::accounts::Staff;
use platform::db::{Db, StoreResult, Timestamp, WriteTx};
use sqlx::AnyConnection;

use crate::model::{Case, CaseAction, Delegation, Delegator, Outcome, Subject};

macro_rules! case_columns {
    () => {
        "id, application_id, outcome, reason, steps, current_step, status, drafted_by, created_at, updated_at, decided_at"
    };
}

/// The stored route of a procedure (JSON), if it has one.
pub async fn route(db: &Db, procedure_id: i64) -> StoreResult<Option<String>> {
    Ok(
        sqlx::query_scalar("select steps from approval_routes where procedure_id = $1")
            .bind(procedure_id)
            .fetch_optional(db.pool())
            .await?,
    )
}

/// Sets a procedure's route (JSON).
pub async fn set_route(
    tx: &mut WriteTx,
    organisation_id: i64,
    procedure_id: i64,
    steps_json: &str,
    by: Option<i64>,
) -> StoreResult<()> {
    sqlx::query(
        "insert into approval_routes (procedure_id, organisation_id, steps, updated_at, updated_by) \
         values ($1, $2, $3, $4, $5) on conflict (procedure_id) do update set steps = excluded.steps, \
         updated_at = excluded.updated_at, updated_by = excluded.updated_by",
    )
    .bind(procedure_id)
    .bind(organisation_id)
    .bind(steps_json)
    .bind(Timestamp::now())
    .bind(by)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The pending case of an application, if any.
pub async fn pending_case(
    conn: &mut AnyConnection,
    application_id: i64,
) -> StoreResult<Option<Case>> {
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
pub async fn cases(db: &Db, application_id: i64) -> StoreResult<Vec<Case>> {
    Ok(sqlx::query_as(concat!(
        "select ",
        case_columns!(),
        " from approval_cases where application_id = $1 order by id"
    ))
    .bind(application_id)
    .fetch_all(db.pool())
    .await?)
}

/// One case of an application.
pub async fn case_of(db: &Db, case_id: i64, application_id: i64) -> StoreResult<Option<Case>> {
    Ok(sqlx::query_as(concat!(
        "select ",
        case_columns!(),
        " from approval_cases where id = $1 and application_id = $2"
    ))
    .bind(case_id)
    .bind(application_id)
    .fetch_optional(db.pool())
    .await?)
}

/// The pending cases of a section past their drafting step, oldest first.
pub async fn pending_in_section(
    db: &Db,
    organisation_id: i64,
    section_id: i64,
) -> StoreResult<Vec<Case>> {
    Ok(sqlx::query_as(concat!(
        "select ",
        case_columns!(),
        " from approval_cases where organisation_id = $1 and section_id = $2 and status = 'pending' and current_step > 0 order by id"
    ))
    .bind(organisation_id)
    .bind(section_id)
    .fetch_all(db.pool())
    .await?)
}

/// Inserts a new pending case at step 1 (the drafting step is done).
pub async fn insert_case(
    tx: &mut WriteTx,
    subject: &Subject,
    outcome: Outcome,
    reason: &str,
    steps_json: &str,
    drafted_by: i64,
    now: Timestamp,
) -> StoreResult<Case> {
    Ok(sqlx::query_as(concat!(
        "insert into approval_cases (organisation_id, section_id, application_id, outcome, reason, steps, \
         current_step, status, drafted_by, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, 1, 'pending', $7, $8, $8) \
         returning ",
        case_columns!()
    ))
    .bind(subject.organisation_id)
    .bind(subject.section_id)
    .bind(subject.id)
    .bind(outcome.code())
    .bind(reason)
    .bind(steps_json)
    .bind(drafted_by)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?)
}

/// A revised draft goes to step 1 again.
pub async fn redraft_case(
    tx: &mut WriteTx,
    case_id: i64,
    outcome: Outcome,
    reason: &str,
    drafted_by: i64,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query("update approval_cases set outcome = $1, reason = $2, current_step = 1, drafted_by = $3, updated_at = $4 where id = $5")
        .bind(outcome.code())
        .bind(reason)
        .bind(drafted_by)
        .bind(now)
        .bind(case_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Moves the case `by` steps (1 forward, -1 back).
pub async fn move_case(tx: &mut WriteTx, case_id: i64, by: i64, now: Timestamp) -> StoreResult<()> {
    sqlx::query(
        "update approval_cases set current_step = current_step + $1, updated_at = $2 where id = $3",
    )
    .bind(by)
    .bind(now)
    .bind(case_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Ends the case: `approved` (decided, with the time), `rejected` or `cancelled`.
pub async fn end_case(
    tx: &mut WriteTx,
    case_id: i64,
    status: &str,
    now: Timestamp,
) -> StoreResult<()> {
    let decided = (status == "approved").then_some(now);
    sqlx::query(
        "update approval_cases set status = $1, decided_at = $2, updated_at = $3 where id = $4",
    )
    .bind(status)
    .bind(decided)
    .bind(now)
    .bind(case_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One row of `approval_actions`.
pub struct NewAction<'a> {
    pub case_id: i64,
    pub organisation_id: i64,
    pub step: i64,
    pub step_name: &'a str,
    pub actor_id: i64,
    pub on_behalf_of: Option<i64>,
    pub action: &'a str,
    pub comment: &'a str,
}

pub async fn insert_action(tx: &mut WriteTx, a: NewAction<'_>) -> StoreResult<()> {
    sqlx::query(
        "insert into approval_actions (case_id, organisation_id, step, step_name, actor_id, on_behalf_of, action, comment, at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(a.case_id)
    .bind(a.organisation_id)
    .bind(a.step)
    .bind(a.step_name)
    .bind(a.actor_id)
    .bind(a.on_behalf_of)
    .bind(a.action)
    .bind(a.comment)
    .bind(Timestamp::now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The actions on an application's cases, oldest first, with the names of who acted.
pub async fn actions(db: &Db, application_id: i64) -> StoreResult<Vec<CaseAction>> {
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

/// (actor, on behalf of, action) of every action on a case, oldest first.
pub async fn case_history(
    conn: &mut AnyConnection,
    case_id: i64,
) -> StoreResult<Vec<(i64, Option<i64>, String)>> {
    Ok(
        sqlx::query_as("select actor_id, on_behalf_of, action from approval_actions where case_id = $1 order by id")
            .bind(case_id)
            .fetch_all(conn)
            .await?,
    )
}

/// Who delegated to `staff` now (in their organisation).
pub async fn delegators_of(
    conn: &mut AnyConnection,
    staff: &Staff,
    now: Timestamp,
) -> StoreResult<Vec<Delegator>> {
    Ok(sqlx::query_as(
        "select s.id, s.roles, s.section_id, s.disabled from delegations d join staff s on s.id = d.from_staff_id \
         where d.to_staff_id = $1 and d.organisation_id = $2 and d.revoked_at is null and d.starts_at <= $3 and d.ends_at > $3",
    )
    .bind(staff.id)
    .bind(staff.organisation_id)
    .bind(now)
    .fetch_all(conn)
    .await?)
}

/// Delegations given or received by `staff` that have not ended.
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

/// The organisation of an enabled staff member.
pub async fn organisation_of_enabled_staff(db: &Db, staff_id: i64) -> StoreResult<Option<i64>> {
    Ok(
        sqlx::query_scalar("select organisation_id from staff where id = $1 and disabled = $2")
            .bind(staff_id)
            .bind(false)
            .fetch_optional(db.pool())
            .await?,
    )
}

pub async fn insert_delegation(
    tx: &mut WriteTx,
    from: &Staff,
    to_staff_id: i64,
    starts: Timestamp,
    ends: Timestamp,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "insert into delegations (organisation_id, from_staff_id, to_staff_id, starts_at, ends_at, created_at) \
         values ($1, $2, $3, $4, $5, $6) returning id",
    )
    .bind(from.organisation_id)
    .bind(from.id)
    .bind(to_staff_id)
    .bind(starts)
    .bind(ends)
    .bind(Timestamp::now())
    .fetch_one(&mut **tx)
    .await?)
}

/// Ends a delegation of `from` now; whether it was theirs and still running.
pub async fn revoke_delegation(tx: &mut WriteTx, from: &Staff, id: i64) -> StoreResult<bool> {
    let done = sqlx::query("update delegations set revoked_at = $1 where id = $2 and from_staff_id = $3 and revoked_at is null")
        .bind(Timestamp::now())
        .bind(id)
        .bind(from.id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}
