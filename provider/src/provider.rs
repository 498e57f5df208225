//! The imagenest provider definition: configuration schema, configure, resource list.

use crate::data_sources;
use crate::diag::Diagnostics;
use crate::framework::{DataSource, ProviderDef, Resource};
use crate::resources;
use crate::schema::{Attribute, Schema};
use crate::value::Value;
use async_trait::async_trait;
use imagenest_client::{Client, ClientError};
use std::sync::Arc;
use std::time::Duration;

/// How long configure waits for the registry to answer before giving up.
const CONFIGURE_TIMEOUT: Duration = Duration::from_secs(15);

pub struct ImagenestProvider;

#[async_trait]
impl ProviderDef for ImagenestProvider {
    type Client = Client;

    fn schema(&self) -> Schema {
        Schema::new(
            "The imagenest provider manages deployment packages, versions, distributions and services in an imagenest registry.",
            vec![
                Attribute::string("endpoint").optional().describe(
                    "Base URL of the imagenest registry, e.g. http://127.0.0.1:8787. Defaults to the IMAGENEST_ENDPOINT environment variable.",
                ),
                Attribute::string("token")
                    .optional()
                    .sensitive()
                    .describe("Bearer token of a registry account. Defaults to the IMAGENEST_TOKEN environment variable."),
            ],
        )
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<Client>>> {
        vec![
            Arc::new(resources::package::PackageResource),
            Arc::new(resources::package_version::VersionResource),
            Arc::new(resources::distribution::DistributionResource::default()),
            Arc::new(resources::service::ServiceResource),
        ]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Client>>> {
        vec![
            Arc::new(data_sources::region_image::RegionImage),
            Arc::new(data_sources::image_map::ImageMapData),
        ]
    }

    async fn configure(&self, config: &Value) -> Result<Client, Diagnostics> {
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
            .or_else(|| std::env::var("IMAGENEST_TOKEN").ok())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                Diagnostics::from_error(
                    "Missing registry token",
                    "Set `token` in the provider block or the IMAGENEST_TOKEN environment variable \
                     (`imagenest token create` makes one).",
                )
            })?;
        let client = Client::new(&endpoint, Some(&token))
            .map_err(|e| Diagnostics::from_error("Invalid registry endpoint", e.to_string()))?;
        // One cheap call proves the endpoint and the token now, not in the middle of an apply.
        match tokio::time::timeout(CONFIGURE_TIMEOUT, client.whoami()).await {
            Ok(Ok(who)) => {
                tracing::debug!(account = %who.account, "configured imagenest provider");
                Ok(client)
            }
            Ok(Err(
                e @ ClientError::Api {
                    status: 401 | 403, ..
                },
            )) => Err(Diagnostics::from_error(
                "The imagenest registry rejected the token",
                format!("{endpoint} answered: {e}. Check `token` / IMAGENEST_TOKEN."),
            )),
            Ok(Err(e)) => Err(Diagnostics::from_error(
                "Cannot reach the imagenest registry",
                format!(
                    "{e}. Check `endpoint` / IMAGENEST_ENDPOINT and that `imagenest serve` is running."
                ),
            )),
            Err(_) => Err(Diagnostics::from_error(
                "The imagenest registry did not answer",
                format!(
                    "No answer from {endpoint} within {}s.",
                    CONFIGURE_TIMEOUT.as_secs()
                ),
            )),
        }
    }
}
