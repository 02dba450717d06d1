//! The module's SQL: [`catalogue`] (procedures, form versions, the catalogue
//! generation), [`applications`] (applications, their history and attachments),
//! [`profiles`] (residents' own details) and [`submissions`] (the writer's multi-row statements).

pub mod applications;
pub mod catalogue;
pub mod profiles;
pub mod submissions;
