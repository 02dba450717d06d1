//! Forms: their definitions (what is asked), answers (what was given, checked
//! and normalised), how both are shown, and the order of their pages. (The
//! HTML fields of a question page are the web layer's: `pages::fields`.)

pub mod answers;
pub mod definition;

pub use answers::{Issue, Sealer};
pub use definition::{FormDefinition, Kind, Page, Question};
pub mod display;
pub mod navigation;
