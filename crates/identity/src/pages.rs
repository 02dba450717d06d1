//! The identity pages: signing in with the My Number card or gBizID (the
//! start page, the callback, finishing a sign-in that has no account yet)
//! and the resident's linked identities.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use platform::identity::Requirement;
use platform::session::Principal;
use platform::web::account_pages::start_browser_session;
use platform::web::cookies::{self, Cookie};
use platform::web::url::{FormData, encode_component, safe_next};
use platform::web::{
    AppError, CsrfForm, CurrentResident, Errors, PageCtx, RequestContext, render, render_status,
};
use serde::Deserialize;

use crate::model::Provider;
use crate::service::{self, Begin, Callback, Completed, Finish, Identity, UnlinkError};
use crate::web;

pub fn router() -> Router<Identity> {
    Router::new()
        .route("/signin/complete", get(complete_page).post(complete_submit))
        .route("/signin/{provider}", get(start_page).post(start_submit))
        .route("/auth/callback/{provider}", get(callback))
        .route("/account/identities", get(identities_page))
        .route("/account/identities/{provider}/unlink", post(unlink_submit))
}

#[derive(Template)]
#[template(path = "identity/start.html")]
struct StartPage {
    ctx: PageCtx,
    provider: &'static str,
    label_key: &'static str,
    intro_key: &'static str,
    requirement_key: Option<&'static str>,
    basic_info: bool,
    next: String,
    require: String,
    link: bool,
}

#[derive(Template)]
#[template(path = "identity/problem.html")]
struct ProblemPage {
    ctx: PageCtx,
    message_key: &'static str,
    retry: String,
}

#[derive(Template)]
#[template(path = "identity/complete.html")]
struct CompletePage {
    ctx: PageCtx,
    errors: Errors,
    token: String,
    label_key: &'static str,
    display_name: String,
    email: String,
}

#[derive(Template)]
#[template(path = "identity/identities.html")]
struct IdentitiesPage {
    ctx: PageCtx,
    rows: Vec<IdentityRow>,
    notice: Option<&'static str>,
    error: Option<&'static str>,
}

struct IdentityRow {
    code: &'static str,
    label_key: &'static str,
    /// The day it was linked, when it is.
    linked: Option<String>,
}

#[derive(Deserialize)]
struct StartQuery {
    next: Option<String>,
    require: Option<String>,
    link: Option<String>,
}

fn provider_or_404(segment: &str) -> Result<Provider, AppError> {
    web::provider(segment).ok_or(AppError::NotFound)
}

async fn start_page(
    State(id): State<Identity>,
    ctx: PageCtx,
    Path(segment): Path<String>,
    Query(q): Query<StartQuery>,
) -> Result<Response, AppError> {
    let provider = provider_or_404(&segment)?;
    let next = safe_next(q.next.as_deref(), "/applications");
    if !id.configured().contains(&provider) {
        return problem(
            ctx,
            StatusCode::NOT_FOUND,
            "identity.error.not_configured",
            &next,
        );
    }
    let requirement = q.require.as_deref().and_then(Requirement::parse);
    render(&StartPage {
        provider: provider.code(),
        label_key: provider.label_key(),
        intro_key: match provider {
            Provider::MyNumberCard => "identity.start.intro_mynumber",
            Provider::GBizId => "identity.start.intro_gbizid",
        },
        requirement_key: requirement
            .filter(|r| *r != Requirement::Account)
            .map(Requirement::label_key),
        basic_info: provider == Provider::MyNumberCard,
        next,
        require: requirement
            .map(|r| r.code().to_string())
            .unwrap_or_default(),
        link: q.link.as_deref() == Some("1"),
        ctx,
    })
}

async fn start_submit(
    State(id): State<Identity>,
    req: RequestContext,
    ctx: PageCtx,
    Path(segment): Path<String>,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    let provider = provider_or_404(&segment)?;
    let next = safe_next(form.get("next"), "/applications");
    let link_resident_id = match (&req.session, form.get("link")) {
        (Some(s), Some("1")) => match s.principal {
            Principal::Resident(r) => Some(r),
            Principal::Staff(_) => None,
        },
        _ => None,
    };
    let browser = platform::crypto::random_token();
    let begun = service::begin(
        &id,
        provider,
        Begin {
            next: &next,
            link_resident_id,
            requirement: form.get("require").and_then(Requirement::parse),
            basic_info: form.get("basic_info") == Some("1"),
            browser: &browser,
        },
    )
    .await;
    match begun {
        Ok(url) => {
            let mut res = Redirect::to(&url).into_response();
            let cookie = cookies::set(
                Cookie::SignInFlow,
                &browser,
                Some(15 * 60),
                id.platform.config.secure_cookies(),
            );
            res.headers_mut().append(
                header::SET_COOKIE,
                HeaderValue::from_str(&cookie).map_err(AppError::internal)?,
            );
            Ok(res)
        }
        Err(e) => {
            tracing::warn!(provider = provider.code(), error = %e, "identity sign-in could not start");
            problem(ctx, StatusCode::SERVICE_UNAVAILABLE, e.key(), &next)
        }
    }
}

fn problem(
    ctx: PageCtx,
    status: StatusCode,
    message_key: &'static str,
    next: &str,
) -> Result<Response, AppError> {
    render_status(
        status,
        &ProblemPage {
            ctx,
            message_key,
            retry: format!("/signin?next={}", encode_component(next)),
        },
    )
}

#[derive(Deserialize)]
struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
}

async fn callback(
    State(id): State<Identity>,
    req: RequestContext,
    ctx: PageCtx,
    headers: HeaderMap,
    Path(segment): Path<String>,
    Query(q): Query<CallbackQuery>,
) -> Result<Response, AppError> {
    let provider = provider_or_404(&segment)?;
    let browser = web::browser(&id.platform, &headers);
    let done = service::complete(
        &id,
        provider,
        Callback {
            state: q.state.as_deref().unwrap_or(""),
            code: q.code.as_deref(),
            error: q.error.as_deref(),
            browser: browser.as_deref(),
            client: &req.client_ip,
        },
    )
    .await;
    let secure = id.platform.config.secure_cookies();
    match done {
        Ok(Completed::SignedIn {
            resident_id,
            verified,
            next,
            ..
        }) => {
            let mut res = start_browser_session(
                &id.platform,
                &req,
                Principal::Resident(resident_id),
                &verified,
                &safe_next(Some(&next), "/applications"),
            )
            .await?;
            clear_binding(&mut res, secure)?;
            Ok(res)
        }
        Ok(Completed::NeedsAccount { token }) => Ok(Redirect::to(&format!(
            "/signin/complete?token={}",
            encode_component(&token)
        ))
        .into_response()),
        Err(e) => {
            let status = match &e {
                service::SignInError::Provider(_) | service::SignInError::Store(_) => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                _ => StatusCode::FORBIDDEN,
            };
            let mut res = problem(ctx, status, e.key(), "/applications")?;
            clear_binding(&mut res, secure)?;
            Ok(res)
        }
    }
}

fn clear_binding(res: &mut Response, secure: bool) -> Result<(), AppError> {
    res.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookies::delete(Cookie::SignInFlow, secure))
            .map_err(AppError::internal)?,
    );
    Ok(())
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

async fn complete_page(
    State(id): State<Identity>,
    ctx: PageCtx,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Result<Response, AppError> {
    let token = q.token.unwrap_or_default();
    let browser = web::browser(&id.platform, &headers);
    match service::pending(&id, &token, browser.as_deref()).await {
        Ok(p) => render(&CompletePage {
            ctx,
            errors: Errors::new(),
            token,
            label_key: p.provider.label_key(),
            display_name: p.display_name,
            email: String::new(),
        }),
        Err(e) => problem(ctx, StatusCode::FORBIDDEN, e.key(), "/applications"),
    }
}

async fn complete_submit(
    State(id): State<Identity>,
    req: RequestContext,
    ctx: PageCtx,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    let token = form.text("token").to_string();
    let browser = web::browser(&id.platform, &headers);
    let finished = service::finish(
        &id,
        Finish {
            token: &token,
            browser: browser.as_deref(),
            email: form.text("email"),
            password: form.text("password"),
            display_name: form.text("display_name"),
            client: &req.client_ip,
        },
    )
    .await;
    match finished {
        Ok((resident_id, verified, next)) => {
            let mut res = start_browser_session(
                &id.platform,
                &req,
                Principal::Resident(resident_id),
                &verified,
                &safe_next(Some(&next), "/applications"),
            )
            .await?;
            clear_binding(&mut res, id.platform.config.secure_cookies())?;
            Ok(res)
        }
        Err(service::FinishError::Expired) => problem(
            ctx,
            StatusCode::FORBIDDEN,
            "identity.error.state",
            "/applications",
        ),
        Err(e) => {
            let pending = service::pending(&id, &token, browser.as_deref()).await;
            let label_key = pending
                .as_ref()
                .map(|p| p.provider.label_key())
                .unwrap_or("identity.method.mynumber_card");
            let mut errors = Errors::new();
            errors.add(e.field(), e.key(), ctx.t(e.key()));
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &CompletePage {
                    errors,
                    token,
                    label_key,
                    display_name: form_text(&form, "display_name"),
                    email: form_text(&form, "email"),
                    ctx,
                },
            )
        }
    }
}

fn form_text(form: &FormData, name: &str) -> String {
    form.text(name).chars().take(200).collect()
}

#[derive(Deserialize)]
struct IdentitiesQuery {
    #[serde(default)]
    done: String,
    #[serde(default)]
    error: String,
}

async fn identities_page(
    State(id): State<Identity>,
    ctx: PageCtx,
    resident: CurrentResident,
    Query(q): Query<IdentitiesQuery>,
) -> Result<Response, AppError> {
    let linked = service::identities(&id, resident.resident.id).await?;
    let rows = id
        .configured()
        .into_iter()
        .map(|p| IdentityRow {
            code: p.code(),
            label_key: p.label_key(),
            linked: linked
                .iter()
                .find(|l| l.provider == p.code())
                .map(|l| l.created_at.to_string().chars().take(10).collect()),
        })
        .collect();
    render(&IdentitiesPage {
        ctx,
        rows,
        notice: (q.done == "unlinked").then_some("identity.unlinked"),
        error: match q.error.as_str() {
            "last_way" => Some("identity.error.last_way"),
            _ => None,
        },
    })
}

async fn unlink_submit(
    State(id): State<Identity>,
    resident: CurrentResident,
    Path(segment): Path<String>,
    CsrfForm(_form): CsrfForm,
) -> Result<Response, AppError> {
    let provider = provider_or_404(&segment)?;
    match service::unlink(&id, resident.resident.id, provider).await {
        Ok(()) => Ok(Redirect::to("/account/identities?done=unlinked").into_response()),
        Err(UnlinkError::LastWay) => {
            Ok(Redirect::to("/account/identities?error=last_way").into_response())
        }
        Err(UnlinkError::NotLinked) => Err(AppError::NotFound),
        Err(UnlinkError::Store(e)) => Err(e.into()),
    }
}
