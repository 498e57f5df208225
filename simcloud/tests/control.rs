//! Seeding a sim cloud's data directory with and without a running sim (what
//! `imagenest sim-cloud image create|list` does).

mod common;

use common::*;
use imagenest_cloud::{Driver, ImageStatus};
use imagenest_simcloud::{CopySpeed, CreateImage, Faults, ImageFilter, control};

fn request(account: &str, share: bool) -> CreateImage {
    CreateImage {
        account: account.into(),
        region: "cn-hangzhou".into(),
        name: "base".into(),
        size_gib: 20,
        share_with: if share {
            vec!["delivery".into()]
        } else {
            vec![]
        },
    }
}

#[tokio::test]
async fn create_works_offline_and_through_a_running_sim() {
    let dir = tempfile::tempdir().unwrap();
    // No sim running: the state is written directly.
    let offline = control::create_image(dir.path(), &request("acme", true))
        .await
        .unwrap();
    assert!(imagenest_simcloud::is_image_id(&offline.image_id));
    let private = control::create_image(dir.path(), &request("acme", false))
        .await
        .unwrap();
    assert!(private.shared_with.is_empty());

    // A sim started on the directory sees it, and the delivery account can copy it.
    let sim = start_in(dir.path(), CopySpeed::Instant, Faults::default()).await;
    let d = sim.driver("delivery").unwrap();
    let id = d
        .copy_image(&copy("cn-hangzhou", &offline.image_id, "cn-beijing", "t"))
        .await
        .unwrap();
    assert_eq!(
        describe(&d, "cn-beijing", &id).await.status,
        ImageStatus::Available
    );
    assert!(
        d.copy_image(&copy("cn-hangzhou", &private.image_id, "cn-beijing", "u"))
            .await
            .is_err()
    );

    // With the sim running: the call goes to its admin API.
    let online = control::create_image(dir.path(), &request("globex", true))
        .await
        .unwrap();
    assert!(sim.image(&online.image_id).is_some());
    assert!(
        sim.info().account("globex").is_some(),
        "sim-cloud.json lists new accounts"
    );
    let listed = control::list_images(
        dir.path(),
        &ImageFilter {
            owner: Some("acme".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(listed.len(), 2);
    let err = control::create_image(
        dir.path(),
        &CreateImage {
            region: "mars-1".into(),
            ..request("acme", true)
        },
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("InvalidRegionId.NotFound"),
        "{err}"
    );
    sim.shutdown().await;

    // Stopped again: listing reads the state directly.
    let all = control::list_images(dir.path(), &ImageFilter::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 4, "{all:?}");
}

#[tokio::test]
async fn admin_api_sets_faults_and_counts_images() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_in(dir.path(), CopySpeed::Instant, Faults::default()).await;
    let http = reqwest::Client::new();
    let base = sim.endpoint().to_string();
    let health: serde_json::Value = http
        .get(format!("{base}/_sim/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["ok"], true);
    let faults = serde_json::json!({"throttle_rate": 1.0});
    let put = http
        .put(format!("{base}/_sim/faults"))
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());
    assert_eq!(sim.faults().throttle_rate, 1.0);
    let bad = http
        .put(format!("{base}/_sim/faults"))
        .json(&serde_json::json!({"failure_rate": 2.0}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let account: serde_json::Value = http
        .post(format!("{base}/_sim/accounts"))
        .json(&serde_json::json!({"name": "initech"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        account["account_id"],
        imagenest_simcloud::account_id_for("initech")
    );
    vendor_image(&sim, "cn-shenzhen", 1);
    let images: Vec<serde_json::Value> = http
        .get(format!("{base}/_sim/images?owner=acme&region=cn-shenzhen"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(images.len(), 1);
    let info: imagenest_simcloud::SimInfo = http
        .get(format!("{base}/_sim/info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        info,
        imagenest_simcloud::SimInfo::read(&dir.path().join("sim-cloud.json")).unwrap()
    );
}
