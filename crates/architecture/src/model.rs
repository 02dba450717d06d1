//! What the checker reads a workspace into: crates, their modules and what
//! each refers to, module ids and layers, edges and broken rules.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::PathBuf;

/// A module: its crate's directory name and its path inside the crate
/// (empty for the crate root).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleId {
    pub krate: String,
    pub path: Vec<String>,
}

impl fmt::Display for ModuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}::(root)", self.krate)
        } else {
            write!(f, "{}::{}", self.krate, self.path.join("::"))
        }
    }
}

/// Where a module sits in the three layers of a feature crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layer {
    /// Types and pure logic: no I/O, no HTTP.
    Domain,
    /// SQL only.
    Store,
    /// Use cases: domain types in, domain results and errors out.
    Service,
    /// Pages, JSON API and protocol adapters: extract, call a service, render.
    Web,
    /// `lib.rs`: declares the modules, builds the state and the router.
    Root,
}

impl Layer {
    /// The layers a module of this layer may use, in its own crate.
    pub(crate) fn may_use(self, other: Layer) -> bool {
        use Layer::*;
        match self {
            Root => true,
            Web => matches!(other, Web | Service | Domain),
            Service => matches!(other, Service | Store | Domain),
            Store => matches!(other, Store | Domain),
            Domain => matches!(other, Domain),
        }
    }
}

/// What a crate is, for the rules.
#[derive(Debug, Clone)]
pub struct CrateKind {
    /// A feature crate has the three layers.
    pub feature: bool,
    /// First path segments that are protocol adapters (web layer) besides
    /// `pages`, `api` and `web`.
    pub adapters: Vec<String>,
}

/// One parsed module.
#[derive(Debug, Default)]
pub struct Module {
    pub file: PathBuf,
    /// Everything the module refers to, as written (absolute or relative).
    pub(crate) refs: Vec<Reference>,
    /// `pub use` entries: the name they export and the path they point at.
    pub(crate) reexports: Vec<Reexport>,
    /// The names of items defined in the module.
    pub(crate) defined: BTreeSet<String>,
    /// Local names brought in by `use` (alias → path as written).
    pub(crate) aliases: HashMap<String, Vec<String>>,
    /// Paths to external crates (first segment not in the workspace).
    pub external: BTreeSet<String>,
    /// `.pool()` or `sqlx::query` appears outside test code.
    pub runs_sql: bool,
    /// The module's child modules (`mod x;`).
    pub(crate) children: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Reference {
    pub(crate) segments: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Reexport {
    /// `None` for a glob (`pub use x::*`).
    pub(crate) name: Option<String>,
    pub(crate) segments: Vec<String>,
}

/// A crate of the workspace.
#[derive(Debug)]
pub struct Crate {
    /// The directory name under `crates/`.
    pub dir: String,
    /// The name other crates use for it (`[lib] name`, or the dependency key).
    pub lib_name: String,
    pub kind: CrateKind,
    pub modules: BTreeMap<Vec<String>, Module>,
    /// The names this crate gives the workspace crates it depends on: local
    /// name → directory.
    pub deps: HashMap<String, String>,
}

/// The whole workspace.
#[derive(Debug)]
pub struct Workspace {
    pub crates: BTreeMap<String, Crate>,
}

/// An edge of the module graph, with the path that made it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub from: ModuleId,
    pub to: ModuleId,
    pub via: String,
}

/// A broken rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    pub rule: &'static str,
    pub detail: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.rule, self.detail)
    }
}

/// An error reading the workspace.
#[derive(Debug)]
pub struct ReadError(pub String);

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReadError {}
