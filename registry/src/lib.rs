//! The imagenest registry: JSON API, store, distribution engine.
