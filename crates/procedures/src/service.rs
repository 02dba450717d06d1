//! The module's use cases, the same whichever page or API calls them:
//!
//! - [`state`]: the module's state (platform, catalogue index, form cache, writer);
//! - [`catalogue`]: the published catalogue in memory, procedures with their
//!   owners, adding procedures and publishing forms;
//! - [`applications`]: the resident's drafts, pages of answers, files, sending,
//!   withdrawing and discarding;
//! - [`writer`]: the group-commit submission writer;
//! - [`import`]: procedure bundles (TOML or JSON) with their forms;
//! - [`postal`]: addresses filled from postal codes (Japan Post's directory);
//! - [`profile`]: the resident's own details, prefilled into new applications
//!   with their consent.

pub mod applications;
pub mod catalogue;
pub mod import;
pub mod postal;
pub mod profile;
pub mod retention;
pub mod state;
pub mod writer;

pub use state::{FormCache, Procedures};
