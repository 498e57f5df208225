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
    let detail = match next_step(what, e) {
        Some(hint) => format!("{e}.\n\n{hint}"),
        None => e.to_string(),
    };
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

/// What the user can do about a registry error, when the error alone does not say.
fn next_step(what: &str, e: &ClientError) -> Option<&'static str> {
    match e {
        ClientError::Api { status: 409, .. } if what.starts_with("create") => Some(
            "If the object already exists and Terraform should manage it, import it with \
             `terraform import` instead of creating it.",
        ),
        ClientError::Api {
            status: 401 | 403, ..
        } => Some(
            "The registry refused this for the token's account: the token must belong to the \
             owner of the object, with a role that may change it (`imagenest token list` shows \
             your tokens).",
        ),
        ClientError::Api { status: 500.., .. } | ClientError::Transport { .. } => Some(
            "The registry or the network failed; nothing is lost, and running the apply again \
             retries.",
        ),
        _ => None,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, field: Option<&str>) -> ClientError {
        ClientError::Api {
            status,
            code: "conflict".into(),
            message: "package `acme_base` already exists".into(),
            field: field.map(Into::into),
        }
    }

    #[test]
    fn registry_errors_say_what_to_do_next_and_where() {
        let d = api_error("create the package", &api(409, Some("name")), &["name"]);
        let diag = &d.0[0];
        assert_eq!(diag.summary, "Cannot create the package");
        assert!(
            diag.detail
                .starts_with("package `acme_base` already exists"),
            "{}",
            diag.detail
        );
        assert!(diag.detail.contains("terraform import"), "{}", diag.detail);
        assert_eq!(diag.path, Some(Path::attr("name")));
        // A conflict on delete is explained by the registry's own message.
        let d = api_error("delete the package", &api(409, None), &["name"]);
        assert!(!d.0[0].detail.contains("terraform import"));
        assert_eq!(d.0[0].path, None);
        let d = api_error("update the service", &api(403, None), &[]);
        assert!(d.0[0].detail.contains("imagenest token list"));
        let down = ClientError::Transport {
            url: "http://127.0.0.1:1".into(),
            message: "connection refused".into(),
        };
        let d = api_error("read the version", &down, &[]);
        assert!(d.0[0].detail.contains("running the apply again retries"));
    }
}
