//! `imagenest_region_image`: the image ID of a package version in one region.

use crate::diag::Diagnostics;
use crate::framework::{Ctx, DataSource};
use crate::resources::api_error;
use crate::schema::{Attribute, Schema, validate};
use crate::value::Value;
use async_trait::async_trait;
use imagenest_client::Client;
use imagenest_core::service::LATEST;

pub struct RegionImage;

#[async_trait]
impl DataSource<Client> for RegionImage {
    fn type_name(&self) -> &'static str {
        "imagenest_region_image"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "Resolves a package version to its image ID in one region, with the caller's permissions.",
            vec![
                Attribute::string("package").required().describe("Package name or ID."),
                Attribute::string("version")
                    .default(Value::from(LATEST))
                    .describe("Version name, or `latest` (default): the newest published version available in `region`."),
                Attribute::string("region")
                    .required()
                    .describe("Region ID, e.g. `cn-hangzhou`.")
                    .validate(validate::string(|r| {
                        imagenest_core::regions::find(r).map(|_| ()).ok_or_else(|| format!("{r:?} is not a known region ID."))
                    })),
                Attribute::string("image_id").computed().describe("The image ID in `region`."),
                Attribute::string("version_name").computed().describe("The version the request resolved to (useful with `latest`)."),
                Attribute::string("status").computed().describe("`available`: the copy in `region` is ready to deploy."),
            ],
        )
    }

    async fn read(&self, ctx: &Ctx<Client>, config: &Value) -> Result<Value, Diagnostics> {
        let package = config.str_attr("package").unwrap_or_default();
        let version = config
            .str_attr("version")
            .unwrap_or_else(|| LATEST.to_string());
        let region = config.str_attr("region").unwrap_or_default();
        let r = ctx
            .client
            .resolve(&package, Some(&version), &region)
            .await
            .map_err(|e| {
                let mut d = api_error(
                    &format!("resolve {package}@{version} in {region}"),
                    &e,
                    &["package", "version", "region"],
                );
                // Not published, not distributed there, or still copying: typical of a data
                // source read before the distribution in the same configuration.
                let too_early = match &e {
                    imagenest_client::ClientError::Api { code, field, .. } => {
                        matches!(code.as_str(), "not_distributed" | "still_copying")
                            || (code == "not_found" && field.as_deref() == Some("version"))
                    }
                    _ => false,
                };
                if too_early {
                    for diag in &mut d.0 {
                        diag.detail.push_str(
                            "\n\nIf the same configuration distributes this version, add \
                             `depends_on = [imagenest_distribution.<name>]` to the data source so \
                             Terraform reads it after the copy is made.",
                        );
                    }
                }
                d
            })?;
        let mut v = config.clone();
        v.set("version", Value::from(version));
        v.set("image_id", Value::from(r.image_id));
        v.set("version_name", Value::from(r.version));
        v.set("status", Value::from("available"));
        Ok(v)
    }
}
