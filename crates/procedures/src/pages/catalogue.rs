//! Finding procedures: the home page (life events, categories,
//! organisations), search results, and a procedure's page.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use platform::orgs::Organisation;
use platform::session::Principal;
use platform::web::{
    AppError, PageCtx, PageQuery, RequestContext, encode_component, parse_id, render,
};
use serde::Deserialize;

use crate::catalogue::{self, CATEGORIES, LIFE_EVENTS};
use crate::search::Filter;
use crate::service::Procedures;
use crate::service::catalogue as service;

pub fn router() -> Router<Procedures> {
    Router::new()
        .route("/", get(home))
        .route("/procedures", get(list))
        .route("/procedures/{id}", get(detail))
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
    /// A signed-in resident's drafts and applications to correct.
    todo: Vec<super::application::TodoRow>,
    personal_events: Vec<Link>,
    business_events: Vec<Link>,
    categories: Vec<Link>,
    organisations: Vec<Link>,
}

fn organisation_links(organisations: &[Organisation], ctx: &PageCtx, selected: &str) -> Vec<Link> {
    organisations
        .iter()
        .map(|o| Link {
            selected: o.code == selected,
            label: ctx.tr.pick(&o.name, &o.name_en).to_string(),
            code: o.code.clone(),
        })
        .collect()
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

async fn home(
    State(state): State<Procedures>,
    req: RequestContext,
    ctx: PageCtx,
) -> Result<Response, AppError> {
    let organisations = service::organisations(&state.platform.db).await?;
    let todo = match req.session.as_ref().map(|s| &s.principal) {
        Some(Principal::Resident(id)) => super::application::todo_rows(&state, &ctx, *id).await?,
        _ => Vec::new(),
    };
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
        todo,
        personal_events: events(false),
        business_events: events(true),
        categories: category_links(&ctx, ""),
        organisations: organisation_links(&organisations, &ctx, ""),
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
    let organisations = service::organisations(db).await?;
    let organisation = organisations.iter().find(|o| o.code == q.organisation);
    let filter = Filter {
        organisation_id: organisation.map(|o| o.id),
        category: catalogue::category(&q.category).map(|c| c.0.to_string()),
        life_event: catalogue::life_event(&q.event).map(|e| e.0.to_string()),
        online_only: false,
    };
    let index = state.catalogue.index(db).await?;
    let sections: Vec<(i64, String)> = service::sections(db)
        .await?
        .into_iter()
        .map(|s| (s.id, ctx.tr.pick(&s.name, &s.name_en).to_string()))
        .collect();
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
        organisations: organisation_links(&organisations, &ctx, &q.organisation),
        categories: category_links(&ctx, &q.category),
        results,
        ctx,
    };
    render(&page)
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
    /// The number for a `tel:` link (digits only).
    phone_link: String,
    email: String,
    accepts: bool,
    signed_in: bool,
    attachments: Vec<(String, String)>,
    fee: String,
    category: String,
    life_events: String,
    basis: String,
    /// Before you start: (label, text) of what is written.
    before: Vec<(String, String)>,
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
    let service::Owned {
        organisation: org,
        section,
        ..
    } = service::owned(db, p).await?.ok_or(AppError::NotFound)?;
    let tr = &ctx.tr;
    let fee = match p.fee_yen {
        None | Some(0) => tr.t("procedure.no_fee").to_string(),
        Some(f) if tr.is_en() => jp::yen::format_yen_en(f),
        Some(f) => jp::yen::format_yen(f),
    };
    // A note that only repeats the amount ("無料" for a free procedure) is not shown twice.
    let note = p.fee_note.trim().trim_end_matches('。');
    let fee = if note.is_empty() || note == fee {
        fee
    } else {
        format!("{fee}（{}）", p.fee_note.trim())
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
        // "子ども・福祉部 地域福祉課" already names its department.
        department: {
            let name = tr.pick(&section.name, &section.name_en);
            let department = tr.pick(&section.department, &section.department_en);
            if name.contains(department) {
                String::new()
            } else {
                department.to_string()
            }
        },
        phone_link: section
            .phone
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect(),
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
        before: {
            let g = p.guidance();
            [
                (
                    "procedure.who_can_apply",
                    &g.who_can_apply,
                    &g.who_can_apply_en,
                ),
                (
                    "procedure.processing_time",
                    &g.processing_time,
                    &g.processing_time_en,
                ),
                ("procedure.validity", &g.validity, &g.validity_en),
                (
                    "procedure.how_you_hear",
                    &g.how_you_hear,
                    &g.how_you_hear_en,
                ),
            ]
            .into_iter()
            .map(|(label, ja, en)| (tr.t(label).to_string(), tr.pick(ja, en).to_string()))
            .filter(|(_, text)| !text.trim().is_empty())
            .collect()
        },
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
