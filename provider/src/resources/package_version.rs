//! `imagenest_package_version`: one version of a package and its image content.

use super::{api_error, optional_string};
use crate::diag::Diagnostics;
use crate::framework::{Ctx, Failure, Resource};
use crate::plan::Plan;
use crate::schema::{Attribute, Nesting, Schema, validate};
use crate::value::{Path, Value};
use async_trait::async_trait;
use imagenest_client::Client;
use imagenest_core::names;
use imagenest_core::version::{ImageSource, NewVersion, Version, VersionUpdate};

pub struct VersionResource;

const ATTRS: &[&str] = &["package_id", "name", "description", "image"];

fn image_value(src: &ImageSource) -> Value {
    let (ty, region, image_id, code, pver) = match src {
        ImageSource::Custom { region, image_id } => (
            "custom",
            Some(region.as_str()),
            Some(image_id.as_str()),
            None,
            None,
        ),
        ImageSource::Marketplace {
            product_code,
            product_version,
        } => (
            "marketplace",
            None,
            None,
            Some(product_code.as_str()),
            product_version.as_deref(),
        ),
    };
    Value::object([
        ("type", Value::from(ty)),
        ("region", Value::from(region)),
        ("image_id", Value::from(image_id)),
        ("product_code", Value::from(code)),
        ("product_version", Value::from(pver)),
    ])
}

/// The image source of a known `image` value; errors name the attribute at fault.
fn image_source(image: &Value) -> Result<ImageSource, (Path, String)> {
    let at = |n: &str| Path::attr("image").child(n);
    let need = |n: &str, ty: &str| {
        image
            .str_attr(n)
            .ok_or_else(|| (at(n), format!("`{n}` is required when `type` is \"{ty}\".")))
    };
    let forbid = |n: &str, ty: &str| match image.get(n) {
        Value::Null => Ok(()),
        _ => Err((
            at(n),
            format!("`{n}` does not apply when `type` is \"{ty}\"."),
        )),
    };
    match image.get("type").as_str() {
        Some("custom") => {
            forbid("product_code", "custom")?;
            forbid("product_version", "custom")?;
            Ok(ImageSource::Custom {
                region: need("region", "custom")?,
                image_id: need("image_id", "custom")?,
            })
        }
        Some("marketplace") => {
            forbid("region", "marketplace")?;
            forbid("image_id", "marketplace")?;
            Ok(ImageSource::Marketplace {
                product_code: need("product_code", "marketplace")?,
                product_version: image.str_attr("product_version"),
            })
        }
        other => Err((
            at("type"),
            format!(
                "`{}` is not an image type; use \"custom\" or \"marketplace\".",
                other.unwrap_or("null")
            ),
        )),
    }
}

fn to_state(v: &Version, prior: &Value) -> Value {
    Value::object([
        ("id", Value::from(v.id.as_str())),
        ("package_id", Value::from(v.package_id.as_str())),
        ("name", Value::from(v.name.as_str())),
        (
            "description",
            optional_string(&v.description, prior.get("description")),
        ),
        ("image", image_value(&v.image)),
        ("status", Value::from(v.status.as_str())),
    ])
}

fn invalid_at(e: &imagenest_core::Invalid) -> Path {
    let mut parts = e.field.split('.');
    let mut p = Path::attr(parts.next().unwrap_or("image"));
    for part in parts {
        p = p.child(part);
    }
    p
}

#[async_trait]
impl Resource<Client> for VersionResource {
    fn type_name(&self) -> &'static str {
        "imagenest_package_version"
    }

    fn schema(&self) -> Schema {
        let image_attrs = vec![
            Attribute::string("type")
                .required()
                .describe("`custom`: an image in the owner's cloud account, copied to each region; `marketplace`: a marketplace product, whose own image each region uses.")
                .validate(validate::one_of(&["custom", "marketplace"])),
            Attribute::string("region").optional().describe("Region of the source image, e.g. `cn-hangzhou` (custom only). A draft can be tested only in this region."),
            Attribute::string("image_id").optional().describe("ID of the source image in `region`, e.g. `m-bp1abcdefghijklmnopq` (custom only)."),
            Attribute::string("product_code").optional().describe("Marketplace product code, e.g. `cmjj012345` (marketplace only)."),
            Attribute::string("product_version").optional().describe("Marketplace product version, e.g. `V2.0` (marketplace only). Without it each region uses the newest image of the product it offers."),
        ];
        Schema::new(
            "A version of a deployment package. A draft can be edited; creating a distribution publishes it, \
             after which its image is frozen and changing it replaces the version.",
            vec![
                Attribute::string("id").computed().keep_on_update().describe("Registry ID of the version."),
                Attribute::string("package_id")
                    .required()
                    .force_new()
                    .describe("ID of the package this version belongs to. Changing it replaces the version."),
                Attribute::string("name")
                    .required()
                    .force_new()
                    .describe("Version name: 3–50 letters, digits or `_`, unique in the package; `latest` is reserved. Changing it replaces the version.")
                    .validate(validate::string(|s| names::version_name(s).map_err(|e| e.message))),
                Attribute::string("description")
                    .optional()
                    .describe("Notes on this version, at most 500 characters.")
                    .validate(validate::string(|s| names::version_description(s).map_err(|e| e.message))),
                Attribute::nested("image", Nesting::Single, image_attrs)
                    .required()
                    .describe("The image this version ships: `type` plus `region` and `image_id` (custom) or `product_code` and optionally `product_version` (marketplace). Editable while a draft; changing it once published replaces the version."),
                Attribute::string("status")
                    .computed()
                    .keep_on_update()
                    .describe("`draft` (editable) or `published` (frozen). Creating a distribution publishes the version; the state shows it from the next refresh."),
            ],
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let image = config.get("image");
        // An unknown `type` is reported once, by the attribute's own validator.
        let known_type = matches!(image.get("type").as_str(), Some("custom" | "marketplace"));
        if image.is_null() || !image.is_wholly_known() || !known_type {
            return;
        }
        match image_source(image) {
            Ok(src) => {
                if let Err(e) = src.validate() {
                    let path = invalid_at(&e);
                    let name = e.field.rsplit('.').next().unwrap_or("image").to_string();
                    diags.error_at(&path, format!("Invalid {name}"), e.message.clone());
                }
            }
            Err((path, msg)) => diags.error_at(&path, "Invalid image", msg),
        }
    }

    fn modify_plan(&self, prior: &Value, _config: &Value, plan: &mut Plan) {
        // A published version's image is frozen: a new image needs a new version.
        if prior.get("status").as_str() == Some("published")
            && plan.planned.get("image") != prior.get("image")
            && !plan.requires_replace.contains(&Path::attr("image"))
        {
            plan.requires_replace.push(Path::attr("image"));
        }
    }

    async fn create(&self, ctx: &Ctx<Client>, planned: &Value) -> Result<Value, Failure> {
        let image = image_source(planned.get("image")).map_err(|(p, m)| {
            let mut d = Diagnostics::new();
            d.error_at(&p, "Invalid image", m);
            d
        })?;
        let package_id = planned.str_attr("package_id").unwrap_or_default();
        let new = NewVersion {
            name: planned.str_attr("name").unwrap_or_default(),
            description: planned.str_attr("description").unwrap_or_default(),
            image,
        };
        let v = ctx
            .client
            .create_version(&package_id, &new)
            .await
            .map_err(|e| api_error("create the version", &e, ATTRS))?;
        Ok(to_state(&v, planned))
    }

    async fn read(&self, ctx: &Ctx<Client>, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let id = state.str_attr("id").unwrap_or_default();
        match ctx.client.version(&id).await {
            Ok(v) => Ok(Some(to_state(&v, state))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(api_error("read the version", &e, ATTRS)),
        }
    }

    async fn update(
        &self,
        ctx: &Ctx<Client>,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, Failure> {
        let id = prior.str_attr("id").unwrap_or_default();
        let image = if planned.get("image") != prior.get("image") {
            Some(image_source(planned.get("image")).map_err(|(p, m)| {
                let mut d = Diagnostics::new();
                d.error_at(&p, "Invalid image", m);
                d
            })?)
        } else {
            None
        };
        let update = VersionUpdate {
            description: Some(planned.str_attr("description").unwrap_or_default()),
            image,
        };
        let v = ctx
            .client
            .update_version(&id, &update, None)
            .await
            .map_err(|e| api_error("update the version", &e, ATTRS))?;
        Ok(to_state(&v, planned))
    }

    async fn delete(
        &self,
        ctx: &Ctx<Client>,
        prior: &Value,
        _private: &[u8],
    ) -> Result<(), Diagnostics> {
        let id = prior.str_attr("id").unwrap_or_default();
        match ctx.client.delete_version(&id).await {
            Ok(()) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(api_error("delete the version", &e, ATTRS)),
        }
    }

    async fn import(&self, ctx: &Ctx<Client>, id: &str) -> Result<Value, Diagnostics> {
        // `PACKAGE/VERSION` (names or IDs) or a version ID.
        let found = super::find_version(&ctx.client, id).await?;
        Ok(to_state(&found, &Value::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_rules_point_at_the_attribute() {
        let img = |ty: &str, region: Option<&str>, code: Option<&str>| {
            Value::object([
                ("type", ty.into()),
                ("region", region.into()),
                ("image_id", region.map(|_| "m-abc").into()),
                ("product_code", code.into()),
                ("product_version", Value::Null),
            ])
        };
        assert!(image_source(&img("custom", Some("cn-hangzhou"), None)).is_ok());
        let (p, _) = image_source(&img("custom", None, None)).unwrap_err();
        assert_eq!(p.to_string(), "image.region");
        let (p, _) = image_source(&img("marketplace", Some("cn-hangzhou"), Some("x"))).unwrap_err();
        assert_eq!(p.to_string(), "image.region");
        let mut d = Diagnostics::new();
        VersionResource.validate(
            &Value::object([("image", img("custom", Some("mars-1"), None))]),
            &mut d,
        );
        assert_eq!(d.0[0].path.as_ref().unwrap().to_string(), "image.region");
    }
}
