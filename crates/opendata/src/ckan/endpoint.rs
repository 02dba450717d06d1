//! The Action API's endpoint (`/api/3/action/{name}`, `/api/action/{name}`):
//! finds the action, checks the method and the token, reads the
//! parameters, runs the action and answers in CKAN's envelope.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::actions::ACTIONS;
use super::call::Call;
use super::error::CkanError;
use super::request::{ParseError, drain, parse_request};
use crate::model::Actor;
use crate::service::{self, OpenData};
use crate::web::{lang_of, rendered, token_of};

/// The Action API's routes; request bodies up to a file of
/// `upload_limit` bytes and a little more.
pub fn router(upload_limit: usize) -> Router<OpenData> {
    let limit = upload_limit.saturating_add(1 << 20);
    Router::new()
        .route("/api/3/action/{name}", get(action).post(action))
        .route("/api/action/{name}", get(action).post(action))
        .layer(DefaultBodyLimit::max(limit))
}

/// Who is calling: a token's local government, or nobody.
async fn actor_of(state: &OpenData, headers: &HeaderMap) -> Result<Option<Actor>, CkanError> {
    let Some(token) = token_of(headers) else {
        return Ok(None);
    };
    Ok(service::tokens::actor(&state.platform.db, &token).await?)
}

fn help_url(state: &OpenData, action: &str) -> String {
    format!(
        "{}/api/3/action/help_show?name={action}",
        state.catalogue.site_url()
    )
}

fn envelope(state: &OpenData, action: &str, result: Result<Value, CkanError>) -> Response {
    let help = help_url(state, action);
    let (status, body) = match result {
        Ok(result) => (
            StatusCode::OK,
            json!({"help": help, "success": true, "result": result}),
        ),
        Err(CkanError::BadRequest(message)) => {
            return rendered(
                (StatusCode::BAD_REQUEST, axum::Json(Value::String(message))).into_response(),
            );
        }
        Err(e) => {
            let (status, error) = match e {
                CkanError::NotFound(m) => (
                    StatusCode::NOT_FOUND,
                    json!({"__type": "Not Found Error", "message": m}),
                ),
                CkanError::Authorization(m) => (
                    StatusCode::FORBIDDEN,
                    json!({"__type": "Authorization Error", "message": m}),
                ),
                CkanError::Validation(mut fields) => {
                    fields.insert("__type".into(), json!("Validation Error"));
                    (StatusCode::CONFLICT, Value::Object(fields))
                }
                CkanError::SearchQuery(m) => (
                    StatusCode::BAD_REQUEST,
                    json!({"__type": "Search Query Error", "message": format!("Search Query is invalid: {m}")}),
                ),
                CkanError::Internal | CkanError::BadRequest(_) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"__type": "Internal Server Error", "message": "Internal Server Error"}),
                ),
            };
            (
                status,
                json!({"help": help, "success": false, "error": error}),
            )
        }
    };
    rendered((status, axum::Json(body)).into_response())
}

/// `GET|POST /api/3/action/{name}` and `/api/action/{name}`.
async fn action(State(state): State<OpenData>, Path(name): Path<String>, req: Request) -> Response {
    let headers = req.headers().clone();
    let lang = lang_of(&req);
    let Some(handler) = ACTIONS.iter().find(|(n, _)| *n == name) else {
        return rendered(
            (
                StatusCode::BAD_REQUEST,
                axum::Json(Value::String(format!(
                    "Bad request - Action name not known: {name}"
                ))),
            )
                .into_response(),
        );
    };
    let writes = WRITE_ACTIONS.contains(&name.as_str());
    if writes && req.method() != Method::POST {
        return rendered(
            (
                StatusCode::BAD_REQUEST,
                axum::Json(Value::String(format!(
                    "Bad request - Action {name} changes data: use POST"
                ))),
            )
                .into_response(),
        );
    }
    let actor = match actor_of(&state, &headers).await {
        Ok(a) => a,
        Err(e) => return envelope(&state, &name, Err(e)),
    };
    if writes && actor.is_none() {
        // Refused before the body is read: at most a small JSON body's worth
        // is read and dropped (so that a client sending one reads this answer
        // instead of a reset connection); a larger body is not read at all and
        // the connection is closed after the answer.
        drain(req.into_body(), ANONYMOUS_DRAIN).await;
        let mut res = envelope(
            &state,
            &name,
            Err(CkanError::Authorization(format!(
                "Action {name} requires an authenticated user"
            ))),
        );
        res.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return res;
    }
    // Files only come with resource_create/update/patch; other bodies are small.
    let limit = if matches!(
        name.as_str(),
        "resource_create" | "resource_update" | "resource_patch"
    ) {
        state.upload_limit
    } else {
        JSON_LIMIT.min(state.upload_limit)
    };
    let params = match parse_request(req, limit).await {
        Ok(p) => p,
        Err(ParseError::TooLarge) => {
            return envelope(
                &state,
                &name,
                Err(CkanError::validation("upload", "File upload too large")),
            );
        }
        Err(ParseError::Bad(m)) => return envelope(&state, &name, Err(CkanError::BadRequest(m))),
    };
    if let Err(e) = state.catalogue.current().await {
        // Answer from the copy this node has; the next request tries again.
        tracing::warn!(error = %e, "checking the catalogue's generation failed");
    }
    let call = Call {
        state: &state,
        actor: actor.as_ref(),
        params,
        lang,
    };
    let result = (handler.1)(call).await;
    envelope(&state, &name, result)
}

/// The actions that change data: POST only, and never without a token.
const WRITE_ACTIONS: &[&str] = &[
    "package_create",
    "package_update",
    "package_patch",
    "package_delete",
    "resource_create",
    "resource_update",
    "resource_patch",
    "resource_delete",
    "organization_create",
    "organization_update",
    "organization_patch",
    "group_create",
];

/// The most of an anonymous write's body that is read before its 403.
const ANONYMOUS_DRAIN: usize = 64 << 10;

/// The largest request body other than a file upload.
const JSON_LIMIT: usize = 8 << 20;
