//! The page shell: what every server-rendered page gets ([`PageCtx`]) and the
//! helpers that turn an askama template into a response.

use askama::Template;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};

use crate::Platform;
use crate::i18n::{Lang, Tr};
use crate::web::assets;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, Rendered};
use crate::web::url::encode_component;

/// Who is signed in, as the header shows it.
#[derive(Debug, Clone)]
pub struct UserBadge {
    pub name: String,
    pub is_staff: bool,
    /// Staff roles, for the staff menu (what each may open).
    pub roles: Vec<crate::accounts::Role>,
}

impl UserBadge {
    /// Whether this staff member has `role` (named as in the configuration: `dx_office` …).
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r.code() == role)
    }
}

/// Everything the layout needs; every page template has a `ctx: PageCtx`.
#[derive(Debug, Clone)]
pub struct PageCtx {
    pub tr: Tr,
    /// The CSRF token for forms on this page.
    pub csrf: String,
    pub user: Option<UserBadge>,
    /// The current path and query.
    pub path: String,
    pub site_name: String,
    pub css_href: String,
}

impl PageCtx {
    fn build(
        platform: &Platform,
        lang: Lang,
        csrf_binding: &str,
        path: &str,
        user: Option<UserBadge>,
    ) -> PageCtx {
        let tr = Tr::new(platform.catalogue.clone(), lang);
        let site_name = tr
            .pick(
                &platform.config.branding.site_name,
                &platform.config.branding.site_name_en,
            )
            .to_string();
        PageCtx {
            csrf: platform.keys.csrf_token(csrf_binding),
            user,
            path: path.to_string(),
            site_name,
            css_href: assets::css_href(),
            tr,
        }
    }

    /// A context that does not look up who is signed in (error pages).
    pub fn anonymous(platform: &Platform, ctx: &RequestContext) -> PageCtx {
        PageCtx::build(
            platform,
            ctx.lang,
            &ctx.csrf_binding,
            &ctx.path_and_query,
            None,
        )
    }

    /// A context without a request (rendering outside a handler).
    pub fn bare(platform: &Platform, lang: Lang) -> PageCtx {
        PageCtx::build(platform, lang, "bare", "/", None)
    }

    /// The text for `key` in the page's language.
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.tr.t(key)
    }

    pub fn lang(&self) -> &'static str {
        self.tr.lang().code()
    }

    /// The current page in the other language.
    pub fn other_lang_href(&self) -> String {
        let other = self.tr.lang().other().code();
        let (path, query) = self.path.split_once('?').unwrap_or((&self.path, ""));
        let kept: Vec<&str> = query
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("lang="))
            .collect();
        if kept.is_empty() {
            format!("{path}?lang={other}")
        } else {
            format!("{path}?{}&lang={other}", kept.join("&"))
        }
    }

    pub fn other_lang_label(&self) -> &'static str {
        match self.tr.lang() {
            Lang::Ja => "English",
            Lang::En => "日本語",
        }
    }

    pub fn other_lang_code(&self) -> &'static str {
        self.tr.lang().other().code()
    }

    /// `?next=` for a sign-in link that comes back here.
    pub fn next_param(&self) -> String {
        encode_component(&self.path)
    }

    pub fn is_staff(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.is_staff)
    }
}

impl<S> FromRequestParts<S> for PageCtx
where
    Platform: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let platform = Platform::from_ref(state);
        let ctx = RequestContext::from_request_parts(parts, state).await?;
        let user = match ctx.session.as_ref().and_then(|s| s.account.as_ref()) {
            Some(crate::session::Account::Resident(r)) => Some(UserBadge {
                name: if r.display_name.is_empty() {
                    r.email.clone()
                } else {
                    r.display_name.clone()
                },
                is_staff: false,
                roles: Vec::new(),
            }),
            Some(crate::session::Account::Staff(s)) => Some(UserBadge {
                name: s.name.clone(),
                is_staff: true,
                roles: s.roles.clone(),
            }),
            None => None,
        };
        Ok(PageCtx::build(
            &platform,
            ctx.lang,
            &ctx.csrf_binding,
            &ctx.path_and_query,
            user,
        ))
    }
}

/// Renders a page with status 200.
pub fn render(page: &impl Template) -> Result<Response, AppError> {
    Ok(Html(page.render()?).into_response())
}

/// Renders a page with another status (a form shown again with its errors gets
/// 422), marked so the error middleware leaves it as it is.
pub fn render_status(status: StatusCode, page: &impl Template) -> Result<Response, AppError> {
    let mut res = (status, Html(page.render()?)).into_response();
    res.extensions_mut().insert(Rendered);
    Ok(res)
}
