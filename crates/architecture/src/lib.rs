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
//!
//! Modules: [`model`] (what is read), [`read`] (parsing), [`resolve`] (the
//! graph), [`cycles`] (rings) and [`rules`] (the checks).

#![allow(
    clippy::indexing_slicing,
    reason = "a development check run by `cargo test`, not request handling: the indices are node numbers of the graph it builds (0..n) and segment positions checked against the length first; a panic fails the check"
)]

pub mod cycles;
pub mod model;
pub mod read;
pub mod resolve;
pub mod rules;

pub use cycles::cycles;
pub use model::{Crate, CrateKind, Edge, Layer, Module, ModuleId, ReadError, Violation, Workspace};
pub use read::read_workspace;
pub use rules::{check, madoguchi_kinds};
