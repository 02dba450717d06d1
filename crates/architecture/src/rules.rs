//! The rules (see the crate docs) and this workspace's crate kinds.

use std::collections::{BTreeSet, HashMap};

use crate::cycles::cycles;
use crate::model::{CrateKind, Layer, ModuleId, Violation, Workspace};

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
