//! The catalogue's storage: SQL only, one module per family of tables.
//! Functions take the database (reads) or a write transaction the service
//! opened (writes) and return the domain's records.
//!
//! - `generation`: the counter every node watches to keep its in-memory
//!   copy current;
//! - `datasets`: datasets with their resources;
//! - `publishers`: publishers (CKAN organizations) and groups;
//! - `tokens`: API tokens (their hashes);
//! - `paper`: the paper application counts sections record;
//! - `procedures`: what the platform publishes about itself, read from the
//!   procedures crate's tables.

pub mod datasets;
pub mod generation;
pub mod paper;
pub mod procedures;
pub mod publishers;
pub mod tokens;

pub use datasets::{
    dataset, dataset_by_publisher_key, dataset_exists, datasets_since, free_deleted_name,
    hidden_datasets_of, resource_dataset, resource_owner_in, save_dataset, unchanged_since,
};
pub use generation::{bump, generation};
pub use publishers::{
    first_organization_of, groups, insert_group, insert_organization, organization, organizations,
    touch_datasets_of, update_organization,
};
