//! Organisations (the prefecture and its municipalities, each identified by its
//! 全国地方公共団体コード) and their sections.

use jp::lg_code::LocalGovernmentCode;
use serde::Serialize;

use crate::db::{Db, StoreError, StoreResult, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    Prefecture,
    Municipality,
}

impl OrganisationKind {
    pub fn code(self) -> &'static str {
        match self {
            OrganisationKind::Prefecture => "prefecture",
            OrganisationKind::Municipality => "municipality",
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Organisation {
    pub id: i64,
    /// 全国地方公共団体コード.
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub kind: String,
    pub parent_id: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Section {
    pub id: i64,
    pub organisation_id: i64,
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub department: String,
    pub department_en: String,
    pub phone: String,
    pub email: String,
}

/// Adds an organisation. Its code must be a valid 全国地方公共団体コード; a
/// prefecture's code ends in 000 + check digit and a municipality's does not.
pub async fn insert_organisation(
    db: &Db,
    code: &str,
    name: &str,
    name_en: &str,
    parent_id: Option<i64>,
) -> StoreResult<Organisation> {
    let code = LocalGovernmentCode::parse(code)
        .map_err(|e| StoreError::Conflict(format!("invalid local government code: {e}")))?;
    let kind = if code.is_prefecture() {
        OrganisationKind::Prefecture
    } else {
        OrganisationKind::Municipality
    };
    let mut tx = db.begin().await?;
    let org: Organisation = sqlx::query_as(
        "insert into organisations (code, name, name_en, kind, parent_id, created_at) \
         values ($1, $2, $3, $4, $5, $6) returning id, code, name, name_en, kind, parent_id",
    )
    .bind(code.as_str())
    .bind(name)
    .bind(name_en)
    .bind(kind.code())
    .bind(parent_id)
    .bind(Timestamp::now())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(org)
}

pub async fn list_organisations(db: &Db) -> StoreResult<Vec<Organisation>> {
    Ok(sqlx::query_as(
        "select id, code, name, name_en, kind, parent_id from organisations \
         order by case kind when 'prefecture' then 0 else 1 end, code",
    )
    .fetch_all(db.pool())
    .await?)
}

pub async fn organisation_by_code(db: &Db, code: &str) -> StoreResult<Option<Organisation>> {
    Ok(sqlx::query_as(
        "select id, code, name, name_en, kind, parent_id from organisations where code = $1",
    )
    .bind(code)
    .fetch_optional(db.pool())
    .await?)
}

/// Organisations by id, kept in memory: they are few and never change once
/// created (new ones are loaded on first use, also when another process made them).
#[derive(Debug, Default)]
pub struct OrgCache {
    by_id: std::sync::RwLock<std::collections::HashMap<i64, std::sync::Arc<Organisation>>>,
}

impl OrgCache {
    pub async fn get(&self, db: &Db, id: i64) -> StoreResult<Option<std::sync::Arc<Organisation>>> {
        if let Some(o) = self
            .by_id
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
        {
            return Ok(Some(o.clone()));
        }
        let Some(org) = organisation_by_id(db, id).await? else {
            return Ok(None);
        };
        let org = std::sync::Arc::new(org);
        self.by_id
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, org.clone());
        Ok(Some(org))
    }
}

pub async fn organisation_by_id(db: &Db, id: i64) -> StoreResult<Option<Organisation>> {
    Ok(sqlx::query_as(
        "select id, code, name, name_en, kind, parent_id from organisations where id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}

/// A new section of an organisation.
#[derive(Debug, Clone, Default)]
pub struct NewSection<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub name_en: &'a str,
    pub department: &'a str,
    pub department_en: &'a str,
    pub phone: &'a str,
    pub email: &'a str,
}

pub async fn insert_section(
    db: &Db,
    organisation_id: i64,
    s: NewSection<'_>,
) -> StoreResult<Section> {
    let mut tx = db.begin().await?;
    let section: Section = sqlx::query_as(
        "insert into sections (organisation_id, code, name, name_en, department, department_en, phone, email) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) \
         returning id, organisation_id, code, name, name_en, department, department_en, phone, email",
    )
    .bind(organisation_id)
    .bind(s.code)
    .bind(s.name)
    .bind(s.name_en)
    .bind(s.department)
    .bind(s.department_en)
    .bind(s.phone)
    .bind(s.email)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(section)
}

/// Every section of every organisation.
pub async fn list_sections(db: &Db) -> StoreResult<Vec<Section>> {
    Ok(sqlx::query_as(
        "select id, organisation_id, code, name, name_en, department, department_en, phone, email \
         from sections order by organisation_id, code",
    )
    .fetch_all(db.pool())
    .await?)
}

pub async fn sections_of(db: &Db, organisation_id: i64) -> StoreResult<Vec<Section>> {
    Ok(sqlx::query_as(
        "select id, organisation_id, code, name, name_en, department, department_en, phone, email \
         from sections where organisation_id = $1 order by code",
    )
    .bind(organisation_id)
    .fetch_all(db.pool())
    .await?)
}

pub async fn section_by_id(db: &Db, id: i64) -> StoreResult<Option<Section>> {
    Ok(sqlx::query_as(
        "select id, organisation_id, code, name, name_en, department, department_en, phone, email \
         from sections where id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}

pub async fn section_by_code(
    db: &Db,
    organisation_id: i64,
    code: &str,
) -> StoreResult<Option<Section>> {
    Ok(sqlx::query_as(
        "select id, organisation_id, code, name, name_en, department, department_en, phone, email \
         from sections where organisation_id = $1 and code = $2",
    )
    .bind(organisation_id)
    .bind(code)
    .fetch_optional(db.pool())
    .await?)
}
