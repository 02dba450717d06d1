//! Every error response rendered once, in the requester's language: JSON
//! under `/api/`, an HTML page elsewhere, a redirect to the sign-in page for a
//! signed-out visitor (see [`crate::web::error`] for the rule).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Serialize;

use crate::Platform;
use crate::i18n::{Lang, Tr};
use crate::web::context::RequestContext;
use crate::web::error::{AppError, ErrorMarker, FieldError, Rendered};
use crate::web::page::PageCtx;
use crate::web::url::encode_component;

#[derive(Serialize)]
struct JsonError<'a> {
    error: JsonErrorBody<'a>,
}

#[derive(Serialize)]
struct JsonErrorBody<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    fields: &'a [FieldError],
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    ctx: PageCtx,
    title: String,
    message: String,
    fields: Vec<FieldError>,
}

/// Renders every error response (see the module docs).
pub async fn render_errors(State(platform): State<Platform>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let ctx = req.extensions().get::<RequestContext>().cloned();
    let is_api = path.starts_with("/api/");
    let res = next.run(req).await;
    if !(res.status().is_client_error() || res.status().is_server_error()) {
        return res;
    }
    // Responses that already carry a rendered body of ours pass through.
    if res.extensions().get::<Rendered>().is_some() {
        return res;
    }
    let marker = res.extensions().get::<ErrorMarker>().cloned();
    let status = res.status();
    let lang = ctx.as_ref().map(|c| c.lang).unwrap_or(Lang::Ja);
    let tr = Tr::new(platform.catalogue.clone(), lang);

    let error: Arc<AppError> = match marker {
        Some(ErrorMarker(e)) => e,
        None => Arc::new(match status {
            StatusCode::NOT_FOUND => AppError::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => AppError::BadRequest {
                code: "method_not_allowed",
                detail: None,
            },
            StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::BadRequest {
                code: "unsupported_media_type",
                detail: None,
            },
            StatusCode::UNAUTHORIZED => AppError::Unauthorized,
            StatusCode::FORBIDDEN => AppError::Forbidden { code: "forbidden" },
            StatusCode::TOO_MANY_REQUESTS => AppError::TooManyRequests,
            s if s.is_server_error() => {
                AppError::Internal(anyhow::anyhow!("{s} from a lower layer"))
            }
            _ => AppError::BadRequest {
                code: "bad_request",
                detail: None,
            },
        }),
    };
    // Keep the status of framework-generated errors (405 stays 405).
    let status = if matches!(
        &*error,
        AppError::BadRequest {
            code: "method_not_allowed",
            ..
        }
    ) {
        StatusCode::METHOD_NOT_ALLOWED
    } else {
        error.status()
    };
    if let AppError::Internal(e) = &*error {
        tracing::error!(path = %path, error = ?e, "internal error");
    }

    if !is_api
        && matches!(
            &*error,
            AppError::Forbidden {
                code: "password_change_required"
            }
        )
    {
        let next_param = encode_component(&path_and_query);
        return Redirect::to(&format!("/staff/password?next={next_param}")).into_response();
    }
    if !is_api
        && let AppError::Forbidden {
            code: code @ ("second_factor_required" | "mfa_enrolment_required"),
        } = &*error
    {
        let page = if *code == "mfa_enrolment_required" {
            "/staff/mfa"
        } else {
            "/staff/signin/code"
        };
        let next_param = encode_component(&path_and_query);
        return Redirect::to(&format!("{page}?next={next_param}")).into_response();
    }
    if !is_api && matches!(&*error, AppError::Unauthorized) {
        let signin = if path.starts_with("/staff") {
            "/staff/signin"
        } else {
            "/signin"
        };
        let next_param = encode_component(&path_and_query);
        return Redirect::to(&format!("{signin}?next={next_param}")).into_response();
    }

    let code = error.code();
    let message = tr.t(&format!("error.{code}")).to_string();
    let fields: &[FieldError] = match &*error {
        AppError::Validation { fields } => fields,
        _ => &[],
    };
    let detail = match &*error {
        AppError::BadRequest { detail, .. } => detail.as_deref(),
        _ => None,
    };
    let mut res = if is_api {
        let body = JsonError {
            error: JsonErrorBody {
                code,
                message,
                detail,
                fields,
            },
        };
        (status, axum::Json(body)).into_response()
    } else {
        let ctx = match ctx {
            Some(c) => PageCtx::anonymous(&platform, &c),
            None => PageCtx::bare(&platform, lang),
        };
        let page = ErrorPage {
            ctx,
            title: tr
                .t(&format!("error.title.{}", status.as_u16()))
                .to_string(),
            message,
            fields: fields.to_vec(),
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "error page failed to render");
                (status, "error").into_response()
            }
        }
    };
    res.extensions_mut().insert(Rendered);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    }
    res
}
