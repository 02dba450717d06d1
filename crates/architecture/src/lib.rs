//! The workspace's module structure, read from the source and checked.
//!
//! Every `.rs` file under a crate's `src/` is a module. The checker parses
//! each one with `syn` and records what it refers to: its `use` declarations
//! and every path that starts at `crate`, `super`, `self`, an alias one of its
//! `use` declarations brought in, a child module, or another crate of the
//! workspace (inside macro calls too). Re-exports (`pub use`) are followed to
//! the module that defines the item, so `crate::Backoffice` is an edge to the
//! module where `Backoffice` is written, not to `lib.rs`. Test code
//! (`#[cfg(test)]`) is left out: tests may reach anything.
//!
//! On that graph, [`check`] enforces the rules `docs/ARCHITECTURE.md` states:
//! - no two modules of a crate import each other, directly or in a ring;
//! - in a feature crate, each module belongs to a layer (by its first path
//!   segment): `store` (SQL only), `service` (use cases), web (`pages`, `api`,
//!   `web` and the crate's protocol adapters), the crate root (wiring), or the
//!   domain (everything else: types and pure logic). A layer may use only the
//!   layers below it: web → service → store → domain;
//! - services, stores and domain modules use no HTTP or template types
//!   (`axum`, `askama`, `http`, `tower`, `platform::web`);
//! - web modules never reach the database (`sqlx`, `.pool()`), and no module
//!   outside a store runs SQL;
//! - no crate imports another feature crate's web layer.

#![allow(
    clippy::indexing_slicing,
    reason = "a development check run by `cargo test`, not request handling: the indices are node numbers of the graph it builds (0..n) and segment positions checked against the length first; a panic fails the check"
)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

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
    fn may_use(self, other: Layer) -> bool {
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
    refs: Vec<Reference>,
    /// `pub use` entries: the name they export and the path they point at.
    reexports: Vec<Reexport>,
    /// The names of items defined in the module.
    defined: BTreeSet<String>,
    /// Local names brought in by `use` (alias → path as written).
    aliases: HashMap<String, Vec<String>>,
    /// Paths to external crates (first segment not in the workspace).
    pub external: BTreeSet<String>,
    /// `.pool()` or `sqlx::query` appears outside test code.
    pub runs_sql: bool,
    /// The module's child modules (`mod x;`).
    children: BTreeSet<String>,
}

#[derive(Debug, Clone)]
struct Reference {
    segments: Vec<String>,
}

#[derive(Debug, Clone)]
struct Reexport {
    /// `None` for a glob (`pub use x::*`).
    name: Option<String>,
    segments: Vec<String>,
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

/// Reads every crate under `root/crates`. `kinds` says which crates are
/// feature crates and their adapters; crates not named are not feature crates.
pub fn read_workspace(
    root: &Path,
    kinds: &HashMap<String, CrateKind>,
) -> Result<Workspace, ReadError> {
    let crates_dir = root.join("crates");
    let mut crates = BTreeMap::new();
    let entries =
        std::fs::read_dir(&crates_dir).map_err(|e| ReadError(format!("{crates_dir:?}: {e}")))?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))
            .map_err(|e| ReadError(format!("{dir:?}: {e}")))?;
        let manifest: toml::Table =
            toml::from_str(&manifest).map_err(|e| ReadError(format!("{dir:?}: {e}")))?;
        let package = manifest
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
            .unwrap_or(&name)
            .to_string();
        let lib_name = manifest
            .get("lib")
            .and_then(|l| l.get("name"))
            .and_then(|n| n.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| package.replace('-', "_"));
        let mut deps = HashMap::new();
        if let Some(table) = manifest.get("dependencies").and_then(|d| d.as_table()) {
            for (key, spec) in table {
                if let Some(path) = spec.get("path").and_then(|p| p.as_str()) {
                    let target = Path::new(path)
                        .file_name()
                        .and_then(|n| n.to_str())
                        .unwrap_or_default()
                        .to_string();
                    deps.insert(key.replace('-', "_"), target);
                }
            }
        }
        let src = dir.join("src");
        let root_file = if src.join("lib.rs").is_file() {
            src.join("lib.rs")
        } else {
            src.join("main.rs")
        };
        let mut modules = BTreeMap::new();
        read_module(&root_file, Vec::new(), &mut modules)?;
        for m in modules.values_mut() {
            if let Ok(rel) = m.file.strip_prefix(root) {
                m.file = rel.to_path_buf();
            }
        }
        let kind = kinds.get(&name).cloned().unwrap_or(CrateKind {
            feature: false,
            adapters: Vec::new(),
        });
        crates.insert(
            name.clone(),
            Crate {
                dir: name,
                lib_name,
                kind,
                modules,
                deps,
            },
        );
    }
    Ok(Workspace { crates })
}

fn read_module(
    file: &Path,
    path: Vec<String>,
    out: &mut BTreeMap<Vec<String>, Module>,
) -> Result<(), ReadError> {
    let text = std::fs::read_to_string(file).map_err(|e| ReadError(format!("{file:?}: {e}")))?;
    let parsed = syn::parse_file(&text).map_err(|e| ReadError(format!("{file:?}: {e}")))?;
    let mut module = Module {
        file: file.to_path_buf(),
        ..Default::default()
    };
    let mut collector = Collector {
        module: &mut module,
        depth: 0,
    };
    for item in &parsed.items {
        collector.item(item);
    }
    let children: Vec<String> = module.children.iter().cloned().collect();
    out.insert(path.clone(), module);
    // Children live in `<dir>/<name>.rs` or `<dir>/<name>/mod.rs`, where
    // <dir> is the file's directory for `lib.rs`, `main.rs` and `mod.rs`,
    // and `<stem>/` beside the file otherwise.
    let dir = match file.file_name().and_then(|n| n.to_str()) {
        Some("lib.rs" | "main.rs" | "mod.rs") => file.parent().map(Path::to_path_buf),
        _ => file.parent().zip(file.file_stem()).map(|(p, s)| p.join(s)),
    }
    .unwrap_or_default();
    for child in children {
        let flat = dir.join(format!("{child}.rs"));
        let nested = dir.join(&child).join("mod.rs");
        let child_file = if flat.is_file() { flat } else { nested };
        let mut child_path = path.clone();
        child_path.push(child);
        read_module(&child_file, child_path, out)?;
    }
    Ok(())
}

fn is_test_cfg(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg") && {
            let tokens = a
                .meta
                .require_list()
                .map(|l| l.tokens.to_string())
                .unwrap_or_default();
            tokens
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|w| w == "test")
                && !tokens.contains("not")
        }
    }) || attrs.iter().any(|a| a.path().is_ident("test"))
}

fn has_attr(attrs: &[syn::Attribute], name: &str) -> bool {
    attrs.iter().any(|a| a.path().is_ident(name))
}

struct Collector<'a> {
    module: &'a mut Module,
    /// Nesting inside function bodies and inline modules: `use` there does
    /// not re-export.
    depth: usize,
}

impl Collector<'_> {
    fn item(&mut self, item: &syn::Item) {
        let attrs: &[syn::Attribute] = match item {
            syn::Item::Const(i) => &i.attrs,
            syn::Item::Enum(i) => &i.attrs,
            syn::Item::Fn(i) => &i.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Macro(i) => &i.attrs,
            syn::Item::Mod(i) => &i.attrs,
            syn::Item::Static(i) => &i.attrs,
            syn::Item::Struct(i) => &i.attrs,
            syn::Item::Trait(i) => &i.attrs,
            syn::Item::Type(i) => &i.attrs,
            syn::Item::Union(i) => &i.attrs,
            syn::Item::Use(i) => &i.attrs,
            _ => &[],
        };
        if is_test_cfg(attrs) {
            return;
        }
        match item {
            syn::Item::Mod(m) => {
                if self.depth == 0 {
                    self.module.defined.insert(m.ident.to_string());
                }
                match &m.content {
                    None if self.depth == 0 => {
                        self.module.children.insert(m.ident.to_string());
                    }
                    None => {}
                    Some((_, items)) => {
                        self.depth += 1;
                        for i in items {
                            self.item(i);
                        }
                        self.depth -= 1;
                    }
                }
            }
            syn::Item::Use(u) => self.use_item(u),
            syn::Item::Macro(m) => {
                if let Some(ident) = &m.ident
                    && has_attr(&m.attrs, "macro_export")
                {
                    self.module.defined.insert(format!("{ident}!"));
                }
                self.tokens(m.mac.tokens.clone());
            }
            other => {
                if self.depth == 0 {
                    let ident = match other {
                        syn::Item::Const(i) => Some(&i.ident),
                        syn::Item::Enum(i) => Some(&i.ident),
                        syn::Item::Fn(i) => Some(&i.sig.ident),
                        syn::Item::Static(i) => Some(&i.ident),
                        syn::Item::Struct(i) => Some(&i.ident),
                        syn::Item::Trait(i) => Some(&i.ident),
                        syn::Item::Type(i) => Some(&i.ident),
                        syn::Item::Union(i) => Some(&i.ident),
                        _ => None,
                    };
                    if let Some(i) = ident {
                        self.module.defined.insert(i.to_string());
                    }
                }
                self.depth += 1;
                let mut v = PathVisitor { c: self };
                v.visit_item(other);
                self.depth -= 1;
            }
        }
    }

    fn use_item(&mut self, u: &syn::ItemUse) {
        let public = !matches!(u.vis, syn::Visibility::Inherited) && self.depth == 0;
        let mut flat = Vec::new();
        flatten_use(&u.tree, Vec::new(), &mut flat);
        for (segments, name) in flat {
            match &name {
                Some(alias) => {
                    self.module.aliases.insert(alias.clone(), segments.clone());
                }
                None => {}
            }
            if public {
                self.module.reexports.push(Reexport {
                    name: name.clone(),
                    segments: segments.clone(),
                });
            }
            self.module.refs.push(Reference { segments });
        }
    }

    fn path(&mut self, segments: Vec<String>) {
        if segments.is_empty() {
            return;
        }
        if segments.len() >= 2 && segments[0] == "sqlx" && segments[1].starts_with("query") {
            self.module.runs_sql = true;
        }
        self.module.refs.push(Reference { segments });
    }

    /// Paths inside a macro call: `a::b::c` sequences of identifiers.
    fn tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(g) => {
                    self.tokens(g.stream());
                    i += 1;
                }
                TokenTree::Ident(id) => {
                    let mut segments = vec![id.to_string()];
                    let mut j = i + 1;
                    while j + 2 < trees.len() + 1 {
                        let colons = matches!(
                            (trees.get(j), trees.get(j + 1)),
                            (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                                if a.as_char() == ':' && b.as_char() == ':'
                        );
                        match (colons, trees.get(j + 2)) {
                            (true, Some(TokenTree::Ident(next))) => {
                                segments.push(next.to_string());
                                j += 3;
                            }
                            _ => break,
                        }
                    }
                    // `.pool()` inside a macro.
                    if segments.len() == 1
                        && segments[0] == "pool"
                        && i > 0
                        && matches!(&trees[i - 1], TokenTree::Punct(p) if p.as_char() == '.')
                        && matches!(trees.get(i + 1), Some(TokenTree::Group(g)) if g.stream().is_empty())
                    {
                        self.module.runs_sql = true;
                    }
                    if segments.len() > 1 {
                        self.path(segments);
                    }
                    i = j.max(i + 1);
                }
                _ => i += 1,
            }
        }
    }
}

fn flatten_use(
    tree: &syn::UseTree,
    prefix: Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>)>,
) {
    match tree {
        syn::UseTree::Path(p) => {
            let mut next = prefix;
            next.push(p.ident.to_string());
            flatten_use(&p.tree, next, out);
        }
        syn::UseTree::Name(n) => {
            let name = n.ident.to_string();
            let mut segments = prefix;
            if name == "self" {
                let alias = segments.last().cloned();
                out.push((segments, alias));
            } else {
                segments.push(name.clone());
                out.push((segments, Some(name)));
            }
        }
        syn::UseTree::Rename(r) => {
            let mut segments = prefix;
            if r.ident != "self" {
                segments.push(r.ident.to_string());
            }
            let alias = r.rename.to_string();
            out.push((segments, (alias != "_").then_some(alias)));
        }
        syn::UseTree::Glob(_) => out.push((prefix, None)),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                flatten_use(t, prefix.clone(), out);
            }
        }
    }
}

struct PathVisitor<'a, 'b> {
    c: &'a mut Collector<'b>,
}

impl<'ast> Visit<'ast> for PathVisitor<'_, '_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        match item {
            syn::Item::Use(u) => self.c.use_item(u),
            syn::Item::Mod(_) | syn::Item::Macro(_) => self.c.item(item),
            _ => {
                let attrs: &[syn::Attribute] = match item {
                    syn::Item::Fn(i) => &i.attrs,
                    syn::Item::Impl(i) => &i.attrs,
                    syn::Item::Const(i) => &i.attrs,
                    syn::Item::Struct(i) => &i.attrs,
                    syn::Item::Enum(i) => &i.attrs,
                    _ => &[],
                };
                if !is_test_cfg(attrs) {
                    syn::visit::visit_item(self, item);
                }
            }
        }
    }
    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_test_cfg(&f.attrs) {
            syn::visit::visit_impl_item_fn(self, f);
        }
    }
    // `pub(crate)` and `pub(super)` name modules, but are not uses of them.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}
    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        self.c.path(segments);
        syn::visit::visit_path(self, p);
    }
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        let mut segments: Vec<String> = m
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        if let Some(last) = segments.last_mut() {
            last.push('!');
        }
        if segments.len() > 1 {
            self.c.path(segments);
        }
        self.c.tokens(m.tokens.clone());
    }
    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        if m.method == "pool" && m.args.is_empty() {
            self.c.module.runs_sql = true;
        }
        syn::visit::visit_expr_method_call(self, m);
    }
}

/// What a reference resolved to.
enum Target {
    /// A module of the workspace.
    Module(ModuleId),
    /// A crate outside the workspace (`axum`, `std` …), with the full path.
    External(Vec<String>),
    /// Something local to the module (a local item, a prelude name).
    Local,
}

impl Workspace {
    /// The module `path` of crate `krate`, if there is one.
    fn module(&self, krate: &str, path: &[String]) -> Option<&Module> {
        self.crates.get(krate)?.modules.get(path)
    }

    /// Resolves `segments`, written in module `at`.
    fn resolve(&self, at: &ModuleId, segments: &[String], depth: usize) -> Target {
        if depth > 16 || segments.is_empty() {
            return Target::Local;
        }
        let Some(krate) = self.crates.get(&at.krate) else {
            return Target::Local;
        };
        let first = segments[0].as_str();
        match first {
            "crate" => self.resolve_in(&at.krate, Vec::new(), &segments[1..], depth),
            "self" => self.resolve_in(&at.krate, at.path.clone(), &segments[1..], depth),
            "super" => {
                let mut base = at.path.clone();
                let mut rest = segments;
                while rest.first().map(String::as_str) == Some("super") {
                    base.pop();
                    rest = &rest[1..];
                }
                self.resolve_in(&at.krate, base, rest, depth)
            }
            _ => {
                let module = self.module(&at.krate, &at.path);
                // A child module of this one.
                if module.is_some_and(|m| m.children.contains(first)) {
                    let mut base = at.path.clone();
                    base.push(first.to_string());
                    return self.resolve_in(&at.krate, base, &segments[1..], depth);
                }
                // Through an alias a `use` brought in (`search::Index` after `use crate::search`).
                if segments.len() > 1
                    && let Some(target) = module.and_then(|m| m.aliases.get(first))
                {
                    let mut full = target.clone();
                    full.extend_from_slice(&segments[1..]);
                    return self.resolve(at, &full, depth + 1);
                }
                // Another crate of the workspace.
                if let Some(dir) = krate.deps.get(first) {
                    return self.resolve_in(dir, Vec::new(), &segments[1..], depth);
                }
                if segments.len() > 1 && first.chars().next().is_some_and(|c| c.is_lowercase()) {
                    Target::External(segments.to_vec())
                } else {
                    Target::Local
                }
            }
        }
    }

    /// Resolves `rest` from module `base` of crate `krate`, following re-exports.
    fn resolve_in(&self, krate: &str, base: Vec<String>, rest: &[String], depth: usize) -> Target {
        let Some(k) = self.crates.get(krate) else {
            return Target::Local;
        };
        let mut path = base;
        let mut i = 0;
        while i < rest.len() {
            let mut next = path.clone();
            next.push(rest[i].clone());
            if k.modules.contains_key(&next) {
                path = next;
                i += 1;
            } else {
                break;
            }
        }
        let here = ModuleId {
            krate: krate.to_string(),
            path: path.clone(),
        };
        if i < rest.len() {
            let name = rest[i].as_str();
            if let Some(module) = k.modules.get(&path)
                && !module.defined.contains(name)
            {
                // A `#[macro_export]` macro lives at the crate root (named
                // `foo!` when invoked, `foo` in a `use`).
                let as_macro = format!("{}!", name.trim_end_matches('!'));
                if path.is_empty()
                    && let Some((p, _)) = k
                        .modules
                        .iter()
                        .find(|(_, m)| m.defined.contains(&as_macro))
                {
                    return Target::Module(ModuleId {
                        krate: krate.to_string(),
                        path: p.clone(),
                    });
                }
                let bare = name.trim_end_matches('!');
                for r in &module.reexports {
                    let exported = match &r.name {
                        Some(n) => n == bare,
                        None => false,
                    };
                    if exported {
                        let mut full = r.segments.clone();
                        full.extend_from_slice(&rest[i + 1..]);
                        return self.resolve(&here, &full, depth + 1);
                    }
                }
                // Globs: the first whose target defines the name.
                for r in module.reexports.iter().filter(|r| r.name.is_none()) {
                    if let Target::Module(m) = self.resolve(&here, &r.segments, depth + 1)
                        && self
                            .module(&m.krate, &m.path)
                            .is_some_and(|t| t.defined.contains(bare) || t.defined.contains(name))
                    {
                        return Target::Module(m);
                    }
                }
            }
        }
        Target::Module(here)
    }

    /// Every edge between modules of the workspace.
    pub fn edges(&self) -> Vec<Edge> {
        let mut out = BTreeSet::new();
        for (name, k) in &self.crates {
            for (path, module) in &k.modules {
                let from = ModuleId {
                    krate: name.clone(),
                    path: path.clone(),
                };
                for r in &module.refs {
                    if let Target::Module(to) = self.resolve(&from, &r.segments, 0)
                        && to != from
                    {
                        out.insert(Edge {
                            from: from.clone(),
                            to,
                            via: r.segments.join("::"),
                        });
                    }
                }
            }
        }
        out.into_iter().collect()
    }

    /// External paths each module uses (`axum::Router` …).
    fn externals(&self, id: &ModuleId) -> Vec<String> {
        let Some(module) = self.module(&id.krate, &id.path) else {
            return Vec::new();
        };
        module
            .refs
            .iter()
            .filter_map(|r| match self.resolve(id, &r.segments, 0) {
                Target::External(p) => Some(p.join("::")),
                _ => None,
            })
            .collect()
    }

    /// The layer of a module of a feature crate (`None` outside feature crates).
    pub fn layer(&self, id: &ModuleId) -> Option<Layer> {
        let k = self.crates.get(&id.krate)?;
        if !k.kind.feature {
            return None;
        }
        let Some(first) = id.path.first() else {
            return Some(Layer::Root);
        };
        Some(match first.as_str() {
            "store" => Layer::Store,
            "service" => Layer::Service,
            "pages" | "api" | "web" => Layer::Web,
            a if k.kind.adapters.iter().any(|x| x == a) => Layer::Web,
            _ => Layer::Domain,
        })
    }
}

/// Crates of the workspace whose modules depend on each other in a ring.
/// Each entry is one ring (a strongly connected component), as module names.
pub fn cycles(ws: &Workspace, edges: &[Edge]) -> Vec<Vec<ModuleId>> {
    let mut out = Vec::new();
    for name in ws.crates.keys() {
        let nodes: Vec<ModuleId> = ws.crates[name]
            .modules
            .keys()
            .map(|p| ModuleId {
                krate: name.clone(),
                path: p.clone(),
            })
            .collect();
        let index: HashMap<&ModuleId, usize> =
            nodes.iter().enumerate().map(|(i, n)| (n, i)).collect();
        let mut adj = vec![Vec::new(); nodes.len()];
        for e in edges {
            if let (Some(&a), Some(&b)) = (index.get(&e.from), index.get(&e.to)) {
                adj[a].push(b);
            }
        }
        for scc in tarjan(&adj) {
            if scc.len() > 1 {
                let mut ring: Vec<ModuleId> = scc.into_iter().map(|i| nodes[i].clone()).collect();
                ring.sort();
                out.push(ring);
            }
        }
    }
    out
}

fn tarjan(adj: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        adj: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State<'_>, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in &s.adj[v] {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                scc.push(w);
                if w == v {
                    break;
                }
            }
            s.out.push(scc);
        }
    }
    let n = adj.len();
    let mut s = State {
        adj,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.out
}

/// External crates a service, store or domain module must not use.
const HTTP_CRATES: &[&str] = &[
    "axum",
    "askama",
    "askama_web",
    "http",
    "tower",
    "tower_http",
    "hyper",
];

/// Checks every rule; returns what is broken.
pub fn check(ws: &Workspace) -> Vec<Violation> {
    let edges = ws.edges();
    let mut out = Vec::new();
    for ring in cycles(ws, &edges) {
        let names: Vec<String> = ring.iter().map(ToString::to_string).collect();
        let inside: Vec<String> = edges
            .iter()
            .filter(|e| ring.contains(&e.from) && ring.contains(&e.to))
            .map(|e| format!("{} → {} ({})", e.from, e.to, e.via))
            .collect();
        out.push(Violation {
            rule: "no-cycles",
            detail: format!(
                "{} import each other: {}",
                names.join(", "),
                inside.join("; ")
            ),
        });
    }
    for e in &edges {
        let from_layer = ws.layer(&e.from);
        let to_layer = ws.layer(&e.to);
        if e.from.krate == e.to.krate {
            if let (Some(a), Some(b)) = (from_layer, to_layer)
                && !a.may_use(b)
            {
                out.push(Violation {
                    rule: "layers",
                    detail: format!("{} ({a:?}) uses {} ({b:?}) via {}", e.from, e.to, e.via),
                });
            }
            // Pages and the JSON API share services, not each other.
            let top = |id: &ModuleId| id.path.first().cloned().unwrap_or_default();
            if from_layer == Some(Layer::Web)
                && matches!(
                    (top(&e.from).as_str(), top(&e.to).as_str()),
                    ("pages", "api") | ("api", "pages")
                )
            {
                out.push(Violation {
                    rule: "layers",
                    detail: format!(
                        "{} uses {} via {}: pages and api share services, not each other",
                        e.from, e.to, e.via
                    ),
                });
            }
            // In the platform, only the web edge knows about HTTP.
            if e.from.krate == "platform"
                && e.from.path.first().map(String::as_str) != Some("web")
                && !e.from.path.is_empty()
                && e.to.path.first().map(String::as_str) == Some("web")
            {
                out.push(Violation {
                    rule: "layers",
                    detail: format!("{} uses the web edge {} via {}", e.from, e.to, e.via),
                });
            }
        } else {
            // Another feature crate's web layer is its own business.
            if to_layer == Some(Layer::Web)
                && ws.crates.get(&e.from.krate).is_some_and(|k| k.kind.feature)
            {
                out.push(Violation {
                    rule: "no-foreign-web",
                    detail: format!(
                        "{} uses {}'s web layer {} via {}",
                        e.from, e.to.krate, e.to, e.via
                    ),
                });
            }
            // A store or service of another crate is not for a web layer.
            if from_layer == Some(Layer::Web) && matches!(to_layer, Some(Layer::Store)) {
                out.push(Violation {
                    rule: "layers",
                    detail: format!(
                        "{} (Web) uses another crate's store {} via {}",
                        e.from, e.to, e.via
                    ),
                });
            }
            if matches!(from_layer, Some(Layer::Store | Layer::Domain))
                && matches!(to_layer, Some(Layer::Service))
            {
                out.push(Violation {
                    rule: "layers",
                    detail: format!(
                        "{} uses another crate's service {} via {}",
                        e.from, e.to, e.via
                    ),
                });
            }
            // Nothing but a web layer uses the platform's web edge.
            if e.to.krate == "platform"
                && e.to.path.first().map(String::as_str) == Some("web")
                && matches!(
                    from_layer,
                    Some(Layer::Store | Layer::Service | Layer::Domain)
                )
            {
                out.push(Violation {
                    rule: "layers",
                    detail: format!("{} uses the web edge {} via {}", e.from, e.to, e.via),
                });
            }
        }
    }
    for (name, k) in &ws.crates {
        if !k.kind.feature {
            continue;
        }
        for (path, module) in &k.modules {
            let id = ModuleId {
                krate: name.clone(),
                path: path.clone(),
            };
            let Some(layer) = ws.layer(&id) else { continue };
            if matches!(layer, Layer::Store | Layer::Service | Layer::Domain) {
                let mut seen = BTreeSet::new();
                for p in ws.externals(&id) {
                    let first = p.split("::").next().unwrap_or_default().to_string();
                    if HTTP_CRATES.contains(&first.as_str()) && seen.insert(first.clone()) {
                        out.push(Violation {
                            rule: "no-http-below-web",
                            detail: format!("{id} ({layer:?}, {}) uses {p}", module.file.display()),
                        });
                    }
                }
            }
            if layer != Layer::Store && module.runs_sql {
                out.push(Violation {
                    rule: "sql-in-store",
                    detail: format!(
                        "{id} ({layer:?}, {}) runs SQL (sqlx::query or .pool())",
                        module.file.display()
                    ),
                });
            }
            if layer == Layer::Web
                && let Some(p) = ws
                    .externals(&id)
                    .into_iter()
                    .find(|p| p.starts_with("sqlx::"))
            {
                out.push(Violation {
                    rule: "no-sql-in-web",
                    detail: format!("{id} ({}) uses {p}", module.file.display()),
                });
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The kinds of this workspace's crates: which are feature crates and their
/// protocol adapters.
pub fn madoguchi_kinds() -> HashMap<String, CrateKind> {
    let feature = |adapters: &[&str]| CrateKind {
        feature: true,
        adapters: adapters.iter().map(|s| s.to_string()).collect(),
    };
    HashMap::from([
        ("procedures".to_string(), feature(&[])),
        ("backoffice".to_string(), feature(&[])),
        ("approvals".to_string(), feature(&[])),
        ("plans".to_string(), feature(&[])),
        ("faq".to_string(), feature(&[])),
        ("opendata".to_string(), feature(&["ckan", "dcat", "ngsi"])),
    ])
}
