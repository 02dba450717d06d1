//! A read-only NGSI-v2 API over the standard datasets, compatible with
//! FIWARE Orion's, so smart-city platforms and NGSI clients can read a
//! local government's published tables as context entities.
//!
//! Each row of a validated table becomes an entity
//! ([`crate::entities::entities_from_table`]); entities are grouped in
//! sets, each with the tenant (`Fiware-Service`) and service path
//! (`Fiware-ServicePath`) it is served under. A [`Provider`] gives the
//! current sets; [`router`] serves them:
//!
//! - `GET /version`, `GET /v2` (entry points)
//! - `GET /v2/entities` with `id`, `idPattern`, `type`, `typePattern`, `q`,
//!   `mq`, `georel`/`geometry`/`coords`, `attrs`, `limit`, `offset`,
//!   `orderBy` and `options` (`count`, `keyValues`, `values`, `unique`)
//! - `GET /v2/entities/{id}`, `…/attrs`, `…/attrs/{name}`,
//!   `…/attrs/{name}/value`
//! - `GET /v2/types`, `GET /v2/types/{type}`
//! - `GET /v2/subscriptions`, `GET /v2/registrations` (always empty)
//!
//! Errors have Orion's shape (`{"error": "BadRequest", "description":
//! …}`) and, where Orion has one, its description text. Other methods get
//! 405; unknown paths under `/v2` get Orion's 400 "service not found".
//! Regular expressions (`idPattern`, `typePattern`, `~=`) are run by a
//! small automaton without backtracking, so no pattern can make a request
//! slow.
//!
//! # Modules
//!
//! The adapter is web layer: it decodes Orion's requests, filters the sets
//! its [`Provider`] gives and encodes Orion's answers. The query language
//! (`query`, `geo`, `order`, `pattern`) lives here because only this
//! adapter needs it; the entities themselves are domain
//! ([`crate::entities`]), built by the catalogue's service.
//! `request` and `response` read requests and write answers, `routes`
//! holds the handlers, `render` Orion's representations of an entity, and
//! `source` is the provider this module serves: the catalogue's service.

mod geo;
mod order;
mod pattern;
mod query;
mod render;
mod request;
mod response;
mod routes;
mod source;

#[cfg(test)]
mod tests;

pub use request::{DEFAULT_LIMIT, MAX_LIMIT};
pub use routes::{ORION_COMPAT_VERSION, Provider, router};
pub use source::NgsiSource;
