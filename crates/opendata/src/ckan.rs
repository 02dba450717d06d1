//! CKAN's Action API v3 (`/api/3/action/{name}` and `/api/action/{name}`), as
//! real clients use it: ckanapi, CKAN's harvester, the CADDE connector.
//!
//! Requests: GET with (repeated) query keys; POST with a JSON body, form
//! fields, a form whose single key is JSON, or multipart (with a file in
//! `upload`). Answers: CKAN's envelope `{"help", "success", "result"}`, and
//! errors with CKAN's status codes and `__type` strings, which clients branch
//! on. Tokens: `Authorization: <token>`, `Authorization: Bearer <token>` or
//! `X-CKAN-API-Key`.
//!
//! A protocol adapter of the web layer: it decodes an action's parameters,
//! calls the catalogue's service (or reads its in-memory catalogue) and
//! encodes the result; the service's errors become CKAN's error classes
//! here. `endpoint` is the route, `request` reads parameters, `call` holds
//! one call, `actions` lists the actions, `datasets`, `groups` and
//! `writes` implement them, `error` holds CKAN's error classes.

mod actions;
mod call;
mod datasets;
mod endpoint;
mod error;
mod groups;
mod request;
mod writes;

pub use actions::CKAN_VERSION;
pub use endpoint::router;
pub use error::CkanError;
