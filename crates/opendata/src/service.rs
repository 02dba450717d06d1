//! The module's use cases, over its state ([`OpenData`]): changing the
//! catalogue with CKAN's validation rules, reading what the pages and the
//! protocol adapters need, API tokens, paper counts, the platform's own
//! datasets and the demo catalogue.
//!
//! Domain types in (records, CKAN dictionaries, [`crate::model::Actor`]),
//! domain results and errors out ([`error`]). A write opens its transaction,
//! calls the store inside it, appends the audit record, commits, and brings
//! this node's in-memory [`catalogue`] up to date. Nothing here knows HTTP.
//!
//! - `state`: the state; `catalogue`: the in-memory read model;
//! - `changes`: what every write shares; `datasets`, `resources` and
//!   `publishers`: the writes (and the owners' reads);
//! - `entities`: the NGSI entity sets; `tokens`; `paper`;
//! - `publishing`: the platform's own datasets, a job; `demo`: the demo load.

pub mod catalogue;
mod changes;
pub mod datasets;
pub mod demo;
pub mod entities;
pub mod error;
pub mod paper;
pub mod publishers;
pub mod publishing;
pub mod resources;
pub mod state;
pub mod tokens;

pub use catalogue::{Catalogue, Entry, Found};
pub use error::{PaperCountError, ReadError, TokenError, WriteError};
pub use state::{OpenData, site_url};
