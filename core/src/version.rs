//! Package versions: image content, the draft → published life cycle and its immutability.

use serde::{Deserialize, Serialize};

use crate::{Invalid, names, regions};

/// Where a version's image comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ImageSource {
    /// A custom image in the owner's cloud account, in one region.
    Custom { region: String, image_id: String },
    /// A marketplace product, looked up in each target region instead of copied.
    Marketplace {
        product_code: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        product_version: Option<String>,
    },
}

impl ImageSource {
    pub fn validate(&self) -> Result<(), Invalid> {
        match self {
            ImageSource::Custom { region, image_id } => {
                if regions::find(region).is_none() {
                    return Err(Invalid::new(
                        "image.region",
                        format!("unknown region `{region}`; GET /v1/regions lists them"),
                    ));
                }
                names::image_id("image.image_id", image_id)
            }
            ImageSource::Marketplace {
                product_code,
                product_version,
            } => {
                names::product_code("image.product_code", product_code)?;
                if let Some(v) = product_version {
                    names::product_version("image.product_version", v)?;
                }
                Ok(())
            }
        }
    }

    /// The region a draft can be tested in: the custom image's own region.
    pub fn source_region(&self) -> Option<&str> {
        match self {
            ImageSource::Custom { region, .. } => Some(region),
            ImageSource::Marketplace { .. } => None,
        }
    }
}

/// A version is edited as a draft and frozen once published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    Draft,
    Published,
}

impl VersionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VersionStatus::Draft => "draft",
            VersionStatus::Published => "published",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "draft" => Some(VersionStatus::Draft),
            "published" => Some(VersionStatus::Published),
            _ => None,
        }
    }
}

/// A version of a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Version {
    pub id: String,
    pub package_id: String,
    pub name: String,
    pub description: String,
    pub image: ImageSource,
    pub status: VersionStatus,
    pub revision: i64,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
}

/// Body of `POST /v1/packages/{id}/versions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewVersion {
    /// 3–50 letters, digits and `_`, unique within the package; `latest` is reserved.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 3, max_length = 50, pattern = "^[A-Za-z0-9_]{3,50}$")
    )]
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub image: ImageSource,
}

impl NewVersion {
    pub fn validate(&self) -> Result<(), Invalid> {
        names::version_name(&self.name)?;
        names::version_description(&self.description)?;
        self.image.validate()
    }
}

/// Body of `PATCH /v1/versions/{id}`. The image can change only while the version is a draft.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VersionUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageSource>,
}

/// Why a version cannot change the way it was asked to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionChangeError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(
        "version `{0}` is published and its image is frozen; create a new version to change it"
    )]
    Frozen(String),
}

impl VersionUpdate {
    /// Validates the update against the version's state and applies it; returns whether
    /// anything changed.
    pub fn apply(self, v: &mut Version) -> Result<bool, VersionChangeError> {
        if let Some(d) = &self.description {
            names::version_description(d)?;
        }
        if let Some(image) = &self.image {
            image.validate()?;
            if v.status == VersionStatus::Published && *image != v.image {
                return Err(VersionChangeError::Frozen(v.name.clone()));
            }
        }
        let mut changed = false;
        if let Some(d) = self.description {
            changed |= d != v.description;
            v.description = d;
        }
        if let Some(image) = self.image {
            changed |= image != v.image;
            v.image = image;
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(status: VersionStatus) -> Version {
        Version {
            id: "ver-1".into(),
            package_id: "pkg-1".into(),
            name: "v_1".into(),
            description: String::new(),
            image: ImageSource::Custom {
                region: "cn-hangzhou".into(),
                image_id: "m-aaa".into(),
            },
            status,
            revision: 1,
            created_at: String::new(),
            updated_at: String::new(),
            published_at: None,
        }
    }

    #[test]
    fn drafts_change_published_versions_do_not() {
        let new_image = ImageSource::Custom {
            region: "cn-beijing".into(),
            image_id: "m-bbb".into(),
        };
        let mut draft = version(VersionStatus::Draft);
        let up = VersionUpdate {
            image: Some(new_image.clone()),
            ..Default::default()
        };
        assert_eq!(up.clone().apply(&mut draft), Ok(true));
        assert_eq!(draft.image, new_image);

        let mut published = version(VersionStatus::Published);
        assert!(matches!(
            up.apply(&mut published),
            Err(VersionChangeError::Frozen(_))
        ));
        // The same image again and a new description are fine on a published version.
        let same = VersionUpdate {
            image: Some(published.image.clone()),
            description: Some("now documented".into()),
        };
        assert_eq!(same.apply(&mut published), Ok(true));
    }

    #[test]
    fn image_source_rules() {
        let cases = [
            (
                r#"{"type":"custom","region":"cn-hangzhou","image_id":"m-abc"}"#,
                Ok(()),
            ),
            (
                r#"{"type":"custom","region":"mars-1","image_id":"m-abc"}"#,
                Err("image.region"),
            ),
            (
                r#"{"type":"custom","region":"cn-hangzhou","image_id":""}"#,
                Err("image.image_id"),
            ),
            (
                r#"{"type":"marketplace","product_code":"cmjj0001"}"#,
                Ok(()),
            ),
            (
                r#"{"type":"marketplace","product_code":"cmjj0001","product_version":"bad version"}"#,
                Err("image.product_version"),
            ),
        ];
        for (json, want) in cases {
            let src: ImageSource = serde_json::from_str(json).unwrap();
            assert_eq!(
                src.validate().map_err(|e| e.field),
                want.map_err(String::from),
                "{json}"
            );
        }
        // The message names what the value is, not "image ID".
        let err = serde_json::from_str::<ImageSource>(
            r#"{"type":"marketplace","product_code":"cmjj/01"}"#,
        )
        .unwrap()
        .validate()
        .unwrap_err();
        assert!(
            err.message.starts_with("product code `cmjj/01`"),
            "{}",
            err.message
        );
        let unknown = serde_json::from_str::<ImageSource>(r#"{"type":"iso","path":"x"}"#);
        assert!(unknown.is_err());
    }

    #[test]
    fn version_names_and_latest() {
        let nv = |name: &str| NewVersion {
            name: name.into(),
            description: String::new(),
            image: ImageSource::Marketplace {
                product_code: "p1".into(),
                product_version: None,
            },
        };
        assert!(nv("v_1").validate().is_ok());
        assert!(nv("latest").validate().is_err());
        assert!(nv("v1").validate().is_err());
    }
}
