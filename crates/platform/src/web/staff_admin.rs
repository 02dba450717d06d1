//! The organisation administrator's staff page (`/staff/admin/staff`): the
//! organisation's accounts, adding one (its one-time password shown once),
//! disabling and enabling, roles, a new one-time password, a removed second
//! factor. The same use cases as `madoguchi staff …`, scoped to the
//! administrator's own organisation, and audited with the administrator as
//! the actor.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::Platform;
use crate::accounts::{self, Role};
use crate::audit::{self, Actor};
use crate::db::StoreError;
use crate::web::context::CurrentStaff;
use crate::web::error::{AppError, Errors};
use crate::web::forms::CsrfForm;
use crate::web::page::{PageCtx, render, render_status};
use crate::web::path::parse_id;
use crate::web::url::FormData;
use crate::{orgs, second_factor, staff_directory};

pub fn router() -> Router<Platform> {
    Router::new()
        .route("/staff/admin/staff", get(list).post(add))
        .route("/staff/admin/staff/{id}", post(act))
}

fn role_label(role: Role) -> &'static str {
    match role {
        Role::SectionStaff => "admin.role.section_staff",
        Role::Approver => "admin.role.approver",
        Role::OrgAdmin => "admin.role.org_admin",
        Role::DxOffice => "admin.role.dx_office",
    }
}

struct RowView {
    id: i64,
    email: String,
    name: String,
    section: String,
    roles: Vec<(&'static str, &'static str, bool)>,
    disabled: bool,
    must_change_password: bool,
    second_factor: bool,
    is_me: bool,
}

#[derive(Template)]
#[template(path = "account/staff_admin.html")]
struct StaffAdminPage {
    ctx: PageCtx,
    rows: Vec<RowView>,
    sections: Vec<(i64, String)>,
    roles: Vec<(&'static str, &'static str)>,
    notice: Option<&'static str>,
    /// A new or reset account: (e-mail, one-time password), shown once.
    one_time: Option<(String, String)>,
    errors: Errors,
    new_email: String,
    new_name: String,
}

fn admin_of(staff: &CurrentStaff) -> Result<i64, AppError> {
    if staff.staff.has(Role::OrgAdmin) {
        Ok(staff.staff.organisation_id)
    } else {
        Err(AppError::Forbidden { code: "forbidden" })
    }
}

async fn page(
    platform: &Platform,
    ctx: PageCtx,
    me: &CurrentStaff,
    notice: Option<&'static str>,
    one_time: Option<(String, String)>,
    errors: Errors,
    form: Option<&FormData>,
) -> Result<StaffAdminPage, AppError> {
    let org = admin_of(me)?;
    let rows = staff_directory::of_organisation(&platform.db, org)
        .await?
        .into_iter()
        .map(|s| RowView {
            roles: Role::ALL
                .iter()
                .map(|r| (r.code(), role_label(*r), s.roles.contains(r)))
                .collect(),
            is_me: s.id == me.staff.id,
            id: s.id,
            email: s.email,
            name: s.name,
            section: s.section,
            disabled: s.disabled,
            must_change_password: s.must_change_password,
            second_factor: s.second_factor,
        })
        .collect();
    let sections = orgs::sections_of(&platform.db, org)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    Ok(StaffAdminPage {
        ctx,
        rows,
        sections,
        roles: Role::ALL
            .iter()
            .map(|r| (r.code(), role_label(*r)))
            .collect(),
        notice,
        one_time,
        errors,
        new_email: form
            .map(|f| f.text("email").to_string())
            .unwrap_or_default(),
        new_name: form.map(|f| f.text("name").to_string()).unwrap_or_default(),
    })
}

#[derive(Deserialize)]
struct DoneQuery {
    #[serde(default)]
    done: String,
}

async fn list(
    State(platform): State<Platform>,
    ctx: PageCtx,
    me: CurrentStaff,
    Query(q): Query<DoneQuery>,
) -> Result<Response, AppError> {
    let notice = match q.done.as_str() {
        "disabled" => Some("admin.done.disabled"),
        "enabled" => Some("admin.done.enabled"),
        "roles" => Some("admin.done.roles"),
        "mfa" => Some("admin.done.mfa"),
        "self" => Some("admin.done.not_yourself"),
        _ => None,
    };
    render(&page(&platform, ctx, &me, notice, None, Errors::new(), None).await?)
}

async fn audit_staff(
    platform: &Platform,
    me: &CurrentStaff,
    action: &str,
    id: i64,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    let mut tx = platform.db.begin().await?;
    audit::append(
        &mut tx,
        audit::Entry {
            organisation_id: Some(me.staff.organisation_id),
            actor: Actor::Staff(me.staff.id),
            action,
            subject_kind: "staff",
            subject_id: Some(id),
            detail,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

fn roles_of(form: &FormData) -> Vec<Role> {
    form.get_all("roles")
        .into_iter()
        .filter_map(Role::parse)
        .collect()
}

async fn add(
    State(platform): State<Platform>,
    ctx: PageCtx,
    me: CurrentStaff,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    let org = admin_of(&me)?;
    let mut errors = Errors::new();
    let email = accounts::normalize_email(form.text("email"));
    if email.is_none() {
        errors.add(
            "email",
            "account.error.invalid_email",
            ctx.t("account.error.invalid_email"),
        );
    }
    let name = form
        .text("name")
        .trim()
        .chars()
        .take(100)
        .collect::<String>();
    if name.is_empty() {
        errors.add(
            "name",
            "admin.error.name_missing",
            ctx.t("admin.error.name_missing"),
        );
    }
    let section = form
        .get("section")
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|s| *s > 0);
    let section = match section {
        Some(id) => orgs::section_by_id(&platform.db, id)
            .await?
            .filter(|s| s.organisation_id == org),
        None => None,
    };
    if section.is_none() {
        errors.add(
            "section",
            "admin.error.section_missing",
            ctx.t("admin.error.section_missing"),
        );
    }
    let roles = roles_of(&form);
    if roles.is_empty() {
        errors.add(
            "roles",
            "admin.error.roles_missing",
            ctx.t("admin.error.roles_missing"),
        );
    }
    if let (true, Some(email), Some(section)) = (errors.is_empty(), &email, &section) {
        match accounts::add_staff(&platform.db, org, section.id, email, &name, &roles).await {
            Ok((staff, password)) => {
                audit_staff(
                    &platform,
                    &me,
                    "staff.added",
                    staff.id,
                    serde_json::json!({"roles": accounts::roles_to_string(&roles), "by": "org_admin"}),
                )
                .await?;
                return render(
                    &page(
                        &platform,
                        ctx,
                        &me,
                        Some("admin.done.added"),
                        Some((staff.email, password)),
                        Errors::new(),
                        None,
                    )
                    .await?,
                );
            }
            Err(StoreError::Conflict(_)) => {
                errors.add(
                    "email",
                    "account.error.email_taken",
                    ctx.t("account.error.email_taken"),
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
    let p = page(&platform, ctx, &me, None, None, errors, Some(&form)).await?;
    render_status(StatusCode::UNPROCESSABLE_ENTITY, &p)
}

async fn act(
    State(platform): State<Platform>,
    ctx: PageCtx,
    me: CurrentStaff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    let org = admin_of(&me)?;
    let id = parse_id(&id)?;
    // Only the administrator's own organisation's staff: anyone else is not there.
    let email = staff_directory::email_in(&platform.db, org, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let action = form.text("_action");
    let is_me = id == me.staff.id;
    let done = match action {
        "disable" | "enable" => {
            let disable = action == "disable";
            if disable && is_me {
                return Ok(Redirect::to("/staff/admin/staff?done=self").into_response());
            }
            accounts::set_staff_disabled(&platform.db, &email, disable)
                .await
                .map_err(staff_error)?;
            let event = if disable {
                "staff.disabled"
            } else {
                "staff.enabled"
            };
            audit_staff(
                &platform,
                &me,
                event,
                id,
                serde_json::json!({"by": "org_admin"}),
            )
            .await?;
            if disable { "disabled" } else { "enabled" }
        }
        "roles" => {
            let roles = roles_of(&form);
            // An administrator cannot take away their own administration.
            if roles.is_empty() || (is_me && !roles.contains(&Role::OrgAdmin)) {
                return Ok(Redirect::to("/staff/admin/staff?done=self").into_response());
            }
            accounts::set_staff_roles(&platform.db, &email, &roles)
                .await
                .map_err(staff_error)?;
            audit_staff(
                &platform,
                &me,
                "staff.roles_set",
                id,
                serde_json::json!({"roles": accounts::roles_to_string(&roles), "by": "org_admin"}),
            )
            .await?;
            "roles"
        }
        "reset_password" => {
            if is_me {
                return Ok(Redirect::to("/staff/admin/staff?done=self").into_response());
            }
            let (_, password) = accounts::reset_staff_password(&platform.db, &email)
                .await
                .map_err(staff_error)?;
            audit_staff(
                &platform,
                &me,
                "staff.password_reset",
                id,
                serde_json::json!({"by": "org_admin"}),
            )
            .await?;
            return render(
                &page(
                    &platform,
                    ctx,
                    &me,
                    Some("admin.done.reset"),
                    Some((email, password)),
                    Errors::new(),
                    None,
                )
                .await?,
            );
        }
        "reset_mfa" => {
            if is_me {
                return Ok(Redirect::to("/staff/admin/staff?done=self").into_response());
            }
            second_factor::reset(&platform.db, &email)
                .await
                .map_err(staff_error)?;
            audit_staff(
                &platform,
                &me,
                "staff.mfa_reset",
                id,
                serde_json::json!({"by": "org_admin"}),
            )
            .await?;
            "mfa"
        }
        _ => return Err(AppError::bad_request("invalid_body")),
    };
    Ok(Redirect::to(&format!("/staff/admin/staff?done={done}")).into_response())
}

fn staff_error(e: accounts::StaffError) -> AppError {
    match e {
        accounts::StaffError::Unknown => AppError::NotFound,
        accounts::StaffError::Store(e) => e.into(),
    }
}
