//! Reading an action's parameters, whatever the encoding: GET with
//! (repeated) query keys; POST with a JSON body, form fields, a form whose
//! single key is JSON, or multipart (with a file in `upload`). Bodies are
//! read up to a limit, and a longer one is drained so the client reads the
//! answer.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{Method, StatusCode, header};
use serde_json::{Map, Value};

use crate::model::Upload;

/// A request's parameters, whatever the encoding, and its file.
#[derive(Debug, Default)]
pub(super) struct Params {
    pub data: Map<String, Value>,
    pub upload: Option<Upload>,
}

/// A parsing failure.
pub(super) enum ParseError {
    TooLarge,
    Bad(String),
}

fn push_pair(data: &mut Map<String, Value>, k: String, v: String) {
    match data.get_mut(&k) {
        Some(Value::Array(list)) => list.push(Value::String(v)),
        Some(old) => {
            let first = old.take();
            *old = Value::Array(vec![first, Value::String(v)]);
        }
        None => {
            data.insert(k, Value::String(v));
        }
    }
}

fn pairs(bytes: &[u8]) -> Map<String, Value> {
    let mut data = Map::new();
    for (k, v) in form_urlencoded::parse(bytes) {
        push_pair(&mut data, k.into_owned(), v.into_owned());
    }
    data
}

pub(super) async fn parse_request(req: Request, upload_limit: usize) -> Result<Params, ParseError> {
    let query = req
        .uri()
        .query()
        .map(|q| pairs(q.as_bytes()))
        .unwrap_or_default();
    if req.method() == Method::GET || req.method() == Method::HEAD {
        return Ok(Params {
            data: query,
            upload: None,
        });
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut params = if content_type.starts_with("multipart/form-data") {
        parse_multipart(req, upload_limit).await?
    } else {
        let body = read_body(req.into_body(), upload_limit.saturating_add(1 << 20)).await?;
        if content_type.starts_with("application/x-www-form-urlencoded") {
            let mut data = pairs(&body);
            // A form whose single key is a JSON document (old clients post that way).
            if data.len() == 1
                && let Some((k, v)) = data.iter().next()
                && v.as_str().is_some_and(str::is_empty)
                && let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(k)
            {
                data = obj;
            }
            Params { data, upload: None }
        } else if body.iter().all(u8::is_ascii_whitespace) {
            Params::default()
        } else {
            // JSON (whatever the content type says, as CKAN does).
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(obj)) => Params {
                    data: obj,
                    upload: None,
                },
                Ok(_) => {
                    return Err(ParseError::Bad(
                        "Bad request - JSON Error: Request data JSON decoded to non-dict".into(),
                    ));
                }
                Err(e) => {
                    return Err(ParseError::Bad(format!(
                        "Bad request - JSON Error: Invalid request body: {e}"
                    )));
                }
            }
        }
    };
    for (k, v) in query {
        params.data.entry(k).or_insert(v);
    }
    Ok(params)
}

/// Reads a whole body up to `cap` bytes. A longer body is still read to its
/// end (up to a hard bound), so the client can read our answer instead of
/// seeing its connection reset.
async fn read_body(body: axum::body::Body, cap: usize) -> Result<Bytes, ParseError> {
    use futures_util::StreamExt;
    let drain_bound = cap.saturating_mul(4).saturating_add(64 << 20);
    let mut stream = body.into_data_stream();
    let mut buf: Vec<u8> = Vec::new();
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ParseError::Bad(format!("Bad request - {e}")))?;
        total = total.saturating_add(chunk.len());
        if total <= cap {
            buf.extend_from_slice(&chunk);
        } else if total > drain_bound {
            break;
        }
    }
    if total > cap {
        return Err(ParseError::TooLarge);
    }
    Ok(Bytes::from(buf))
}

/// Reads a body to its end (up to a bound) and drops it.
pub(super) async fn drain(body: axum::body::Body, bound: usize) {
    use futures_util::StreamExt;
    let mut stream = body.into_data_stream();
    let mut total = 0usize;
    while let Some(Ok(chunk)) = stream.next().await {
        total = total.saturating_add(chunk.len());
        if total > bound {
            break;
        }
    }
}

async fn parse_multipart(req: Request, upload_limit: usize) -> Result<Params, ParseError> {
    let (parts, body) = req.into_parts();
    // The file plus a little room for the other fields and the boundaries.
    let body = read_body(body, upload_limit.saturating_add(256 << 10)).await?;
    let req = Request::from_parts(parts, axum::body::Body::from(body));
    let mut multipart = Multipart::from_request(req, &())
        .await
        .map_err(|e| ParseError::Bad(format!("Bad request - {}", e.body_text())))?;
    let mut params = Params::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return Err(if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ParseError::TooLarge
                } else {
                    ParseError::Bad(format!("Bad request - {}", e.body_text()))
                });
            }
        };
        let name = field.name().unwrap_or("").to_string();
        let filename = field.file_name().map(str::to_string);
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return Err(if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ParseError::TooLarge
                } else {
                    ParseError::Bad(format!("Bad request - {}", e.body_text()))
                });
            }
        };
        match filename {
            Some(filename) if name == "upload" || !bytes.is_empty() => {
                if filename.is_empty() && bytes.is_empty() {
                    continue;
                }
                if bytes.len() > upload_limit {
                    return Err(ParseError::TooLarge);
                }
                params.upload = Some(Upload {
                    filename,
                    bytes: bytes.into(),
                });
            }
            _ => push_pair(
                &mut params.data,
                name,
                String::from_utf8_lossy(&bytes).into_owned(),
            ),
        }
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn repeated_keys_become_lists() {
        let m = pairs(b"facet.field=tags&facet.field=res_format&q=%E5%85%AC%E5%9C%92");
        assert_eq!(m["facet.field"], json!(["tags", "res_format"]));
        assert_eq!(m["q"], json!("公園"));
    }
}
