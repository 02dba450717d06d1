//! The plans' use cases, shared by the pages and the JSON API (and, for
//! loading a plan file and importing an inventory, the command line and the
//! demo): domain types in, domain results and a domain error out, no HTTP.
//!
//! - [`state`]: the module's state ([`Plans`]);
//! - [`plans`]: the dashboard's plans, a plan or project with its figures,
//!   loading a plan file, roadmap entries and grades;
//! - [`kpis`]: a KPI with its targets, revisions and actuals (live ones
//!   computed), the KPI search, entering actuals, revising targets;
//! - [`inventory`]: the inventory import and its figures;
//! - [`metrics`]: the platform's figures a KPI can be bound to;
//! - [`error`]: [`PlansError`], [`EntryError`], [`PlanFileError`], [`ImportError`].

pub mod error;
pub mod inventory;
pub mod kpis;
pub mod metrics;
pub mod plans;
pub mod state;

pub use error::{EntryError, ImportError, PlanFileError, PlansError};
pub use state::Plans;
