//! Signing up, in and out: the pages for residents and staff, and the same
//! under `/api/v1` for API clients (which get a bearer token).

use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::Platform;
use crate::accounts::{self, SignUpError};
use crate::audit::{self, Actor};
use crate::crypto;
use crate::ratelimit::Shared;
use crate::session::{self, Principal, SessionKind};
use crate::web::context::{CurrentStaff, RequestContext};
use crate::web::cookies::{self, Cookie};
use crate::web::error::{AppError, Errors};
use crate::web::forms::{ApiJson, CsrfForm};
use crate::web::page::{PageCtx, render, render_status};
use crate::web::url::{FormData, encode_component, safe_next};

/// Sign-in attempts allowed per e-mail address, and per client address, per window.
const MAX_PER_ACCOUNT: u32 = 10;
const MAX_PER_CLIENT: u32 = 50;
const WINDOW: Duration = Duration::from_secs(15 * 60);

pub fn router() -> Router<Platform> {
    Router::new()
        .route("/signin", get(signin_page).post(signin_submit))
        .route("/signup", get(signup_page).post(signup_submit))
        .route("/signout", post(signout))
        .route(
            "/staff/signin",
            get(staff_signin_page).post(staff_signin_submit),
        )
        .route("/staff/signout", post(signout))
        .route("/staff/password", get(password_page).post(password_submit))
        .route("/api/v1/session", post(api_signin).delete(api_signout))
        .route("/api/v1/residents", post(api_signup))
}

#[derive(Template)]
#[template(path = "account/signin.html")]
struct SigninPage {
    ctx: PageCtx,
    heading_key: &'static str,
    action: &'static str,
    staff: bool,
    errors: Errors,
    email: String,
    next: String,
    next_encoded: String,
    notice: Option<String>,
    /// The identity providers configured: (path segment, label key).
    providers: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "account/signup.html")]
struct SignupPage {
    ctx: PageCtx,
    errors: Errors,
    email: String,
    display_name: String,
    next: String,
    next_encoded: String,
}

#[derive(Template)]
#[template(path = "account/password.html")]
struct PasswordPage {
    ctx: PageCtx,
    errors: Errors,
    /// Signed in with a one-time password: nothing else until it is changed.
    required: bool,
    done: bool,
    next: String,
}

#[derive(Deserialize)]
struct PasswordQuery {
    next: Option<String>,
    #[serde(default)]
    done: String,
}

async fn password_page(
    ctx: PageCtx,
    staff: CurrentStaff,
    Query(q): Query<PasswordQuery>,
) -> Result<Response, AppError> {
    render(&PasswordPage {
        ctx,
        errors: Errors::new(),
        required: staff.session.must_change_password,
        done: q.done == "1",
        next: safe_next(q.next.as_deref(), "/staff/start"),
    })
}

async fn password_submit(
    State(platform): State<Platform>,
    ctx: PageCtx,
    staff: CurrentStaff,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    let next = safe_next(form.get("next"), "/staff/start");
    let current = form.text("current_password");
    let new = form.text("password");
    match accounts::change_staff_password(&platform.db, staff.staff.id, current, new).await? {
        Ok(()) => {
            record(
                &platform,
                Principal::Staff(staff.staff.id),
                "password_changed",
                serde_json::json!({"after_one_time": staff.session.must_change_password}),
            )
            .await?;
            let to = if staff.session.must_change_password {
                next
            } else {
                "/staff/password?done=1".to_string()
            };
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => {
            let mut errors = Errors::new();
            errors.add(e.field(), e.key(), ctx.t(e.key()));
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &PasswordPage {
                    ctx,
                    errors,
                    required: staff.session.must_change_password,
                    done: false,
                    next,
                },
            )
        }
    }
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// The identity providers a resident may sign in with here.
fn providers(platform: &Platform) -> Vec<(&'static str, &'static str)> {
    let identity = &platform.config.identity;
    let mut out = Vec::new();
    if identity.mynumber_card.is_some() {
        out.push(("mynumber", "identity.signin_with.mynumber"));
    }
    if identity.gbizid.is_some() {
        out.push(("gbizid", "identity.signin_with.gbizid"));
    }
    out
}

fn signin_form(platform: &Platform, ctx: PageCtx, staff: bool, next: String) -> SigninPage {
    let notice = (!staff && next.starts_with("/procedures/"))
        .then(|| ctx.t("account.signin_to_apply").to_string());
    SigninPage {
        heading_key: if staff {
            "account.staff_signin_title"
        } else {
            "account.signin_title"
        },
        action: if staff { "/staff/signin" } else { "/signin" },
        staff,
        errors: Errors::new(),
        email: String::new(),
        next_encoded: encode_component(&next),
        next,
        notice,
        providers: if staff {
            Vec::new()
        } else {
            providers(platform)
        },
        ctx,
    }
}

async fn signin_page(
    State(platform): State<Platform>,
    ctx: PageCtx,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    render(&signin_form(
        &platform,
        ctx,
        false,
        safe_next(q.next.as_deref(), "/applications"),
    ))
}

async fn staff_signin_page(
    State(platform): State<Platform>,
    ctx: PageCtx,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    render(&signin_form(
        &platform,
        ctx,
        true,
        safe_next(q.next.as_deref(), "/staff/start"),
    ))
}

/// The rate-limit key of an account: its address as stored (full-width and
/// upper-case variants of an address are the same account).
fn account_key(email: &str) -> String {
    let normal = accounts::normalize_email(email).unwrap_or_else(|| email.trim().to_lowercase());
    format!("signin:account:{normal}")
}

/// Checks the rate limits, which hold across every node (the counters are in
/// the database); counts the attempt.
async fn limit(platform: &Platform, req: &RequestContext, email: &str) -> Result<(), AppError> {
    let account_key = account_key(email);
    let client_key = format!("signin:client:{}", req.client_ip);
    let db = &platform.db;
    if !Shared::allowed(db, &account_key, MAX_PER_ACCOUNT, WINDOW).await?
        || !Shared::allowed(db, &client_key, MAX_PER_CLIENT, WINDOW).await?
    {
        tracing::warn!(client = %req.client_ip, "sign-in rate limit reached");
        return Err(AppError::TooManyRequests);
    }
    Shared::hit(db, &account_key, WINDOW).await?;
    Shared::hit(db, &client_key, WINDOW).await?;
    Ok(())
}

fn session_cookie(platform: &Platform, token: &str) -> Result<HeaderValue, AppError> {
    HeaderValue::from_str(&cookies::set(
        Cookie::Session,
        token,
        None,
        platform.config.secure_cookies(),
    ))
    .map_err(AppError::internal)
}

/// Starts a browser session for `principal`, identified as `identity`, and
/// redirects to `next` (a same-site path). Any session the browser had ends.
pub async fn start_browser_session(
    platform: &Platform,
    req: &RequestContext,
    principal: Principal,
    identity: &crate::identity::Verified,
    next: &str,
) -> Result<Response, AppError> {
    // A new token at every sign-in (no session fixation); the old one ends.
    if let Some(old) = &req.session {
        session::revoke(&platform.db, &old.token_hash).await?;
    }
    let token =
        session::create_identified(&platform.db, principal, SessionKind::Browser, identity).await?;
    let mut res = Redirect::to(next).into_response();
    res.headers_mut()
        .append(header::SET_COOKIE, session_cookie(platform, &token)?);
    Ok(res)
}

async fn signin_submit(
    State(platform): State<Platform>,
    req: RequestContext,
    ctx: PageCtx,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    sign_in_form(platform, req, ctx, form, false).await
}

async fn staff_signin_submit(
    State(platform): State<Platform>,
    req: RequestContext,
    ctx: PageCtx,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    sign_in_form(platform, req, ctx, form, true).await
}

async fn sign_in_form(
    platform: Platform,
    req: RequestContext,
    ctx: PageCtx,
    form: FormData,
    staff: bool,
) -> Result<Response, AppError> {
    let email = form.text("email").to_string();
    let password = form.text("password");
    let next = safe_next(
        form.get("next"),
        if staff {
            "/staff/start"
        } else {
            "/applications"
        },
    );
    let mut errors = Errors::new();
    if email.trim().is_empty() {
        errors.add(
            "email",
            "account.error.email_missing",
            ctx.t("account.error.email_missing"),
        );
    }
    if password.is_empty() {
        errors.add(
            "password",
            "account.error.password_missing",
            ctx.t("account.error.password_missing"),
        );
    }
    if errors.is_empty() {
        limit(&platform, &req, &email).await?;
        let principal = if staff {
            accounts::verify_staff(&platform.db, &email, password)
                .await?
                .map(|s| Principal::Staff(s.id))
        } else {
            accounts::verify_resident(&platform.db, &email, password)
                .await?
                .map(|r| Principal::Resident(r.id))
        };
        if let Some(principal) = principal {
            Shared::clear(&platform.db, &account_key(&email)).await?;
            record(
                &platform,
                principal,
                "signed_in",
                serde_json::json!({"session": "browser", "client": req.client_ip}),
            )
            .await?;
            let identity = crate::identity::Verified::password();
            return start_browser_session(&platform, &req, principal, &identity, &next).await;
        }
        record_failed_signin(&platform, &req, staff, &email).await?;
        errors.add(
            "email",
            "account.error.signin_failed",
            ctx.t("account.error.signin_failed"),
        );
    }
    let mut page = signin_form(&platform, ctx, staff, next);
    page.errors = errors;
    page.email = email;
    render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

async fn signup_page(ctx: PageCtx, Query(q): Query<NextQuery>) -> Result<Response, AppError> {
    let next = safe_next(q.next.as_deref(), "/applications");
    render(&SignupPage {
        ctx,
        errors: Errors::new(),
        email: String::new(),
        display_name: String::new(),
        next_encoded: encode_component(&next),
        next,
    })
}

async fn signup_submit(
    State(platform): State<Platform>,
    req: RequestContext,
    ctx: PageCtx,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    let email = form.text("email").to_string();
    let display_name = form
        .text("display_name")
        .trim()
        .chars()
        .take(100)
        .collect::<String>();
    let next = safe_next(form.get("next"), "/applications");
    limit(&platform, &req, &email).await?;
    match accounts::sign_up_resident(&platform.db, &email, form.text("password"), &display_name)
        .await
    {
        Ok(resident) => {
            record_signup(&platform, resident.id).await?;
            start_browser_session(
                &platform,
                &req,
                Principal::Resident(resident.id),
                &crate::identity::Verified::password(),
                &next,
            )
            .await
        }
        Err(e) => {
            let mut errors = Errors::new();
            errors.add(e.field(), e.key(), ctx.t(e.key()));
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &SignupPage {
                    ctx,
                    errors,
                    email,
                    display_name,
                    next_encoded: encode_component(&next),
                    next,
                },
            )
        }
    }
}

async fn record_signup(platform: &Platform, resident_id: i64) -> Result<(), AppError> {
    record(
        platform,
        Principal::Resident(resident_id),
        "signed_up",
        serde_json::json!({}),
    )
    .await
}

/// Records an account event in the audit log (`resident.signed_in`,
/// `staff.signed_out` …), with the client address and the kind of session.
async fn record(
    platform: &Platform,
    principal: Principal,
    event: &str,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    let (kind, actor, id) = match principal {
        Principal::Resident(id) => ("resident", Actor::Resident(id), id),
        Principal::Staff(id) => ("staff", Actor::Staff(id), id),
    };
    let action = format!("{kind}.{event}");
    let mut tx = platform.db.begin().await?;
    audit::append(
        &mut tx,
        audit::Entry {
            organisation_id: None,
            actor,
            action: &action,
            subject_kind: kind,
            subject_id: Some(id),
            detail,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A failed sign-in: who was tried is kept only as a hash of the address
/// (the audit log holds no address typed by a stranger), with the client.
async fn record_failed_signin(
    platform: &Platform,
    req: &RequestContext,
    staff: bool,
    email: &str,
) -> Result<(), AppError> {
    let mut tx = platform.db.begin().await?;
    audit::append(
        &mut tx,
        audit::Entry {
            organisation_id: None,
            actor: Actor::System,
            action: if staff {
                "staff.signin_failed"
            } else {
                "resident.signin_failed"
            },
            subject_kind: if staff { "staff" } else { "resident" },
            subject_id: None,
            detail: serde_json::json!({
                "account": crypto::sha256_hex(account_key(email).as_bytes()).chars().take(16).collect::<String>(),
                "client": req.client_ip,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn signout(
    State(platform): State<Platform>,
    req: RequestContext,
    CsrfForm(_form): CsrfForm,
) -> Result<Response, AppError> {
    let was_staff = matches!(
        req.session.as_ref().map(|s| s.principal),
        Some(Principal::Staff(_))
    );
    if let Some(s) = &req.session {
        session::revoke(&platform.db, &s.token_hash).await?;
        record(
            &platform,
            s.principal,
            "signed_out",
            serde_json::json!({"session": "browser"}),
        )
        .await?;
    }
    let mut res = Redirect::to(if was_staff { "/staff/signin" } else { "/" }).into_response();
    let cookie = cookies::delete(Cookie::Session, platform.config.secure_cookies());
    res.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(AppError::internal)?,
    );
    Ok(res)
}

#[derive(Deserialize)]
struct ApiSignin {
    email: String,
    password: String,
    /// `resident` (default) or `staff`.
    #[serde(default)]
    principal: Option<String>,
}

#[derive(serde::Serialize)]
struct ApiToken {
    token: String,
    token_type: &'static str,
    expires_in: i64,
}

async fn api_signin(
    State(platform): State<Platform>,
    req: RequestContext,
    ApiJson(body): ApiJson<ApiSignin>,
) -> Result<Response, AppError> {
    limit(&platform, &req, &body.email).await?;
    let principal = match body.principal.as_deref() {
        None | Some("resident") => {
            accounts::verify_resident(&platform.db, &body.email, &body.password)
                .await?
                .map(|r| Principal::Resident(r.id))
        }
        Some("staff") => {
            if !crate::web::context::staff_network_allows(&platform, &req.client_ip) {
                return Err(AppError::Forbidden {
                    code: "staff_network_only",
                });
            }
            accounts::verify_staff(&platform.db, &body.email, &body.password)
                .await?
                .map(|s| Principal::Staff(s.id))
        }
        Some(_) => {
            return Err(AppError::BadRequest {
                code: "invalid_body",
                detail: Some("principal".into()),
            });
        }
    };
    let Some(principal) = principal else {
        record_failed_signin(
            &platform,
            &req,
            body.principal.as_deref() == Some("staff"),
            &body.email,
        )
        .await?;
        return Err(AppError::Unauthorized);
    };
    Shared::clear(&platform.db, &account_key(&body.email)).await?;
    record(
        &platform,
        principal,
        "signed_in",
        serde_json::json!({"session": "api", "client": req.client_ip}),
    )
    .await?;
    let token = session::create(&platform.db, principal, SessionKind::Api).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ApiToken {
            token,
            token_type: "Bearer",
            expires_in: principal.idle().num_seconds(),
        }),
    )
        .into_response())
}

async fn api_signout(
    State(platform): State<Platform>,
    req: RequestContext,
) -> Result<Response, AppError> {
    match &req.session {
        Some(s) if s.kind == SessionKind::Api => {
            session::revoke(&platform.db, &s.token_hash).await?;
            record(
                &platform,
                s.principal,
                "signed_out",
                serde_json::json!({"session": "api"}),
            )
            .await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        _ => Err(AppError::Unauthorized),
    }
}

#[derive(Deserialize)]
struct ApiSignup {
    email: String,
    password: String,
    #[serde(default)]
    display_name: String,
}

async fn api_signup(
    State(platform): State<Platform>,
    req: RequestContext,
    ApiJson(body): ApiJson<ApiSignup>,
) -> Result<Response, AppError> {
    limit(&platform, &req, &body.email).await?;
    let tr = req.tr(&platform);
    let display_name: String = body.display_name.trim().chars().take(100).collect();
    match accounts::sign_up_resident(&platform.db, &body.email, &body.password, &display_name).await
    {
        Ok(resident) => {
            record_signup(&platform, resident.id).await?;
            Ok((StatusCode::CREATED, axum::Json(resident)).into_response())
        }
        Err(SignUpError::EmailTaken) => Err(AppError::Conflict {
            code: "email_taken",
        }),
        Err(e) => {
            let mut errors = Errors::new();
            errors.add(e.field(), e.key(), tr.t(e.key()));
            Err(AppError::Validation {
                fields: errors.into_vec(),
            })
        }
    }
}
