//! Seeding and listing the sim cloud of a data directory whether or not a sim runs on it:
//! when a sim holds the directory's lock, the call goes to its admin API (endpoint from
//! `sim-cloud.json`); otherwise the state is opened and changed directly, under the same lock.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::config::SimConfig;
use crate::error::SimError;
use crate::info::SimInfo;
use crate::sim::{CreateImage, ImageFilter, ImageView, Sim};

/// Creates a vendor image (see [`CreateImage`]) in the sim cloud of `data_dir`.
pub async fn create_image(data_dir: &Path, req: &CreateImage) -> Result<ImageView, SimError> {
    let config = SimConfig::new(data_dir);
    match Sim::open(&config) {
        Ok(mut sim) => {
            let view = sim.create_image(req)?;
            sim.close();
            Ok(view)
        }
        Err(SimError::Locked { .. }) => {
            let info = SimInfo::read(&config.info_path())?;
            let client = reqwest::Client::new();
            let url = format!("{}/_sim/images", info.endpoint);
            let answer = client.post(&url).json(req).send().await;
            decode(&info.endpoint, answer).await
        }
        Err(e) => Err(e),
    }
}

/// Lists the images of the sim cloud of `data_dir`.
pub async fn list_images(
    data_dir: &Path,
    filter: &ImageFilter,
) -> Result<Vec<ImageView>, SimError> {
    let config = SimConfig::new(data_dir);
    match Sim::open(&config) {
        Ok(mut sim) => {
            sim.tick();
            let list = sim.list(filter);
            sim.close();
            Ok(list)
        }
        Err(SimError::Locked { .. }) => {
            let info = SimInfo::read(&config.info_path())?;
            let client = reqwest::Client::new();
            let url = format!("{}/_sim/images", info.endpoint);
            let answer = client.get(&url).query(filter).send().await;
            decode(&info.endpoint, answer).await
        }
        Err(e) => Err(e),
    }
}

async fn decode<T: DeserializeOwned>(
    endpoint: &str,
    answer: reqwest::Result<reqwest::Response>,
) -> Result<T, SimError> {
    let remote = |detail: String| SimError::Remote {
        endpoint: endpoint.to_string(),
        detail,
    };
    let response =
        answer.map_err(|e| remote(format!("cannot reach the running sim cloud: {e}")))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| remote(e.to_string()))?;
    if status.is_success() {
        return serde_json::from_slice(&body).map_err(|e| remote(format!("bad answer: {e}")));
    }
    #[derive(serde::Deserialize)]
    struct Err {
        code: String,
        message: String,
    }
    match serde_json::from_slice::<Err>(&body) {
        Ok(e) => Err(SimError::Refused {
            code: e.code,
            message: e.message,
        }),
        Err(_) => Err(remote(format!("HTTP {status}"))),
    }
}
