//! Test support shared by imagenest's test suites: a throw-away PostgreSQL server per test
//! process (one database per test), and registries served on real sockets. Dev-only.

pub mod bins;
pub mod cloud;
pub mod fixtures;
pub mod postgres;
pub mod process;
pub mod registry;
