//! The staff's pages: their local government's datasets, the dataset and
//! resource forms, deleting (and restoring), API tokens and the number of
//! applications received on paper. For administrators (OrgAdmin) and the
//! DX office; other staff get 403, signed-out visitors the sign-in page.
//!
//! `access` holds who may use them and what every page reads first; the
//! other modules are one page (or family of pages) each.

mod access;
mod delete;
mod form;
mod list;
mod paper;
mod resources;
mod tokens;

pub(super) use delete::{delete, delete_confirm, restore};
pub(super) use form::{create, edit_form, new_form, update};
pub(super) use list::list;
pub(super) use paper::{paper_counts, paper_counts_post};
pub(super) use resources::{resource_create, resource_form};
pub(super) use tokens::{tokens, tokens_post};
