//! The back office's SQL: [`inbox`] (the section's applications, filtered,
//! counted, paged), [`review`] (an application as staff read and change it,
//! read marks, colleagues), [`exports`] (applications a page at a time) and
//! [`notify`] (a notification's recipient). The approval tables are the
//! `approvals` crate's.

pub mod exports;
pub mod inbox;
pub mod notify;
pub mod review;
