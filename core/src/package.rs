//! Deployment packages: what the API returns and accepts, and their validation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Invalid, access::PackageVisibility, names};

/// A deployment package: a named line of image versions owned by one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Package {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub description: String,
    pub resource_group: String,
    pub tags: BTreeMap<String, String>,
    /// Derived from the services that use the package, never set (DESIGN §3).
    pub visibility: PackageVisibility,
    /// Increases on every change; send it back as `If-Match` to update safely.
    pub revision: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// Body of `POST /v1/packages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPackage {
    /// 3–128 letters, digits and `_`; unique per owner; cannot change.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 3, max_length = 128, pattern = "^[A-Za-z0-9_]{3,128}$")
    )]
    pub name: String,
    /// 10–500 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 500))]
    pub description: String,
    #[serde(default)]
    pub resource_group: String,
    /// At most 20 pairs.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl NewPackage {
    pub fn validate(&self) -> Result<(), Invalid> {
        names::package_name(&self.name)?;
        names::package_description(&self.description)?;
        names::resource_group(&self.resource_group)?;
        names::tags(&self.tags)
    }
}

/// Body of `PATCH /v1/packages/{id}`: fields left out keep their value. The name cannot change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PackageUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

impl PackageUpdate {
    pub fn validate(&self) -> Result<(), Invalid> {
        if let Some(d) = &self.description {
            names::package_description(d)?;
        }
        if let Some(g) = &self.resource_group {
            names::resource_group(g)?;
        }
        if let Some(t) = &self.tags {
            names::tags(t)?;
        }
        Ok(())
    }

    /// Applies the update to a package, returning whether anything changed.
    pub fn apply(self, p: &mut Package) -> bool {
        let before = (
            p.description.clone(),
            p.resource_group.clone(),
            p.tags.clone(),
        );
        if let Some(d) = self.description {
            p.description = d;
        }
        if let Some(g) = self.resource_group {
            p.resource_group = g;
        }
        if let Some(t) = self.tags {
            p.tags = t;
        }
        before
            != (
                p.description.clone(),
                p.resource_group.clone(),
                p.tags.clone(),
            )
    }
}
