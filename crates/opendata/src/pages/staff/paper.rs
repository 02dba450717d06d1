//! Paper application counts (`/staff/opendata/paper-counts`): recording
//! how many applications a procedure received on paper in a month, read
//! the ways people write months and numbers.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use platform::accounts::Staff;
use platform::web::{AppError, CsrfForm, CurrentStaff, Errors, PageCtx, render_status};
use unicode_normalization::UnicodeNormalization;

use super::access::{Opt, opendata_staff, query};
use crate::pages::format::jst;
use crate::service::{self, OpenData};

/// `YYYY-MM` from `2025-04`, `2025/4`, `2025年4月` (full-width digits too).
fn parse_month(text: &str) -> Option<String> {
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
fn parse_count(text: &str) -> Option<i64> {
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

/// What the form holds: the procedure chosen, and the month and count as typed.
struct Entered {
    procedure: String,
    month: String,
    count: String,
}

async fn paper_page(
    state: &OpenData,
    ctx: PageCtx,
    staff: &Staff,
    entered: Entered,
    errors: Errors,
    notice: Option<String>,
) -> Result<Response, AppError> {
    let tr = &ctx.tr;
    let Entered {
        procedure: chosen,
        month,
        count,
    } = entered;
    let procs = service::paper::procedures(state, staff.organisation_id).await?;
    let name_of = |code: &str| {
        procs
            .iter()
            .find(|(c, _)| c == code)
            .map(|(_, n)| format!("{n}（{code}）"))
            .unwrap_or_else(|| code.to_string())
    };
    let rows = service::paper::recent(state, staff.organisation_id)
        .await?
        .into_iter()
        .map(|p| PaperRow {
            procedure: name_of(&p.procedure_code),
            recorded_at: jst(&p.recorded_at, tr, true),
            month: p.month,
            count: p.count,
            recorded_by: p.recorded_by,
        })
        .collect();
    let procedures = procs
        .iter()
        .map(|(code, name)| Opt {
            value: code.clone(),
            label: format!("{name}（{code}）"),
            selected: *code == chosen,
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
    let entered = Entered {
        procedure: String::new(),
        month: jst_month(-1),
        count: String::new(),
    };
    paper_page(&state, ctx, &staff.staff, entered, Errors::new(), notice).await
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
    let procs = service::paper::procedures(&state, staff.organisation_id).await?;
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
        service::paper::record(&state, staff.organisation_id, &code, month, count, &by).await?;
        return Ok(Redirect::to("/staff/opendata/paper-counts?done=saved").into_response());
    }
    let entered = Entered {
        procedure: code,
        month: month_text,
        count: count_text,
    };
    paper_page(&state, ctx, &staff, entered, errors, None).await
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
}
