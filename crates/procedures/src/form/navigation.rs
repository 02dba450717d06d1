//! The order of a form's pages for given answers: which pages are shown
//! (conditions on earlier answers hide some), the first, the next and the
//! previous one, and the page a field belongs to.

use serde_json::{Map, Value};

use crate::form::answers::page_visible;
use crate::form::definition::{FormDefinition, Page};

/// The pages shown for `answers`, in order.
pub fn visible_pages<'a>(def: &'a FormDefinition, answers: &Map<String, Value>) -> Vec<&'a Page> {
    def.pages
        .iter()
        .filter(|p| page_visible(p, answers))
        .collect()
}

pub fn first_page<'a>(def: &'a FormDefinition, answers: &Map<String, Value>) -> Option<&'a Page> {
    def.pages.iter().find(|p| page_visible(p, answers))
}

/// The next shown page after `after`.
pub fn next_page<'a>(
    def: &'a FormDefinition,
    after: &str,
    answers: &Map<String, Value>,
) -> Option<&'a Page> {
    let i = def.page_index(after)?;
    def.pages
        .iter()
        .skip(i + 1)
        .find(|p| page_visible(p, answers))
}

/// The shown page before `before`.
pub fn prev_page<'a>(
    def: &'a FormDefinition,
    before: &str,
    answers: &Map<String, Value>,
) -> Option<&'a Page> {
    let i = def.page_index(before)?;
    def.pages
        .iter()
        .take(i)
        .rev()
        .find(|p| page_visible(p, answers))
}

/// The page holding the question a field belongs to.
pub fn page_of_field<'a>(def: &'a FormDefinition, field: &str) -> Option<&'a Page> {
    let top = field.split('.').next()?;
    def.pages
        .iter()
        .find(|p| p.questions.iter().any(|q| q.id == top))
}
