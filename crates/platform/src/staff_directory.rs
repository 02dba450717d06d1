//! The organisation administrator's view of their staff: the accounts of one
//! organisation and whether each has set up the second factor. SQL only;
//! every query is scoped to the organisation.

use crate::accounts::{Role, parse_roles};
use crate::db::{Db, DbBool, StoreResult};

/// One staff account as the administrator's list shows it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub section: String,
    pub roles: Vec<Role>,
    pub disabled: bool,
    pub must_change_password: bool,
    pub second_factor: bool,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    email: String,
    name: String,
    section: String,
    roles: String,
    #[sqlx(try_from = "DbBool")]
    disabled: bool,
    #[sqlx(try_from = "DbBool")]
    must_change_password: bool,
    totp_enrolled_at: Option<String>,
}

/// The organisation's staff, by section and name.
pub async fn of_organisation(db: &Db, organisation_id: i64) -> StoreResult<Vec<Listed>> {
    let rows: Vec<Row> = sqlx::query_as(
        "select st.id, st.email, st.name, se.name as section, st.roles, st.disabled, st.must_change_password, \
         st.totp_enrolled_at from staff st join sections se on se.id = st.section_id \
         where st.organisation_id = $1 order by se.name, st.name, st.id",
    )
    .bind(organisation_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Listed {
            id: r.id,
            email: r.email,
            name: r.name,
            section: r.section,
            roles: parse_roles(&r.roles),
            disabled: r.disabled,
            must_change_password: r.must_change_password,
            second_factor: r.totp_enrolled_at.is_some(),
        })
        .collect())
}

/// The e-mail of staff member `id` if they belong to `organisation_id`.
pub async fn email_in(db: &Db, organisation_id: i64, id: i64) -> StoreResult<Option<String>> {
    Ok(
        sqlx::query_scalar("select email from staff where id = $1 and organisation_id = $2")
            .bind(id)
            .bind(organisation_id)
            .fetch_optional(db.pool())
            .await?,
    )
}
