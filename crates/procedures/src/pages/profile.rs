//! The resident's profile page (`/profile`): their own name, postal code,
//! address, phone and e-mail, and whether new applications start with them
//! filled in. The same fields (and the same postal-code lookup) as a form.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use platform::web::{
    AppError, CsrfForm, CurrentResident, Errors, PageCtx, PageQuery, render, render_status,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::pages::fields::{self, FieldView, Widget};
use crate::profile::{self, Profile};
use crate::service::Procedures;
use crate::service::postal;
use crate::service::profile as service;
use crate::web::{localize, postal_error, postal_notice, postal_script_href};

pub fn router() -> Router<Procedures> {
    Router::new().route("/profile", get(profile_get).post(profile_post))
}

#[derive(Template)]
#[template(path = "profile/edit.html")]
struct ProfilePage {
    ctx: PageCtx,
    errors: Errors,
    fields: Vec<FieldView>,
    prefill_consent: bool,
    saved: bool,
    notice: Option<String>,
    postal_lookup: bool,
    postal_script: String,
}

#[derive(Deserialize, Default)]
struct ProfileQuery {
    #[serde(default)]
    saved: String,
}

fn questions(ctx: &PageCtx) -> crate::form::Page {
    profile::page(|part| {
        let key = format!("profile.field.{part}");
        (
            ctx.tr
                .with_lang(platform::i18n::Lang::Ja)
                .t(&key)
                .to_string(),
            ctx.tr
                .with_lang(platform::i18n::Lang::En)
                .t(&key)
                .to_string(),
        )
    })
}

#[allow(
    clippy::too_many_arguments,
    reason = "what the page shows: the profile, what was typed, its errors and a lookup's result"
)]
fn page(
    state: &Procedures,
    ctx: PageCtx,
    values: &Map<String, Value>,
    pending: &Map<String, Value>,
    errors: Errors,
    prefill_consent: bool,
    saved: bool,
    notice: Option<String>,
) -> Result<Response, AppError> {
    let def = crate::form::FormDefinition {
        title: String::new(),
        title_en: String::new(),
        intro: String::new(),
        intro_en: String::new(),
        pages: vec![questions(&ctx)],
    };
    let tr = ctx.tr.clone();
    let src = fields::Source {
        answers: values,
        pending,
        errors: &errors,
        attachments: &[],
        application_id: 0,
        tr: &tr,
        def: &def,
        postal_lookup: state.postal.available(),
    };
    let fields = def
        .pages
        .first()
        .map(|p| fields::page_fields(p, &src))
        .unwrap_or_default();
    let status = if errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let view = ProfilePage {
        errors,
        postal_lookup: fields.iter().any(|f| f.postal_fills.is_some()),
        postal_script: postal_script_href(),
        fields,
        prefill_consent,
        saved,
        notice,
        ctx,
    };
    if status.is_success() {
        render(&view)
    } else {
        render_status(status, &view)
    }
}

async fn profile_get(
    State(state): State<Procedures>,
    ctx: PageCtx,
    resident: CurrentResident,
    PageQuery(q): PageQuery<ProfileQuery>,
) -> Result<Response, AppError> {
    let Profile {
        mut values,
        prefill_consent,
    } = service::get(&state.platform.db, resident.resident.id).await?;
    // The account's address until the resident writes another.
    values
        .entry("email")
        .or_insert_with(|| Value::String(resident.resident.email.clone()));
    page(
        &state,
        ctx,
        &values,
        &Map::new(),
        Errors::new(),
        prefill_consent,
        q.saved == "1",
        None,
    )
}

async fn profile_post(
    State(state): State<Procedures>,
    ctx: PageCtx,
    resident: CurrentResident,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    let questions = questions(&ctx);
    let mut raw = fields::raw_from_form(&questions, &form, &Map::new());
    let consent = form.get("prefill_consent") == Some("yes");
    let action = form.get("_action").unwrap_or("save").to_string();
    if action == "postal.postal_code" {
        // Without JavaScript: fill the address from the postal code; nothing is saved yet.
        let typed = form.get("postal_code").unwrap_or_default().to_string();
        let mut errors = Errors::new();
        let mut notice = None;
        match state.postal.fill(&typed).await {
            Ok(filled) => {
                let value = postal::fill_address(raw.get("address"), &filled.place);
                raw.insert("address".into(), value);
                notice = Some(postal_notice(&ctx.tr, &filled));
            }
            Err(e) => errors.add("postal_code", e.key(), postal_error(&ctx.tr, &e)),
        }
        let mut typed_now = fields::typed_text(&questions, &form);
        for part in ["prefecture", "city"] {
            typed_now.remove(&format!("address.{part}"));
        }
        return page(
            &state, ctx, &raw, &typed_now, errors, consent, false, notice,
        );
    }
    match service::save(&state, resident.resident.id, &raw, consent).await? {
        Ok(_) => Ok(Redirect::to("/profile?saved=1").into_response()),
        Err(issues) => {
            let errors = localize(&issues, &ctx.tr);
            let typed = fields::typed_text(&questions, &form);
            page(&state, ctx, &raw, &typed, errors, consent, false, None)
        }
    }
}
