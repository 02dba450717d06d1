//! Forms: their definitions (what is asked), answers (what was given, checked
//! and normalised), and how both are shown.

pub mod answers;
pub mod definition;

pub use answers::{Issue, Sealer};
pub use definition::{FormDefinition, Kind, Page, Question};
pub mod display;
pub mod html;
