//! Storage, SQL only, one file per family of tables: plans with what is
//! under them ([`plans`]), KPIs with their targets, revisions and actuals
//! ([`kpis`]), the procedure inventory ([`inventory`]), and the platform's own
//! figures KPIs can be bound to ([`metrics`]). Writes run in the transaction
//! the service gives them.

pub mod inventory;
pub mod kpis;
pub mod metrics;
pub mod plans;
