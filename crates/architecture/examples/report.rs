//! Prints each feature crate's modules by layer and every broken rule:
//! `cargo run -p madoguchi-architecture --example report [crate …]` (only the
//! named crates' modules and the rules they break, when crates are named).

use std::path::Path;

fn main() {
    let only: Vec<String> = std::env::args().skip(1).collect();
    let wanted = |krate: &str| only.is_empty() || only.iter().any(|o| o == krate);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let ws = match architecture::read_workspace(&root, &architecture::madoguchi_kinds()) {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    for (name, k) in &ws.crates {
        if !k.kind.feature || !wanted(name) {
            continue;
        }
        println!("{name}:");
        for path in k.modules.keys() {
            let id = architecture::ModuleId {
                krate: name.clone(),
                path: path.clone(),
            };
            if let Some(layer) = ws.layer(&id) {
                println!("  {layer:?}\t{id}");
            }
        }
    }
    let violations: Vec<_> = architecture::check(&ws)
        .into_iter()
        .filter(|v| {
            only.is_empty()
                || only.iter().any(|o| {
                    v.detail.starts_with(&format!("{o}::")) || v.detail.contains(&format!(" {o}::"))
                })
        })
        .collect();
    for v in &violations {
        println!("{v}");
    }
    println!("{} broken rule(s)", violations.len());
    if !violations.is_empty() {
        std::process::exit(1);
    }
}
