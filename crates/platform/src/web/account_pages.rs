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
use crate::account_links;
use crate::accounts::{self, SignUpError};
use crate::audit::{self, Actor};
use crate::crypto;
use crate::ratelimit::Shared;
use crate::second_factor;
use crate::session::{self, Principal, SessionKind};
use crate::web::context::{CurrentResident, CurrentStaff, RequestContext};
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
        .route("/staff/signin/code", get(code_page).post(code_submit))
        .route("/account/verify", get(verify_link))
        .route(
            "/account/verify-email",
            get(verify_needed_page).post(verify_needed_submit),
        )
        .route("/signin/forgot", get(forgot_page).post(forgot_submit))
        .route("/signin/reset", get(reset_page).post(reset_submit))
        .route("/staff/mfa", get(mfa_page).post(mfa_submit))
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
    check_limit(platform, req, email).await?;
    count_attempt(platform, req, email).await
}

/// Refuses when either limit is reached, without counting this attempt.
async fn check_limit(
    platform: &Platform,
    req: &RequestContext,
    email: &str,
) -> Result<(), AppError> {
    let db = &platform.db;
    if !Shared::allowed(db, &account_key(email), MAX_PER_ACCOUNT, WINDOW).await?
        || !Shared::allowed(db, &client_key(req), MAX_PER_CLIENT, WINDOW).await?
    {
        tracing::warn!(client = %req.client_ip, "sign-in rate limit reached");
        return Err(AppError::TooManyRequests);
    }
    Ok(())
}

/// Counts an attempt against both limits.
async fn count_attempt(
    platform: &Platform,
    req: &RequestContext,
    email: &str,
) -> Result<(), AppError> {
    Shared::hit(&platform.db, &account_key(email), WINDOW).await?;
    Shared::hit(&platform.db, &client_key(req), WINDOW).await?;
    Ok(())
}

fn client_key(req: &RequestContext) -> String {
    format!("signin:client:{}", req.client_ip)
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
        if let Some(Principal::Staff(id)) = principal {
            // The password was right; the second factor comes next (or its
            // enrolment). The session owes it until then.
            let owes = if second_factor::enrolled(&platform.db, &platform.keys, id).await? {
                second_factor::OWES_CODE
            } else {
                second_factor::OWES_ENROLMENT
            };
            if let Some(old) = &req.session {
                session::revoke(&platform.db, &old.token_hash).await?;
            }
            let token = session::create_owing(
                &platform.db,
                Principal::Staff(id),
                SessionKind::Browser,
                &crate::identity::Verified::password(),
                Some(owes),
            )
            .await?;
            let page = if owes == second_factor::OWES_CODE {
                "/staff/signin/code"
            } else {
                "/staff/mfa"
            };
            let mut res =
                Redirect::to(&format!("{page}?next={}", encode_component(&next))).into_response();
            res.headers_mut()
                .append(header::SET_COOKIE, session_cookie(&platform, &token)?);
            return Ok(res);
        }
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
    match signed_up(
        &platform,
        &req,
        &email,
        form.text("password"),
        &display_name,
        &next,
    )
    .await?
    {
        // New or not, the answer is the same: check your e-mail (the mail
        // says which it was).
        Ok(()) => render(&MessagePage {
            ctx,
            title_key: "account.check_email_title",
            body_key: "account.check_email_body",
            link: None,
        }),
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
    /// Staff: the authenticator's current code (or a recovery code).
    #[serde(default)]
    otp: Option<String>,
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
    if let Principal::Staff(id) = principal {
        // Staff sign in with two factors; a staff member not yet enrolled
        // enrols in the browser first.
        if !second_factor::enrolled(&platform.db, &platform.keys, id).await? {
            return Err(AppError::Forbidden {
                code: "mfa_enrolment_required",
            });
        }
        let typed = body.otp.as_deref().unwrap_or("");
        let verdict =
            second_factor::verify(&platform.db, &platform.keys, id, typed, unix_now()).await?;
        if verdict == second_factor::Verdict::Refused {
            count_attempt(&platform, &req, &body.email).await?;
            record_second_factor_failed(&platform, &req, id).await?;
            return Err(AppError::Unauthorized);
        }
    }
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
    match signed_up(
        &platform,
        &req,
        &body.email,
        &body.password,
        &display_name,
        "/applications",
    )
    .await?
    {
        // The same answer whether the address was new or not.
        Ok(()) => Ok((
            StatusCode::ACCEPTED,
            axum::Json(serde_json::json!({"status": "verification_sent"})),
        )
            .into_response()),
        Err(e) => {
            let mut errors = Errors::new();
            errors.add(e.field(), e.key(), tr.t(e.key()));
            Err(AppError::Validation {
                fields: errors.into_vec(),
            })
        }
    }
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The staff member whose session owes `owes`, and the session.
fn owing_staff<'a>(req: &'a RequestContext, owes: &str) -> Option<(i64, &'a session::Session)> {
    let s = req.session.as_ref()?;
    match s.principal {
        Principal::Staff(id) if s.second_factor.as_deref() == Some(owes) => Some((id, s)),
        _ => None,
    }
}

#[derive(Template)]
#[template(path = "account/code.html")]
struct CodePage {
    ctx: PageCtx,
    errors: Errors,
    next: String,
}

async fn code_page(
    ctx: PageCtx,
    req: RequestContext,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    let next = safe_next(q.next.as_deref(), "/staff/start");
    if owing_staff(&req, second_factor::OWES_CODE).is_none() {
        return Ok(
            Redirect::to(&format!("/staff/signin?next={}", encode_component(&next)))
                .into_response(),
        );
    }
    render(&CodePage {
        ctx,
        errors: Errors::new(),
        next,
    })
}

/// A wrong second factor: audited, and counted against the same rate limit
/// as a wrong password (by the caller).
async fn record_second_factor_failed(
    platform: &Platform,
    req: &RequestContext,
    staff_id: i64,
) -> Result<(), AppError> {
    record(
        platform,
        Principal::Staff(staff_id),
        "second_factor_failed",
        serde_json::json!({"client": req.client_ip}),
    )
    .await
}

async fn code_submit(
    State(platform): State<Platform>,
    req: RequestContext,
    ctx: PageCtx,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    let next = safe_next(form.get("next"), "/staff/start");
    let Some((id, owing)) = owing_staff(&req, second_factor::OWES_CODE) else {
        return Ok(
            Redirect::to(&format!("/staff/signin?next={}", encode_component(&next)))
                .into_response(),
        );
    };
    let email = match &owing.account {
        Some(session::Account::Staff(s)) => s.email.clone(),
        _ => return Err(AppError::Unauthorized),
    };
    // A wrong code counts against the same limit as a wrong password.
    check_limit(&platform, &req, &email).await?;
    let verdict = second_factor::verify(
        &platform.db,
        &platform.keys,
        id,
        form.text("code"),
        unix_now(),
    )
    .await?;
    if verdict == second_factor::Verdict::Refused {
        count_attempt(&platform, &req, &email).await?;
        record_second_factor_failed(&platform, &req, id).await?;
        let mut errors = Errors::new();
        errors.add(
            "code",
            "account.error.code_wrong",
            ctx.t("account.error.code_wrong"),
        );
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &CodePage { ctx, errors, next },
        );
    }
    Shared::clear(&platform.db, &account_key(&email)).await?;
    record(
        &platform,
        Principal::Staff(id),
        "signed_in",
        serde_json::json!({"session": "browser", "client": req.client_ip, "recovery_code": verdict == second_factor::Verdict::Recovery}),
    )
    .await?;
    // A new token now that both factors are in (the one that owed them ends).
    start_browser_session(
        &platform,
        &req,
        Principal::Staff(id),
        &crate::identity::Verified::password(),
        &next,
    )
    .await
}

#[derive(Template)]
#[template(path = "account/mfa.html")]
struct MfaPage {
    ctx: PageCtx,
    errors: Errors,
    next: String,
    /// The secret, base32 in groups of four, to type into the app.
    secret: String,
    otpauth: String,
}

#[derive(Template)]
#[template(path = "account/recovery_codes.html")]
struct RecoveryCodesPage {
    ctx: PageCtx,
    codes: Vec<String>,
    next: String,
}

async fn mfa_form(
    platform: &Platform,
    ctx: PageCtx,
    id: i64,
    email: &str,
    next: String,
    errors: Errors,
) -> Result<MfaPage, AppError> {
    let secret = second_factor::pending_secret(&platform.db, &platform.keys, id).await?;
    let b32 = crate::totp::base32(&secret);
    let grouped = b32
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let issuer = platform.config.branding.site_name_en.clone();
    Ok(MfaPage {
        ctx,
        errors,
        next,
        secret: grouped,
        otpauth: crate::totp::otpauth_uri(&issuer, email, &secret),
    })
}

fn staff_email(s: &session::Session) -> Result<String, AppError> {
    match &s.account {
        Some(session::Account::Staff(st)) => Ok(st.email.clone()),
        _ => Err(AppError::Unauthorized),
    }
}

async fn mfa_page(
    State(platform): State<Platform>,
    ctx: PageCtx,
    req: RequestContext,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    let next = safe_next(q.next.as_deref(), "/staff/start");
    let Some((id, owing)) = owing_staff(&req, second_factor::OWES_ENROLMENT) else {
        return Ok(
            Redirect::to(&format!("/staff/signin?next={}", encode_component(&next)))
                .into_response(),
        );
    };
    let email = staff_email(owing)?;
    render(&mfa_form(&platform, ctx, id, &email, next, Errors::new()).await?)
}

async fn mfa_submit(
    State(platform): State<Platform>,
    req: RequestContext,
    ctx: PageCtx,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    let next = safe_next(form.get("next"), "/staff/start");
    let Some((id, owing)) = owing_staff(&req, second_factor::OWES_ENROLMENT) else {
        return Ok(
            Redirect::to(&format!("/staff/signin?next={}", encode_component(&next)))
                .into_response(),
        );
    };
    let email = staff_email(owing)?;
    check_limit(&platform, &req, &email).await?;
    let Some(codes) = second_factor::finish_enrolment(
        &platform.db,
        &platform.keys,
        id,
        form.text("code"),
        unix_now(),
    )
    .await?
    else {
        count_attempt(&platform, &req, &email).await?;
        record_second_factor_failed(&platform, &req, id).await?;
        let mut errors = Errors::new();
        errors.add(
            "code",
            "account.error.code_wrong",
            ctx.t("account.error.code_wrong"),
        );
        let page = mfa_form(&platform, ctx, id, &email, next, errors).await?;
        return render_status(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    Shared::clear(&platform.db, &account_key(&email)).await?;
    record(
        &platform,
        Principal::Staff(id),
        "mfa_enrolled",
        serde_json::json!({"client": req.client_ip}),
    )
    .await?;
    record(
        &platform,
        Principal::Staff(id),
        "signed_in",
        serde_json::json!({"session": "browser", "client": req.client_ip}),
    )
    .await?;
    // A new token now that both factors are in; the recovery codes are shown once.
    session::revoke(&platform.db, &owing.token_hash).await?;
    let token = session::create(&platform.db, Principal::Staff(id), SessionKind::Browser).await?;
    let mut res = render(&RecoveryCodesPage { ctx, codes, next })?;
    res.headers_mut()
        .append(header::SET_COOKIE, session_cookie(&platform, &token)?);
    Ok(res)
}

/// Signs a resident up, the same way seen from outside whether the address
/// is new or not: a new account gets the link that proves the address; an
/// address already registered gets an e-mail saying so (with where to sign
/// in and reset the password). Only the input's own problems are errors.
async fn signed_up(
    platform: &Platform,
    req: &RequestContext,
    email: &str,
    password: &str,
    display_name: &str,
    next: &str,
) -> Result<Result<(), SignUpError>, AppError> {
    let lang = req.lang.code();
    match accounts::sign_up_resident(&platform.db, email, password, display_name).await {
        Ok(resident) => {
            record_signup(platform, resident.id).await?;
            account_links::send(
                &platform.db,
                &platform.keys,
                account_links::Link {
                    purpose: account_links::Purpose::VerifyEmail,
                    kind: "account.verify_email",
                    resident_id: resident.id,
                    to: &resident.email,
                    lang,
                    next,
                },
            )
            .await?;
            Ok(Ok(()))
        }
        Err(SignUpError::EmailTaken) => {
            if let Some(normal) = accounts::normalize_email(email) {
                account_links::notify(&platform.db, "account.already_registered", &normal, lang)
                    .await?;
            }
            Ok(Ok(()))
        }
        Err(e) => Ok(Err(e)),
    }
}

/// A page that only says something (and maybe links on).
#[derive(Template)]
#[template(path = "account/message.html")]
struct MessagePage {
    ctx: PageCtx,
    title_key: &'static str,
    body_key: &'static str,
    /// (href, label key)
    link: Option<(String, &'static str)>,
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// The link that proves the address: verified, signed in, on to where the
/// resident was going.
async fn verify_link(
    State(platform): State<Platform>,
    req: RequestContext,
    ctx: PageCtx,
    Query(q): Query<TokenQuery>,
) -> Result<Response, AppError> {
    match account_links::take(&platform.db, account_links::Purpose::VerifyEmail, &q.token).await? {
        Some((resident_id, next)) => {
            account_links::mark_verified(&platform.db, resident_id).await?;
            record(
                &platform,
                Principal::Resident(resident_id),
                "email_verified",
                serde_json::json!({}),
            )
            .await?;
            let next = safe_next(Some(&next), "/applications");
            start_browser_session(
                &platform,
                &req,
                Principal::Resident(resident_id),
                &crate::identity::Verified::password(),
                &next,
            )
            .await
        }
        None => link_expired(ctx, "/signin", "account.signin_button"),
    }
}

/// A mailed link that is not (or no longer) good: what to do instead.
fn link_expired(ctx: PageCtx, href: &str, label_key: &'static str) -> Result<Response, AppError> {
    render_status(
        StatusCode::NOT_FOUND,
        &MessagePage {
            ctx,
            title_key: "account.link_expired_title",
            body_key: "account.link_expired_body",
            link: Some((href.to_string(), label_key)),
        },
    )
}

#[derive(Template)]
#[template(path = "account/verify_needed.html")]
struct VerifyNeededPage {
    ctx: PageCtx,
    email: String,
    next: String,
    sent: bool,
}

/// Before the first submission: the address must be proved.
async fn verify_needed_page(
    ctx: PageCtx,
    resident: CurrentResident,
    Query(q): Query<NextQuery>,
) -> Result<Response, AppError> {
    render(&VerifyNeededPage {
        ctx,
        email: resident.resident.email,
        next: safe_next(q.next.as_deref(), "/applications"),
        sent: false,
    })
}

async fn verify_needed_submit(
    State(platform): State<Platform>,
    req: RequestContext,
    ctx: PageCtx,
    resident: CurrentResident,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    let next = safe_next(form.get("next"), "/applications");
    let key = format!("verify:resident:{}", resident.resident.id);
    if !Shared::allowed(&platform.db, &key, 5, WINDOW).await? {
        return Err(AppError::TooManyRequests);
    }
    Shared::hit(&platform.db, &key, WINDOW).await?;
    if !account_links::email_verified(&platform.db, resident.resident.id).await? {
        account_links::send(
            &platform.db,
            &platform.keys,
            account_links::Link {
                purpose: account_links::Purpose::VerifyEmail,
                kind: "account.verify_email",
                resident_id: resident.resident.id,
                to: &resident.resident.email,
                lang: req.lang.code(),
                next: &next,
            },
        )
        .await?;
    }
    render(&VerifyNeededPage {
        ctx,
        email: resident.resident.email,
        next,
        sent: true,
    })
}

#[derive(Template)]
#[template(path = "account/forgot.html")]
struct ForgotPage {
    ctx: PageCtx,
    errors: Errors,
}

async fn forgot_page(ctx: PageCtx) -> Result<Response, AppError> {
    render(&ForgotPage {
        ctx,
        errors: Errors::new(),
    })
}

/// A forgotten password: the same answer whether the address has an account
/// or not; if it has, the link to choose a new one is sent.
async fn forgot_submit(
    State(platform): State<Platform>,
    req: RequestContext,
    ctx: PageCtx,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    let email = form.text("email");
    if accounts::normalize_email(email).is_none() {
        let mut errors = Errors::new();
        errors.add(
            "email",
            "account.error.invalid_email",
            ctx.t("account.error.invalid_email"),
        );
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ForgotPage { ctx, errors },
        );
    }
    limit(&platform, &req, email).await?;
    if let Some(found) = account_links::resident_by_email(&platform.db, email).await? {
        let to = accounts::normalize_email(email).unwrap_or_default();
        account_links::send(
            &platform.db,
            &platform.keys,
            account_links::Link {
                purpose: account_links::Purpose::ResetPassword,
                kind: "account.reset_password",
                resident_id: found.id,
                to: &to,
                lang: &found.locale,
                next: "/applications",
            },
        )
        .await?;
    }
    render(&MessagePage {
        ctx,
        title_key: "account.check_email_title",
        body_key: "account.reset_sent_body",
        link: None,
    })
}

#[derive(Template)]
#[template(path = "account/reset.html")]
struct ResetPage {
    ctx: PageCtx,
    errors: Errors,
    token: String,
}

async fn reset_page(
    State(platform): State<Platform>,
    ctx: PageCtx,
    Query(q): Query<TokenQuery>,
) -> Result<Response, AppError> {
    if !account_links::is_live(
        &platform.db,
        account_links::Purpose::ResetPassword,
        &q.token,
    )
    .await?
    {
        return link_expired(ctx, "/signin/forgot", "account.forgot_link");
    }
    render(&ResetPage {
        ctx,
        errors: Errors::new(),
        token: q.token,
    })
}

async fn reset_submit(
    State(platform): State<Platform>,
    req: RequestContext,
    ctx: PageCtx,
    CsrfForm(form): CsrfForm,
) -> Result<Response, AppError> {
    let token = form.text("token").to_string();
    let password = form.text("password");
    let expired = |ctx: PageCtx| link_expired(ctx, "/signin/forgot", "account.forgot_link");
    if !account_links::is_live(&platform.db, account_links::Purpose::ResetPassword, &token).await? {
        return expired(ctx);
    }
    // The rules are checked before the link is used up, so a refused
    // password can be corrected with the same link.
    let refused = if password.chars().count() < accounts::MIN_PASSWORD_CHARS {
        Some(SignUpError::PasswordTooShort)
    } else if password.chars().count() > accounts::MAX_PASSWORD_CHARS {
        Some(SignUpError::PasswordTooLong)
    } else {
        None
    };
    if let Some(e) = refused {
        let mut errors = Errors::new();
        errors.add(e.field(), e.key(), ctx.t(e.key()));
        return render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ResetPage { ctx, errors, token },
        );
    }
    let Some((resident_id, next)) =
        account_links::take(&platform.db, account_links::Purpose::ResetPassword, &token).await?
    else {
        return expired(ctx);
    };
    let email = accounts::resident_by_id(&platform.db, resident_id)
        .await?
        .map(|r| r.email)
        .unwrap_or_default();
    match account_links::reset_password(&platform.db, resident_id, &email, password).await? {
        Ok(()) => {
            record(
                &platform,
                Principal::Resident(resident_id),
                "password_reset",
                serde_json::json!({"client": req.client_ip}),
            )
            .await?;
            start_browser_session(
                &platform,
                &req,
                Principal::Resident(resident_id),
                &crate::identity::Verified::password(),
                &safe_next(Some(&next), "/applications"),
            )
            .await
        }
        Err(e) => {
            // The password is the address: refused; the link was used, a new one is needed.
            let mut errors = Errors::new();
            errors.add(e.field(), e.key(), ctx.t(e.key()));
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ResetPage { ctx, errors, token },
            )
        }
    }
}
