//! The dataset form (`/staff/opendata/new`, `/staff/opendata/{id}/edit`):
//! the form's values as CKAN's dictionary, the page's own checks, and
//! CKAN's messages put into the reader's language beside their fields.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use platform::i18n::Tr;
use platform::web::{
    AppError, CsrfForm, CurrentStaff, Errors, FormData, PageCtx, encode_component, render,
    render_status,
};
use serde_json::{Map, Value, json};

use super::access::{Opt, actor, opendata_staff, own_dataset, own_publishers};
use crate::dictionary::Problems;
use crate::model::{self, Dataset, Organization, TEMPLATE_EXTRA};
use crate::service::{self, OpenData, WriteError};
use crate::standard;

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
        // The quotes are one byte each: `a + 1` starts a character.
        (Some(a), Some(b)) if b > a => msg.get(a + 1..b).unwrap_or(msg),
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

/// The catalogue's problems with the form's dictionary, beside their fields.
fn add_ckan_errors(errors: &mut Errors, problems: &Problems, tr: &Tr, has_groups: bool) {
    for (field, messages) in problems.iter() {
        for m in messages {
            errors.add(anchor(field, has_groups), "ckan", message(field, m, tr));
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
        match service::datasets::create(&state, &actor(&staff), &v.to_map(Vec::new())).await {
            Ok(id) => {
                return Ok(
                    Redirect::to(&format!("/staff/opendata/{id}/resources/new?created=1"))
                        .into_response(),
                );
            }
            Err(WriteError::Invalid(problems)) => {
                let has_groups = !state.catalogue.groups().is_empty();
                add_ckan_errors(&mut errors, &problems, &ctx.tr, has_groups);
            }
            Err(e) => return Err(e.into()),
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
        match service::datasets::update(&state, &actor(&staff), &d.id, &map, true).await {
            Ok(id) => {
                return Ok(Redirect::to(&format!(
                    "/staff/opendata?done=saved&dataset={}",
                    encode_component(&id)
                ))
                .into_response());
            }
            Err(WriteError::Invalid(problems)) => {
                let has_groups = !state.catalogue.groups().is_empty();
                add_ckan_errors(&mut errors, &problems, &ctx.tr, has_groups);
            }
            Err(e) => return Err(e.into()),
        }
    }
    let deleted = d.state != "active";
    render_status(
        StatusCode::UNPROCESSABLE_ENTITY,
        &form_page(&state, ctx, Some(d.id), deleted, v, &publishers, errors),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
