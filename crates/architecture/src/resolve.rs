//! Resolving what a module refers to: `crate`, `super`, `self`, `use`
//! aliases, child modules and other workspace crates, following re-exports to
//! the module that defines an item; the edges of the module graph; a module's layer.

use std::collections::BTreeSet;

use crate::model::{Edge, Layer, Module, ModuleId, Workspace};

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
    pub(crate) fn externals(&self, id: &ModuleId) -> Vec<String> {
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
