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
use platform::i18n::Tr;
use platform::web::context::{CurrentStaff, RequestContext};
use platform::web::error::{AppError, Errors, FieldError};
use platform::web::forms::{CsrfForm, CsrfMultipart};
use platform::web::page::{PageCtx, render, render_status};
use platform::web::{encode_component, parse_urlencoded};

use crate::entry::Entry;
use crate::learning::Group;
use crate::model::{
    Answer, AreaCoverage, GroupEntry, MAX_QUESTION_CHARS, Question, Shown, Stored, Version,
};
use crate::service::{AskError, EntryError, Faq, ask, entries, unanswered};
use crate::web::{ask_error, csv_download, entry_error, faq_staff, feedback_binding, query_form};

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
    let form = query_form(raw);
    let q: String = form.text("q").chars().take(MAX_QUESTION_CHARS).collect();
    let mut organisation = form.text("organisation").to_string();
    if !organisation.is_empty()
        && !ask::is_known_organisation(state, &organisation)
            .await
            .map_err(ask_error(&ctx.tr))?
    {
        organisation.clear();
    }
    let mut error = None;
    let mut exchange = None;
    let thanks = form.get("thanks") == Some("1");
    // After feedback the page says thank you; asking again would log the question twice.
    if form.get("q").is_some() && !thanks {
        let question = Question {
            text: &q,
            limit: Some(5),
            organisation: (!organisation.is_empty()).then_some(organisation.as_str()),
            client: &req.client_ip,
        };
        match ask::ask(state, question, &ctx.tr).await {
            Ok(answer) => {
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
            Err(e @ AskError::QuestionEmpty) => error = Some(ctx.t(e.key()).to_string()),
            Err(e) => return Err(ask_error(&ctx.tr)(e)),
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
async fn feedback(
    State(state): State<Faq>,
    req: RequestContext,
    body: Bytes,
) -> Result<Response, AppError> {
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
    ask::feedback(&state, id, helped, &entry)
        .await
        .map_err(ask_error(&req.tr(&state.platform)))?;
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
    let shown = ask::entry(&state, &id, &ctx.tr)
        .await
        .map_err(ask_error(&ctx.tr))?
        .ok_or(AppError::NotFound)?;
    render(&EntryPage { ctx, shown })
}

// ---------------------------------------------------------------- staff pages

struct Notice(String);

#[derive(Template)]
#[template(path = "faq/staff_list.html")]
struct StaffListPage {
    ctx: PageCtx,
    entries: Vec<Stored>,
    coverage: Vec<AreaCoverage>,
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
    let own = entries::of_staff(state, staff)
        .await
        .map_err(entry_error(&ctx.tr))?;
    let coverage = ask::coverage(state, Some(staff.organisation_id))
        .await
        .map_err(ask_error(&ctx.tr))?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render_status(
        status,
        &StaffListPage {
            ctx,
            entries: own.entries,
            coverage: coverage.areas,
            covered: coverage.covered,
            mode: coverage.mode.to_string(),
            analyzer: coverage.analyzer.to_string(),
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
            organisation: own.organisation,
        },
    )
}

async fn staff_list(
    State(state): State<Faq>,
    ctx: PageCtx,
    staff: CurrentStaff,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    faq_staff(&staff.staff)?;
    let q = query_form(raw);
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
    faq_staff(&staff.staff)?;
    let Some(file) = form.files.first() else {
        let errors = vec![ctx.t("faq.error.file_missing").to_string()];
        return staff_list_render(&state, ctx, &staff.staff, None, errors).await;
    };
    let valid_only = form.fields.get("valid_rows_only") == Some("1");
    match entries::import_file(&state, &staff.staff, &file.bytes, valid_only).await {
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
        Err(EntryError::Invalid(errors)) => {
            let messages = errors.iter().map(|e| e.message(&ctx.tr)).collect();
            staff_list_render(&state, ctx, &staff.staff, None, messages).await
        }
        Err(e) => Err(entry_error(&ctx.tr)(e)),
    }
}

async fn staff_export(
    State(state): State<Faq>,
    req: RequestContext,
    staff: CurrentStaff,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    faq_staff(&staff.staff)?;
    let q = query_form(raw);
    let shift_jis = q.get("encoding") == Some("shift_jis");
    let bytes = entries::export_csv(&state, &staff.staff, shift_jis)
        .await
        .map_err(entry_error(&req.tr(&state.platform)))?;
    Ok(csv_download(bytes, shift_jis))
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

async fn sections(state: &Faq, staff: &Staff, tr: &Tr) -> Result<Vec<(String, String)>, AppError> {
    Ok(entries::sections(state, staff)
        .await
        .map_err(entry_error(tr))?
        .into_iter()
        .map(|s| (s.code.clone(), tr.pick(&s.name, &s.name_en).to_string()))
        .collect())
}

/// The versions of an entry as the form lists them: (version, when, by).
async fn version_rows(
    state: &Faq,
    entry: &Stored,
    tr: &Tr,
) -> Result<Vec<(i64, String, String)>, AppError> {
    Ok(entries::versions(state, entry)
        .await
        .map_err(entry_error(tr))?
        .into_iter()
        .map(|v: Version| (v.version, v.changed_at, v.changed_by))
        .collect())
}

/// A refused entry's problems as the form shows them; other errors are the
/// request's.
fn form_errors(e: EntryError, tr: &Tr) -> Result<Errors, AppError> {
    match entry_error(tr)(e) {
        AppError::Validation { fields } => {
            let mut errors = Errors::new();
            for FieldError {
                field,
                code,
                message,
            } in fields
            {
                errors.add(field, code, message);
            }
            Ok(errors)
        }
        other => Err(other),
    }
}

async fn staff_new(
    State(state): State<Faq>,
    ctx: PageCtx,
    staff: CurrentStaff,
) -> Result<Response, AppError> {
    faq_staff(&staff.staff)?;
    let sections = sections(&state, &staff.staff, &ctx.tr).await?;
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

async fn staff_create(
    State(state): State<Faq>,
    ctx: PageCtx,
    staff: CurrentStaff,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    faq_staff(&staff.staff)?;
    let e = entry_from_form(&form, form.text("id").trim());
    let errors = match entries::create(&state, &staff.staff, &e).await {
        Ok(_) => return Ok(Redirect::to("/staff/faq?done=saved").into_response()),
        Err(refused) => form_errors(refused, &ctx.tr)?,
    };
    let sections = sections(&state, &staff.staff, &ctx.tr).await?;
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

async fn staff_edit(
    State(state): State<Faq>,
    ctx: PageCtx,
    staff: CurrentStaff,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    faq_staff(&staff.staff)?;
    let s = entries::own(&state, &staff.staff, &id)
        .await
        .map_err(entry_error(&ctx.tr))?;
    let versions = version_rows(&state, &s, &ctx.tr).await?;
    let sections = sections(&state, &staff.staff, &ctx.tr).await?;
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
    faq_staff(&staff.staff)?;
    let s = entries::own(&state, &staff.staff, &id)
        .await
        .map_err(entry_error(&ctx.tr))?;
    let mut e = entry_from_form(&form, &s.entry.id);
    e.organisation = s.entry.organisation.clone();
    let version: i64 = form
        .get("version")
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1);
    let errors = match entries::update(&state, &staff.staff, &s, &e, version).await {
        Ok(()) => return Ok(Redirect::to("/staff/faq?done=saved").into_response()),
        Err(refused) => form_errors(refused, &ctx.tr)?,
    };
    let versions = version_rows(&state, &s, &ctx.tr).await?;
    let sections = sections(&state, &staff.staff, &ctx.tr).await?;
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
    groups: Vec<Group>,
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
    faq_staff(&staff.staff)?;
    let q = query_form(raw);
    let notice = q
        .get("created")
        .map(|id| Notice(ctx.tr.f1("faq.staff.created_from_group", "id", id)));
    let groups = unanswered::groups(&state, &staff.staff)
        .await
        .map_err(entry_error(&ctx.tr))?;
    let sections = sections(&state, &staff.staff, &ctx.tr).await?;
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
    faq_staff(&staff.staff)?;
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
    match unanswered::publish(&state, &staff.staff, body).await {
        Ok((id, _)) => Ok(Redirect::to(&format!(
            "/staff/faq/unanswered?created={}",
            encode_component(&id)
        ))
        .into_response()),
        Err(refused) => {
            let fields = match entry_error(&ctx.tr)(refused) {
                AppError::Validation { fields } => fields,
                other => return Err(other),
            };
            let mut errors = Errors::new();
            for f in fields {
                let field = format!("g-{}", f.field);
                errors.add(&field, "invalid", f.message);
            }
            let groups = unanswered::groups(&state, &staff.staff)
                .await
                .map_err(entry_error(&ctx.tr))?;
            let sections = sections(&state, &staff.staff, &ctx.tr).await?;
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
    }
}
