//! Crash safety of the distribution engine: a real `imagenest serve` (with its embedded sim
//! cloud) is killed with SIGKILL at random moments during distributions and restarted on the same
//! data dir; every distribution must complete with exactly one copy per region, counted in the sim.
//! Sharing work pending at a crash is finished after the restart, with no service change.

use imagenest_testkit::fixtures::{custom_version, new_package};
use std::{
    collections::BTreeMap,
    path::Path,
    time::{Duration, Instant},
};

use imagenest_client::Client;
use imagenest_core::{
    Role,
    api::{NewToken, TokenKind},
    distribution::DistributionStatus,
    service::{Association, NewService, Visibility},
};
use rand::{Rng, SeedableRng};

mod common;

use common::Serve;

async fn start(dir: &Path) -> Serve {
    common::serve(dir, &["--sim-speed", "4", "--engine-poll-ms", "20"]).await
}

/// The endpoint of the embedded sim cloud of a `serve` data dir (it changes at each start).
fn sim_endpoint(dir: &Path) -> String {
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("sim-cloud.json")).unwrap())
            .unwrap();
    info["endpoint"].as_str().unwrap().to_string()
}

/// Replaces the embedded sim's faults through its admin API.
async fn set_sim_faults(dir: &Path, faults: serde_json::Value) {
    let answer = reqwest::Client::new()
        .put(format!("{}/_sim/faults", sim_endpoint(dir)))
        .json(&faults)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{:?}", answer.text().await);
}

/// The sim's images owned by the delivery account: (image name, region) → count.
async fn delivery_copies(dir: &Path) -> BTreeMap<(String, String), Vec<String>> {
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("sim-cloud.json")).unwrap())
            .unwrap();
    let endpoint = info["endpoint"].as_str().unwrap();
    let images: serde_json::Value = reqwest::get(format!("{endpoint}/_sim/images?owner=delivery"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for i in images.as_array().expect("image list") {
        if i["owner"] == "delivery" {
            out.entry((
                i["name"].as_str().unwrap().to_string(),
                i["region"].as_str().unwrap().to_string(),
            ))
            .or_default()
            .push(i["status"].as_str().unwrap().to_string());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_distributions_loses_nothing_and_copies_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut reg = start(dir.path()).await;
    let admin = Client::new(
        &reg.endpoint,
        Some(
            std::fs::read_to_string(dir.path().join("admin-token"))
                .unwrap()
                .trim(),
        ),
    )
    .unwrap();
    let vendor_token = admin
        .create_token(&NewToken {
            account: "acme".into(),
            role: Role::Vendor,
            kind: TokenKind::Api,
            cloud_account_id: None,
            description: String::new(),
        })
        .await
        .unwrap()
        .token;
    let targets: Vec<String> = [
        "cn-hangzhou",
        "cn-beijing",
        "cn-shanghai",
        "cn-shenzhen",
        "ap-southeast-1",
        "us-east-1",
        "eu-central-1",
        "ap-northeast-1",
    ]
    .map(String::from)
    .to_vec();
    let acme = Client::new(&reg.endpoint, Some(&vendor_token)).unwrap();
    let p = acme
        .create_package(&new_package("acme_base", "crash test package"))
        .await
        .unwrap();
    let mut versions = Vec::new();
    for i in 0..5 {
        let image = common::vendor_image(dir.path(), "acme", &format!("base{i}"), 10);
        let v = acme
            .create_version(&p.id, &custom_version(format!("v_{i}"), image))
            .await
            .unwrap();
        acme.set_distribution_regions(&v.id, &targets)
            .await
            .unwrap();
        versions.push(v.id);
    }

    // Kill and restart at random moments while the copies run.
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261126);
    let mut mid_flight = 0;
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_millis(rng.random_range(30..600))).await;
        let client = Client::new(&reg.endpoint, Some(&vendor_token)).unwrap();
        let mut busy = false;
        for v in &versions {
            busy |=
                client.distribution(v).await.unwrap().status == DistributionStatus::Distributing;
        }
        mid_flight += usize::from(busy);
        reg.kill9();
        reg = start(dir.path()).await;
    }
    assert!(
        mid_flight >= 5,
        "only {mid_flight} of 6 kills hit running distributions; slow the sim down"
    );

    let acme = Client::new(&reg.endpoint, Some(&vendor_token)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    for v in &versions {
        loop {
            let d = acme.distribution(v).await.unwrap();
            if d.status == DistributionStatus::Available {
                assert_eq!(d.region_images.len(), targets.len());
                break;
            }
            assert_ne!(d.status, DistributionStatus::Failed, "{d:#?}");
            assert!(
                Instant::now() < deadline,
                "distribution {v} did not complete: {d:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // Exactly one copy per (version, region): no duplicate from a copy requested before a crash.
    let copies = delivery_copies(dir.path()).await;
    assert_eq!(copies.len(), versions.len() * targets.len(), "{copies:#?}");
    // Nor one made and cleaned up since: the sim counts every image CopyImage created.
    let stats: serde_json::Value =
        reqwest::get(format!("{}/_sim/copies", sim_endpoint(dir.path())))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let made = stats["copies_made"].as_object().expect("copies_made");
    eprintln!("copies made: {made:?}");
    for (name, region) in copies.keys() {
        let n = made
            .get(&format!("{region}/{name}"))
            .and_then(|n| n.as_u64());
        assert_eq!(
            n,
            Some(1),
            "{name} in {region} copied {n:?} times: {made:#?}"
        );
    }
    for ((name, region), statuses) in &copies {
        assert_eq!(
            statuses,
            &vec!["Available".to_string()],
            "{name} in {region}: {statuses:?}"
        );
    }
    // And each recorded region image is that one copy.
    for v in &versions {
        let d = acme.distribution(v).await.unwrap();
        for (region, id) in &d.region_images {
            let r = acme
                .resolve(
                    "acme_base",
                    Some(&acme.version(v).await.unwrap().name),
                    region,
                )
                .await
                .unwrap();
            assert_eq!(&r.image_id, id);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharing_pending_at_a_sigkill_is_finished_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut reg = start(dir.path()).await;
    let admin = Client::new(&reg.endpoint, Some(&Serve::admin_token(dir.path()))).unwrap();
    let vendor_token = admin
        .create_token(&NewToken {
            account: "acme".into(),
            role: Role::Vendor,
            kind: TokenKind::Api,
            cloud_account_id: None,
            description: String::new(),
        })
        .await
        .unwrap()
        .token;
    let acme = Client::new(&reg.endpoint, Some(&vendor_token)).unwrap();
    let p = acme
        .create_package(&new_package("acme_base", "crash test package"))
        .await
        .unwrap();
    let image = common::vendor_image(dir.path(), "acme", "base", 1);
    let v = acme
        .create_version(&p.id, &custom_version("v_1", image))
        .await
        .unwrap();
    let targets: Vec<String> = ["cn-hangzhou", "cn-beijing", "us-east-1"]
        .map(String::from)
        .to_vec();
    acme.set_distribution_regions(&v.id, &targets)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acme.distribution(&v.id).await.unwrap().status != DistributionStatus::Available {
        assert!(
            Instant::now() < deadline,
            "the distribution did not complete"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The cloud throttles share changes; a whitelist change leaves sharing work pending.
    set_sim_faults(
        dir.path(),
        serde_json::json!({"action_errors": {"ModifyImageSharePermission": "Throttling"}}),
    )
    .await;
    acme.create_service(&NewService {
        name: "acme_app".into(),
        visibility: Visibility::Private,
        whitelist: ["cust1".to_string()].into(),
        image_associations: [(
            "centos_7".to_string(),
            Association {
                package_id: p.id.clone(),
                version: "latest".into(),
            },
        )]
        .into(),
    })
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let d = acme.distribution(&v.id).await.unwrap();
        let retrying = d.regions.iter().all(|r| {
            r.error
                .as_deref()
                .is_some_and(|e| e.starts_with("retrying: sharing failed"))
        });
        if retrying {
            break;
        }
        assert!(Instant::now() < deadline, "sharing was never tried: {d:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Crash. The embedded sim restarts with the registry, keeping its saved faults.
    reg.kill9();
    reg = start(dir.path()).await;
    let faults: serde_json::Value =
        reqwest::get(format!("{}/_sim/faults", sim_endpoint(dir.path())))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(
        faults["action_errors"]["ModifyImageSharePermission"], "Throttling",
        "the sim's faults survive its restart: {faults}"
    );
    // The throttling ends; nothing else changes, yet every copy ends up shared.
    set_sim_faults(dir.path(), serde_json::json!({})).await;
    let acme = Client::new(&reg.endpoint, Some(&vendor_token)).unwrap();
    let cust1 = imagenest_simcloud::account_id_for("cust1");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let d = acme.distribution(&v.id).await.unwrap();
        let images: serde_json::Value = reqwest::get(format!(
            "{}/_sim/images?owner=delivery",
            sim_endpoint(dir.path())
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let shared = d.region_images.values().all(|id| {
            images.as_array().unwrap().iter().any(|i| {
                i["image_id"] == id.as_str() && i["shared_with"] == serde_json::json!([cust1])
            })
        });
        if shared && d.regions.iter().all(|r| r.error.is_none()) {
            assert_eq!(d.region_images.len(), targets.len());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "sharing did not converge after the restart: {d:#?}\n{images:#}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A running `imagenest sim-cloud serve`; killed when dropped.
struct SimProc(std::process::Child);

impl Drop for SimProc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `imagenest sim-cloud serve` on `dir` with `flags` and returns it with its endpoint
/// once its faults answer.
async fn sim_cloud(dir: &Path, flags: &[&str]) -> (SimProc, String) {
    let _ = std::fs::remove_file(dir.join("sim-cloud.json"));
    let child = SimProc(
        common::imagenest()
            .args([
                "sim-cloud",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--data-dir",
            ])
            .arg(dir)
            .args(flags)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start imagenest sim-cloud serve"),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if dir.join("sim-cloud.json").exists() {
            let endpoint = sim_endpoint(dir);
            if reqwest::get(format!("{endpoint}/_sim/faults"))
                .await
                .is_ok()
            {
                return (child, endpoint);
            }
        }
        assert!(Instant::now() < deadline, "the sim cloud did not come up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The faults a sim answers with, once they equal `want` (flags are applied just after start).
async fn faults_become(endpoint: &str, want: serde_json::Value) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got: serde_json::Value = reqwest::get(format!("{endpoint}/_sim/faults"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "faults {got} never became {want}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_cloud_faults_survive_a_sigkill_and_given_flags_override_them() {
    let dir = tempfile::tempdir().unwrap();
    let faults = |throttle: f64, latency: u64, action: serde_json::Value| {
        serde_json::json!({"failure_rate": 0.0, "throttle_rate": throttle, "down_regions": ["eu-west-1"],
                           "latency_ms": latency, "action_errors": action})
    };
    let (sim, endpoint) = sim_cloud(
        dir.path(),
        &["--throttle-rate", "0.25", "--down-region", "eu-west-1"],
    )
    .await;
    faults_become(&endpoint, faults(0.25, 0, serde_json::json!({}))).await;
    // The admin call adds an action fault.
    let mut set = faults(0.25, 0, serde_json::json!({"DeleteImage": "InternalError"}));
    let answer = reqwest::Client::new()
        .put(format!("{endpoint}/_sim/faults"))
        .json(&set)
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(sim.0.id() as i32, libc::SIGKILL) };
    drop(sim);

    // No flags: everything saved comes back.
    let (sim, endpoint) = sim_cloud(dir.path(), &[]).await;
    faults_become(&endpoint, set.clone()).await;
    drop(sim);

    // A given flag replaces its own setting only.
    let (_sim, endpoint) = sim_cloud(dir.path(), &["--latency-ms", "3"]).await;
    set["latency_ms"] = 3.into();
    faults_become(&endpoint, set).await;
}
