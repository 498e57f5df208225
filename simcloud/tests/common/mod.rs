//! Helpers shared by the sim cloud's integration tests: start a sim in a temp dir on port 0.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use imagenest_cloud::{AliCloud, Driver, ImageState};
use imagenest_simcloud::{CopySpeed, CreateImage, Faults, SimCloud, SimConfig};

pub async fn start_in(dir: &std::path::Path, speed: CopySpeed, faults: Faults) -> SimCloud {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let config = SimConfig {
        data_dir: dir.to_path_buf(),
        speed,
        faults: Some(faults),
        seed: Some(7),
    };
    SimCloud::start(config, listener).await.expect("sim starts")
}

pub async fn start(speed: CopySpeed) -> (tempfile::TempDir, SimCloud) {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start_in(dir.path(), speed, Faults::default()).await;
    (dir, sim)
}

/// A vendor image of `acme` in `region`, shared with the delivery account.
pub fn vendor_image(sim: &SimCloud, region: &str, size_gib: u64) -> String {
    sim.create_image(&CreateImage {
        account: "acme".into(),
        region: region.into(),
        name: "base".into(),
        size_gib,
        share_with: vec!["delivery".into()],
    })
    .expect("seed image")
    .image_id
}

pub fn copy(
    source_region: &str,
    source: &str,
    dest: &str,
    token: &str,
) -> imagenest_cloud::CopyRequest {
    imagenest_cloud::CopyRequest {
        source_region: source_region.into(),
        source_image_id: source.into(),
        destination_region: dest.into(),
        name: "base_copy".into(),
        description: "a copy".into(),
        client_token: token.into(),
    }
}

/// Describes one image, panicking when it is absent.
pub async fn describe(d: &AliCloud, region: &str, id: &str) -> ImageState {
    let mut found = d
        .describe_images(region, &[id.to_string()])
        .await
        .expect("describe");
    assert_eq!(found.len(), 1, "image {id} in {region}");
    found.remove(0)
}

/// Polls until `check` holds, failing after `limit`.
pub async fn wait_until<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
