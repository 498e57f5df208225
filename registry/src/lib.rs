//! The imagenest registry: the JSON API, the store on SQLite or PostgreSQL, and (later) the
//! distribution engine. `app(state)` builds the router; `serve` runs it until shutdown.

pub mod api;
pub mod auth;
mod cache;
pub mod engine;
pub mod error;
mod extract;
mod metrics;
mod server;
pub mod state;
pub mod store;

pub use api::{ApiDoc, router as app};
/// The HTTP method type of `RegistryConfig::ros_delivery`.
pub use axum::http::Method as HttpMethod;
pub use server::{ServeError, TlsFiles, serve};
pub use state::{AppState, RegistryConfig};
