//! Applying and the resident's applications: starting a draft, the question
//! pages (saving each page, nothing typed lost), checking and sending, the
//! receipt, the list of applications, an application's page, withdrawing a
//! sent application, discarding a draft, downloading an attachment.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use platform::web::{
    AppError, CsrfAnyForm, CsrfForm, CsrfMultipart, CurrentResident, Errors, PageCtx, PageQuery,
    format_time, parse_id, render, render_status,
};
use serde::Deserialize;
use serde_json::Value;

use crate::applications::{self, NewFile, Status};
use crate::catalogue::Procedure;
use crate::form::definition::Kind;
use crate::form::display::{self, AnswerRow};
use crate::form::navigation;
use crate::form::{FormDefinition, Page};
use crate::pages::fields::{self, FieldView, Widget};
use crate::service::Procedures;
use crate::service::applications::{self as service, ActionError, PageInput, Sent};
use crate::service::postal;
use crate::submission::SubmitError;
use crate::web::{
    download, identity_redirect, localize, postal_error, postal_notice, postal_script_href,
};

pub fn router() -> Router<Procedures> {
    Router::new()
        .route(
            "/procedures/{id}/apply",
            get(apply_after_signin).post(apply),
        )
        .route("/applications", get(my_applications))
        .route("/applications/{id}", get(application))
        .route(
            "/applications/{id}/pages/{page}",
            get(page_get).post(page_post),
        )
        .route("/applications/{id}/check", get(check))
        .route("/applications/{id}/submit", post(submit))
        .route("/applications/{id}/receipt", get(receipt))
        .route(
            "/applications/{id}/withdraw",
            get(withdraw_get).post(withdraw_post),
        )
        .route(
            "/applications/{id}/discard",
            get(discard_get).post(discard_post),
        )
        .route(
            "/applications/{id}/attachments/{attachment}",
            get(attachment),
        )
}

async fn apply(
    State(state): State<Procedures>,
    resident: CurrentResident,
    Path(id): Path<String>,
    CsrfForm(_form): CsrfForm,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let identity = resident.session.identity.as_ref();
    let (app, def) = match service::start(&state, resident.resident.id, identity, id).await {
        Err(ActionError::IdentityRequired(requirement)) => {
            return Ok(identity_redirect(requirement, id));
        }
        other => other?,
    };
    let first = navigation::first_page(&def, &app.answers_map()).ok_or(AppError::NotFound)?;
    Ok(Redirect::to(&format!("/applications/{}/pages/{}", app.id, first.id)).into_response())
}

/// Where the procedure page's "sign in to apply" returns after signing in or
/// up: straight into the form (the resident's draft of it, or a new one), so
/// the resident does not look for 「オンラインで申請する」 again. Creates at most
/// one draft, so repeating it changes nothing.
async fn apply_after_signin(
    State(state): State<Procedures>,
    resident: CurrentResident,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let identity = resident.session.identity.as_ref();
    let (app, def) =
        match service::resume_or_start(&state, resident.resident.id, identity, id).await {
            Err(ActionError::IdentityRequired(requirement)) => {
                return Ok(identity_redirect(requirement, id));
            }
            other => other?,
        };
    let answers = app.answers_map();
    let first = navigation::first_page(&def, &answers).ok_or(AppError::NotFound)?;
    Ok(Redirect::to(&format!("/applications/{}/pages/{}", app.id, first.id)).into_response())
}

#[derive(Deserialize, Default)]
struct QuestionQuery {
    #[serde(default)]
    r#return: String,
    #[serde(default)]
    show_errors: String,
    /// A postal code whose address was just filled in (the notice says so).
    #[serde(default)]
    postal: String,
}

#[derive(Template)]
#[template(path = "applications/page.html")]
struct QuestionPage {
    ctx: PageCtx,
    errors: Errors,
    title: String,
    heading: String,
    intro: String,
    procedure_name: String,
    step: usize,
    steps: usize,
    back_href: String,
    action: String,
    multipart: bool,
    has_inline_buttons: bool,
    returned_message: Option<String>,
    /// What a postal-code lookup filled in.
    postal_notice: Option<String>,
    /// Answers on this page came from the resident's profile.
    prefilled: bool,
    /// Whether a postal code on the page can fill an address (the script is loaded).
    postal_lookup: bool,
    postal_script: String,
    fields: Vec<FieldView>,
}

#[allow(
    clippy::too_many_arguments,
    reason = "what a question page shows: the application, its form, the page, its errors and input"
)]
async fn render_page(
    state: &Procedures,
    ctx: PageCtx,
    app: &applications::Application,
    def: &FormDefinition,
    procedure: &Procedure,
    page: &Page,
    errors: Errors,
    pending: &serde_json::Map<String, serde_json::Value>,
    answers: &serde_json::Map<String, serde_json::Value>,
    return_to_check: bool,
    postal_notice: Option<String>,
) -> Result<Response, AppError> {
    let atts = service::attachments(&state.platform.db, app.id).await?;
    let tr = ctx.tr.clone();
    let src = fields::Source {
        answers,
        pending,
        errors: &errors,
        attachments: &atts,
        application_id: app.id,
        tr: &tr,
        def,
        postal_lookup: state.postal.available(),
    };
    let fields = fields::page_fields(page, &src);
    let visible = navigation::visible_pages(def, answers);
    let step = visible
        .iter()
        .position(|p| p.id == page.id)
        .map(|i| i + 1)
        .unwrap_or(1);
    let title = if page.title.is_empty() {
        fields.first().map(|f| f.label.clone()).unwrap_or_default()
    } else {
        tr.pick(&page.title, &page.title_en).to_string()
    };
    let heading = if fields.iter().any(|f| f.as_heading) {
        String::new()
    } else {
        title.clone()
    };
    let back_href = if return_to_check {
        format!("/applications/{}/check", app.id)
    } else {
        match navigation::prev_page(def, &page.id, answers) {
            Some(prev) => format!("/applications/{}/pages/{}", app.id, prev.id),
            None => format!("/procedures/{}", procedure.id),
        }
    };
    let multipart = page
        .questions
        .iter()
        .any(|q| matches!(q.kind, Kind::File { .. }));
    let postal_lookup = fields.iter().any(|f| f.postal_fills.is_some());
    let has_inline_buttons = postal_lookup
        || fields
            .iter()
            .any(|f| matches!(f.widget, Widget::Group { can_add: true, .. }));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page_view = QuestionPage {
        errors,
        title,
        heading,
        intro: tr.pick(&page.intro, &page.intro_en).to_string(),
        procedure_name: tr.pick(&procedure.name, &procedure.name_en).to_string(),
        step,
        steps: visible.len() + 1,
        back_href,
        action: format!(
            "/applications/{}/pages/{}{}",
            app.id,
            page.id,
            if return_to_check { "?return=check" } else { "" }
        ),
        multipart,
        has_inline_buttons,
        returned_message: service::returned_message(&state.platform.db, app).await?,
        postal_notice,
        prefilled: pending.contains_key(crate::service::profile::PREFILLED)
            && page.questions.iter().any(|q| q.prefill.is_some()),
        postal_lookup,
        postal_script: postal_script_href(),
        fields,
        ctx,
    };
    render_status(status, &page_view)
}

async fn page_get(
    State(state): State<Procedures>,
    ctx: PageCtx,
    resident: CurrentResident,
    Path((id, page_id)): Path<(String, String)>,
    PageQuery(q): PageQuery<QuestionQuery>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let (app, def, procedure) =
        service::load_for_resident(&state, id, resident.resident.id).await?;
    if !app.status().editable() {
        return Ok(Redirect::to(&format!("/applications/{id}")).into_response());
    }
    let page = def.page(&page_id).ok_or(AppError::NotFound)?;
    let answers = app.answers_map();
    let pending = app.pending_map();
    // Sent here from the check page because something is missing: show what.
    let errors = if q.show_errors == "1" {
        let (_, issues) = service::check_all(&state, &app, &def).await?;
        let mine: Vec<_> = issues
            .into_iter()
            .filter(|i| navigation::page_of_field(&def, &i.field).is_some_and(|p| p.id == page.id))
            .collect();
        localize(&mine, &ctx.tr)
    } else {
        Errors::new()
    };
    // Said after a lookup without JavaScript.
    let notice = if q.postal.is_empty() {
        None
    } else {
        state
            .postal
            .fill(&q.postal)
            .await
            .ok()
            .map(|filled| postal_notice(&ctx.tr, &filled))
    };
    render_page(
        &state,
        ctx,
        &app,
        &def,
        &procedure,
        page,
        errors,
        &pending,
        &answers,
        q.r#return == "check",
        notice,
    )
    .await
}

/// The page's input as the service takes it: raw answers (with the group
/// items the resident asked to remove taken out), the typed text, the files
/// sent and the files to remove.
fn page_input(page: &Page, app: &applications::Application, form: &CsrfMultipart) -> PageInput {
    let current = app.answers_map();
    let mut raw = fields::raw_from_form(page, &form.fields, &current);
    let mut removed_items = false;
    for q in &page.questions {
        if let Kind::Group { .. } = q.kind {
            let remove: Vec<usize> = form
                .fields
                .get_all(&format!("_remove_item.{}", q.id))
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect();
            removed_items |= !form
                .fields
                .get_all(&format!("_remove_item.{}", q.id))
                .is_empty();
            if let Some(Value::Array(items)) = raw.get_mut(&q.id) {
                let kept: Vec<Value> = items
                    .drain(..)
                    .enumerate()
                    .filter(|(i, _)| !remove.contains(i))
                    .map(|(_, v)| v)
                    .collect();
                *items = kept;
            }
        }
    }
    PageInput {
        raw,
        // After removing group items the indices shift: keep typed text only when nothing was removed.
        typed: (!removed_items).then(|| fields::typed_text(page, &form.fields)),
        remove_files: form
            .fields
            .get_all("_remove_file")
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect(),
        files: form
            .files
            .iter()
            .map(|u| NewFile {
                question_id: u.field.clone(),
                filename: u.filename.clone(),
                bytes: u.bytes.to_vec(),
            })
            .collect(),
    }
}

async fn page_post(
    State(state): State<Procedures>,
    ctx: PageCtx,
    resident: CurrentResident,
    Path((id, page_id)): Path<(String, String)>,
    PageQuery(q): PageQuery<QuestionQuery>,
    CsrfAnyForm(form): CsrfAnyForm,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let (app, def, procedure) =
        service::load_for_resident(&state, id, resident.resident.id).await?;
    if !app.status().editable() {
        return Ok(Redirect::to(&format!("/applications/{id}")).into_response());
    }
    let page = def.page(&page_id).ok_or(AppError::NotFound)?;
    let action = form.fields.get("_action").unwrap_or("continue").to_string();
    let mut saved =
        service::save_page(&state, &app, &def, page, page_input(page, &app, &form)).await?;
    let return_to_check = q.r#return == "check";

    if let Some(group) = action.strip_prefix("add_item.") {
        // One more empty item; the page comes back without error messages.
        let current = form
            .fields
            .get(&format!("_items.{group}"))
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(1);
        saved.pending.insert(
            format!("_items.{group}"),
            serde_json::Value::String((current + 1).to_string()),
        );
        service::save_answers(
            &state.platform.db,
            app.id,
            app.resident_id,
            &saved.answers,
            &saved.pending,
        )
        .await?;
        let anchor = fields::element_id(&format!("{group}.{current}"));
        let suffix = if return_to_check { "?return=check" } else { "" };
        return Ok(Redirect::to(&format!(
            "/applications/{id}/pages/{page_id}{suffix}#{anchor}"
        ))
        .into_response());
    }
    let errors = if let Some(postal_id) = action.strip_prefix("postal.")
        && let Some(address) = page.address_filled_by(postal_id)
    {
        // Without JavaScript: fill the address from the postal code and come back.
        let typed = form.fields.get(postal_id).unwrap_or_default().to_string();
        let err = match state.postal.fill(&typed).await {
            Ok(filled) => {
                let current = saved.answers.get(&address.id);
                let value = postal::fill_address(current, &filled.place);
                saved.answers.insert(address.id.clone(), value);
                for part in ["prefecture", "city"] {
                    saved.pending.remove(&format!("{}.{part}", address.id));
                }
                service::save_answers(
                    &state.platform.db,
                    app.id,
                    app.resident_id,
                    &saved.answers,
                    &saved.pending,
                )
                .await?;
                let back = if return_to_check { "&return=check" } else { "" };
                let anchor = fields::element_id(&format!("{}.city", address.id));
                return Ok(Redirect::to(&format!(
                    "/applications/{id}/pages/{page_id}?postal={}{back}#{anchor}",
                    filled.code.digits()
                ))
                .into_response());
            }
            Err(e) => e,
        };
        let mut errors = Errors::new();
        errors.add(
            postal_id.to_string(),
            err.key(),
            postal_error(&ctx.tr, &err),
        );
        Some(errors)
    } else if action == "save" {
        return Ok(Redirect::to("/applications?saved=1").into_response());
    } else if !saved.issues.is_empty() {
        Some(localize(&saved.issues, &ctx.tr))
    } else {
        None
    };
    // The page again, with what is wrong (a postal code, or the answers).
    if let Some(errors) = errors {
        return render_page(
            &state,
            ctx,
            &app,
            &def,
            &procedure,
            page,
            errors,
            &saved.pending,
            &saved.answers,
            return_to_check,
            None,
        )
        .await;
    }
    let next = if return_to_check {
        None
    } else {
        navigation::next_page(&def, &page.id, &saved.answers)
    };
    Ok(match next {
        Some(next) => Redirect::to(&format!("/applications/{id}/pages/{}", next.id)),
        None => Redirect::to(&format!("/applications/{id}/check")),
    }
    .into_response())
}

#[derive(Template)]
#[template(path = "applications/check.html")]
struct CheckPage {
    ctx: PageCtx,
    errors: Errors,
    id: i64,
    procedure_name: String,
    back_href: String,
    rows: Vec<AnswerRow>,
    /// Staff's correction request, while the application is sent back.
    returned_message: Option<String>,
    /// Sending it again after a correction request.
    resubmission: bool,
    /// The form asks the resident's own details: offer to keep them in the profile.
    offer_profile_update: bool,
}

async fn check(
    State(state): State<Procedures>,
    ctx: PageCtx,
    resident: CurrentResident,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let (app, def, procedure) =
        service::load_for_resident(&state, id, resident.resident.id).await?;
    if !app.status().editable() {
        return Ok(Redirect::to(&format!("/applications/{id}")).into_response());
    }
    let (answers, issues) = service::check_all(&state, &app, &def).await?;
    if let Some(first) = issues
        .first()
        .and_then(|i| navigation::page_of_field(&def, &i.field))
    {
        return Ok(Redirect::to(&format!(
            "/applications/{id}/pages/{}?show_errors=1",
            first.id
        ))
        .into_response());
    }
    let last = navigation::visible_pages(&def, &answers)
        .last()
        .map(|p| p.id.clone())
        .unwrap_or_default();
    let page = CheckPage {
        errors: Errors::new(),
        id,
        procedure_name: ctx.tr.pick(&procedure.name, &procedure.name_en).to_string(),
        back_href: format!("/applications/{id}/pages/{last}"),
        rows: display::rows(&def, &answers, &ctx.tr),
        returned_message: service::returned_message(&state.platform.db, &app).await?,
        resubmission: app.status() == Status::Returned,
        offer_profile_update: crate::profile::fills(&def),
        ctx,
    };
    render(&page)
}

async fn submit(
    State(state): State<Procedures>,
    resident: CurrentResident,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let (app, def, _) = service::load_for_resident(&state, id, resident.resident.id).await?;
    match service::submit(&state, &app, &def, resident.session.identity.as_ref()).await {
        Err(SubmitError::IdentityRequired(requirement)) => {
            Ok(identity_redirect(requirement, app.procedure_id))
        }
        Err(SubmitError::EmailUnverified) => Ok(Redirect::to(&format!(
            "/account/verify-email?next=%2Fapplications%2F{id}%2Fcheck"
        ))
        .into_response()),
        // Sent now, or a second tap of the button, or a retry: the application is sent.
        Ok(Sent::Submitted(_) | Sent::Already(_)) => {
            if form.get("update_profile") == Some("yes") {
                crate::service::profile::update_from_application(&state.platform.db, &app, &def)
                    .await?;
            }
            Ok(Redirect::to(&format!("/applications/{id}/receipt")).into_response())
        }
        // Something is missing: the page where it is asked, with what is wrong.
        Ok(Sent::Invalid(issues)) => {
            let to = issues
                .first()
                .and_then(|i| navigation::page_of_field(&def, &i.field))
                .map(|p| format!("/applications/{id}/pages/{}?show_errors=1", p.id))
                .unwrap_or_else(|| format!("/applications/{id}/check"));
            Ok(Redirect::to(&to).into_response())
        }
        Err(SubmitError::InvalidTransition(_)) => {
            Ok(Redirect::to(&format!("/applications/{id}")).into_response())
        }
        // Saved again (another tab, another device) while it was being sent:
        // the resident sees it as it is now and sends it again.
        Err(SubmitError::Changed) => {
            Ok(Redirect::to(&format!("/applications/{id}/check")).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "applications/receipt.html")]
struct ReceiptPage {
    ctx: PageCtx,
    id: i64,
    /// Sent again after a correction request (same receipt number).
    resubmitted: bool,
    procedure_name: String,
    receipt_number: String,
}

async fn receipt(
    State(state): State<Procedures>,
    ctx: PageCtx,
    resident: CurrentResident,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let (app, _, procedure) = service::load_for_resident(&state, id, resident.resident.id).await?;
    let Some(receipt_number) = app.receipt_number.clone() else {
        return Ok(Redirect::to(&format!("/applications/{id}")).into_response());
    };
    // The latest sending decides the wording: a first submission, or the
    // corrected application sent again.
    let resubmitted = service::events(&state.platform.db, id)
        .await?
        .iter()
        .rev()
        .find(|e| e.kind == "submitted" || e.kind == "resubmitted")
        .is_some_and(|e| e.kind == "resubmitted");
    render(&ReceiptPage {
        id,
        resubmitted,
        procedure_name: ctx.tr.pick(&procedure.name, &procedure.name_en).to_string(),
        receipt_number,
        ctx,
    })
}

struct ApplicationRow {
    id: i64,
    procedure: String,
    organisation: String,
    status_code: &'static str,
    status_label: String,
    receipt_number: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "applications/list.html")]
struct ApplicationsPage {
    ctx: PageCtx,
    notice: Option<String>,
    todo: Vec<TodoRow>,
    rows: Vec<ApplicationRow>,
}

/// An application waiting for its resident: a draft to finish, or one sent
/// back to correct.
pub(crate) struct TodoRow {
    pub id: i64,
    pub procedure: String,
    pub what: String,
    pub action: String,
}

/// The resident's drafts and applications sent back, those sent back first;
/// shown first wherever the resident lands after signing in.
pub(crate) async fn todo_rows(
    state: &Procedures,
    ctx: &PageCtx,
    resident_id: i64,
) -> Result<Vec<TodoRow>, AppError> {
    let page = service::ListPage {
        before: None,
        limit: 500,
    };
    let mut rows: Vec<(u8, TodoRow)> =
        service::list_for_resident(&state.platform.db, resident_id, page)
            .await?
            .into_iter()
            .filter_map(|a| {
                let (rank, what, action) = match a.status() {
                    Status::Returned => {
                        (0, "applications.todo_returned", "applications.todo_correct")
                    }
                    Status::Draft => (1, "applications.todo_draft", "applications.todo_resume"),
                    _ => return None,
                };
                Some((
                    rank,
                    TodoRow {
                        id: a.id,
                        procedure: ctx
                            .tr
                            .pick(&a.procedure_name, &a.procedure_name_en)
                            .to_string(),
                        what: ctx.t(what).to_string(),
                        action: ctx.t(action).to_string(),
                    },
                ))
            })
            .collect();
    rows.sort_by_key(|(rank, _)| *rank);
    Ok(rows.into_iter().map(|(_, r)| r).collect())
}

#[derive(Deserialize, Default)]
struct NoticeQuery {
    #[serde(default)]
    saved: String,
    #[serde(default)]
    withdrawn: String,
    #[serde(default)]
    discarded: String,
}

async fn my_applications(
    State(state): State<Procedures>,
    ctx: PageCtx,
    resident: CurrentResident,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Result<Response, AppError> {
    // A resident has a few applications; the page lists the latest 500.
    let page = service::ListPage {
        before: None,
        limit: 500,
    };
    let rows = service::list_for_resident(&state.platform.db, resident.resident.id, page)
        .await?
        .into_iter()
        .map(|a| ApplicationRow {
            id: a.id,
            procedure: ctx
                .tr
                .pick(&a.procedure_name, &a.procedure_name_en)
                .to_string(),
            organisation: ctx
                .tr
                .pick(&a.organisation_name, &a.organisation_name_en)
                .to_string(),
            status_code: a.status().code(),
            status_label: ctx.t(a.status().label_key()).to_string(),
            receipt_number: a.receipt_number.clone().unwrap_or_else(|| "—".into()),
            updated: format_time(&a.updated_at, &ctx.tr),
        })
        .collect();
    let notice = if q.saved == "1" {
        Some(ctx.t("applications.saved").to_string())
    } else if q.withdrawn == "1" {
        Some(ctx.t("applications.withdrawn").to_string())
    } else if q.discarded == "1" {
        Some(ctx.t("applications.discarded").to_string())
    } else {
        None
    };
    let todo = todo_rows(&state, &ctx, resident.resident.id).await?;
    render(&ApplicationsPage {
        ctx,
        notice,
        todo,
        rows,
    })
}

struct HistoryRow {
    at: String,
    text: String,
    comment: String,
}

struct AttachmentRow {
    id: i64,
    filename: String,
    kind_label: String,
    size: String,
}

#[derive(Template)]
#[template(path = "applications/detail.html")]
struct ApplicationPage {
    ctx: PageCtx,
    id: i64,
    procedure_name: String,
    organisation: String,
    status_code: &'static str,
    status_label: String,
    receipt_number: String,
    submitted: String,
    is_draft: bool,
    resume_href: String,
    returned_message: Option<String>,
    withdrawable: bool,
    rows: Vec<AnswerRow>,
    attachments: Vec<AttachmentRow>,
    history: Vec<HistoryRow>,
    /// Once decided: what was decided, why, and what happens next.
    outcome: Option<OutcomeView>,
}

struct OutcomeView {
    /// `granted` or `refused`, for the notice's style.
    kind: &'static str,
    heading: String,
    /// The reason given with the decision (always for a refusal).
    reason: String,
    next: String,
    /// Who to ask: the section, its phone and e-mail.
    contact: String,
    phone: String,
    phone_link: String,
}

async fn application(
    State(state): State<Procedures>,
    ctx: PageCtx,
    resident: CurrentResident,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let db = &state.platform.db;
    let (app, def, procedure) =
        service::load_for_resident(&state, id, resident.resident.id).await?;
    let org = crate::service::catalogue::organisation(db, app.organisation_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let answers = app.answers_map();
    let resume_page = {
        let (_, issues) = service::check_all(&state, &app, &def).await?;
        issues
            .first()
            .and_then(|i| navigation::page_of_field(&def, &i.field))
            .map(|p| p.id.clone())
    };
    let resume_href = match resume_page {
        Some(p) => format!("/applications/{id}/pages/{p}"),
        None => format!("/applications/{id}/check"),
    };
    let events = service::events(db, id).await?;
    let outcome = match app.status() {
        Status::Completed | Status::Rejected => {
            let granted = app.status() == Status::Completed;
            let decided = if granted { "completed" } else { "rejected" };
            let reason = events
                .iter()
                .rev()
                .find(|e| e.kind == decided)
                .map(|e| e.comment.clone())
                .unwrap_or_default();
            let section = crate::service::catalogue::owned(db, &procedure)
                .await?
                .map(|o| o.section);
            let (contact, phone) = section
                .map(|s| {
                    (
                        ctx.tr.pick(&s.name, &s.name_en).to_string(),
                        s.phone.clone(),
                    )
                })
                .unwrap_or_default();
            Some(OutcomeView {
                kind: if granted { "granted" } else { "refused" },
                heading: ctx
                    .t(if granted {
                        "application.outcome_granted"
                    } else {
                        "application.outcome_refused"
                    })
                    .to_string(),
                reason,
                next: ctx
                    .t(if granted {
                        "application.outcome_granted_next"
                    } else {
                        "application.outcome_refused_next"
                    })
                    .to_string(),
                contact,
                phone_link: phone
                    .chars()
                    .filter(|c| c.is_ascii_digit() || *c == '+')
                    .collect(),
                phone,
            })
        }
        _ => None,
    };
    let history = events
        .into_iter()
        .map(|e| HistoryRow {
            at: format_time(&e.at, &ctx.tr),
            text: ctx.t(&format!("event.{}", e.kind)).to_string(),
            comment: e.comment,
        })
        .collect();
    let attachments = service::attachments(db, id)
        .await?
        .into_iter()
        .map(|a| AttachmentRow {
            id: a.id,
            kind_label: platform::files::FileKind::parse(&a.kind)
                .map(|k| k.label())
                .unwrap_or("?")
                .to_string(),
            size: display::size_text(a.size),
            filename: a.filename,
        })
        .collect();
    let status = app.status();
    let page = ApplicationPage {
        id,
        procedure_name: ctx.tr.pick(&procedure.name, &procedure.name_en).to_string(),
        organisation: ctx.tr.pick(&org.name, &org.name_en).to_string(),
        status_code: status.code(),
        status_label: ctx.t(status.label_key()).to_string(),
        receipt_number: app.receipt_number.clone().unwrap_or_default(),
        submitted: app
            .submitted_at
            .as_ref()
            .map(|t| format_time(t, &ctx.tr))
            .unwrap_or_default(),
        is_draft: status == Status::Draft,
        resume_href,
        returned_message: service::returned_message(db, &app).await?,
        withdrawable: status.withdrawable(),
        rows: display::rows(&def, &answers, &ctx.tr),
        attachments,
        history,
        outcome,
        ctx,
    };
    render(&page)
}

#[derive(Template)]
#[template(path = "applications/confirm.html")]
struct ConfirmPage {
    ctx: PageCtx,
    id: i64,
    procedure_name: String,
    heading: String,
    lead: String,
    action: String,
    button: String,
    /// The link back, worded for what is not done.
    cancel: String,
    with_reason: bool,
}

async fn withdraw_get(
    State(state): State<Procedures>,
    ctx: PageCtx,
    resident: CurrentResident,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let (app, _, procedure) = service::load_for_resident(&state, id, resident.resident.id).await?;
    if !app.status().withdrawable() {
        return Ok(Redirect::to(&format!("/applications/{id}")).into_response());
    }
    render(&ConfirmPage {
        id,
        procedure_name: ctx.tr.pick(&procedure.name, &procedure.name_en).to_string(),
        heading: ctx.t("application.withdraw_confirm").to_string(),
        lead: ctx.t("application.withdraw_confirm_lead").to_string(),
        action: format!("/applications/{id}/withdraw"),
        button: ctx.t("application.withdraw").to_string(),
        cancel: ctx.t("application.cancel").to_string(),
        with_reason: true,
        ctx,
    })
}

async fn withdraw_post(
    State(state): State<Procedures>,
    resident: CurrentResident,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    match service::withdraw(
        &state.platform.db,
        id,
        resident.resident.id,
        form.text("reason"),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/applications?withdrawn=1").into_response()),
        Err(ActionError::NotFound) => Err(AppError::NotFound),
        Err(ActionError::InvalidTransition(_)) => {
            Ok(Redirect::to(&format!("/applications/{id}")).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn discard_get(
    State(state): State<Procedures>,
    ctx: PageCtx,
    resident: CurrentResident,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let (app, _, procedure) = service::load_for_resident(&state, id, resident.resident.id).await?;
    if app.status() != Status::Draft {
        return Ok(Redirect::to(&format!("/applications/{id}")).into_response());
    }
    render(&ConfirmPage {
        id,
        procedure_name: ctx.tr.pick(&procedure.name, &procedure.name_en).to_string(),
        heading: ctx.t("application.discard_confirm").to_string(),
        lead: ctx.t("application.discard_confirm_lead").to_string(),
        action: format!("/applications/{id}/discard"),
        button: ctx.t("application.discard").to_string(),
        cancel: ctx.t("application.cancel_discard").to_string(),
        with_reason: false,
        ctx,
    })
}

async fn discard_post(
    State(state): State<Procedures>,
    resident: CurrentResident,
    Path(id): Path<String>,
    CsrfForm(_form): CsrfForm,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    match service::discard_draft(&state.platform.db, id, resident.resident.id).await {
        Ok(()) => Ok(Redirect::to("/applications?discarded=1").into_response()),
        Err(ActionError::NotFound) => Err(AppError::NotFound),
        Err(ActionError::InvalidTransition(_)) => {
            Ok(Redirect::to(&format!("/applications/{id}")).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Downloads one of the resident's own attachments, with the type the server verified.
async fn attachment(
    State(state): State<Procedures>,
    resident: CurrentResident,
    Path((id, attachment_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (id, attachment_id) = (parse_id(&id)?, parse_id(&attachment_id)?);
    let att = service::attachment_for_resident(
        &state.platform.db,
        id,
        attachment_id,
        resident.resident.id,
    )
    .await?
    .ok_or(AppError::NotFound)?;
    download(&state, &att).await
}
