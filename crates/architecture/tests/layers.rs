//! The workspace keeps its shape: three layers in every feature crate, no
//! module importing another in a ring, no feature crate reaching into
//! another's pages or API. See `docs/ARCHITECTURE.md` ("Layers") and the
//! crate docs of `architecture` for how the graph is read.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "test code: a panic is a failed test"
)]

use std::path::Path;

#[test]
fn the_workspace_keeps_its_shape() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let ws = architecture::read_workspace(&root, &architecture::madoguchi_kinds())
        .expect("every source file parses");
    // The checker sees the workspace: a feature crate of each kind is there,
    // with its layers.
    for name in [
        "procedures",
        "backoffice",
        "approvals",
        "plans",
        "faq",
        "opendata",
    ] {
        let k = ws
            .crates
            .get(name)
            .unwrap_or_else(|| panic!("crate {name} is read"));
        assert!(k.kind.feature, "{name} is a feature crate");
        for layer in ["store", "service"] {
            assert!(
                k.modules.contains_key(&vec![layer.to_string()]),
                "{name} has a {layer} module"
            );
        }
    }
    let violations = architecture::check(&ws);
    let report: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(
        violations.is_empty(),
        "{} broken rule(s):\n{}",
        violations.len(),
        report.join("\n")
    );
}
