//! madoguchi (窓口): the binary's library half. [`app`] builds the whole
//! product from a configuration (used by `serve`, the tests and the
//! benchmarks); [`cli`] is the command line; [`demo`] loads the demo data.

pub mod app;
pub mod background;
pub mod backup;
pub mod cli;
pub mod demo;
