//! The imagenest provider definition: configuration schema, configure, resource list.

use crate::diag::Diagnostics;
use crate::framework::{DataSource, ProviderDef, Resource};
use crate::schema::{Attribute, Schema};
use crate::value::Value;
use async_trait::async_trait;
use std::sync::Arc;

/// Where the registry is and who we are.
#[derive(Debug, Clone)]
pub struct Registry {
    pub endpoint: String,
    pub token: Option<String>,
}

pub struct ImagenestProvider;

#[async_trait]
impl ProviderDef for ImagenestProvider {
    type Client = Registry;

    fn schema(&self) -> Schema {
        Schema::new(
            "The imagenest provider manages deployment packages, versions, distributions and services in an imagenest registry.",
            vec![
                Attribute::string("endpoint")
                    .optional()
                    .describe("Base URL of the imagenest registry, e.g. http://127.0.0.1:8787. Defaults to the IMAGENEST_ENDPOINT environment variable."),
                Attribute::string("token")
                    .optional()
                    .sensitive()
                    .describe("Bearer token of a registry account. Defaults to the IMAGENEST_TOKEN environment variable."),
            ],
        )
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<Registry>>> {
        Vec::new()
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Registry>>> {
        Vec::new()
    }

    async fn configure(&self, config: &Value) -> Result<Registry, Diagnostics> {
        let endpoint = config
            .str_attr("endpoint")
            .or_else(|| std::env::var("IMAGENEST_ENDPOINT").ok())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                Diagnostics::from_error(
                    "Missing registry endpoint",
                    "Set `endpoint` in the provider block or the IMAGENEST_ENDPOINT environment variable.",
                )
            })?;
        let token = config
            .str_attr("token")
            .or_else(|| std::env::var("IMAGENEST_TOKEN").ok());
        Ok(Registry { endpoint, token })
    }
}
