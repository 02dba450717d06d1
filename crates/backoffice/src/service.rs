//! The back office's use cases, the same for the staff pages and the staff API:
//!
//! - [`state`]: the module's state;
//! - [`inbox`]: the section's applications, filtered, counted, paged;
//! - [`review`]: opening an application and acting on it (review, correction
//!   request, decisions through the approval route of the `approvals` crate);
//! - [`section`]: the section's procedures and their approval routes, colleagues;
//! - [`exports`]: CSV, `.xlsx` and the grouped workbook;
//! - [`notify`]: e-mails to residents from the outbox.

pub mod exports;
pub mod inbox;
pub mod notify;
pub mod review;
pub mod section;
pub mod state;

pub use state::Backoffice;
