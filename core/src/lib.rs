//! Domain types and rules of imagenest, decided once: names, version content and states,
//! distribution states, derived package visibility, and resolution. No I/O lives here, so the
//! registry, the provider and the preprocessor cannot disagree on a rule.
//!
//! The domain types are also the registry API's wire types (serde); with the `openapi` feature
//! they describe themselves for the OpenAPI document.

pub mod access;
pub mod account;
pub mod api;
pub mod distribution;
pub mod image_map;
mod invalid;
pub mod names;
pub mod package;
pub mod regions;
pub mod resolve;
pub mod service;
pub mod version;

pub use account::{Principal, Role};
pub use invalid::Invalid;
