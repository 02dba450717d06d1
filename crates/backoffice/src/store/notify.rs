//! Who a notification goes to.

use platform::db::{Db, StoreResult};

/// The resident an application's notification goes to, and what it names.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Recipient {
    pub email: String,
    pub display_name: String,
    pub locale: String,
    pub procedure: String,
    pub procedure_en: String,
    pub receipt_number: Option<String>,
    pub application_id: i64,
}

/// The applicant of application `id`, if it still exists.
pub async fn recipient(db: &Db, id: i64) -> StoreResult<Option<Recipient>> {
    Ok(sqlx::query_as(
        "select r.email, r.display_name, r.locale, p.name as procedure, p.name_en as procedure_en, \
         a.receipt_number, a.id as application_id from applications a \
         join residents r on r.id = a.resident_id join procedures p on p.id = a.procedure_id where a.id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}
