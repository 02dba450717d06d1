//! The resident's pages: the home page, the catalogue, a procedure, the
//! question pages of an application, checking and sending it, the receipt,
//! the list of applications, an application's page, withdrawing. Every page
//! works without JavaScript.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use platform::orgs;
use platform::web::{
    AppError, CsrfAnyForm, CsrfForm, CurrentResident, Errors, PageCtx, PageQuery, encode_component,
    render, render_status,
};
use serde::Deserialize;

use crate::Procedures;
use crate::applications::{self, Status};
use crate::catalogue::{self, CATEGORIES, LIFE_EVENTS};
use crate::flow;
use crate::form::definition::Kind;
use crate::form::display::{self, AnswerRow};
use crate::form::html::{self, FieldView, Widget};
use crate::search::Filter;
use crate::writer::{Submission, SubmitError};
use platform::web::{format_time, parse_id};

pub fn router() -> Router<Procedures> {
    Router::new()
        .route("/", get(home))
        .route("/procedures", get(list))
        .route("/procedures/{id}", get(detail))
        .route("/procedures/{id}/apply", axum::routing::post(apply))
        .route("/applications", get(my_applications))
        .route("/applications/{id}", get(application))
        .route(
            "/applications/{id}/pages/{page}",
            get(page_get).post(page_post),
        )
        .route("/applications/{id}/check", get(check))
        .route("/applications/{id}/submit", axum::routing::post(submit))
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

/// A link in a list (code, label, selected).
struct Link {
    code: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "procedures/home.html")]
struct HomePage {
    ctx: PageCtx,
    personal_events: Vec<Link>,
    business_events: Vec<Link>,
    categories: Vec<Link>,
    organisations: Vec<Link>,
}

async fn organisation_links(
    state: &Procedures,
    ctx: &PageCtx,
    selected: &str,
) -> Result<Vec<Link>, AppError> {
    Ok(orgs::list_organisations(&state.platform.db)
        .await?
        .into_iter()
        .map(|o| Link {
            selected: o.code == selected,
            label: ctx.tr.pick(&o.name, &o.name_en).to_string(),
            code: o.code,
        })
        .collect())
}

fn category_links(ctx: &PageCtx, selected: &str) -> Vec<Link> {
    CATEGORIES
        .iter()
        .map(|(code, ja, en)| Link {
            code: code.to_string(),
            label: ctx.tr.pick(ja, en).to_string(),
            selected: *code == selected,
        })
        .collect()
}

async fn home(State(state): State<Procedures>, ctx: PageCtx) -> Result<Response, AppError> {
    let events = |business: bool| {
        LIFE_EVENTS
            .iter()
            .filter(|e| e.3 == business)
            .map(|(code, ja, en, _)| Link {
                code: code.to_string(),
                label: ctx.tr.pick(ja, en).to_string(),
                selected: false,
            })
            .collect()
    };
    let page = HomePage {
        personal_events: events(false),
        business_events: events(true),
        categories: category_links(&ctx, ""),
        organisations: organisation_links(&state, &ctx, "").await?,
        ctx,
    };
    render(&page)
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    event: String,
}

struct ResultRow {
    id: i64,
    name: String,
    summary: String,
    organisation: String,
    section: String,
    online: bool,
}

#[derive(Template)]
#[template(path = "procedures/list.html")]
struct ListPage {
    ctx: PageCtx,
    heading: String,
    q: String,
    q_encoded: String,
    event: String,
    event_label: Option<String>,
    organisations: Vec<Link>,
    categories: Vec<Link>,
    results: Vec<ResultRow>,
}

async fn list(
    State(state): State<Procedures>,
    ctx: PageCtx,
    PageQuery(q): PageQuery<ListQuery>,
) -> Result<Response, AppError> {
    let db = &state.platform.db;
    let q_text: String = q.q.chars().take(200).collect();
    let organisations = orgs::list_organisations(db).await?;
    let organisation = organisations.iter().find(|o| o.code == q.organisation);
    let filter = Filter {
        organisation_id: organisation.map(|o| o.id),
        category: catalogue::category(&q.category).map(|c| c.0.to_string()),
        life_event: catalogue::life_event(&q.event).map(|e| e.0.to_string()),
        online_only: false,
    };
    let index = state.catalogue.index(db).await?;
    let sections = section_names(&state, &ctx).await?;
    let results = index
        .search(&q_text, &filter)
        .into_iter()
        .take(200)
        .map(|p| ResultRow {
            id: p.id,
            name: ctx.tr.pick(&p.name, &p.name_en).to_string(),
            summary: ctx.tr.pick(&p.summary, &p.summary_en).to_string(),
            organisation: organisations
                .iter()
                .find(|o| o.id == p.organisation_id)
                .map(|o| ctx.tr.pick(&o.name, &o.name_en).to_string())
                .unwrap_or_default(),
            section: sections
                .iter()
                .find(|s| s.0 == p.section_id)
                .map(|s| s.1.clone())
                .unwrap_or_default(),
            online: p.accepts_applications(),
        })
        .collect();
    let heading = if q_text.trim().is_empty() {
        ctx.t("catalogue.heading").to_string()
    } else {
        ctx.tr.f1("catalogue.results_for", "q", q_text.trim())
    };
    let event_label = catalogue::life_event(&q.event).map(|e| ctx.tr.pick(e.1, e.2).to_string());
    let page = ListPage {
        heading,
        q_encoded: encode_component(&q_text),
        q: q_text,
        event: filter.life_event.clone().unwrap_or_default(),
        event_label,
        organisations: organisation_links(&state, &ctx, &q.organisation).await?,
        categories: category_links(&ctx, &q.category),
        results,
        ctx,
    };
    render(&page)
}

/// (section id, name) of every section, for listing procedures.
async fn section_names(state: &Procedures, ctx: &PageCtx) -> Result<Vec<(i64, String)>, AppError> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as("select id, name, name_en from sections")
        .fetch_all(state.platform.db.pool())
        .await
        .map_err(platform::StoreError::from)?;
    Ok(rows
        .into_iter()
        .map(|(id, ja, en)| (id, ctx.tr.pick(&ja, &en).to_string()))
        .collect())
}

#[derive(Template)]
#[template(path = "procedures/detail.html")]
struct DetailPage {
    ctx: PageCtx,
    id: i64,
    name: String,
    summary: String,
    description: Vec<String>,
    organisation: String,
    section: String,
    department: String,
    phone: String,
    email: String,
    accepts: bool,
    signed_in: bool,
    attachments: Vec<(String, String)>,
    fee: String,
    category: String,
    life_events: String,
    basis: String,
}

async fn detail(
    State(state): State<Procedures>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let db = &state.platform.db;
    let index = state.catalogue.index(db).await?;
    let p = index.get(id).ok_or(AppError::NotFound)?;
    let org = orgs::organisation_by_id(db, p.organisation_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let section = orgs::section_by_id(db, p.section_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let tr = &ctx.tr;
    let fee = match p.fee_yen {
        None | Some(0) => tr.t("procedure.no_fee").to_string(),
        Some(f) if tr.is_en() => jp::yen::format_yen_en(f),
        Some(f) => jp::yen::format_yen(f),
    };
    let fee = if p.fee_note.is_empty() {
        fee
    } else {
        format!("{fee}（{}）", p.fee_note)
    };
    let page = DetailPage {
        id: p.id,
        name: tr.pick(&p.name, &p.name_en).to_string(),
        summary: tr.pick(&p.summary, &p.summary_en).to_string(),
        description: tr
            .pick(&p.description, &p.description_en)
            .split("\n\n")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        organisation: tr.pick(&org.name, &org.name_en).to_string(),
        section: tr.pick(&section.name, &section.name_en).to_string(),
        department: tr
            .pick(&section.department, &section.department_en)
            .to_string(),
        phone: section.phone.clone(),
        email: section.email.clone(),
        accepts: p.accepts_applications(),
        signed_in: ctx.user.as_ref().is_some_and(|u| !u.is_staff),
        attachments: p
            .required_attachments()
            .into_iter()
            .map(|a| {
                (
                    tr.pick(&a.name, &a.name_en).to_string(),
                    tr.pick(&a.note, &a.note_en).to_string(),
                )
            })
            .collect(),
        fee,
        category: catalogue::category(&p.category)
            .map(|c| tr.pick(c.1, c.2).to_string())
            .unwrap_or_default(),
        life_events: p
            .life_event_codes()
            .iter()
            .filter_map(|c| catalogue::life_event(c))
            .map(|e| tr.pick(e.1, e.2).to_string())
            .collect::<Vec<_>>()
            .join("、"),
        basis: tr
            .t(if p.basis == "statutory" {
                "procedure.statutory"
            } else {
                "procedure.local"
            })
            .to_string(),
        ctx,
    };
    render(&page)
}

async fn apply(
    State(state): State<Procedures>,
    resident: CurrentResident,
    Path(id): Path<String>,
    CsrfForm(_form): CsrfForm,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let db = &state.platform.db;
    let procedure = catalogue::procedure_by_id(db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !procedure.accepts_applications() {
        return Err(AppError::NotFound);
    }
    let app = applications::create_draft(db, resident.resident.id, &procedure).await?;
    let def = state.forms.get(db, app.form_version_id).await?;
    let first = flow::first_page(&def, &app.answers_map()).ok_or(AppError::NotFound)?;
    Ok(Redirect::to(&format!("/applications/{}/pages/{}", app.id, first.id)).into_response())
}

#[derive(Deserialize, Default)]
struct QuestionQuery {
    #[serde(default)]
    r#return: String,
    #[serde(default)]
    show_errors: String,
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
    fields: Vec<FieldView>,
}

/// The resident's latest correction request, when the application was returned.
async fn returned_message(
    state: &Procedures,
    app: &applications::Application,
) -> Result<Option<String>, AppError> {
    if app.status() != Status::Returned {
        return Ok(None);
    }
    let events = applications::events(&state.platform.db, app.id).await?;
    Ok(events
        .into_iter()
        .rev()
        .find(|e| e.status_to.as_deref() == Some("returned"))
        .map(|e| e.comment))
}

#[allow(clippy::too_many_arguments)]
async fn render_page(
    state: &Procedures,
    ctx: PageCtx,
    app: &applications::Application,
    def: &crate::form::FormDefinition,
    procedure: &catalogue::Procedure,
    page: &crate::form::Page,
    errors: Errors,
    pending: &serde_json::Map<String, serde_json::Value>,
    answers: &serde_json::Map<String, serde_json::Value>,
    return_to_check: bool,
) -> Result<Response, AppError> {
    let atts = applications::attachments(&state.platform.db, app.id).await?;
    let tr = ctx.tr.clone();
    let src = html::Source {
        answers,
        pending,
        errors: &errors,
        attachments: &atts,
        application_id: app.id,
        tr: &tr,
    };
    let fields = html::page_fields(page, &src);
    let visible = flow::visible_pages(def, answers);
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
        match flow::prev_page(def, &page.id, answers) {
            Some(prev) => format!("/applications/{}/pages/{}", app.id, prev.id),
            None => format!("/procedures/{}", procedure.id),
        }
    };
    let multipart = page
        .questions
        .iter()
        .any(|q| matches!(q.kind, Kind::File { .. }));
    let has_inline_buttons = fields
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
        returned_message: returned_message(state, app).await?,
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
    let (app, def, procedure) = flow::load_for_resident(&state, id, resident.resident.id).await?;
    if !app.status().editable() {
        return Ok(Redirect::to(&format!("/applications/{id}")).into_response());
    }
    let page = def.page(&page_id).ok_or(AppError::NotFound)?;
    let answers = app.answers_map();
    let pending = app.pending_map();
    // Sent here from the check page because something is missing: show what.
    let errors = if q.show_errors == "1" {
        let (_, issues) = flow::check_all(&state, &app, &def).await?;
        let mine: Vec<_> = issues
            .into_iter()
            .filter(|i| flow::page_of_field(&def, &i.field).is_some_and(|p| p.id == page.id))
            .collect();
        flow::localize(&mine, &ctx.tr)
    } else {
        Errors::new()
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
    )
    .await
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
    let (app, def, procedure) = flow::load_for_resident(&state, id, resident.resident.id).await?;
    if !app.status().editable() {
        return Ok(Redirect::to(&format!("/applications/{id}")).into_response());
    }
    let page = def.page(&page_id).ok_or(AppError::NotFound)?;
    let action = form.fields.get("_action").unwrap_or("continue").to_string();
    let mut saved = flow::save_page(&state, &app, &def, page, &form).await?;
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
        applications::save_answers(
            &state.platform.db,
            app.id,
            app.resident_id,
            &saved.answers,
            &saved.pending,
        )
        .await?;
        let anchor = html::element_id(&format!("{group}.{current}"));
        let suffix = if return_to_check { "?return=check" } else { "" };
        return Ok(Redirect::to(&format!(
            "/applications/{id}/pages/{page_id}{suffix}#{anchor}"
        ))
        .into_response());
    }
    if action == "save" {
        return Ok(Redirect::to("/applications?saved=1").into_response());
    }
    if !saved.issues.is_empty() {
        let errors = flow::localize(&saved.issues, &ctx.tr);
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
        )
        .await;
    }
    let next = if return_to_check {
        None
    } else {
        flow::next_page(&def, &page.id, &saved.answers)
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
}

async fn check(
    State(state): State<Procedures>,
    ctx: PageCtx,
    resident: CurrentResident,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let (app, def, procedure) = flow::load_for_resident(&state, id, resident.resident.id).await?;
    if !app.status().editable() {
        return Ok(Redirect::to(&format!("/applications/{id}")).into_response());
    }
    let (answers, issues) = flow::check_all(&state, &app, &def).await?;
    if let Some(first) = issues
        .first()
        .and_then(|i| flow::page_of_field(&def, &i.field))
    {
        return Ok(Redirect::to(&format!(
            "/applications/{id}/pages/{}?show_errors=1",
            first.id
        ))
        .into_response());
    }
    let last = flow::visible_pages(&def, &answers)
        .last()
        .map(|p| p.id.clone())
        .unwrap_or_default();
    let page = CheckPage {
        errors: Errors::new(),
        id,
        procedure_name: ctx.tr.pick(&procedure.name, &procedure.name_en).to_string(),
        back_href: format!("/applications/{id}/pages/{last}"),
        rows: display::rows(&def, &answers, &ctx.tr),
        ctx,
    };
    render(&page)
}

async fn submit(
    State(state): State<Procedures>,
    resident: CurrentResident,
    Path(id): Path<String>,
    CsrfForm(_form): CsrfForm,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let (app, def, _) = flow::load_for_resident(&state, id, resident.resident.id).await?;
    // A second tap of the button, or a retry: the application is already sent.
    if app.status() == Status::Submitted && app.receipt_number.is_some() {
        return Ok(Redirect::to(&format!("/applications/{id}/receipt")).into_response());
    }
    if !app.status().editable() {
        return Ok(Redirect::to(&format!("/applications/{id}")).into_response());
    }
    let (answers, issues) = flow::check_all(&state, &app, &def).await?;
    if let Some(first) = issues
        .first()
        .and_then(|i| flow::page_of_field(&def, &i.field))
    {
        return Ok(Redirect::to(&format!(
            "/applications/{id}/pages/{}?show_errors=1",
            first.id
        ))
        .into_response());
    }
    let answers = serde_json::Value::Object(answers).to_string();
    match state
        .writer
        .submit(Submission::Existing {
            application_id: id,
            resident_id: resident.resident.id,
            answers,
        })
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/applications/{id}/receipt")).into_response()),
        Err(SubmitError::NotFound) => Err(AppError::NotFound),
        Err(SubmitError::InvalidTransition(_)) => {
            Ok(Redirect::to(&format!("/applications/{id}")).into_response())
        }
        Err(e) => Err(AppError::internal(anyhow::anyhow!(e))),
    }
}

#[derive(Template)]
#[template(path = "applications/receipt.html")]
struct ReceiptPage {
    ctx: PageCtx,
    id: i64,
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
    let (app, _, procedure) = flow::load_for_resident(&state, id, resident.resident.id).await?;
    let Some(receipt_number) = app.receipt_number.clone() else {
        return Ok(Redirect::to(&format!("/applications/{id}")).into_response());
    };
    render(&ReceiptPage {
        id,
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
    rows: Vec<ApplicationRow>,
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
    let rows = applications::list_for_resident(&state.platform.db, resident.resident.id)
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
    render(&ApplicationsPage { ctx, notice, rows })
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
}

async fn application(
    State(state): State<Procedures>,
    ctx: PageCtx,
    resident: CurrentResident,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let db = &state.platform.db;
    let (app, def, procedure) = flow::load_for_resident(&state, id, resident.resident.id).await?;
    let org = orgs::organisation_by_id(db, app.organisation_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let answers = app.answers_map();
    let resume_page = {
        let (_, issues) = flow::check_all(&state, &app, &def).await?;
        issues
            .first()
            .and_then(|i| flow::page_of_field(&def, &i.field))
            .map(|p| p.id.clone())
    };
    let resume_href = match resume_page {
        Some(p) => format!("/applications/{id}/pages/{p}"),
        None => format!("/applications/{id}/check"),
    };
    let history = applications::events(db, id)
        .await?
        .into_iter()
        .map(|e| HistoryRow {
            at: format_time(&e.at, &ctx.tr),
            text: ctx.t(&format!("event.{}", e.kind)).to_string(),
            comment: e.comment,
        })
        .collect();
    let attachments = applications::attachments(db, id)
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
        returned_message: returned_message(&state, &app).await?,
        withdrawable: status.withdrawable(),
        rows: display::rows(&def, &answers, &ctx.tr),
        attachments,
        history,
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
    with_reason: bool,
}

async fn withdraw_get(
    State(state): State<Procedures>,
    ctx: PageCtx,
    resident: CurrentResident,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let (app, _, procedure) = flow::load_for_resident(&state, id, resident.resident.id).await?;
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
    match applications::withdraw(
        &state.platform.db,
        id,
        resident.resident.id,
        form.text("reason"),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/applications?withdrawn=1").into_response()),
        Err(applications::ActionError::NotFound) => Err(AppError::NotFound),
        Err(applications::ActionError::InvalidTransition(_)) => {
            Ok(Redirect::to(&format!("/applications/{id}")).into_response())
        }
        Err(applications::ActionError::Store(e)) => Err(e.into()),
    }
}

async fn discard_get(
    State(state): State<Procedures>,
    ctx: PageCtx,
    resident: CurrentResident,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let (app, _, procedure) = flow::load_for_resident(&state, id, resident.resident.id).await?;
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
    match applications::discard_draft(&state.platform.db, id, resident.resident.id).await {
        Ok(()) => Ok(Redirect::to("/applications?discarded=1").into_response()),
        Err(applications::ActionError::NotFound) => Err(AppError::NotFound),
        Err(applications::ActionError::InvalidTransition(_)) => {
            Ok(Redirect::to(&format!("/applications/{id}")).into_response())
        }
        Err(applications::ActionError::Store(e)) => Err(e.into()),
    }
}

/// Downloads one of the resident's own attachments, with the type the server verified.
async fn attachment(
    State(state): State<Procedures>,
    resident: CurrentResident,
    Path((id, attachment_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let attachment_id = parse_id(&attachment_id)?;
    let db = &state.platform.db;
    let app = applications::for_resident(db, id, resident.resident.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let att = applications::attachments(db, app.id)
        .await?
        .into_iter()
        .find(|a| a.id == attachment_id)
        .ok_or(AppError::NotFound)?;
    download(&state, &att).await
}

/// An attachment as a download, with the type the server verified.
pub(crate) async fn download(
    state: &Procedures,
    att: &applications::Attachment,
) -> Result<Response, AppError> {
    let kind =
        platform::files::FileKind::parse(&att.kind).unwrap_or(platform::files::FileKind::Text);
    platform::web::stored_file(&state.platform.files, &att.storage_key, &att.filename, kind).await
}
