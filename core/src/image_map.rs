//! The image map: a service's literal → package → region → image ID table (DESIGN §4).
//!
//! The registry exports it (`GET /v1/services/{id}/image-map`), the provider's
//! `imagenest_image_map` data source returns it, and the preprocessor reads it with `--map`
//! for air-gapped pipelines. One type, so the three cannot disagree on the format.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `{"service": "acme_app", "images": {"centos_7": {...}}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImageMap {
    /// The service whose associations this map holds.
    pub service: String,
    /// Template literal → where it points and its image per region.
    pub images: BTreeMap<String, ImageMapEntry>,
}

/// One associated literal: its package, the version it resolved to, and region → image ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImageMapEntry {
    /// Package name.
    pub package: String,
    /// The version name as associated (`latest` or a version name).
    pub version: String,
    /// Region ID → image ID in that region.
    pub regions: BTreeMap<String, String>,
}

impl ImageMap {
    /// The image to use for `literal` in `region`, if the map has one.
    pub fn lookup(&self, literal: &str, region: &str) -> Option<&str> {
        self.images
            .get(literal)?
            .regions
            .get(region)
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_format() {
        let text = r#"{"service": "acme_app",
            "images": {"centos_7": {"package": "acme_base", "version": "v2_1",
                        "regions": {"cn-hangzhou": "m-bp1", "ap-southeast-1": "m-t4n"}}}}"#;
        let map: ImageMap = serde_json::from_str(text).unwrap();
        assert_eq!(map.lookup("centos_7", "cn-hangzhou"), Some("m-bp1"));
        assert_eq!(map.lookup("centos_7", "us-east-1"), None);
        assert_eq!(map.lookup("ubuntu", "cn-hangzhou"), None);
    }
}
