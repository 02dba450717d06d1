//! Prints each feature crate's modules by layer and every broken rule:
//! `cargo run -p madoguchi-architecture --example report`.

use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let ws = match architecture::read_workspace(&root, &architecture::madoguchi_kinds()) {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    for (name, k) in &ws.crates {
        if !k.kind.feature {
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
    let violations = architecture::check(&ws);
    for v in &violations {
        println!("{v}");
    }
    println!("{} broken rule(s)", violations.len());
    if !violations.is_empty() {
        std::process::exit(1);
    }
}
