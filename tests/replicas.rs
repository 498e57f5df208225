//! Two registry processes on one PostgreSQL, copying through one sim cloud process: they share the
//! distribution work without ever copying twice or running more than five copies in one region
//! at once, and when one dies (SIGKILL) the other finishes its regions once its leases run out.

mod common;

use imagenest_testkit::fixtures::{custom_version, new_package};
use std::{
    collections::BTreeSet,
    path::Path,
    process::{Child, Stdio},
    time::{Duration, Instant},
};

use common::imagenest;
use imagenest_client::Client;
use imagenest_core::{
    Role,
    api::{NewToken, TokenKind},
    distribution::DistributionStatus,
};
use sqlx::{Connection, Row};

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_for_file(path: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(s) = std::fs::read_to_string(path)
            && !s.trim().is_empty()
        {
            return s.trim().to_string();
        }
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn start_registry(dir: &Path, db: &str, sim: &str, key: &(String, String)) -> (Proc, String) {
    let child = imagenest()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--cloud",
            "alicloud",
            "--cloud-endpoint",
            sim,
            "--engine-lease-seconds",
            "2",
            "--engine-poll-ms",
            "20",
        ])
        .arg("--data-dir")
        .arg(dir)
        .env("IMAGENEST_DATABASE_URL", db)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", &key.0)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", &key.1)
        .env(
            "RUST_LOG",
            std::env::var("REPLICAS_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start imagenest serve");
    let endpoint = wait_for_file(&dir.join("endpoint")).await;
    (Proc(child), endpoint)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_work_and_take_over_from_a_dead_one() {
    let db = imagenest_testkit::postgres::fresh_database().await;
    let sim_dir = tempfile::tempdir().unwrap();
    let _sim = Proc(
        imagenest()
            .args([
                "sim-cloud",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--speed-gib-per-s",
                "20",
                "--data-dir",
            ])
            .arg(sim_dir.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let info: serde_json::Value =
        serde_json::from_str(&wait_for_file(&sim_dir.path().join("sim-cloud.json")).await).unwrap();
    let sim = info["endpoint"].as_str().unwrap().to_string();
    let delivery = info["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "delivery")
        .unwrap();
    let key = (
        delivery["access_key_id"].as_str().unwrap().to_string(),
        delivery["access_key_secret"].as_str().unwrap().to_string(),
    );

    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (reg_a, endpoint_a) = start_registry(dir_a.path(), &db, &sim, &key).await;
    let (_reg_b, endpoint_b) = start_registry(dir_b.path(), &db, &sim, &key).await;
    let admin_token = std::fs::read_to_string(dir_a.path().join("admin-token")).unwrap();
    let admin = Client::new(&endpoint_b, Some(admin_token.trim())).unwrap();
    let vendor = admin
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
    let acme_a = Client::new(&endpoint_a, Some(&vendor)).unwrap();
    let acme_b = Client::new(&endpoint_b, Some(&vendor)).unwrap();
    let p = acme_a
        .create_package(&new_package("acme_base", "replica test package"))
        .await
        .unwrap();
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
    // More versions than a region's five copy slots, distributed at once: both replicas want
    // to copy into every region at the same time.
    let mut versions = Vec::new();
    for i in 0..10 {
        let image = common::vendor_image(sim_dir.path(), "acme", &format!("base{i}"), 10);
        let client = if i % 2 == 0 { &acme_a } else { &acme_b };
        let v = client
            .create_version(&p.id, &custom_version(format!("v_{i}"), image))
            .await
            .unwrap();
        versions.push(v.id);
    }
    let sets = versions.iter().enumerate().map(|(i, v)| {
        let client = if i % 2 == 0 { &acme_a } else { &acme_b };
        client.set_distribution_regions(v, &targets)
    });
    for d in futures::future::join_all(sets).await {
        d.unwrap();
    }

    // Both replicas hold leases on region copies at some point: they share the work.
    let mut conn = sqlx::PgConnection::connect(&db).await.unwrap();
    let mut owners = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while owners.len() < 2 {
        for row in sqlx::query(
            "SELECT DISTINCT lease_owner FROM region_copies WHERE lease_owner IS NOT NULL",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap()
        {
            owners.insert(row.try_get::<String, _>("lease_owner").unwrap());
        }
        assert!(Instant::now() < deadline, "only {owners:?} ever held work");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // Replica A dies mid-flight; B finishes everything, A's regions included.
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(reg_a.0.id() as i32, libc::SIGKILL) };
    drop(reg_a);
    let deadline = Instant::now() + Duration::from_secs(90);
    for v in &versions {
        loop {
            let d = acme_b.distribution(v).await.unwrap();
            if d.status == DistributionStatus::Available {
                break;
            }
            assert_ne!(d.status, DistributionStatus::Failed, "{d:#?}");
            if Instant::now() >= deadline {
                // What the engine sees: leases, back-off and attempts of every unfinished row.
                let rows = sqlx::query(
                    "SELECT version_id || ' ' || region || ' ' || status || ' owner=' || COALESCE(lease_owner, '-')
                        || ' until=' || CAST(lease_until AS TEXT) || ' next=' || CAST(next_attempt_at AS TEXT)
                        || ' attempts=' || CAST(attempts AS TEXT) || ' error=' || COALESCE(error, '-') AS line
                     FROM region_copies WHERE status <> 'available' ORDER BY region",
                )
                .fetch_all(&mut conn)
                .await
                .unwrap();
                let rows: Vec<String> = rows.iter().map(|r| r.get("line")).collect();
                let sessions = sqlx::query(
                    "SELECT CAST(a.pid AS TEXT) || ' ' || COALESCE(a.state, '-') || ' wait=' || COALESCE(a.wait_event, '-')
                        || ' locks=' || COALESCE((SELECT string_agg(l.locktype || ':' || CAST(l.granted AS TEXT), ',') FROM pg_locks l WHERE l.pid = a.pid AND l.locktype IN ('advisory', 'transactionid', 'tuple')), '-')
                        || ' query=' || LEFT(COALESCE(a.query, '-'), 80) AS line
                     FROM pg_stat_activity a WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()",
                )
                .fetch_all(&mut conn)
                .await
                .unwrap();
                let sessions: Vec<String> = sessions.iter().map(|r| r.get("line")).collect();
                panic!(
                    "distribution {v} did not complete after replica A died: {d:#?}\nrows: {rows:#?}\nsessions: {sessions:#?}"
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let images: serde_json::Value = reqwest::get(format!("{sim}/_sim/images?owner=delivery"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut seen = BTreeSet::new();
    for i in images.as_array().unwrap() {
        let key = (
            i["name"].as_str().unwrap().to_string(),
            i["region"].as_str().unwrap().to_string(),
        );
        assert!(seen.insert(key.clone()), "two copies of {key:?}");
        assert_eq!(i["status"], "Available", "{i}");
    }
    assert_eq!(seen.len(), versions.len() * targets.len());

    // The sim saw at most five copies in progress (running or queued) per region. (The race this
    // guards against is rare here, since one replica tends to claim all of a region's rows at
    // once; registry/tests/store.rs reserves from two stores at the same moment.)
    let stats: serde_json::Value = reqwest::get(format!("{sim}/_sim/copies"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let peaks = stats["peak_in_progress"].as_object().unwrap();
    for (region, peak) in peaks {
        assert!(
            peak.as_u64().unwrap() <= 5,
            "{region} had {peak} copies in progress at once: {stats}"
        );
    }
    // No replica copied anything twice, not even a copy deleted again since.
    let made = stats["copies_made"].as_object().unwrap();
    assert_eq!(made.len(), versions.len() * targets.len(), "{stats}");
    for (copy, n) in made {
        assert_eq!(n.as_u64(), Some(1), "{copy} was copied {n} times: {stats}");
    }
}
