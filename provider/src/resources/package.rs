//! `imagenest_package`: a deployment package (name, description, resource group, tags).

use super::{api_error, check, optional_string};
use crate::diag::Diagnostics;
use crate::framework::{Ctx, Failure, Resource};
use crate::schema::{Attribute, Schema, validate};
use crate::value::{Path, Type, Value};
use async_trait::async_trait;
use imagenest_client::Client;
use imagenest_core::names;
use imagenest_core::package::{NewPackage, Package, PackageUpdate};

pub struct PackageResource;

const ATTRS: &[&str] = &["name", "description", "resource_group", "tags"];

/// The state of a package as the registry has it; optional fields stay null when the
/// prior state left them null and the registry holds the empty value.
pub(crate) fn to_state(p: &Package, prior: &Value) -> Value {
    let tags = if p.tags.is_empty() && prior.get("tags").is_null() {
        Value::Null
    } else {
        Value::string_map(p.tags.clone())
    };
    Value::object([
        ("id", Value::from(p.id.as_str())),
        ("name", Value::from(p.name.as_str())),
        ("description", Value::from(p.description.as_str())),
        (
            "resource_group",
            optional_string(&p.resource_group, prior.get("resource_group")),
        ),
        ("tags", tags),
        ("visibility", Value::from(visibility(p))),
        ("created_at", Value::from(p.created_at.as_str())),
    ])
}

fn visibility(p: &Package) -> &'static str {
    match p.visibility {
        imagenest_core::access::PackageVisibility::Private => "private",
        imagenest_core::access::PackageVisibility::Public => "public",
    }
}

#[async_trait]
impl Resource<Client> for PackageResource {
    fn type_name(&self) -> &'static str {
        "imagenest_package"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "A deployment package: a named line of image versions owned by the calling account.",
            vec![
                Attribute::string("id").computed().keep_on_update().describe("Registry ID of the package."),
                Attribute::string("name")
                    .required()
                    .force_new()
                    .describe("Package name: 3–128 letters, digits or `_`, unique per owner. Changing it replaces the package.")
                    .validate(validate::string(|s| names::package_name(s).map_err(|e| e.message))),
                Attribute::string("description")
                    .required()
                    .describe("What the package holds, 10–500 characters.")
                    .validate(validate::string(|s| names::package_description(s).map_err(|e| e.message))),
                Attribute::string("resource_group")
                    .optional()
                    .describe("Resource group the package is filed under in the registry, at most 128 characters.")
                    .validate(validate::string(|s| names::resource_group(s).map_err(|e| e.message))),
                Attribute::typed("tags", Type::map(Type::String))
                    .optional()
                    .describe("Tags, at most 20 pairs; keys 1–128 characters, not starting with `aliyun` or `acs:` nor containing `http://` or `https://`; values at most 128 characters."),
                Attribute::string("visibility").computed().keep_on_update().describe(
                    "Derived visibility: `public` when a public service uses the package, otherwise `private`.",
                ),
                Attribute::string("created_at").computed().keep_on_update().describe("When the package was created (RFC 3339)."),
            ],
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let tags = config.get("tags");
        if tags.is_wholly_known() && !tags.is_null() {
            for (k, v) in tags.string_entries() {
                let one = [(k.clone(), v)].into_iter().collect();
                check(diags, Path::attr("tags").key(&k), names::tags(&one));
            }
            let count = tags.entries().map_or(0, |m| m.len());
            if count > names::MAX_TAGS {
                diags.error_at(
                    &Path::attr("tags"),
                    "Too many tags",
                    format!(
                        "At most {} tags are allowed, found {count}.",
                        names::MAX_TAGS
                    ),
                );
            }
        }
    }

    async fn create(&self, ctx: &Ctx<Client>, planned: &Value) -> Result<Value, Failure> {
        let new = NewPackage {
            name: planned.str_attr("name").unwrap_or_default(),
            description: planned.str_attr("description").unwrap_or_default(),
            resource_group: planned.str_attr("resource_group").unwrap_or_default(),
            tags: planned.get("tags").string_entries(),
        };
        let p = ctx
            .client
            .create_package(&new)
            .await
            .map_err(|e| api_error("create the package", &e, ATTRS))?;
        Ok(to_state(&p, planned))
    }

    async fn read(&self, ctx: &Ctx<Client>, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let id = state.str_attr("id").unwrap_or_default();
        match ctx.client.package(&id).await {
            Ok(p) => Ok(Some(to_state(&p, state))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(api_error("read the package", &e, ATTRS)),
        }
    }

    async fn update(
        &self,
        ctx: &Ctx<Client>,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, Failure> {
        let id = prior.str_attr("id").unwrap_or_default();
        let update = PackageUpdate {
            description: planned.str_attr("description"),
            resource_group: Some(planned.str_attr("resource_group").unwrap_or_default()),
            tags: Some(planned.get("tags").string_entries()),
        };
        let p = ctx
            .client
            .update_package(&id, &update, None)
            .await
            .map_err(|e| api_error("update the package", &e, ATTRS))?;
        Ok(to_state(&p, planned))
    }

    async fn delete(
        &self,
        ctx: &Ctx<Client>,
        prior: &Value,
        _private: &[u8],
    ) -> Result<(), Diagnostics> {
        let id = prior.str_attr("id").unwrap_or_default();
        match ctx.client.delete_package(&id).await {
            Ok(()) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(api_error("delete the package", &e, ATTRS)),
        }
    }

    async fn import(&self, ctx: &Ctx<Client>, id: &str) -> Result<Value, Diagnostics> {
        // The registry finds a package by ID or by name.
        let p = ctx
            .client
            .package(id)
            .await
            .map_err(|e| api_error(&format!("import package {id:?}"), &e, &[]))?;
        // Empty optional values import as null, as a configuration that leaves them out has them.
        Ok(to_state(&p, &Value::Null))
    }
}
