//! Managed resources, one file each, plus the helpers they share.

pub mod distribution;
pub mod package;
pub mod package_version;
pub mod service;

use crate::diag::Diagnostics;
use crate::value::{Path, Value};
use imagenest_client::ClientError;

/// A registry error as a diagnostic; `field` from the API points at the attribute when it
/// names one of `attrs`.
pub(crate) fn api_error(what: &str, e: &ClientError, attrs: &[&str]) -> Diagnostics {
    let mut d = Diagnostics::new();
    let summary = format!("Cannot {what}");
    let detail = e.to_string();
    let path = match e {
        ClientError::Api { field: Some(f), .. } => {
            let first = f.split('.').next().unwrap_or_default();
            attrs.contains(&first).then(|| Path::attr(first))
        }
        _ => None,
    };
    match path {
        Some(p) => d.error_at(&p, summary, detail),
        None => d.error(summary, detail),
    }
    d
}

/// A core validation result as a diagnostic at `path`.
pub(crate) fn check(diags: &mut Diagnostics, path: Path, r: Result<(), imagenest_core::Invalid>) {
    if let Err(e) = r {
        diags.error_at(&path, format!("Invalid {}", e.field), e.message);
    }
}

/// A string the registry stores as "" when unset: null when the prior state had null.
pub(crate) fn optional_string(remote: &str, prior: &Value) -> Value {
    if remote.is_empty() && prior.is_null() {
        Value::Null
    } else {
        Value::from(remote)
    }
}

/// The configured string of an attribute, if known.
pub(crate) fn known_str<'a>(v: &'a Value, name: &str) -> Option<&'a str> {
    v.get(name).as_str()
}

/// A version named by its ID or by `PACKAGE/VERSION` (names or IDs), for imports.
pub(crate) async fn find_version(
    client: &imagenest_client::Client,
    id: &str,
) -> Result<imagenest_core::version::Version, Diagnostics> {
    match id.split_once('/') {
        Some((package, name)) => {
            let list = client
                .all_versions(package)
                .await
                .map_err(|e| api_error(&format!("import {id:?}"), &e, &[]))?;
            list.into_iter()
                .find(|v| v.name == name || v.id == name)
                .ok_or_else(|| {
                    Diagnostics::from_error(
                        format!("Cannot import {id:?}"),
                        format!("Package {package:?} has no version named {name:?}."),
                    )
                })
        }
        None => client
            .version(id)
            .await
            .map_err(|e| api_error(&format!("import {id:?}"), &e, &[])),
    }
}
