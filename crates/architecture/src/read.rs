//! Reading the workspace: every crate's manifest and every module's source,
//! parsed with `syn` into what the module refers to (test code left out).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

use crate::model::{Crate, CrateKind, Module, ReadError, Reexport, Reference, Workspace};

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
            if let Some(alias) = &name {
                self.module.aliases.insert(alias.clone(), segments.clone());
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
