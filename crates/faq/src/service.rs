//! The FAQ's use cases, shared by the pages and the JSON API (and, for the
//! import, the command line and the demo): domain types in, domain results
//! and a domain error out, no HTTP.
//!
//! - [`state`]: the module's state ([`Faq`]: the platform and the engine);
//! - [`engine`]: keeps the index current on every node and answers;
//! - [`ask`]: answering a question (and logging it), an entry as residents
//!   see it, feedback, the coverage of the business areas;
//! - [`entries`]: the staff's entries, their versions, import and export;
//! - [`unanswered`]: the questions not answered well, grouped, and an entry
//!   published for a group;
//! - [`error`]: [`AskError`] and [`EntryError`].

pub mod ask;
pub mod engine;
pub mod entries;
pub mod error;
pub mod state;
pub mod unanswered;

pub use engine::{Engine, EngineConfig};
pub use error::{AskError, EntryError};
pub use state::Faq;
