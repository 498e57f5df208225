//! Domain types and rules of imagenest, decided once: names, version content and states,
//! distribution states, derived package visibility, and resolution. No I/O lives here, so the
//! registry, the provider and the preprocessor cannot disagree on a rule.

pub mod image_map;
pub mod regions;
