//! What staff read and change of an application: loading it scoped to their
//! organisation and section, its status with the optimistic lock, their read
//! marks, and the names of their colleagues.

use platform::accounts::Staff;
use platform::db::{Db, StoreResult, Timestamp, WriteTx};
use procedures::application_columns;
use procedures::applications::{Application, Status};
use sqlx::AnyConnection;

/// The application `id` if it is of `staff`'s organisation and section (and sent).
pub async fn for_staff(db: &Db, staff: &Staff, id: i64) -> StoreResult<Option<Application>> {
    Ok(sqlx::query_as(concat!(
        "select ",
        application_columns!(),
        " from applications where id = $1 and organisation_id = $2 and section_id = $3 and status <> 'draft'"
    ))
    .bind(id)
    .bind(staff.organisation_id)
    .bind(staff.section_id)
    .fetch_optional(db.pool())
    .await?)
}

/// The same, read inside a write transaction and locked until it ends (on
/// PostgreSQL; SQLite's write transaction locks everything): the application
/// is the first row an action locks, before the audit chain's head, the order
/// every writer follows.
pub async fn for_staff_in(
    tx: &mut WriteTx,
    staff: &Staff,
    id: i64,
) -> StoreResult<Option<Application>> {
    let sql = tx.pick(
        concat!(
            "select ",
            application_columns!(),
            " from applications where id = $1 and organisation_id = $2 and section_id = $3 and status <> 'draft'"
        ),
        concat!(
            "select ",
            application_columns!(),
            " from applications where id = $1 and organisation_id = $2 and section_id = $3 and status <> 'draft' for update"
        ),
    );
    Ok(sqlx::query_as(sql)
        .bind(id)
        .bind(staff.organisation_id)
        .bind(staff.section_id)
        .fetch_optional(&mut **tx)
        .await?)
}

/// Sets the status if the application is still at `version` (the version
/// moves with every action: the optimistic lock of the next one); None if
/// someone acted meanwhile.
pub async fn set_status(
    tx: &mut WriteTx,
    id: i64,
    version: i64,
    status: Status,
    now: Timestamp,
) -> StoreResult<Option<Application>> {
    Ok(sqlx::query_as(concat!(
        "update applications set status = $1, updated_at = $2, version = version + 1 where id = $3 and version = $4 returning ",
        application_columns!()
    ))
    .bind(status.code())
    .bind(now)
    .bind(id)
    .bind(version)
    .fetch_optional(&mut **tx)
    .await?)
}

/// Marks the application read by `staff_id` at `version`.
pub async fn mark_read(
    conn: &mut AnyConnection,
    staff_id: i64,
    application_id: i64,
    version: i64,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "insert into staff_reads (staff_id, application_id, version_seen, read_at) values ($1, $2, $3, $4) \
         on conflict (staff_id, application_id) do update set version_seen = excluded.version_seen, read_at = excluded.read_at",
    )
    .bind(staff_id)
    .bind(application_id)
    .bind(version)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// (id, name) of every staff member of the organisation.
pub async fn staff_names(db: &Db, organisation_id: i64) -> StoreResult<Vec<(i64, String)>> {
    Ok(
        sqlx::query_as("select id, name from staff where organisation_id = $1")
            .bind(organisation_id)
            .fetch_all(db.pool())
            .await?,
    )
}

/// (id, name) of the other enabled staff of `staff`'s organisation, by name.
pub async fn colleagues(db: &Db, staff: &Staff) -> StoreResult<Vec<(i64, String)>> {
    Ok(sqlx::query_as(
        "select id, name from staff where organisation_id = $1 and id <> $2 and disabled = $3 order by name",
    )
    .bind(staff.organisation_id)
    .bind(staff.id)
    .bind(false)
    .fetch_all(db.pool())
    .await?)
}
