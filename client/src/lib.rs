//! Typed HTTP client of the imagenest registry API.
