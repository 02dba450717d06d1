//! Online procedures (電子申請・届出).

pub mod form;
