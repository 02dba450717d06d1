//! What every request carries: its language, its session (from the cookie or a
//! bearer token), the value its CSRF token is bound to, and the client address.
//! [`context_layer`] works these out once per request; the extractors here read
//! them.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::Platform;
use crate::accounts::{Resident, Staff};
use crate::crypto;
use crate::i18n::{Lang, Tr};
use crate::session::{self, Principal, Session, SessionKind};
use crate::web::cookies::{self, Cookie};
use crate::web::error::AppError;

/// Worked out by [`context_layer`] for each request.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub lang: Lang,
    pub session: Option<Session>,
    /// What this visitor's CSRF tokens are bound to: the session (hash), or an
    /// anonymous nonce kept in a cookie.
    pub csrf_binding: String,
    /// The path and query, for "back to where you were" links.
    pub path_and_query: String,
    pub client_ip: String,
}

impl RequestContext {
    pub fn tr(&self, platform: &Platform) -> Tr {
        Tr::new(platform.catalogue.clone(), self.lang)
    }
}

fn bearer_token(parts_headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = parts_headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Whether a client may use the staff pages: always, unless `staff_networks`
/// is set; then only from inside one of them.
pub fn staff_network_allows(platform: &Platform, client_ip: &str) -> bool {
    let nets = &platform.config.staff_networks;
    nets.is_empty()
        || client_ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| nets.iter().any(|n| n.contains(&ip)))
}

/// Whether `path` is for staff: their pages, their API, their sign-in.
fn path_is_staff(path: &str) -> bool {
    path == "/staff" || path.starts_with("/staff/") || path.starts_with("/api/v1/staff")
}

/// Works out the [`RequestContext`] and sets the cookies it needs.
pub async fn context_layer(
    State(platform): State<Platform>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if path.starts_with("/assets/") || path == "/healthz" || path == "/readyz" {
        return next.run(req).await;
    }
    let headers = req.headers();
    let secure = platform.config.secure_cookies();
    let mut set_cookies: Vec<String> = Vec::new();

    // Language: ?lang= (remembered in a cookie), then the cookie, then the browser's preference.
    let query_lang = req
        .uri()
        .query()
        .and_then(|q| {
            crate::web::url::parse_urlencoded(q.as_bytes())
                .get("lang")
                .map(str::to_string)
        })
        .and_then(|l| Lang::parse(&l));
    let lang = if let Some(l) = query_lang {
        set_cookies.push(cookies::set(
            Cookie::Lang,
            l.code(),
            Some(365 * 86400),
            secure,
        ));
        l
    } else if let Some(l) = cookies::get(headers, Cookie::Lang, secure).and_then(Lang::parse) {
        l
    } else {
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(Lang::from_accept_language)
            .unwrap_or_default()
    };

    // Session: a bearer token (API clients) or the session cookie (browsers).
    let found = if let Some(token) = bearer_token(headers) {
        session::lookup(&platform.db, token)
            .await
            .map(|s| s.filter(|s| s.kind == SessionKind::Api))
    } else if let Some(token) = cookies::get(headers, Cookie::Session, secure) {
        let token = token.to_string();
        let s = session::lookup(&platform.db, &token).await;
        if matches!(s, Ok(None)) {
            set_cookies.push(cookies::delete(Cookie::Session, secure));
        }
        s.map(|s| s.filter(|s| s.kind == SessionKind::Browser))
    } else {
        Ok(None)
    };
    let session = match found {
        Ok(s) => s,
        Err(e) => {
            // The error renderer is inside this layer: answer here, briefly.
            tracing::error!(error = %e, "session lookup failed");
            let mut res = (
                StatusCode::SERVICE_UNAVAILABLE,
                "ただいま利用できません。時間をおいてもう一度お試しください。 / Temporarily unavailable. Please try again later.",
            )
                .into_response();
            res.extensions_mut().insert(crate::web::error::Rendered);
            return res;
        }
    };

    let csrf_binding = match (
        &session,
        cookies::get(req.headers(), Cookie::CsrfNonce, secure),
    ) {
        (Some(s), _) => format!("session:{}", s.token_hash),
        (None, Some(nonce)) if nonce.len() >= 32 && nonce.len() <= 64 => format!("nonce:{nonce}"),
        (None, _) => {
            let nonce = crypto::random_token();
            set_cookies.push(cookies::set(Cookie::CsrfNonce, &nonce, None, secure));
            format!("nonce:{nonce}")
        }
    };

    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    // Behind the trusted reverse proxy, the client is the address the proxy
    // saw: the right-most entry of X-Forwarded-For (entries to its left were
    // written by the client and prove nothing).
    let forwarded = platform
        .config
        .trust_forwarded_for
        .then(|| {
            req.headers()
                .get_all("x-forwarded-for")
                .iter()
                .next_back()?
                .to_str()
                .ok()?
                .rsplit(',')
                .next()?
                .trim()
                .parse::<std::net::IpAddr>()
                .ok()
                .map(|ip| ip.to_string())
        })
        .flatten();
    let client_ip = forwarded.or(peer).unwrap_or_else(|| "unknown".into());

    // Staff pages and the staff API only from the configured networks (LGWAN).
    let path = req.uri().path();
    if path_is_staff(path) && !staff_network_allows(&platform, &client_ip) {
        tracing::warn!(client = %client_ip, "staff page asked for from outside the staff networks");
        // The error renderer is inside this layer: answer here, in both languages.
        let tr = platform.tr(lang);
        let message = tr.t("error.staff_network_only").to_string();
        let mut res = if path.starts_with("/api/") {
            (
                StatusCode::FORBIDDEN,
                [(header::CONTENT_TYPE, "application/json")],
                serde_json::json!({"error": {"code": "staff_network_only", "message": message}})
                    .to_string(),
            )
                .into_response()
        } else {
            (
                StatusCode::FORBIDDEN,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                message,
            )
                .into_response()
        };
        res.extensions_mut().insert(crate::web::error::Rendered);
        return res;
    }

    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    req.extensions_mut().insert(RequestContext {
        lang,
        session,
        csrf_binding,
        path_and_query,
        client_ip,
    });
    let mut res = next.run(req).await;
    for c in set_cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("context_layer is not installed")))
    }
}

/// Refuses a state-changing request from a browser session that does not carry
/// the `X-CSRF-Token` header (API clients with a bearer token need none).
pub fn check_api_csrf(
    parts: &Parts,
    ctx: &RequestContext,
    platform: &Platform,
) -> Result<(), AppError> {
    let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    let browser = ctx
        .session
        .as_ref()
        .is_some_and(|s| s.kind == SessionKind::Browser);
    if safe || !browser {
        return Ok(());
    }
    let token = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if platform.keys.verify_csrf(&ctx.csrf_binding, token) {
        Ok(())
    } else {
        Err(AppError::Forbidden {
            code: "csrf_failed",
        })
    }
}

/// The signed-in resident. Pages redirect a signed-out visitor to the sign-in
/// page; the API answers 401.
#[derive(Debug, Clone)]
pub struct CurrentResident {
    pub resident: Resident,
    pub session: Session,
}

impl<S> FromRequestParts<S> for CurrentResident
where
    Platform: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let platform = Platform::from_ref(state);
        let ctx = RequestContext::from_request_parts(parts, state).await?;
        let Some(session) = ctx.session.clone() else {
            return Err(AppError::Unauthorized);
        };
        let Principal::Resident(id) = session.principal else {
            return Err(AppError::Unauthorized);
        };
        if parts.uri.path().starts_with("/api/") {
            check_api_csrf(parts, &ctx, &platform)?;
        }
        let resident = match &session.account {
            Some(crate::session::Account::Resident(r)) if r.id == id => r.clone(),
            _ => return Err(AppError::Unauthorized),
        };
        Ok(CurrentResident { resident, session })
    }
}

/// The signed-in staff member.
#[derive(Debug, Clone)]
pub struct CurrentStaff {
    pub staff: Staff,
    pub session: Session,
}

impl<S> FromRequestParts<S> for CurrentStaff
where
    Platform: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let platform = Platform::from_ref(state);
        let ctx = RequestContext::from_request_parts(parts, state).await?;
        let Some(session) = ctx.session.clone() else {
            return Err(AppError::Unauthorized);
        };
        let Principal::Staff(id) = session.principal else {
            return Err(AppError::Unauthorized);
        };
        if parts.uri.path().starts_with("/api/") {
            check_api_csrf(parts, &ctx, &platform)?;
        }
        let staff = match &session.account {
            Some(crate::session::Account::Staff(s)) if s.id == id => s.clone(),
            _ => return Err(AppError::Unauthorized),
        };
        // A one-time password: only choosing one's own password is allowed.
        if session.must_change_password && parts.uri.path() != "/staff/password" {
            return Err(AppError::Forbidden {
                code: "password_change_required",
            });
        }
        // The second factor is owed: nothing else until it is given (or enrolled).
        match session.second_factor.as_deref() {
            None => {}
            // A first sign-in with a one-time password chooses the password
            // first, then sets up the second factor.
            Some(crate::second_factor::OWES_ENROLMENT)
                if session.must_change_password && parts.uri.path() == "/staff/password" => {}
            Some(crate::second_factor::OWES_ENROLMENT) => {
                return Err(AppError::Forbidden {
                    code: "mfa_enrolment_required",
                });
            }
            Some(_) => {
                return Err(AppError::Forbidden {
                    code: "second_factor_required",
                });
            }
        }
        Ok(CurrentStaff { staff, session })
    }
}
