//! Data sources, one file each.

pub mod image_map;
pub mod region_image;
