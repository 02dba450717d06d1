//! The chat page (works without JavaScript), the page the widget frames, the
//! widget script, entry pages, and the staff pages: entries, import and
//! export, and the unanswered questions turned into entries.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use platform::accounts::Staff;
use platform::web::context::{CurrentStaff, RequestContext};
use platform::web::error::{AppError, Errors};
use platform::web::forms::{CsrfForm, CsrfMultipart};
use platform::web::page::{PageCtx, render, render_status};
use platform::web::{encode_component, parse_urlencoded};

use crate::api::{self, Answer, GroupEntry, Shown};
use crate::entry::{self, Entry};
use crate::{Faq, store};

pub fn router() -> Router<Faq> {
    Router::new()
        .route("/faq", get(chat))
        .route("/faq/embed", get(embed))
        .route("/faq/feedback", axum::routing::post(feedback))
        .route("/faq/widget.js", get(widget_js))
        .route("/faq/entries/{id}", get(entry_page))
        .route("/staff/faq", get(staff_list))
        .route("/staff/faq/import", axum::routing::post(staff_import))
        .route("/staff/faq/export.csv", get(staff_export))
        .route("/staff/faq/new", get(staff_new).post(staff_create))
        .route(
            "/staff/faq/entries/{id}",
            get(staff_edit).post(staff_update),
        )
        .route(
            "/staff/faq/unanswered",
            get(staff_unanswered).post(staff_resolve),
        )
}

/// One exchange on the chat page.
struct Exchange {
    question: String,
    answer: Answer,
    /// The token that lets this question's feedback be recorded.
    token: String,
}

#[derive(Template)]
#[template(path = "faq/chat.html")]
struct ChatPage {
    ctx: PageCtx,
    q: String,
    organisation: String,
    exchange: Option<Exchange>,
    error: Option<String>,
    thanks: bool,
    /// The page the feedback form returns to.
    back: String,
}

#[derive(Template)]
#[template(path = "faq/embed.html")]
struct EmbedPage {
    ctx: PageCtx,
    q: String,
    organisation: String,
    exchange: Option<Exchange>,
    error: Option<String>,
    thanks: bool,
    back: String,
}

fn feedback_binding(question_id: i64) -> String {
    format!("faq-feedback:{question_id}")
}

struct ChatInput {
    q: String,
    organisation: String,
    exchange: Option<Exchange>,
    error: Option<String>,
    thanks: bool,
    back: String,
}

async fn chat_input(
    state: &Faq,
    req: &RequestContext,
    ctx: &PageCtx,
    raw: Option<String>,
    base: &str,
) -> Result<ChatInput, AppError> {
    let form = api::query_form(raw);
    let q: String = form
        .text("q")
        .chars()
        .take(api::MAX_QUESTION_CHARS)
        .collect();
    let mut organisation = form.text("organisation").to_string();
    if !organisation.is_empty()
        && platform::orgs::organisation_by_code(&state.platform.db, &organisation)
            .await?
            .is_none()
    {
        organisation.clear();
    }
    let mut error = None;
    let mut exchange = None;
    let thanks = form.get("thanks") == Some("1");
    // After feedback the page says thank you; asking again would log the question twice.
    if form.get("q").is_some() && !thanks {
        if q.trim().is_empty() {
            error = Some(ctx.t("faq.error.question_empty").to_string());
        } else {
            let org = (!organisation.is_empty()).then_some(organisation.as_str());
            let answer = api::ask(state, req, &ctx.tr, &q, 5, org).await?;
            let token = answer
                .question_id
                .map(|id| state.platform.keys.csrf_token(&feedback_binding(id)))
                .unwrap_or_default();
            exchange = Some(Exchange {
                question: q.clone(),
                answer,
                token,
            });
        }
    }
    let mut back = format!("{base}?q={}", encode_component(&q));
    if !organisation.is_empty() {
        back.push_str(&format!(
            "&organisation={}",
            encode_component(&organisation)
        ));
    }
    Ok(ChatInput {
        q,
        organisation,
        exchange,
        error,
        thanks,
        back,
    })
}

async fn chat(
    State(state): State<Faq>,
    req: RequestContext,
    ctx: PageCtx,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let i = chat_input(&state, &req, &ctx, raw, "/faq").await?;
    let status = if i.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_status(
        status,
        &ChatPage {
            ctx,
            q: i.q,
            organisation: i.organisation,
            exchange: i.exchange,
            error: i.error,
            thanks: i.thanks,
            back: i.back,
        },
    )
}

/// The page the widget frames: the chat without the site's header, which any
/// site may frame.
async fn embed(
    State(state): State<Faq>,
    req: RequestContext,
    ctx: PageCtx,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let i = chat_input(&state, &req, &ctx, raw, "/faq/embed").await?;
    let status = if i.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut res = render_status(
        status,
        &EmbedPage {
            ctx,
            q: i.q,
            organisation: i.organisation,
            exchange: i.exchange,
            error: i.error,
            thanks: i.thanks,
            back: i.back,
        },
    )?;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors *",
        ),
    );
    // Superseded by frame-ancestors in every current browser; kept permissive for the old ones.
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("ALLOWALL"),
    );
    Ok(res)
}

/// "This helped" / "this did not help". The form carries a token bound to the
/// question, so it works inside the widget's frame (where the site's cookies
/// may not be sent) and cannot touch another question.
async fn feedback(State(state): State<Faq>, body: Bytes) -> Result<Response, AppError> {
    let form = parse_urlencoded(&body);
    let id: i64 = form
        .get("question_id")
        .and_then(|v| v.parse().ok())
        .ok_or(AppError::bad_request("bad_request"))?;
    if !state
        .platform
        .keys
        .verify_csrf(&feedback_binding(id), form.text("token"))
    {
        return Err(AppError::Forbidden {
            code: "csrf_failed",
        });
    }
    let helped = form.get("helped") == Some("1");
    let entry: String = form.text("entry").chars().take(100).collect();
    store::feedback(&state.platform.db, id, helped, &entry).await?;
    let back = platform::web::safe_next(form.get("back"), "/faq");
    let sep = if back.contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!("{back}{sep}thanks=1#feedback")).into_response())
}

async fn widget_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/widget.js"),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "faq/entry.html")]
struct EntryPage {
    ctx: PageCtx,
    shown: Shown,
}

async fn entry_page(
    State(state): State<Faq>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let index = state.engine.index().await.map_err(AppError::internal)?;
    let Some(e) = index.entries().iter().find(|e| e.id == id).cloned() else {
        return Err(AppError::NotFound);
    };
    let hit = crate::index::Hit {
        entry: e,
        score: 0.0,
        lexical: 0.0,
        semantic: None,
        english: false,
    };
    let shown = shown_for_page(&state, &hit, &ctx).await?;
    render(&EntryPage { ctx, shown })
}

async fn shown_for_page(
    state: &Faq,
    hit: &crate::index::Hit,
    ctx: &PageCtx,
) -> Result<Shown, AppError> {
    // Reuse the API's rendering of a result (procedure link, language).
    let answer_like = api::ask_one(state, hit, &ctx.tr).await?;
    Ok(answer_like)
}

// ---------------------------------------------------------------- staff pages

struct Notice(String);

#[derive(Template)]
#[template(path = "faq/staff_list.html")]
struct StaffListPage {
    ctx: PageCtx,
    entries: Vec<store::Stored>,
    coverage: Vec<store::AreaCoverage>,
    covered: usize,
    mode: String,
    analyzer: String,
    notice: Option<Notice>,
    errors: Vec<String>,
    /// The public URL (for the widget snippet) and the organisation's code.
    base: String,
    organisation: String,
}

async fn staff_list_render(
    state: &Faq,
    ctx: PageCtx,
    staff: &Staff,
    notice: Option<Notice>,
    errors: Vec<String>,
) -> Result<Response, AppError> {
    let db = &state.platform.db;
    let entries = store::entries(db, Some(staff.organisation_id)).await?;
    let coverage = store::coverage(db, Some(staff.organisation_id)).await?;
    let covered = coverage.iter().filter(|a| a.entries > 0).count();
    let index = state.engine.index().await.map_err(AppError::internal)?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render_status(
        status,
        &StaffListPage {
            ctx,
            entries,
            coverage,
            covered,
            mode: index.mode().to_string(),
            analyzer: index.analyzer().mode().to_string(),
            notice,
            errors,
            base: state
                .platform
                .config
                .base_url
                .clone()
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_string(),
            organisation: platform::orgs::organisation_by_id(db, staff.organisation_id)
                .await?
                .map(|o| o.code)
                .unwrap_or_default(),
        },
    )
}

async fn staff_list(
    State(state): State<Faq>,
    ctx: PageCtx,
    staff: CurrentStaff,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    api::faq_staff(&staff.staff)?;
    let q = api::query_form(raw);
    let notice = match q.get("done") {
        Some("saved") => Some(Notice(ctx.t("faq.staff.saved").to_string())),
        _ => None,
    };
    staff_list_render(&state, ctx, &staff.staff, notice, Vec::new()).await
}

async fn staff_import(
    State(state): State<Faq>,
    ctx: PageCtx,
    staff: CurrentStaff,
    form: CsrfMultipart,
) -> Result<Response, AppError> {
    api::faq_staff(&staff.staff)?;
    let Some(file) = form.files.first() else {
        let errors = vec![ctx.t("faq.error.file_missing").to_string()];
        return staff_list_render(&state, ctx, &staff.staff, None, errors).await;
    };
    let valid_only = form.fields.get("valid_rows_only") == Some("1");
    match api::import_file(&state, &staff.staff, &file.bytes, valid_only).await {
        Ok(report) => {
            let mut text = ctx.tr.f(
                "faq.staff.imported",
                &[
                    ("created", report.created.to_string()),
                    ("updated", report.updated.to_string()),
                    ("unchanged", report.unchanged.to_string()),
                ],
            );
            for e in &report.skipped {
                text.push_str(&format!(" / {}", e.message(&ctx.tr)));
            }
            staff_list_render(&state, ctx, &staff.staff, Some(Notice(text)), Vec::new()).await
        }
        Err(errors) => {
            let messages = errors.iter().map(|e| e.message(&ctx.tr)).collect();
            staff_list_render(&state, ctx, &staff.staff, None, messages).await
        }
    }
}

async fn staff_export(
    State(state): State<Faq>,
    staff: CurrentStaff,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    api::faq_staff(&staff.staff)?;
    let q = api::query_form(raw);
    api::export_response(&state, &staff.staff, q.get("encoding") == Some("shift_jis")).await
}

#[derive(Template)]
#[template(path = "faq/staff_entry.html")]
struct StaffEntryPage {
    ctx: PageCtx,
    /// `None` for a new entry.
    version: Option<i64>,
    entry: Entry,
    errors: Errors,
    versions: Vec<(i64, String, String)>,
    sections: Vec<(String, String)>,
    fields: Vec<FieldRow>,
}

/// A text field of the entry form.
struct FieldRow {
    name: &'static str,
    label: &'static str,
    long: bool,
    value: String,
}

fn field_rows(e: &Entry) -> Vec<FieldRow> {
    let row = |name, label, long, value: &String| FieldRow {
        name,
        label,
        long,
        value: value.clone(),
    };
    vec![
        row("question", "faq.field.question", false, &e.question),
        row("answer", "faq.field.answer", true, &e.answer),
        row("area", "faq.field.area", false, &e.area),
        row("keywords", "faq.field.keywords", false, &e.keywords),
        row("url", "faq.field.url", false, &e.url),
        row("procedure", "faq.field.procedure", false, &e.procedure),
        row(
            "question_en",
            "faq.field.question_en",
            false,
            &e.question_en,
        ),
        row("answer_en", "faq.field.answer_en", true, &e.answer_en),
        row("valid_from", "faq.field.valid_from", false, &e.valid_from),
        row(
            "valid_until",
            "faq.field.valid_until",
            false,
            &e.valid_until,
        ),
    ]
}

async fn sections(
    state: &Faq,
    staff: &Staff,
    ctx: &PageCtx,
) -> Result<Vec<(String, String)>, AppError> {
    Ok(
        platform::orgs::sections_of(&state.platform.db, staff.organisation_id)
            .await?
            .into_iter()
            .map(|s| (s.code.clone(), ctx.tr.pick(&s.name, &s.name_en).to_string()))
            .collect(),
    )
}

async fn staff_new(
    State(state): State<Faq>,
    ctx: PageCtx,
    staff: CurrentStaff,
) -> Result<Response, AppError> {
    api::faq_staff(&staff.staff)?;
    let sections = sections(&state, &staff.staff, &ctx).await?;
    render(&StaffEntryPage {
        ctx,
        version: None,
        fields: field_rows(&Entry::default()),
        entry: Entry {
            status: "published".into(),
            ..Entry::default()
        },
        errors: Errors::new(),
        versions: Vec::new(),
        sections,
    })
}

fn entry_from_form(form: &platform::web::FormData, id: &str) -> Entry {
    let t = |k: &str| form.text(k).trim().to_string();
    Entry {
        id: id.to_string(),
        question: t("question"),
        answer: t("answer"),
        area: t("area"),
        url: t("url"),
        organisation: String::new(),
        section: t("section"),
        procedure: t("procedure"),
        keywords: t("keywords"),
        question_en: t("question_en"),
        answer_en: t("answer_en"),
        status: t("status"),
        valid_from: t("valid_from"),
        valid_until: t("valid_until"),
    }
}

fn check_form(entry: &Entry, tr: &platform::i18n::Tr) -> Errors {
    let mut problems = Vec::new();
    entry::check(entry, 0, &mut problems);
    let mut errors = Errors::new();
    for p in problems {
        errors.add(&p.column, p.code, tr.f1(p.code, "value", &p.value));
    }
    errors
}

async fn staff_create(
    State(state): State<Faq>,
    ctx: PageCtx,
    staff: CurrentStaff,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    api::faq_staff(&staff.staff)?;
    let mut e = entry_from_form(&form, form.text("id").trim());
    let org = platform::orgs::organisation_by_id(&state.platform.db, staff.staff.organisation_id)
        .await?
        .ok_or(AppError::NotFound)?;
    e.organisation = org.code.clone();
    let mut errors = check_form(&e, &ctx.tr);
    if errors.is_empty() {
        match store::save(
            &state.platform.db,
            staff.staff.organisation_id,
            &e,
            None,
            platform::audit::Actor::Staff(staff.staff.id),
        )
        .await
        {
            Ok(_) => {
                state.engine.invalidate();
                return Ok(Redirect::to("/staff/faq?done=saved").into_response());
            }
            Err(platform::db::StoreError::Conflict(_)) => {
                errors.add(
                    "id",
                    "faq.error.id_taken",
                    ctx.t("faq.error.id_taken").to_string(),
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
    let sections = sections(&state, &staff.staff, &ctx).await?;
    render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &StaffEntryPage {
            ctx,
            version: None,
            fields: field_rows(&e),
            entry: e,
            errors,
            versions: Vec::new(),
            sections,
        },
    )
}

async fn own_entry(state: &Faq, staff: &Staff, id: &str) -> Result<store::Stored, AppError> {
    match store::entry(&state.platform.db, id).await? {
        Some(s) if s.organisation_id == Some(staff.organisation_id) => Ok(s),
        _ => Err(AppError::NotFound),
    }
}

async fn staff_edit(
    State(state): State<Faq>,
    ctx: PageCtx,
    staff: CurrentStaff,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    api::faq_staff(&staff.staff)?;
    let s = own_entry(&state, &staff.staff, &id).await?;
    let versions = store::versions(&state.platform.db, s.db_id)
        .await?
        .into_iter()
        .map(|(v, at, by, _)| (v, at, by))
        .collect();
    let sections = sections(&state, &staff.staff, &ctx).await?;
    render(&StaffEntryPage {
        ctx,
        version: Some(s.version),
        fields: field_rows(&s.entry),
        entry: s.entry,
        errors: Errors::new(),
        versions,
        sections,
    })
}

async fn staff_update(
    State(state): State<Faq>,
    ctx: PageCtx,
    staff: CurrentStaff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    api::faq_staff(&staff.staff)?;
    let s = own_entry(&state, &staff.staff, &id).await?;
    let mut e = entry_from_form(&form, &s.entry.id);
    e.organisation = s.entry.organisation.clone();
    let version: i64 = form
        .get("version")
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1);
    let mut errors = check_form(&e, &ctx.tr);
    if errors.is_empty() {
        match store::save(
            &state.platform.db,
            staff.staff.organisation_id,
            &e,
            Some(version),
            platform::audit::Actor::Staff(staff.staff.id),
        )
        .await
        {
            Ok(_) => {
                state.engine.invalidate();
                return Ok(Redirect::to("/staff/faq?done=saved").into_response());
            }
            Err(platform::db::StoreError::Conflict(_)) => {
                errors.add(
                    "question",
                    "faq.error.stale",
                    ctx.t("faq.error.stale").to_string(),
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
    let versions = store::versions(&state.platform.db, s.db_id)
        .await?
        .into_iter()
        .map(|(v, at, by, _)| (v, at, by))
        .collect();
    let sections = sections(&state, &staff.staff, &ctx).await?;
    render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &StaffEntryPage {
            ctx,
            version: Some(s.version),
            fields: field_rows(&e),
            entry: e,
            errors,
            versions,
            sections,
        },
    )
}

#[derive(Template)]
#[template(path = "faq/staff_unanswered.html")]
struct StaffUnansweredPage {
    ctx: PageCtx,
    groups: Vec<crate::learning::Group>,
    notice: Option<Notice>,
    errors: Errors,
    sections: Vec<(String, String)>,
}

async fn staff_unanswered(
    State(state): State<Faq>,
    ctx: PageCtx,
    staff: CurrentStaff,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    api::faq_staff(&staff.staff)?;
    let q = api::query_form(raw);
    let notice = q
        .get("created")
        .map(|id| Notice(ctx.tr.f1("faq.staff.created_from_group", "id", id)));
    let groups = api::groups(&state, &staff.staff).await?;
    let sections = sections(&state, &staff.staff, &ctx).await?;
    render(&StaffUnansweredPage {
        ctx,
        groups,
        notice,
        errors: Errors::new(),
        sections,
    })
}

async fn staff_resolve(
    State(state): State<Faq>,
    ctx: PageCtx,
    staff: CurrentStaff,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    api::faq_staff(&staff.staff)?;
    let question_ids: Vec<i64> = form
        .text("question_ids")
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let body = GroupEntry {
        question_ids,
        id: form.text("id").to_string(),
        question: form.text("question").to_string(),
        answer: form.text("answer").to_string(),
        area: form.text("area").to_string(),
        url: form.text("url").to_string(),
        section: form.text("section").to_string(),
        procedure: form.text("procedure").to_string(),
        keywords: String::new(),
    };
    match api::entry_from_group(&state, &staff.staff, body, &ctx.tr).await {
        Ok((id, _)) => Ok(Redirect::to(&format!(
            "/staff/faq/unanswered?created={}",
            encode_component(&id)
        ))
        .into_response()),
        Err(AppError::Validation { fields }) => {
            let mut errors = Errors::new();
            for f in fields {
                let field = format!("g-{}", f.field);
                errors.add(&field, "invalid", f.message);
            }
            let groups = api::groups(&state, &staff.staff).await?;
            let sections = sections(&state, &staff.staff, &ctx).await?;
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &StaffUnansweredPage {
                    ctx,
                    groups,
                    notice: None,
                    errors,
                    sections,
                },
            )
        }
        Err(e) => Err(e),
    }
}
