//! `imagenest_image_map`: a service's image map (DESIGN §4) as JSON and as a map.

use crate::diag::Diagnostics;
use crate::framework::{Ctx, DataSource};
use crate::resources::api_error;
use crate::schema::{Attribute, Schema};
use crate::value::{Type, Value};
use async_trait::async_trait;
use imagenest_client::Client;

pub struct ImageMapData;

#[async_trait]
impl DataSource<Client> for ImageMapData {
    fn type_name(&self) -> &'static str {
        "imagenest_image_map"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "The image map of a service: every associated literal's image ID per region, for `imagenest resolve --map`.",
            vec![
                Attribute::string("service")
                    .required()
                    .describe("Service name or ID."),
                Attribute::string("json")
                    .computed()
                    .describe("The image map file, as `imagenest resolve --map` reads it."),
                Attribute::typed("images", Type::map(Type::map(Type::String)))
                    .computed()
                    .describe("Literal → region → image ID."),
            ],
        )
    }

    async fn read(&self, ctx: &Ctx<Client>, config: &Value) -> Result<Value, Diagnostics> {
        let service = config.str_attr("service").unwrap_or_default();
        let map = ctx.client.image_map(&service).await.map_err(|e| {
            api_error(
                &format!("read the image map of service {service:?}"),
                &e,
                &["service"],
            )
        })?;
        let json = serde_json::to_string_pretty(&map)
            .map_err(|e| Diagnostics::from_error("Cannot encode the image map", e.to_string()))?;
        let images = Value::Map(
            map.images
                .iter()
                .map(|(lit, entry)| (lit.clone(), Value::string_map(entry.regions.clone())))
                .collect(),
        );
        let mut v = config.clone();
        v.set("json", Value::from(json));
        v.set("images", images);
        Ok(v)
    }
}
