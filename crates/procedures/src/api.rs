//! The resident's JSON API under `/api/v1`: the catalogue, a procedure with
//! its form, drafts, idempotent submission, the resident's applications,
//! withdrawal, attachments. Described in `/api/v1/openapi.json`. Errors are
//! `{"error": {"code", "message", "fields"}}` with a stable `code` and a
//! message in the requester's language (Japanese by default).

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use platform::crypto;
use platform::i18n::Tr;
use platform::web::{ApiJson, ApiMultipart, AppError, CurrentResident, FieldError, RequestContext};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::applications::{Application, NewFile, public_answers};
use crate::catalogue::Procedure;
use crate::form::FormDefinition;
use crate::form::answers;
use crate::form::definition::Kind;
use crate::search::Filter;
use crate::service::Procedures;
use crate::service::applications::{self as service, NewApplication, Sent};
use crate::service::catalogue;
use crate::service::postal::{Found, LookupError};
use crate::web::{download, localize};
use platform::web::parse_id;

pub fn router() -> Router<Procedures> {
    Router::new()
        .route("/api/v1/procedures", get(list_procedures))
        .route("/api/v1/procedures/{id}", get(get_procedure))
        .route(
            "/api/v1/procedures/{id}/applications",
            post(create_application),
        )
        .route("/api/v1/postal-codes/{code}", get(postal_code))
        .route("/api/v1/applications", get(list_applications))
        .route(
            "/api/v1/applications/{id}",
            get(get_application)
                .patch(update_draft)
                .delete(discard_draft),
        )
        .route("/api/v1/applications/{id}/submit", post(submit_application))
        .route(
            "/api/v1/applications/{id}/withdraw",
            post(withdraw_application),
        )
        .route(
            "/api/v1/applications/{id}/attachments",
            post(upload_attachment),
        )
        .route(
            "/api/v1/applications/{id}/attachments/{attachment}",
            get(download_attachment),
        )
}

#[derive(Serialize)]
struct ProcedureJson {
    id: i64,
    code: String,
    organisation: OrganisationJson,
    section: SectionJson,
    name: String,
    name_en: String,
    summary: String,
    summary_en: String,
    description: String,
    description_en: String,
    category: String,
    basis: String,
    audience: String,
    life_events: Vec<String>,
    attachments: Vec<crate::catalogue::RequiredAttachment>,
    fee_yen: Option<i64>,
    fee_note: String,
    online: bool,
    accepts_applications: bool,
    annual_volume: Option<i64>,
    /// What to know before starting (標準処理期間, validity …).
    guidance: crate::catalogue::Guidance,
    #[serde(skip_serializing_if = "Option::is_none")]
    form: Option<FormJson>,
}

#[derive(Serialize, Clone)]
struct OrganisationJson {
    code: String,
    name: String,
    name_en: String,
}

#[derive(Serialize, Clone)]
struct SectionJson {
    name: String,
    name_en: String,
    phone: String,
    email: String,
}

#[derive(Serialize)]
struct FormJson {
    form_version_id: i64,
    definition: FormDefinition,
}

async fn procedure_json(
    state: &Procedures,
    p: &Procedure,
    with_form: bool,
) -> Result<ProcedureJson, AppError> {
    let db = &state.platform.db;
    let catalogue::Owned {
        organisation: org,
        section,
        ..
    } = catalogue::owned(db, p).await?.ok_or(AppError::NotFound)?;
    let form = match (with_form, p.current_form_id) {
        (true, Some(fid)) => Some(FormJson {
            form_version_id: fid,
            definition: (*state.forms.get(db, fid).await?).clone(),
        }),
        _ => None,
    };
    Ok(ProcedureJson {
        id: p.id,
        code: p.code.clone(),
        organisation: OrganisationJson {
            code: org.code,
            name: org.name,
            name_en: org.name_en,
        },
        section: SectionJson {
            name: section.name,
            name_en: section.name_en,
            phone: section.phone,
            email: section.email,
        },
        name: p.name.clone(),
        name_en: p.name_en.clone(),
        summary: p.summary.clone(),
        summary_en: p.summary_en.clone(),
        description: p.description.clone(),
        description_en: p.description_en.clone(),
        category: p.category.clone(),
        basis: p.basis.clone(),
        audience: p.audience.clone(),
        life_events: p
            .life_event_codes()
            .into_iter()
            .map(str::to_string)
            .collect(),
        attachments: p.required_attachments(),
        fee_yen: p.fee_yen,
        fee_note: p.fee_note.clone(),
        online: p.online,
        accepts_applications: p.accepts_applications(),
        annual_volume: p.annual_volume,
        guidance: p.guidance(),
        form,
    })
}

#[derive(Deserialize, Default)]
struct ProcedureQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    life_event: String,
    #[serde(default)]
    online: Option<bool>,
    #[serde(default)]
    limit: Option<u64>,
    #[serde(default)]
    offset: Option<u64>,
}

/// The largest page of the catalogue the API gives (`limit`).
const PROCEDURES_PAGE_MAX: u64 = 500;
/// The largest `offset` (2^53 − 1, the largest integer every JSON client reads exactly).
const PROCEDURES_OFFSET_MAX: u64 = 9_007_199_254_740_991;

async fn list_procedures(
    State(state): State<Procedures>,
    query: Result<Query<ProcedureQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let Query(q) = query.map_err(|e| AppError::BadRequest {
        code: "invalid_query",
        detail: Some(e.body_text()),
    })?;
    let db = &state.platform.db;
    let organisation_id = if q.organisation.is_empty() {
        None
    } else {
        Some(
            catalogue::organisations(db)
                .await?
                .into_iter()
                .find(|o| o.code == q.organisation)
                .map(|o| o.id)
                .unwrap_or(-1),
        )
    };
    let filter = Filter {
        organisation_id,
        category: (!q.category.is_empty()).then(|| q.category.clone()),
        life_event: (!q.life_event.is_empty()).then(|| q.life_event.clone()),
        online_only: q.online.unwrap_or(false),
    };
    let index = state.catalogue.index(db).await?;
    let found = index.search(&q.q.chars().take(200).collect::<String>(), &filter);
    let total = found.len();
    let limit = q.limit.unwrap_or(50);
    if !(1..=PROCEDURES_PAGE_MAX).contains(&limit) {
        return Err(AppError::BadRequest {
            code: "invalid_query",
            detail: Some(format!("limit must be 1 to {PROCEDURES_PAGE_MAX}")),
        });
    }
    let offset = q.offset.unwrap_or(0);
    if offset > PROCEDURES_OFFSET_MAX {
        return Err(AppError::BadRequest {
            code: "invalid_query",
            detail: Some(format!("offset must be 0 to {PROCEDURES_OFFSET_MAX}")),
        });
    }
    let mut items = Vec::new();
    let skip = usize::try_from(offset).unwrap_or(usize::MAX);
    let take = usize::try_from(limit).unwrap_or(usize::MAX);
    for p in found.into_iter().skip(skip).take(take) {
        items.push(procedure_json(&state, p, false).await?);
    }
    Ok(
        Json(json!({"total": total, "limit": limit, "offset": offset, "items": items}))
            .into_response(),
    )
}

async fn get_procedure(
    State(state): State<Procedures>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let index = state.catalogue.index(&state.platform.db).await?;
    let p = index.get(id).ok_or(AppError::NotFound)?;
    Ok(Json(procedure_json(&state, p, true).await?).into_response())
}

#[derive(Serialize)]
struct PostalCodeJson {
    postal_code: String,
    places: Vec<Found>,
}

/// The places a postal code stands for, from Japan Post's directory. Public:
/// the data is Japan Post's published list.
async fn postal_code(
    State(state): State<Procedures>,
    ctx: RequestContext,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    match state.postal.lookup(&code).await {
        Ok((code, places)) => Ok(Json(PostalCodeJson {
            postal_code: code.to_string(),
            places,
        })
        .into_response()),
        Err(LookupError::Invalid(e)) => Err(AppError::Validation {
            fields: vec![FieldError {
                field: "postal_code".into(),
                code: e.key().into(),
                message: ctx.tr(&state.platform).f(e.key(), &e.args()),
            }],
        }),
        Err(LookupError::Unknown) => Err(AppError::NoSuch {
            code: "unknown_postal_code",
        }),
        Err(LookupError::Unavailable) => Err(AppError::Unavailable {
            code: "postal_codes_unavailable",
        }),
    }
}

#[derive(Serialize)]
struct ApplicationJson {
    id: i64,
    procedure_id: i64,
    organisation_code: String,
    status: &'static str,
    status_label: String,
    receipt_number: Option<String>,
    fiscal_year: Option<i64>,
    version: i64,
    answers: Value,
    created_at: String,
    updated_at: String,
    submitted_at: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    issues: Vec<platform::web::FieldError>,
}

async fn application_json(
    state: &Procedures,
    app: &Application,
    tr: &Tr,
    issues: Vec<platform::web::FieldError>,
) -> Result<ApplicationJson, AppError> {
    let db = &state.platform.db;
    let def = state.forms.get(db, app.form_version_id).await?;
    let org = state
        .platform
        .orgs
        .get(db, app.organisation_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(ApplicationJson {
        id: app.id,
        procedure_id: app.procedure_id,
        organisation_code: org.code.clone(),
        status: app.status().code(),
        status_label: tr.t(app.status().label_key()).to_string(),
        receipt_number: app.receipt_number.clone(),
        fiscal_year: app.fiscal_year,
        version: app.version,
        answers: public_answers(&def, &app.answers_map()),
        created_at: app.created_at.to_db_string(),
        updated_at: app.updated_at.to_db_string(),
        submitted_at: app.submitted_at.map(|t| t.to_db_string()),
        issues,
    })
}

fn field_errors(issues: &[answers::Issue], tr: &Tr) -> Vec<platform::web::FieldError> {
    localize(issues, tr).into_vec()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    #[serde(default)]
    answers: Map<String, Value>,
    #[serde(default)]
    submit: bool,
}

/// Answers must name questions of the form: a misspelt key would otherwise be lost silently.
fn unknown_answer_keys(
    def: &FormDefinition,
    answers: &Map<String, Value>,
    tr: &Tr,
) -> Result<(), AppError> {
    let unknown = answers::unknown_keys(def, answers);
    if unknown.is_empty() {
        return Ok(());
    }
    Err(AppError::Validation {
        fields: unknown
            .into_iter()
            .map(|k| platform::web::FieldError {
                message: tr.f1("answer.unknown_question", "question", &k),
                field: k,
                code: "answer.unknown_question".into(),
            })
            .collect(),
    })
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => {
            // Visible ASCII and inner spaces, 1 to 200 characters (as documented).
            let key = v
                .to_str()
                .map_err(|_| AppError::bad_request("invalid_idempotency_key"))?
                .to_string();
            let visible = |b: &u8| (0x21..=0x7e).contains(b);
            let bytes = key.as_bytes();
            if key.is_empty()
                || key.len() > 200
                || !bytes.iter().all(|b| (0x20..=0x7e).contains(b))
                || !bytes.first().is_some_and(visible)
                || !bytes.last().is_some_and(visible)
            {
                return Err(AppError::bad_request("invalid_idempotency_key"));
            }
            Ok(Some(key))
        }
    }
}

/// Files are attached to applications, so a new application cannot reference any.
fn refuse_files(
    def: &FormDefinition,
    answers: &Map<String, Value>,
    tr: &Tr,
) -> Result<(), AppError> {
    let bad: Vec<String> = def
        .questions()
        .filter(|(_, q)| matches!(q.kind, Kind::File { .. }) && answers.contains_key(&q.id))
        .map(|(_, q)| q.id.clone())
        .collect();
    if bad.is_empty() {
        return Ok(());
    }
    Err(AppError::Validation {
        fields: bad
            .into_iter()
            .map(|k| platform::web::FieldError {
                message: tr.t("answer.file_upload_first").to_string(),
                field: k,
                code: "answer.file_upload_first".into(),
            })
            .collect(),
    })
}

async fn create_application(
    State(state): State<Procedures>,
    req: RequestContext,
    resident: CurrentResident,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let tr = req.tr(&state.platform);
    let body_hash = crypto::sha256_hex([id.to_string().as_bytes(), b"\n", &body[..]].concat());
    let value: Value = serde_json::from_slice(&body).map_err(|e| AppError::BadRequest {
        code: "malformed_json",
        detail: Some(format!("line {} column {}", e.line(), e.column())),
    })?;
    let body: CreateBody = serde_json::from_value(value).map_err(|e| AppError::BadRequest {
        code: "invalid_body",
        detail: Some(e.to_string()),
    })?;
    let key = idempotency_key(&headers)?;
    let db = &state.platform.db;
    let procedure = catalogue::procedure_by_id(db, id)
        .await?
        .filter(Procedure::accepts_applications)
        .ok_or(AppError::NotFound)?;
    let form_id = procedure.current_form_id.ok_or(AppError::NotFound)?;
    let def = state.forms.get(db, form_id).await?;
    unknown_answer_keys(&def, &body.answers, &tr)?;
    refuse_files(&def, &body.answers, &tr)?;

    if body.submit {
        let key = key.ok_or_else(|| AppError::bad_request("idempotency_key_required"))?;
        let sent = service::submit_new(
            &state,
            NewApplication {
                resident_id: resident.resident.id,
                procedure: &procedure,
                def: &def,
                answers: &body.answers,
                idempotency_key: key,
                request_hash: body_hash,
                identity: resident.session.identity.as_ref(),
            },
        )
        .await?;
        let submitted = match sent {
            Sent::Submitted(s) => s,
            Sent::Invalid(issues) => {
                return Err(AppError::Validation {
                    fields: field_errors(&issues, &tr),
                });
            }
            Sent::Already(app) => {
                return Ok(
                    Json(application_json(&state, &app, &tr, Vec::new()).await?).into_response()
                );
            }
        };
        let status = if submitted.replayed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        };
        return Ok((
            status,
            Json(application_json(&state, &submitted.application, &tr, Vec::new()).await?),
        )
            .into_response());
    }

    // A draft: keep what is valid, report the rest.
    let (app, issues) = service::create_with_answers(
        &state,
        resident.resident.id,
        &procedure,
        &def,
        &body.answers,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(application_json(&state, &app, &tr, field_errors(&issues, &tr)).await?),
    )
        .into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ApplicationsQuery {
    #[serde(default)]
    limit: Option<i64>,
    /// `next_before` of the previous page.
    #[serde(default)]
    before: Option<String>,
}

/// Applications on a page of the list, unless the client asks for another number (1 to 200).
const APPLICATIONS_PAGE: i64 = 50;

async fn list_applications(
    State(state): State<Procedures>,
    req: RequestContext,
    resident: CurrentResident,
    query: Result<Query<ApplicationsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let Query(q) = query.map_err(|e| AppError::BadRequest {
        code: "invalid_query",
        detail: Some(e.body_text()),
    })?;
    let limit = q.limit.unwrap_or(APPLICATIONS_PAGE);
    if !(1..=200).contains(&limit) {
        return Err(AppError::BadRequest {
            code: "invalid_query",
            detail: Some("limit must be 1 to 200".into()),
        });
    }
    let before = match q.before.as_deref() {
        None => None,
        Some(cursor) => Some(platform::web::parse_page_key(cursor).ok_or(
            AppError::BadRequest {
                code: "invalid_query",
                detail: Some("before must be the next_before of a page".into()),
            },
        )?),
    };
    let tr = req.tr(&state.platform);
    let page = service::ListPage { before, limit };
    let rows = service::list_for_resident(&state.platform.db, resident.resident.id, page).await?;
    let next = rows
        .last()
        .filter(|_| rows.len() as i64 == limit)
        .map(|a| platform::web::page_key(a.updated_at, a.id));
    let items: Vec<Value> = rows
        .into_iter()
        .map(|a| {
            json!({
                "id": a.id,
                "procedure_id": a.procedure_id,
                "procedure_name": a.procedure_name,
                "procedure_name_en": a.procedure_name_en,
                "organisation_name": a.organisation_name,
                "status": a.status().code(),
                "status_label": tr.t(a.status().label_key()),
                "receipt_number": a.receipt_number,
                "updated_at": a.updated_at.to_db_string(),
                "submitted_at": a.submitted_at.map(|t| t.to_db_string()),
            })
        })
        .collect();
    Ok(Json(json!({"items": items, "next_before": next})).into_response())
}

async fn get_application(
    State(state): State<Procedures>,
    req: RequestContext,
    resident: CurrentResident,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let app = service::for_resident(&state.platform.db, id, resident.resident.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(
        Json(application_json(&state, &app, &req.tr(&state.platform), Vec::new()).await?)
            .into_response(),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    answers: Map<String, Value>,
}

async fn update_draft(
    State(state): State<Procedures>,
    req: RequestContext,
    resident: CurrentResident,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let tr = req.tr(&state.platform);
    let (app, def, _) = service::load_for_resident(&state, id, resident.resident.id).await?;
    if !app.status().editable() {
        return Err(AppError::Conflict {
            code: "invalid_transition",
        });
    }
    unknown_answer_keys(&def, &body.answers, &tr)?;
    let (app, issues) = service::update_answers(&state, &app, &def, &body.answers).await?;
    Ok(
        Json(application_json(&state, &app, &tr, field_errors(&issues, &tr)).await?)
            .into_response(),
    )
}

async fn submit_application(
    State(state): State<Procedures>,
    req: RequestContext,
    resident: CurrentResident,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let tr = req.tr(&state.platform);
    let (app, def, _) = service::load_for_resident(&state, id, resident.resident.id).await?;
    let app = match service::submit(&state, &app, &def, resident.session.identity.as_ref()).await? {
        Sent::Already(app) => app,
        Sent::Submitted(submitted) => submitted.application,
        Sent::Invalid(issues) => {
            return Err(AppError::Validation {
                fields: field_errors(&issues, &tr),
            });
        }
    };
    Ok(Json(application_json(&state, &app, &tr, Vec::new()).await?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct WithdrawBody {
    #[serde(default)]
    reason: String,
}

async fn withdraw_application(
    State(state): State<Procedures>,
    req: RequestContext,
    resident: CurrentResident,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let body: WithdrawBody = if body.iter().all(u8::is_ascii_whitespace) {
        WithdrawBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| AppError::BadRequest {
            code: match e.classify() {
                serde_json::error::Category::Data => "invalid_body",
                _ => "malformed_json",
            },
            detail: Some(e.to_string()),
        })?
    };
    let app = service::withdraw(&state.platform.db, id, resident.resident.id, &body.reason).await?;
    Ok(
        Json(application_json(&state, &app, &req.tr(&state.platform), Vec::new()).await?)
            .into_response(),
    )
}

async fn discard_draft(
    State(state): State<Procedures>,
    resident: CurrentResident,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    service::discard_draft(&state.platform.db, id, resident.resident.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Attaches a file (multipart fields `question` and `file`) to a draft.
async fn upload_attachment(
    State(state): State<Procedures>,
    req: RequestContext,
    resident: CurrentResident,
    Path(id): Path<String>,
    ApiMultipart(form): ApiMultipart,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    platform::web::only_fields(&form, &["question", "file"])?;
    let tr = req.tr(&state.platform);
    let (app, def, _) = service::load_for_resident(&state, id, resident.resident.id).await?;
    if !app.status().editable() {
        return Err(AppError::Conflict {
            code: "invalid_transition",
        });
    }
    let question_id = form.fields.text("question").to_string();
    let Some((page, q)) = def.questions().find(|(_, q)| q.id == question_id) else {
        return Err(AppError::Validation {
            fields: vec![platform::web::FieldError {
                field: "question".into(),
                code: "answer.unknown_question".into(),
                message: tr.f1("answer.unknown_question", "question", &question_id),
            }],
        });
    };
    if !matches!(q.kind, Kind::File { .. }) {
        return Err(AppError::bad_request("not_a_file_question"));
    }
    let Some(upload) = form.files.into_iter().next() else {
        return Err(AppError::bad_request("file_missing"));
    };
    let file = NewFile {
        question_id: question_id.clone(),
        filename: upload.filename,
        bytes: upload.bytes.to_vec(),
    };
    let before = service::attachments(&state.platform.db, id).await?;
    let issues = service::store_uploads(&state, &app, page, &[], &[file]).await?;
    if !issues.is_empty() {
        return Err(AppError::Validation {
            fields: field_errors(&issues, &tr),
        });
    }
    service::sync_file_answers(&state, &app, &def).await?;
    let after = service::attachments(&state.platform.db, id).await?;
    let new = after
        .into_iter()
        .find(|a| !before.iter().any(|b| b.id == a.id))
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("attachment not stored")))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": new.id, "question": new.question_id, "filename": new.filename, "kind": new.kind, "size": new.size})),
    )
        .into_response())
}

async fn download_attachment(
    State(state): State<Procedures>,
    resident: CurrentResident,
    Path((id, attachment_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let attachment_id = parse_id(&attachment_id)?;
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
