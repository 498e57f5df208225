//! Services: visibility, whitelist and the image associations literal → {package, version}.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::{Invalid, names};

/// Who may deploy a service: everyone, or the owner and its whitelist.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    #[default]
    Private,
    Public,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Public => "public",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "private" => Some(Visibility::Private),
            "public" => Some(Visibility::Public),
            _ => None,
        }
    }
}

/// The version an association points at: a version name, or `latest`.
pub const LATEST: &str = "latest";

/// Where a template literal points: a package (by ID) and a version name or `latest`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Association {
    pub package_id: String,
    #[serde(default = "latest")]
    pub version: String,
}

fn latest() -> String {
    LATEST.to_string()
}

/// Maximum number of whitelisted accounts on a service (the cloud shares an image with at
/// most 50 accounts).
pub const MAX_WHITELIST: usize = 50;
/// Maximum number of image associations on a service.
pub const MAX_ASSOCIATIONS: usize = 100;

/// A service as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Service {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub visibility: Visibility,
    pub whitelist: BTreeSet<String>,
    pub image_associations: BTreeMap<String, Association>,
    pub revision: i64,
    pub created_at: String,
    pub updated_at: String,
}

/// Body of `POST /v1/services`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewService {
    /// 3–128 letters, digits, `_` and `-`.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 3, max_length = 128, pattern = "^[A-Za-z0-9_-]{3,128}$")
    )]
    pub name: String,
    #[serde(default)]
    pub visibility: Visibility,
    #[serde(default)]
    pub whitelist: BTreeSet<String>,
    #[serde(default)]
    pub image_associations: BTreeMap<String, Association>,
}

impl NewService {
    pub fn validate(&self) -> Result<(), Invalid> {
        names::service_name(&self.name)?;
        whitelist(&self.whitelist)?;
        associations(&self.image_associations)
    }
}

/// Body of `PATCH /v1/services/{id}`: fields left out keep their value; a given whitelist or
/// association map replaces the old one whole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ServiceUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub whitelist: Option<BTreeSet<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_associations: Option<BTreeMap<String, Association>>,
}

impl ServiceUpdate {
    pub fn validate(&self) -> Result<(), Invalid> {
        if let Some(n) = &self.name {
            names::service_name(n)?;
        }
        if let Some(w) = &self.whitelist {
            whitelist(w)?;
        }
        if let Some(a) = &self.image_associations {
            associations(a)?;
        }
        Ok(())
    }

    /// Applies the update; returns whether anything changed.
    pub fn apply(self, s: &mut Service) -> bool {
        let before = s.clone();
        if let Some(n) = self.name {
            s.name = n;
        }
        if let Some(v) = self.visibility {
            s.visibility = v;
        }
        if let Some(w) = self.whitelist {
            s.whitelist = w;
        }
        if let Some(a) = self.image_associations {
            s.image_associations = a;
        }
        *s != before
    }
}

fn whitelist(list: &BTreeSet<String>) -> Result<(), Invalid> {
    if list.len() > MAX_WHITELIST {
        return Err(Invalid::new(
            "whitelist",
            format!(
                "at most {MAX_WHITELIST} accounts (the cloud shares an image with at most 50), got {}",
                list.len()
            ),
        ));
    }
    for account in list {
        names::account_name("whitelist", account)?;
    }
    Ok(())
}

fn associations(map: &BTreeMap<String, Association>) -> Result<(), Invalid> {
    if map.len() > MAX_ASSOCIATIONS {
        return Err(Invalid::new(
            "image_associations",
            format!("at most {MAX_ASSOCIATIONS} associations, got {}", map.len()),
        ));
    }
    for (literal, assoc) in map {
        names::literal(&format!("image_associations.{literal}"), literal)?;
        if assoc.package_id.is_empty() {
            return Err(Invalid::new(
                format!("image_associations.{literal}.package_id"),
                "must name a package ID",
            ));
        }
        if assoc.version != LATEST {
            names::version_name(&assoc.version).map_err(|e| {
                Invalid::new(
                    format!("image_associations.{literal}.version"),
                    format!("{}; or use `latest`", e.message),
                )
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_service(json: &str) -> Result<(), String> {
        let s: NewService = serde_json::from_str(json).map_err(|e| e.to_string())?;
        s.validate().map_err(|e| e.field)
    }

    #[test]
    fn service_rules() {
        assert_eq!(new_service(r#"{"name":"acme_app"}"#), Ok(()));
        assert_eq!(new_service(r#"{"name":"ab"}"#), Err("name".into()));
        assert_eq!(
            new_service(r#"{"name":"acme_app","whitelist":["Bad Name"]}"#),
            Err("whitelist".into())
        );
        assert_eq!(
            new_service(
                r#"{"name":"acme_app","image_associations":{"centos_7":{"package_id":"pkg-1","version":"v1"}}}"#
            ),
            Err("image_associations.centos_7.version".into())
        );
        assert_eq!(
            new_service(
                r#"{"name":"acme_app","image_associations":{"centos_7":{"package_id":"pkg-1"}}}"#
            ),
            Ok(())
        );
        assert_eq!(
            new_service(
                r#"{"name":"acme_app","image_associations":{"a b":{"package_id":"pkg-1"}}}"#
            ),
            Err("image_associations.a b".into())
        );
        assert!(new_service(r#"{"name":"acme_app","visibility":"secret"}"#).is_err());
        let many: Vec<String> = (0..51).map(|i| format!("\"c{i}\"")).collect();
        assert_eq!(
            new_service(&format!(
                r#"{{"name":"acme_app","whitelist":[{}]}}"#,
                many.join(",")
            )),
            Err("whitelist".into())
        );
    }
}
