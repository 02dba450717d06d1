//! The standard datasets' templates: their columns, and the empty CSV file
//! of each.

use askama::Template;
use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use platform::i18n::Tr;
use platform::web::{AppError, PageCtx, render};

use crate::standard::{self, ColumnKind};

struct ColumnView {
    ja: &'static str,
    en: &'static str,
    need: String,
    kind: String,
}

struct TemplateView {
    key: &'static str,
    name: String,
    description: String,
    entity_type: &'static str,
    columns: Vec<ColumnView>,
}

#[derive(Template)]
#[template(path = "opendata/templates.html")]
struct TemplatesPage {
    ctx: PageCtx,
    templates: Vec<TemplateView>,
}

fn kind_label(kind: ColumnKind, tr: &Tr) -> String {
    let key = match kind {
        ColumnKind::Text => "opendata.kind.text",
        ColumnKind::Kana => "opendata.kind.kana",
        ColumnKind::Code => "opendata.kind.code",
        ColumnKind::LgCode => "opendata.kind.lg_code",
        ColumnKind::Latitude => "opendata.kind.latitude",
        ColumnKind::Longitude => "opendata.kind.longitude",
        ColumnKind::Count => "opendata.kind.count",
        ColumnKind::Phone => "opendata.kind.phone",
        ColumnKind::CorporateNumber => "opendata.kind.corporate_number",
        ColumnKind::Url => "opendata.kind.url",
        ColumnKind::Date => "opendata.kind.date",
        ColumnKind::Time => "opendata.kind.time",
        ColumnKind::Weekdays => "opendata.kind.weekdays",
        ColumnKind::Presence => "opendata.kind.presence",
        ColumnKind::OneOf(values) => {
            return tr.f1("opendata.kind.one_of", "values", values.join("、"));
        }
    };
    tr.t(key).to_string()
}

/// `GET /dataset/templates`: the standard datasets and their columns.
pub(super) async fn templates(ctx: PageCtx) -> Result<Response, AppError> {
    let tr = &ctx.tr;
    let templates = standard::templates()
        .iter()
        .map(|t| TemplateView {
            key: t.key,
            name: tr.pick(t.name_ja, t.name_en).to_string(),
            description: tr.pick(t.description_ja, t.description_en).to_string(),
            entity_type: t.entity_type,
            columns: t
                .columns
                .iter()
                .map(|c| ColumnView {
                    ja: c.ja,
                    en: c.en,
                    need: tr
                        .t(if c.required {
                            "opendata.templates.required"
                        } else if c.recommended {
                            "opendata.templates.recommended"
                        } else {
                            "opendata.templates.optional"
                        })
                        .to_string(),
                    kind: kind_label(c.kind, tr),
                })
                .collect(),
        })
        .collect();
    render(&TemplatesPage { ctx, templates })
}

/// `GET /dataset/templates/{key}.csv`: the header line, UTF-8 with a BOM.
pub(super) async fn template_csv(Path(file): Path<String>) -> Result<Response, AppError> {
    let t = file
        .strip_suffix(".csv")
        .and_then(standard::template)
        .ok_or(AppError::NotFound)?;
    let body = format!("\u{feff}{}", standard::sample_csv(t));
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}.csv\"", t.key)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    Ok(res)
}
