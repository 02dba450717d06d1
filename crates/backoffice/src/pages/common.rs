//! What several staff pages show the same way.

/// A choice in a select list or a set of radios.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}
