//! Distribution engine benchmark (issue 3 bars): `cargo bench --bench distribution`.
//!
//! A real sim cloud process and a real registry process (`--cloud alicloud` pointing at the sim),
//! so the registry's CPU time is the engine's and the API's alone.
//!
//! 1. Instant copies: BENCH_VERSIONS (default 1000) versions × every sim region, settled time and
//!    registry CPU per region copy.
//! 2. Realistic copies: BENCH_REAL_VERSIONS (default 100) versions with sizes drawn from 20–100 GiB
//!    at BENCH_SPEED GiB/s (default 100, i.e. 0.2–1 s per copy), against a lower bound of the best
//!    schedule under 5 copies per region: the source region must make every delivery copy
//!    (sum/5), and no other region can start before the first delivery copy exists.

#[path = "support/mod.rs"]
mod support;

use imagenest_testkit::fixtures::{custom_version, new_package};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use imagenest_client::Client;
use imagenest_core::{
    Role,
    api::{NewToken, TokenKind},
};
use rand::{Rng, SeedableRng};
use support::{Proc, cpu_time, spawn, wait_for_file};

fn env_num(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Rig {
    _sim: Proc,
    registry: Proc,
    sim_endpoint: String,
    endpoint: String,
    vendor: Client,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

async fn rig(sim_args: &[&str]) -> Rig {
    let (sim_dir, reg_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut args = vec![
        "sim-cloud",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        sim_dir.path().to_str().unwrap(),
    ];
    args.extend_from_slice(sim_args);
    let sim = spawn(&args, &[]);
    let info: serde_json::Value =
        serde_json::from_str(&wait_for_file(&sim_dir.path().join("sim-cloud.json"))).unwrap();
    let sim_endpoint = info["endpoint"].as_str().unwrap().to_string();
    let delivery = info["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "delivery")
        .unwrap()
        .clone();
    let registry = spawn(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--cloud",
            "alicloud",
            "--cloud-endpoint",
            &sim_endpoint,
            "--engine-poll-ms",
            "20",
            "--data-dir",
            reg_dir.path().to_str().unwrap(),
        ],
        &[
            (
                "ALIBABA_CLOUD_ACCESS_KEY_ID",
                delivery["access_key_id"].as_str().unwrap(),
            ),
            (
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                delivery["access_key_secret"].as_str().unwrap(),
            ),
        ],
    );
    let endpoint = wait_for_file(&reg_dir.path().join("endpoint"));
    let admin = Client::new(
        &endpoint,
        Some(&wait_for_file(&reg_dir.path().join("admin-token"))),
    )
    .unwrap();
    while admin.health().await.is_err() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let token = admin
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
    let vendor = Client::new(&endpoint, Some(&token)).unwrap();
    Rig {
        _sim: sim,
        registry,
        sim_endpoint,
        endpoint,
        vendor,
        _dirs: (sim_dir, reg_dir),
    }
}

/// Seeds vendor images of the given sizes and one version per image; returns version IDs.
async fn versions(rig: &Rig, sizes: &[u64]) -> Vec<String> {
    let http = reqwest::Client::new();
    let p = rig
        .vendor
        .create_package(&new_package("bench_pkg", "benchmark package"))
        .await
        .unwrap();
    let mut out = Vec::new();
    for (i, size) in sizes.iter().enumerate() {
        let image: serde_json::Value = http
            .post(format!("{}/_sim/images", rig.sim_endpoint))
            .json(&serde_json::json!({"account": "acme", "region": "cn-hangzhou", "name": format!("base{i}"), "size_gib": size, "share_with": ["delivery"]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let v = rig
            .vendor
            .create_version(
                &p.id,
                &custom_version(
                    format!("v_{i}"),
                    image["image_id"].as_str().unwrap().to_string(),
                ),
            )
            .await
            .unwrap();
        out.push(v.id);
    }
    out
}

/// Gauges of the registry's /metrics (`imagenest_region_copies{status="…"}`).
async fn copy_counts(endpoint: &str) -> std::collections::BTreeMap<String, f64> {
    let text = reqwest::get(format!("{endpoint}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("imagenest_region_copies{status=\""))
        .filter_map(|l| {
            let (status, rest) = l.split_once("\"}")?;
            Some((status.to_string(), rest.trim().parse().ok()?))
        })
        .collect()
}

/// Distributes every version to all regions at once and waits until every copy is settled.
async fn distribute_all(rig: &Rig, versions: &[String], regions: usize) -> (Duration, Duration) {
    let cpu0 = cpu_time(rig.registry.pid());
    let started = Instant::now();
    let vendor = Arc::new(rig.vendor.clone());
    let chunks: Vec<Vec<String>> = versions
        .chunks(versions.len().div_ceil(16).max(1))
        .map(|c| c.to_vec())
        .collect();
    let mut tasks = Vec::new();
    for chunk in chunks {
        let vendor = vendor.clone();
        tasks.push(tokio::spawn(async move {
            for v in chunk {
                vendor
                    .set_distribution_regions(&v, &["all".to_string()])
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let want = (versions.len() * regions) as f64;
    loop {
        let c = copy_counts(&rig.endpoint).await;
        let get = |k: &str| c.get(k).copied().unwrap_or(0.0);
        if get("pending") + get("copying") == 0.0 && get("available") + get("failed") >= want {
            assert_eq!(get("failed"), 0.0, "copies failed: {c:?}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (started.elapsed(), cpu_time(rig.registry.pid()) - cpu0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let regions = imagenest_core::regions::ALIBABA_REGIONS.len();

    // 1. Instant copies.
    let n = env_num("BENCH_VERSIONS", 1000.0) as usize;
    let rig1 = rig(&["--instant"]).await;
    let ids = versions(&rig1, &vec![20; n]).await;
    let (took, cpu) = distribute_all(&rig1, &ids, regions).await;
    let copies = n * regions;
    println!(
        "instant copies: {n} versions x {regions} regions = {copies} region copies settled in {:.1} s ({:.0} copies/s)",
        took.as_secs_f64(),
        copies as f64 / took.as_secs_f64()
    );
    println!(
        "registry CPU: {:.1} s in all, {:.3} ms per region copy (API + engine, sim excluded)",
        cpu.as_secs_f64(),
        cpu.as_secs_f64() * 1000.0 / copies as f64
    );
    drop(rig1);

    // 2. Realistic copy times against the best possible schedule.
    let n = env_num("BENCH_REAL_VERSIONS", 100.0) as usize;
    let speed = env_num("BENCH_SPEED", 100.0);
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let sizes: Vec<u64> = (0..n).map(|_| rng.random_range(20..=100)).collect();
    let durations: Vec<f64> = sizes.iter().map(|s| *s as f64 / speed).collect();
    let sum: f64 = durations.iter().sum();
    let min = durations.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = durations.iter().cloned().fold(0.0, f64::max);
    let bound = (sum / 5.0 + min).max(2.0 * max);
    let ideal = ideal_schedule(&durations, 5);
    let speed_arg = speed.to_string();
    let rig2 = rig(&["--speed-gib-per-s", &speed_arg]).await;
    let ids = versions(&rig2, &sizes).await;
    let (took, _) = distribute_all(&rig2, &ids, regions).await;
    println!(
        "realistic copies: {n} versions (20-100 GiB at {speed} GiB/s) x {regions} regions settled in {:.2} s; lower bound of any schedule {:.2} s ({:+.1}%); zero-overhead LPT schedule {:.2} s ({:+.1}%)",
        took.as_secs_f64(),
        bound,
        (took.as_secs_f64() / bound - 1.0) * 100.0,
        ideal,
        (took.as_secs_f64() / ideal - 1.0) * 100.0
    );
}

/// Makespan of a schedule with no overhead at all: delivery copies longest first on `slots`
/// machines of the source region, then every other region copying each version as soon as its
/// delivery copy exists (in that order) on its own `slots` machines. An achievable schedule, so
/// the best possible one is between the lower bound and this.
fn ideal_schedule(durations: &[f64], slots: usize) -> f64 {
    let mut jobs: Vec<f64> = durations.to_vec();
    jobs.sort_by(|a, b| b.total_cmp(a));
    let mut machines = vec![0.0f64; slots];
    let mut delivered: Vec<(f64, f64)> = Vec::new();
    for d in &jobs {
        let (i, start) = machines
            .iter()
            .cloned()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        machines[i] = start + d;
        delivered.push((start + d, *d));
    }
    let stage1 = machines.iter().cloned().fold(0.0, f64::max);
    delivered.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut machines = vec![0.0f64; slots];
    for (ready, d) in delivered {
        let (i, free) = machines
            .iter()
            .cloned()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        machines[i] = free.max(ready) + d;
    }
    stage1.max(machines.iter().cloned().fold(0.0, f64::max))
}
