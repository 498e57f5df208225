//! How fast the sim cloud and the `alicloud` driver go together, at the scale of the
//! registry's distribution bar (1,000 versions × every region, instant copies):
//! CopyImage calls per second, DescribeImages polls of 100 copies, and the time a restart
//! takes to replay and compact the journal. Run: `cargo bench -p imagenest-simcloud`.
//! `SIM_BENCH_VERSIONS` (default 1000) scales it down for a quick look.

use std::sync::Arc;
use std::time::Instant;

use imagenest_cloud::{CopyRequest, Driver};
use imagenest_simcloud::{CopySpeed, CreateImage, Faults, ImageFilter, SimCloud, SimConfig};

const CONCURRENCY: usize = 32;

async fn start(dir: &std::path::Path) -> SimCloud {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let config = SimConfig {
        data_dir: dir.to_path_buf(),
        speed: CopySpeed::Instant,
        faults: Some(Faults::default()),
        seed: Some(1),
    };
    SimCloud::start(config, listener).await.expect("sim starts")
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this as a quick smoke test.
    let full = std::env::args().any(|a| a == "--bench");
    let versions: usize = std::env::var("SIM_BENCH_VERSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 1000 } else { 5 });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(versions));
}

async fn run(versions: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let sim = start(dir.path()).await;
    let source = sim
        .create_image(&CreateImage {
            account: "acme".into(),
            region: "cn-hangzhou".into(),
            name: "base".into(),
            size_gib: 20,
            share_with: vec!["delivery".into()],
        })
        .expect("seed")
        .image_id;
    let driver = Arc::new(sim.driver("delivery").expect("driver"));
    let regions: Vec<String> = imagenest_core::regions::ALIBABA_REGIONS
        .iter()
        .map(|r| r.id.to_string())
        .collect();
    let jobs: Vec<(usize, String)> = (0..versions)
        .flat_map(|v| regions.iter().map(move |r| (v, r.clone())))
        .collect();
    let total = jobs.len();
    let jobs = Arc::new(std::sync::Mutex::new(jobs));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (driver, jobs, source) = (driver.clone(), jobs.clone(), source.clone());
        tasks.push(tokio::spawn(async move {
            let mut ids: Vec<(String, String)> = Vec::new();
            loop {
                let next = jobs.lock().expect("jobs lock").pop();
                let Some((v, region)) = next else { break };
                let req = CopyRequest {
                    source_region: "cn-hangzhou".into(),
                    source_image_id: source.clone(),
                    destination_region: region.clone(),
                    name: format!("v{v}"),
                    description: String::new(),
                    client_token: format!("v{v}-{region}"),
                };
                ids.push((region, driver.copy_image(&req).await.expect("copy")));
            }
            ids
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.extend(t.await.expect("task"));
    }
    let copy_secs = started.elapsed().as_secs_f64();
    println!(
        "copy_image: {total} calls in {copy_secs:.2} s = {:.0} calls/s ({CONCURRENCY} in flight)",
        total as f64 / copy_secs
    );

    let first_region = &regions[0];
    let in_region: Vec<String> = ids
        .iter()
        .filter(|(r, _)| r == first_region)
        .map(|(_, id)| id.clone())
        .collect();
    let polls = 50;
    let started = Instant::now();
    for _ in 0..polls {
        let states = driver
            .describe_images(first_region, &in_region[..in_region.len().min(100)])
            .await
            .expect("describe");
        assert!(states.iter().all(|s| s.status.is_usable()));
    }
    let per_poll = started.elapsed().as_secs_f64() * 1000.0 / polls as f64;
    println!("describe_images: 100 IDs per call, {per_poll:.2} ms per call");

    let count = sim
        .images(&ImageFilter {
            owner: Some("delivery".into()),
            ..Default::default()
        })
        .len();
    assert_eq!(count, total, "exactly one copy per (version, region)");
    sim.shutdown().await;
    let journal = std::fs::metadata(dir.path().join("sim-cloud/journal.jsonl"))
        .map(|m| m.len())
        .unwrap_or(0);
    let started = Instant::now();
    let sim = start(dir.path()).await;
    println!(
        "restart: replay + compaction of {total} copies ({:.1} MiB journal) in {:.0} ms",
        journal as f64 / (1024.0 * 1024.0),
        started.elapsed().as_secs_f64() * 1000.0
    );
    sim.shutdown().await;
}
