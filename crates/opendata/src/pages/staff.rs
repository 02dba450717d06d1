//! The staff's pages: their local government's datasets, the dataset and
//! resource forms, deleting (and restoring), API tokens and the number of
//! applications received on paper. For administrators (OrgAdmin) and the
//! DX office; other staff get 403, signed-out visitors the sign-in page.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use platform::accounts::{Role, Staff};
use platform::i18n::Tr;
use platform::web::{
    AppError, CsrfForm, CsrfMultipart, CurrentStaff, Errors, PageCtx, render, render_status,
};
use platform::web::{FormData, encode_component, parse_urlencoded};
use serde_json::{Map, Value, json};
use unicode_normalization::UnicodeNormalization;

use super::{jst, jst_iso};
use crate::OpenData;
use crate::ckan::{CkanError, Upload};
use crate::model::{self, Dataset, Organization};
use crate::service::{self, Actor, TEMPLATE_EXTRA};
use crate::{standard, store};

/// Who may manage the catalogue: the local government's administrators and its DX office.
fn opendata_staff(staff: &Staff) -> Result<(), AppError> {
    if staff.has(Role::OrgAdmin) || staff.has(Role::DxOffice) {
        Ok(())
    } else {
        Err(AppError::Forbidden { code: "forbidden" })
    }
}

fn actor(staff: &Staff) -> Actor {
    Actor {
        organisation_id: staff.organisation_id,
        label: format!("staff:{}", staff.id),
    }
}

/// A CKAN error that is not about the form's fields.
fn app_error(e: CkanError) -> AppError {
    match e {
        CkanError::NotFound(_) | CkanError::Authorization(_) => AppError::NotFound,
        CkanError::BadRequest(_) | CkanError::SearchQuery(_) => {
            AppError::bad_request("bad_request")
        }
        CkanError::Validation(m) => {
            AppError::internal(anyhow::anyhow!("unexpected validation error: {m:?}"))
        }
        CkanError::Internal => AppError::internal(anyhow::anyhow!("catalogue write failed")),
    }
}

/// The local government's publishers (its default one is created on first use).
async fn own_publishers(state: &OpenData, staff: &Staff) -> Result<Vec<Organization>, AppError> {
    state.catalogue.current().await?;
    let mut list: Vec<Organization> = state
        .catalogue
        .organizations()
        .into_iter()
        .filter(|o| o.organisation_id == staff.organisation_id)
        .collect();
    if list.is_empty() {
        list.push(
            service::default_owner(state, staff.organisation_id)
                .await
                .map_err(app_error)?,
        );
    }
    list.sort_by(|a, b| {
        a.created_at
            .cmp(&b.created_at)
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(list)
}

/// A dataset of the staff member's local government, in any state.
async fn own_dataset(state: &OpenData, staff: &Staff, id: &str) -> Result<Dataset, AppError> {
    state.catalogue.current().await?;
    let d = store::dataset(&state.platform.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let owner = state.catalogue.organization(&d.owner_org);
    if owner.map(|o| o.organisation_id) != Some(staff.organisation_id) {
        return Err(AppError::NotFound);
    }
    Ok(d)
}

fn query(raw: Option<String>) -> FormData {
    parse_urlencoded(raw.unwrap_or_default().as_bytes())
}

// ---------------------------------------------------------------- the list

struct Row {
    id: String,
    name: String,
    title: String,
    publisher: String,
    status: String,
    status_class: &'static str,
    modified: String,
    modified_iso: String,
    resources: usize,
    /// Published by the platform itself (kept current automatically).
    automatic: bool,
    deleted: bool,
}

#[derive(Template)]
#[template(path = "opendata/staff_list.html")]
struct ListPage {
    ctx: PageCtx,
    nav: &'static str,
    rows: Vec<Row>,
    others: Vec<Row>,
    notice: Option<String>,
    notice_link: Option<(String, String)>,
}

/// `GET /staff/opendata`: the local government's datasets. Active ones (public
/// and private) come from the catalogue; deleted and draft ones from the
/// database, listed apart so they can be restored.
pub(crate) async fn list(
    State(state): State<OpenData>,
    ctx: PageCtx,
    staff: CurrentStaff,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let staff = staff.staff;
    opendata_staff(&staff)?;
    state.catalogue.current().await?;
    let tr = &ctx.tr;
    let publisher_title = |id: &str| {
        state
            .catalogue
            .organization(id)
            .map(|o| o.title)
            .unwrap_or_default()
    };
    let mut entries: Vec<_> = state
        .catalogue
        .all()
        .into_iter()
        .filter(|e| e.organisation_id == staff.organisation_id)
        .collect();
    entries.sort_by(|a, b| b.dataset.modified_at.cmp(&a.dataset.modified_at));
    let rows = entries
        .iter()
        .map(|e| {
            let d = &e.dataset;
            Row {
                id: d.id.clone(),
                name: d.name.clone(),
                title: d.title.clone(),
                publisher: publisher_title(&d.owner_org),
                status: tr
                    .t(if d.private {
                        "opendata.status.private"
                    } else {
                        "opendata.status.public"
                    })
                    .to_string(),
                status_class: if d.private {
                    "tag--draft"
                } else {
                    "tag--completed"
                },
                modified: jst(&d.modified_at, tr, true),
                modified_iso: jst_iso(&d.modified_at),
                resources: d.resources.len(),
                automatic: d.publisher_key.is_some(),
                deleted: false,
            }
        })
        .collect();
    let hidden: Vec<(String, String, String, String, String, String)> = sqlx::query_as(
        "select d.id, d.name, d.title, d.state, d.modified_at, d.owner_org from od_datasets d \
         join od_organizations o on o.id = d.owner_org \
         where o.organisation_id = $1 and d.state <> 'active' order by d.modified_at desc",
    )
    .bind(staff.organisation_id)
    .fetch_all(state.platform.db.pool())
    .await
    .map_err(platform::StoreError::from)?;
    let others = hidden
        .into_iter()
        .map(|(id, name, title, st, modified, owner)| Row {
            id,
            name,
            title,
            publisher: publisher_title(&owner),
            status: tr
                .t(if st == "draft" {
                    "opendata.status.draft"
                } else {
                    "opendata.status.deleted"
                })
                .to_string(),
            status_class: if st == "draft" {
                "tag--draft"
            } else {
                "tag--withdrawn"
            },
            modified: jst(&modified, tr, true),
            modified_iso: jst_iso(&modified),
            resources: 0,
            automatic: false,
            deleted: st == "deleted",
        })
        .collect();
    let q = query(raw);
    let notice = match q.get("done") {
        Some("saved") => Some("opendata.staff.saved"),
        Some("deleted") => Some("opendata.staff.deleted"),
        Some("restored") => Some("opendata.staff.restored"),
        Some("resource") => Some("opendata.staff.resource_added"),
        _ => None,
    }
    .map(|k| tr.t(k).to_string());
    let notice_link = q
        .get("dataset")
        .and_then(|id| state.catalogue.get(id))
        .filter(|e| e.organisation_id == staff.organisation_id)
        .map(|e| {
            (
                format!("/dataset/{}", e.dataset.name),
                e.dataset.title.clone(),
            )
        });
    render(&ListPage {
        ctx,
        nav: "list",
        rows,
        others,
        notice,
        notice_link,
    })
}

// ---------------------------------------------------------------- the dataset form

struct Opt {
    value: String,
    label: String,
    selected: bool,
}

struct Check {
    id: String,
    value: String,
    label: String,
    checked: bool,
}

/// What the dataset form holds.
#[derive(Default)]
struct Values {
    name: String,
    title: String,
    notes: String,
    owner_org: String,
    license_id: String,
    tags: String,
    groups: Vec<String>,
    private: bool,
    template: String,
}

impl Values {
    fn from_form(form: &FormData) -> Values {
        Values {
            name: form.text("name").trim().to_string(),
            title: form.text("title").trim().to_string(),
            notes: form
                .text("notes")
                .replace("\r\n", "\n")
                .trim_end()
                .to_string(),
            owner_org: form.text("owner_org").trim().to_string(),
            license_id: form.text("license_id").trim().to_string(),
            tags: form.text("tags").trim().to_string(),
            groups: form
                .get_all("groups")
                .into_iter()
                .map(|g| g.trim().to_string())
                .filter(|g| !g.is_empty())
                .collect(),
            private: form.get("private") == Some("1"),
            template: form.text("standard_template").trim().to_string(),
        }
    }

    fn from_dataset(state: &OpenData, d: &Dataset) -> Values {
        Values {
            name: d.name.clone(),
            title: d.title.clone(),
            notes: d.notes.clone(),
            owner_org: d.owner_org.clone(),
            license_id: d.license_id.clone(),
            tags: d.tags.join(", "),
            groups: d
                .group_ids
                .iter()
                .filter_map(|id| state.catalogue.group(id).map(|g| g.name))
                .collect(),
            private: d.private,
            template: d.extra(TEMPLATE_EXTRA).unwrap_or("").trim().to_string(),
        }
    }

    fn tag_list(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in self.tags.split([',', '、', '，']) {
            let t = t.trim().to_string();
            if !t.is_empty() && !out.contains(&t) {
                out.push(t);
            }
        }
        out
    }

    /// CKAN's dictionary of the form; `extras` are the dataset's other extras (kept).
    fn to_map(&self, mut extras: Vec<(String, String)>) -> Map<String, Value> {
        extras.retain(|(k, _)| k != TEMPLATE_EXTRA);
        if !self.template.is_empty() {
            extras.push((TEMPLATE_EXTRA.to_string(), self.template.clone()));
        }
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("title".into(), json!(self.title));
        m.insert("notes".into(), json!(self.notes));
        m.insert("owner_org".into(), json!(self.owner_org));
        m.insert("license_id".into(), json!(self.license_id));
        m.insert("private".into(), json!(self.private));
        m.insert("tags".into(), json!(self.tag_list()));
        m.insert(
            "groups".into(),
            Value::Array(self.groups.iter().map(|g| json!({"name": g})).collect()),
        );
        m.insert(
            "extras".into(),
            Value::Array(
                extras
                    .iter()
                    .map(|(k, v)| json!({"key": k, "value": v}))
                    .collect(),
            ),
        );
        m
    }
}

#[derive(Template)]
#[template(path = "opendata/staff_form.html")]
struct FormPage {
    ctx: PageCtx,
    /// The dataset's id when editing.
    id: Option<String>,
    deleted: bool,
    v: Values,
    publishers: Vec<Opt>,
    licences: Vec<Opt>,
    templates: Vec<Opt>,
    groups: Vec<Check>,
    errors: Errors,
}

fn form_page(
    state: &OpenData,
    ctx: PageCtx,
    id: Option<String>,
    deleted: bool,
    v: Values,
    publishers: &[Organization],
    errors: Errors,
) -> FormPage {
    let tr = &ctx.tr;
    let publishers = publishers
        .iter()
        .map(|o| Opt {
            value: o.id.clone(),
            label: o.title.clone(),
            selected: o.id == v.owner_org || o.name == v.owner_org,
        })
        .collect();
    let licence = if v.license_id.is_empty() {
        model::DEFAULT_LICENCE
    } else {
        v.license_id.as_str()
    };
    let licences = model::LICENCES
        .iter()
        .map(|l| Opt {
            value: l.id.to_string(),
            label: tr.pick(l.title, l.title_en).to_string(),
            selected: l.id == licence,
        })
        .collect();
    let mut templates = vec![Opt {
        value: String::new(),
        label: tr.t("opendata.form.template_none").to_string(),
        selected: v.template.is_empty(),
    }];
    templates.extend(standard::templates().iter().map(|t| Opt {
        value: t.key.to_string(),
        label: tr.pick(t.name_ja, t.name_en).to_string(),
        selected: t.key == v.template,
    }));
    let groups = state
        .catalogue
        .groups()
        .into_iter()
        .filter(|g| g.state == "active")
        .enumerate()
        .map(|(i, g)| Check {
            id: format!("group-{i}"),
            checked: v.groups.contains(&g.name),
            value: g.name,
            label: g.title,
        })
        .collect();
    FormPage {
        ctx,
        id,
        deleted,
        v,
        publishers,
        licences,
        templates,
        groups,
        errors,
    }
}

/// The text between the first and the last double quote of a CKAN message.
fn quoted_part(msg: &str) -> &str {
    match (msg.find('"'), msg.rfind('"')) {
        (Some(a), Some(b)) if b > a => &msg[a + 1..b],
        _ => msg,
    }
}

/// CKAN's message about a field, in the reader's language where it is known.
fn message(field: &str, msg: &str, tr: &Tr) -> String {
    let key = match field {
        "name" | "id" => {
            if msg == "Missing value" {
                "opendata.error.name_missing"
            } else if msg.starts_with("Must be purely lowercase") {
                "opendata.error.name_chars"
            } else if msg.contains("less than minimum") {
                "opendata.error.name_short"
            } else if msg.contains("more than maximum") {
                "opendata.error.name_long"
            } else if msg.contains("already in use") || msg.contains("already exists") {
                "opendata.error.name_taken"
            } else {
                ""
            }
        }
        "owner_org" => "opendata.error.publisher",
        "tags" => {
            if msg.contains("more than maximum") {
                return tr.f1("opendata.error.tag_long", "value", quoted_part(msg));
            } else if msg.contains("less than minimum") {
                "opendata.error.tag_empty"
            } else if msg.contains("must be alphanumeric") {
                return tr.f1("opendata.error.tag_chars", "value", quoted_part(msg));
            } else {
                ""
            }
        }
        "groups" => {
            let name = msg
                .strip_prefix("Group ")
                .and_then(|m| m.strip_suffix(" does not exist"))
                .unwrap_or(msg);
            return tr.f1("opendata.error.group", "value", name);
        }
        "extras" if msg.starts_with("Unknown standard template") => "opendata.error.template",
        "license_id" => "opendata.error.licence",
        _ => "",
    };
    if key.is_empty() {
        msg.to_string()
    } else {
        tr.t(key).to_string()
    }
}

/// The form field (element id) a CKAN field's error belongs to.
fn anchor(field: &str, has_groups: bool) -> &'static str {
    match field {
        "title" => "title",
        "notes" => "notes",
        "owner_org" => "owner_org",
        "license_id" => "license_id",
        "tags" => "tags",
        "groups" if has_groups => "group-0",
        "groups" => "tags",
        "extras" => "standard_template",
        "private" => "private",
        _ => "name",
    }
}

fn add_ckan_errors(errors: &mut Errors, fields: &Map<String, Value>, tr: &Tr, has_groups: bool) {
    for (field, v) in fields {
        let messages: Vec<String> = match v {
            Value::Array(list) => list
                .iter()
                .map(|m| {
                    m.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| m.to_string())
                })
                .collect(),
            Value::String(s) => vec![s.clone()],
            other => vec![other.to_string()],
        };
        for m in messages {
            errors.add(anchor(field, has_groups), "ckan", message(field, &m, tr));
        }
    }
}

/// The checks made before the catalogue's own.
fn check(v: &Values, publishers: &[Organization], tr: &Tr) -> Errors {
    let mut errors = Errors::new();
    if let Some(p) = model::name_problem(&v.name) {
        errors.add("name", "name", message("name", &p, tr));
    }
    if v.title.is_empty() {
        errors.add("title", "title", tr.t("opendata.error.title_missing"));
    } else if v.title.chars().count() > 200 {
        errors.add("title", "title", tr.t("opendata.error.title_long"));
    }
    if !publishers
        .iter()
        .any(|o| o.id == v.owner_org || o.name == v.owner_org)
    {
        errors.add("owner_org", "owner_org", tr.t("opendata.error.publisher"));
    }
    if model::licence(&v.license_id).is_none() {
        errors.add("license_id", "license_id", tr.t("opendata.error.licence"));
    }
    for t in v.tag_list() {
        if t.chars().count() > 100 {
            errors.add(
                "tags",
                "tags",
                tr.f1("opendata.error.tag_long", "value", &t),
            );
        }
    }
    if !v.template.is_empty() && standard::template(&v.template).is_none() {
        errors.add(
            "standard_template",
            "template",
            tr.t("opendata.error.template"),
        );
    }
    errors
}

/// `GET /staff/opendata/new`.
pub(crate) async fn new_form(
    State(state): State<OpenData>,
    ctx: PageCtx,
    staff: CurrentStaff,
) -> Result<Response, AppError> {
    opendata_staff(&staff.staff)?;
    let publishers = own_publishers(&state, &staff.staff).await?;
    let v = Values {
        owner_org: publishers.first().map(|o| o.id.clone()).unwrap_or_default(),
        license_id: model::DEFAULT_LICENCE.to_string(),
        ..Values::default()
    };
    render(&form_page(
        &state,
        ctx,
        None,
        false,
        v,
        &publishers,
        Errors::new(),
    ))
}

/// `POST /staff/opendata/new`.
pub(crate) async fn create(
    State(state): State<OpenData>,
    ctx: PageCtx,
    staff: CurrentStaff,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    let staff = staff.staff;
    opendata_staff(&staff)?;
    let publishers = own_publishers(&state, &staff).await?;
    let v = Values::from_form(&form);
    let mut errors = check(&v, &publishers, &ctx.tr);
    if errors.is_empty() {
        match service::create_dataset(&state, &actor(&staff), &v.to_map(Vec::new()), ctx.tr.lang())
            .await
        {
            Ok(id) => {
                return Ok(
                    Redirect::to(&format!("/staff/opendata/{id}/resources/new?created=1"))
                        .into_response(),
                );
            }
            Err(CkanError::Validation(fields)) => {
                let has_groups = !state.catalogue.groups().is_empty();
                add_ckan_errors(&mut errors, &fields, &ctx.tr, has_groups);
            }
            Err(e) => return Err(app_error(e)),
        }
    }
    render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &form_page(&state, ctx, None, false, v, &publishers, errors),
    )
}

/// `GET /staff/opendata/{id}/edit`.
pub(crate) async fn edit_form(
    State(state): State<OpenData>,
    ctx: PageCtx,
    staff: CurrentStaff,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    opendata_staff(&staff.staff)?;
    let d = own_dataset(&state, &staff.staff, &id).await?;
    let publishers = own_publishers(&state, &staff.staff).await?;
    let v = Values::from_dataset(&state, &d);
    let deleted = d.state != "active";
    render(&form_page(
        &state,
        ctx,
        Some(d.id),
        deleted,
        v,
        &publishers,
        Errors::new(),
    ))
}

/// `POST /staff/opendata/{id}/edit`.
pub(crate) async fn update(
    State(state): State<OpenData>,
    ctx: PageCtx,
    staff: CurrentStaff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    let staff = staff.staff;
    opendata_staff(&staff)?;
    let d = own_dataset(&state, &staff, &id).await?;
    let publishers = own_publishers(&state, &staff).await?;
    let v = Values::from_form(&form);
    let mut errors = check(&v, &publishers, &ctx.tr);
    if errors.is_empty() {
        let mut map = v.to_map(d.extras.clone());
        // Saving the form publishes a deleted or draft dataset again.
        map.insert("state".into(), json!("active"));
        match service::update_dataset(&state, &actor(&staff), &d.id, &map, true, ctx.tr.lang())
            .await
        {
            Ok(id) => {
                return Ok(Redirect::to(&format!(
                    "/staff/opendata?done=saved&dataset={}",
                    encode_component(&id)
                ))
                .into_response());
            }
            Err(CkanError::Validation(fields)) => {
                let has_groups = !state.catalogue.groups().is_empty();
                add_ckan_errors(&mut errors, &fields, &ctx.tr, has_groups);
            }
            Err(e) => return Err(app_error(e)),
        }
    }
    let deleted = d.state != "active";
    render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &form_page(&state, ctx, Some(d.id), deleted, v, &publishers, errors),
    )
}

// ---------------------------------------------------------------- resources

#[derive(Template)]
#[template(path = "opendata/staff_resource.html")]
struct ResourceFormPage {
    ctx: PageCtx,
    id: String,
    dataset_title: String,
    /// The standard dataset's name and key, when the dataset follows one.
    template: Option<(String, String)>,
    name: String,
    description: String,
    format: String,
    url: String,
    created: bool,
    errors: Errors,
    /// Every problem the file has (the summary lists them all).
    file_problems: usize,
}

fn resource_page(
    ctx: PageCtx,
    d: &Dataset,
    form: Option<&FormData>,
    created: bool,
    errors: Errors,
) -> ResourceFormPage {
    let tr = &ctx.tr;
    let template = d
        .extra(TEMPLATE_EXTRA)
        .and_then(|k| standard::template(k.trim()))
        .map(|t| (tr.pick(t.name_ja, t.name_en).to_string(), t.key.to_string()));
    let text = |k: &str| {
        form.map(|f| f.text(k).trim().to_string())
            .unwrap_or_default()
    };
    ResourceFormPage {
        id: d.id.clone(),
        dataset_title: d.title.clone(),
        template,
        name: text("name"),
        description: form
            .map(|f| f.text("description").to_string())
            .unwrap_or_default(),
        format: text("format"),
        url: text("url"),
        created,
        file_problems: errors.list().iter().filter(|e| e.field == "file").count(),
        errors,
        ctx,
    }
}

/// `GET /staff/opendata/{id}/resources/new`.
pub(crate) async fn resource_form(
    State(state): State<OpenData>,
    ctx: PageCtx,
    staff: CurrentStaff,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    opendata_staff(&staff.staff)?;
    let d = own_dataset(&state, &staff.staff, &id).await?;
    if d.state == "deleted" {
        return Err(AppError::NotFound);
    }
    let created = query(raw).get("created") == Some("1");
    render(&resource_page(ctx, &d, None, created, Errors::new()))
}

/// `POST /staff/opendata/{id}/resources/new`: a file or a link.
pub(crate) async fn resource_create(
    State(state): State<OpenData>,
    ctx: PageCtx,
    staff: CurrentStaff,
    Path(id): Path<String>,
    form: CsrfMultipart,
) -> Result<Response, AppError> {
    let staff = staff.staff;
    opendata_staff(&staff)?;
    let d = own_dataset(&state, &staff, &id).await?;
    if d.state == "deleted" {
        return Err(AppError::NotFound);
    }
    let tr = &ctx.tr;
    let fields = &form.fields;
    let file = form.files.iter().find(|f| f.field == "file");
    let url = fields.text("url").trim().to_string();
    let mut errors = Errors::new();
    match (file, url.is_empty()) {
        (None, true) => errors.add("file", "missing", tr.t("opendata.error.resource_missing")),
        (Some(_), false) => errors.add("url", "both", tr.t("opendata.error.resource_both")),
        (None, false) if !(url.starts_with("https://") || url.starts_with("http://")) => {
            errors.add("url", "url", tr.t("opendata.error.url"))
        }
        _ => {}
    }
    if let Some(f) = file
        && f.bytes.is_empty()
    {
        errors.add("file", "empty", tr.t("opendata.error.file_empty"));
    }
    let name = fields.text("name").trim().to_string();
    if name.chars().count() > 200 {
        errors.add("name", "name", tr.t("opendata.error.resource_name_long"));
    }
    if errors.is_empty() {
        let mut map = Map::new();
        let name = if name.is_empty() {
            file.map(|f| f.filename.clone())
                .unwrap_or_else(|| url.clone())
        } else {
            name
        };
        map.insert("name".into(), json!(name));
        map.insert("description".into(), json!(fields.text("description")));
        let format = fields.text("format").trim().to_uppercase();
        if !format.is_empty() {
            map.insert("format".into(), json!(format));
        }
        if !url.is_empty() {
            map.insert("url".into(), json!(url));
        } else if let Some(f) = file {
            map.insert("url".into(), json!(model::download_name(&f.filename)));
        }
        let upload = file.map(|f| Upload {
            filename: f.filename.clone(),
            bytes: f.bytes.clone(),
        });
        match service::create_resource(&state, &actor(&staff), &d.id, &map, upload, tr.lang()).await
        {
            Ok((dataset_id, _)) => {
                return Ok(Redirect::to(&format!(
                    "/staff/opendata?done=resource&dataset={}",
                    encode_component(&dataset_id)
                ))
                .into_response());
            }
            Err(CkanError::Validation(fields)) => {
                for (field, v) in &fields {
                    let target = match field.as_str() {
                        "upload" => "file",
                        "url" if file.is_some() => "file",
                        "url" => "url",
                        _ => "name",
                    };
                    let list = match v {
                        Value::Array(list) => list.clone(),
                        other => vec![other.clone()],
                    };
                    for m in list {
                        let m = m
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| m.to_string());
                        let m = if m == "File upload too large" {
                            tr.t("opendata.error.file_too_large").to_string()
                        } else {
                            m
                        };
                        errors.add(target, field.as_str(), m);
                    }
                }
            }
            Err(e) => return Err(app_error(e)),
        }
    }
    render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &resource_page(ctx, &d, Some(fields), false, errors),
    )
}

// ---------------------------------------------------------------- delete and restore

#[derive(Template)]
#[template(path = "opendata/staff_delete.html")]
struct DeletePage {
    ctx: PageCtx,
    id: String,
    title: String,
    name: String,
    resources: usize,
}

/// `GET /staff/opendata/{id}/delete`: asks to confirm.
pub(crate) async fn delete_confirm(
    State(state): State<OpenData>,
    ctx: PageCtx,
    staff: CurrentStaff,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    opendata_staff(&staff.staff)?;
    let d = own_dataset(&state, &staff.staff, &id).await?;
    if d.state == "deleted" {
        return Ok(Redirect::to("/staff/opendata").into_response());
    }
    render(&DeletePage {
        ctx,
        id: d.id,
        title: d.title,
        name: d.name,
        resources: d.resources.len(),
    })
}

/// `POST /staff/opendata/{id}/delete`: marks the dataset deleted (it can be restored).
pub(crate) async fn delete(
    State(state): State<OpenData>,
    staff: CurrentStaff,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm,
) -> Result<Response, AppError> {
    let staff = staff.staff;
    opendata_staff(&staff)?;
    let d = own_dataset(&state, &staff, &id).await?;
    service::delete_dataset(&state, &actor(&staff), &d.id)
        .await
        .map_err(app_error)?;
    Ok(Redirect::to("/staff/opendata?done=deleted").into_response())
}

/// `POST /staff/opendata/{id}/restore`: a deleted dataset back in the catalogue.
pub(crate) async fn restore(
    State(state): State<OpenData>,
    ctx: PageCtx,
    staff: CurrentStaff,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm,
) -> Result<Response, AppError> {
    let staff = staff.staff;
    opendata_staff(&staff)?;
    let d = own_dataset(&state, &staff, &id).await?;
    let mut map = Map::new();
    map.insert("state".into(), json!("active"));
    service::update_dataset(&state, &actor(&staff), &d.id, &map, true, ctx.tr.lang())
        .await
        .map_err(app_error)?;
    Ok(Redirect::to(&format!(
        "/staff/opendata?done=restored&dataset={}",
        encode_component(&d.id)
    ))
    .into_response())
}

// ---------------------------------------------------------------- tokens

struct TokenRow {
    id: i64,
    name: String,
    created_by: String,
    created_at: String,
    last_used: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "opendata/staff_tokens.html")]
struct TokensPage {
    ctx: PageCtx,
    nav: &'static str,
    rows: Vec<TokenRow>,
    new_token: Option<String>,
    new_name: String,
    errors: Errors,
    notice: Option<String>,
}

async fn tokens_page(
    state: &OpenData,
    ctx: PageCtx,
    staff: &Staff,
    new_token: Option<String>,
    new_name: String,
    errors: Errors,
    notice: Option<String>,
) -> Result<Response, AppError> {
    let tr = &ctx.tr;
    let rows = store::tokens(&state.platform.db, staff.organisation_id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            created_by: t.created_by,
            created_at: jst(&t.created_at, tr, true),
            last_used: t
                .last_used_at
                .as_deref()
                .map(|u| jst(u, tr, true))
                .unwrap_or_default(),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render_status(
        status,
        &TokensPage {
            ctx,
            nav: "tokens",
            rows,
            new_token,
            new_name,
            errors,
            notice,
        },
    )
}

/// `GET /staff/opendata/tokens`.
pub(crate) async fn tokens(
    State(state): State<OpenData>,
    ctx: PageCtx,
    staff: CurrentStaff,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    opendata_staff(&staff.staff)?;
    let notice = (query(raw).get("done") == Some("revoked"))
        .then(|| ctx.t("opendata.tokens.revoked").to_string());
    tokens_page(
        &state,
        ctx,
        &staff.staff,
        None,
        String::new(),
        Errors::new(),
        notice,
    )
    .await
}

/// `POST /staff/opendata/tokens`: issue (`action=create`) or revoke (`action=revoke`).
pub(crate) async fn tokens_post(
    State(state): State<OpenData>,
    ctx: PageCtx,
    staff: CurrentStaff,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    let staff = staff.staff;
    opendata_staff(&staff)?;
    let db = &state.platform.db;
    if form.get("action") == Some("revoke") {
        let id: i64 = form
            .text("id")
            .trim()
            .parse()
            .map_err(|_| AppError::bad_request("bad_request"))?;
        if !store::revoke_token(db, staff.organisation_id, id).await? {
            return Err(AppError::NotFound);
        }
        return Ok(Redirect::to("/staff/opendata/tokens?done=revoked").into_response());
    }
    let name = form.text("name").trim().to_string();
    let mut errors = Errors::new();
    if name.is_empty() {
        errors.add(
            "token-name",
            "missing",
            ctx.t("opendata.tokens.name_missing"),
        );
    } else if name.chars().count() > 100 {
        errors.add("token-name", "long", ctx.t("opendata.tokens.name_long"));
    }
    if !errors.is_empty() {
        return tokens_page(&state, ctx, &staff, None, name, errors, None).await;
    }
    let created_by = format!("{} (staff:{})", staff.name, staff.id);
    let token = store::create_token(db, staff.organisation_id, &name, &created_by).await?;
    tokens_page(
        &state,
        ctx,
        &staff,
        Some(token),
        String::new(),
        Errors::new(),
        None,
    )
    .await
}

// ---------------------------------------------------------------- paper counts

/// The local government's published procedures: (code, name).
pub(crate) async fn published_procedures(
    state: &OpenData,
    organisation_id: i64,
) -> Result<Vec<(String, String)>, AppError> {
    Ok(sqlx::query_as(
        "select code, name from procedures where organisation_id = $1 and status = 'published' order by code",
    )
    .bind(organisation_id)
    .fetch_all(state.platform.db.pool())
    .await
    .map_err(platform::StoreError::from)?)
}

/// Records (or corrects) the paper applications of a procedure in a month.
pub(crate) async fn save_paper_count(
    state: &OpenData,
    organisation_id: i64,
    procedure_code: &str,
    month: &str,
    count: i64,
    recorded_by: &str,
) -> Result<(), AppError> {
    let mut tx = state.platform.db.begin().await?;
    sqlx::query(
        "insert into od_paper_counts (organisation_id, procedure_code, month, count, recorded_by, recorded_at) \
         values ($1, $2, $3, $4, $5, $6) \
         on conflict (organisation_id, procedure_code, month) do update set \
         count = excluded.count, recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
    )
    .bind(organisation_id)
    .bind(procedure_code)
    .bind(month)
    .bind(count)
    .bind(recorded_by)
    .bind(model::now())
    .execute(&mut *tx)
    .await
    .map_err(platform::StoreError::from)?;
    tx.commit().await?;
    Ok(())
}

/// The paper counts recorded: (code, month, count, recorded_by, recorded_at), latest month first.
async fn paper_counts_of(
    state: &OpenData,
    organisation_id: i64,
) -> Result<Vec<(String, String, i64, String, String)>, AppError> {
    Ok(sqlx::query_as(
        "select procedure_code, month, count, recorded_by, recorded_at from od_paper_counts \
         where organisation_id = $1 order by month desc, procedure_code limit 300",
    )
    .bind(organisation_id)
    .fetch_all(state.platform.db.pool())
    .await
    .map_err(platform::StoreError::from)?)
}

/// `YYYY-MM` from `2025-04`, `2025/4`, `2025年4月` (full-width digits too).
pub(crate) fn parse_month(text: &str) -> Option<String> {
    let t: String = text.nfkc().collect();
    let parts: Vec<&str> = t
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .collect();
    let [y, m] = parts.as_slice() else {
        return None;
    };
    let y: u32 = y.parse().ok().filter(|y| (2000..=2100).contains(y))?;
    let m: u32 = m.parse().ok().filter(|m| (1..=12).contains(m))?;
    Some(format!("{y:04}-{m:02}"))
}

/// A count of 0 or more: `12`, `1,200`, `１２件`.
pub(crate) fn parse_count(text: &str) -> Option<i64> {
    let t: String = text.nfkc().collect();
    let t = t.trim().trim_end_matches('件').trim().replace(',', "");
    if t.is_empty() || t.len() > 9 || !t.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// The month of now in Japan, as `YYYY-MM`, moved by `delta` months.
fn jst_month(delta: i32) -> String {
    use chrono::Datelike;
    let now = (chrono::Utc::now() + chrono::Duration::hours(9)).date_naive();
    let months = now.year() * 12 + now.month0() as i32 + delta;
    format!(
        "{:04}-{:02}",
        months.div_euclid(12),
        months.rem_euclid(12) + 1
    )
}

struct PaperRow {
    procedure: String,
    month: String,
    count: i64,
    recorded_by: String,
    recorded_at: String,
}

#[derive(Template)]
#[template(path = "opendata/staff_paper.html")]
struct PaperPage {
    ctx: PageCtx,
    nav: &'static str,
    procedures: Vec<Opt>,
    month: String,
    count: String,
    rows: Vec<PaperRow>,
    errors: Errors,
    notice: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn paper_page(
    state: &OpenData,
    ctx: PageCtx,
    staff: &Staff,
    chosen: &str,
    month: String,
    count: String,
    errors: Errors,
    notice: Option<String>,
) -> Result<Response, AppError> {
    let tr = &ctx.tr;
    let procs = published_procedures(state, staff.organisation_id).await?;
    let name_of = |code: &str| {
        procs
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, n)| format!("{n}（{code}）"))
            .unwrap_or_else(|| code.to_string())
    };
    let rows = paper_counts_of(state, staff.organisation_id)
        .await?
        .into_iter()
        .map(|(code, month, count, by, at)| PaperRow {
            procedure: name_of(&code),
            month,
            count,
            recorded_by: by,
            recorded_at: jst(&at, tr, true),
        })
        .collect();
    let procedures = procs
        .iter()
        .map(|(code, name)| Opt {
            value: code.clone(),
            label: format!("{name}（{code}）"),
            selected: code == chosen,
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render_status(
        status,
        &PaperPage {
            ctx,
            nav: "paper",
            procedures,
            month,
            count,
            rows,
            errors,
            notice,
        },
    )
}

/// `GET /staff/opendata/paper-counts`.
pub(crate) async fn paper_counts(
    State(state): State<OpenData>,
    ctx: PageCtx,
    staff: CurrentStaff,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    opendata_staff(&staff.staff)?;
    let notice = (query(raw).get("done") == Some("saved"))
        .then(|| ctx.t("opendata.paper.saved").to_string());
    paper_page(
        &state,
        ctx,
        &staff.staff,
        "",
        jst_month(-1),
        String::new(),
        Errors::new(),
        notice,
    )
    .await
}

/// `POST /staff/opendata/paper-counts`: saves a count, then republishes the monthly dataset.
pub(crate) async fn paper_counts_post(
    State(state): State<OpenData>,
    ctx: PageCtx,
    staff: CurrentStaff,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    let staff = staff.staff;
    opendata_staff(&staff)?;
    let tr = &ctx.tr;
    let code = form.text("procedure").trim().to_string();
    let month_text = form.text("month").trim().to_string();
    let count_text = form.text("count").trim().to_string();
    let mut errors = Errors::new();
    let procs = published_procedures(&state, staff.organisation_id).await?;
    if !procs.iter().any(|(c, _)| *c == code) {
        errors.add(
            "procedure",
            "procedure",
            tr.t("opendata.paper.procedure_missing"),
        );
    }
    let month = parse_month(&month_text);
    match &month {
        None if month_text.is_empty() => {
            errors.add("month", "missing", tr.t("opendata.paper.month_missing"))
        }
        None => errors.add("month", "invalid", tr.t("opendata.paper.month_invalid")),
        Some(m) if *m > jst_month(0) => {
            errors.add("month", "future", tr.t("opendata.paper.month_future"))
        }
        _ => {}
    }
    let count = parse_count(&count_text);
    if count.is_none() {
        let key = if count_text.is_empty() {
            "opendata.paper.count_missing"
        } else {
            "opendata.paper.count_invalid"
        };
        errors.add("count", "count", tr.t(key));
    }
    if let (true, Some(month), Some(count)) = (errors.is_empty(), &month, count) {
        let by = format!("{} (staff:{})", staff.name, staff.id);
        save_paper_count(&state, staff.organisation_id, &code, month, count, &by).await?;
        crate::publish::run(&state)
            .await
            .map_err(AppError::internal)?;
        return Ok(Redirect::to("/staff/opendata/paper-counts?done=saved").into_response());
    }
    paper_page(
        &state, ctx, &staff, &code, month_text, count_text, errors, None,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_counts_are_read_the_ways_people_write_them() {
        assert_eq!(parse_month("2025-04").as_deref(), Some("2025-04"));
        assert_eq!(parse_month("２０２５年４月").as_deref(), Some("2025-04"));
        assert_eq!(parse_month("2025/12").as_deref(), Some("2025-12"));
        assert_eq!(parse_month("2025-13"), None);
        assert_eq!(parse_month("4月"), None);
        assert_eq!(parse_count("1,200"), Some(1200));
        assert_eq!(parse_count("１２件"), Some(12));
        assert_eq!(parse_count("-3"), None);
        assert_eq!(parse_count(""), None);
    }

    #[test]
    fn ckan_messages_are_put_into_japanese() {
        let cat = std::sync::Arc::new(
            platform::i18n::Catalogue::load(&[crate::LOCALES], None).expect("catalogue"),
        );
        let tr = Tr::new(cat, platform::i18n::Lang::Ja);
        assert!(
            message("name", "That URL is already in use.", &tr)
                .starts_with("この名前はすでに使われています。")
        );
        assert!(
            message("tags", "Tag \"x\" length is more than maximum 100", &tr).contains("「x」")
        );
        assert_eq!(message("other", "As is", &tr), "As is");
    }

    #[test]
    fn the_form_keeps_other_extras_and_sets_the_template() {
        let v = Values {
            name: "a".into(),
            tags: "公園、緑地, 公園".into(),
            template: "aed".into(),
            ..Values::default()
        };
        let m = v.to_map(vec![
            ("update_frequency".into(), "年次".into()),
            (TEMPLATE_EXTRA.into(), "public_facility".into()),
        ]);
        assert_eq!(m["tags"], json!(["公園", "緑地"]));
        assert_eq!(
            m["extras"],
            json!([{"key": "update_frequency", "value": "年次"}, {"key": TEMPLATE_EXTRA, "value": "aed"}])
        );
    }
}
