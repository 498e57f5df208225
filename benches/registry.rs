//! Registry benchmark (issue 2 bars): `cargo bench --bench registry`.
//!
//! Starts a real `imagenest serve` process on SQLite and measures
//! 1. its idle resident memory,
//! 2. creating 10,000 packages, each with a version, through the API,
//! 3. `GET /v1/resolve` throughput and latency over loopback (keep-alive connections), against a
//!    bare axum handler answering a body of the same size, measured in the same run,
//! 4. its resident memory after that load.
//!
//! Environment: BENCH_SECONDS (default 5), BENCH_CONNECTIONS (default 32), BENCH_PACKAGES (default 10000).

use imagenest_testkit::fixtures::{custom_version, new_package};
use std::{
    path::Path,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

#[path = "support/mod.rs"]
mod support;

use imagenest_client::Client;
use imagenest_core::{
    Role,
    api::{NewToken, TokenKind},
    service::{Association, NewService, ServiceUpdate, Visibility},
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Server {
    child: Child,
    endpoint: String,
    admin: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(dir: &Path, extra: &[&str]) -> Server {
    let _ = std::fs::remove_file(dir.join("endpoint"));
    let child = Command::new(env!("CARGO_BIN_EXE_imagenest"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--sim-speed",
            "0",
            "--data-dir",
        ])
        .arg(dir)
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start imagenest serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let (Ok(e), Ok(t)) = (
            std::fs::read_to_string(dir.join("endpoint")),
            std::fs::read_to_string(dir.join("admin-token")),
        ) {
            return Server {
                child,
                endpoint: e.trim().to_string(),
                admin: t.trim().to_string(),
            };
        }
        assert!(Instant::now() < deadline, "registry did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}

use support::rss_mib;

async fn token(admin: &Client, account: &str, role: Role) -> String {
    admin
        .create_token(&NewToken {
            account: account.into(),
            role,
            kind: TokenKind::Api,
            cloud_account_id: None,
            description: String::new(),
        })
        .await
        .expect("token")
        .token
}

/// Creates `n` packages with one version each, `workers` requests in flight.
async fn create_packages(endpoint: &str, token: &str, n: u64, workers: u64) -> Duration {
    let client = Arc::new(Client::new(endpoint, Some(token)).unwrap());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut i = w;
            while i < n {
                let p = client
                    .create_package(&new_package(format!("bench_pkg_{i}"), "benchmark package"))
                    .await
                    .expect("create package");
                client
                    .create_version(&p.id, &custom_version("v_1", format!("m-bench{i}")))
                    .await
                    .expect("create version");
                i += workers;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    started.elapsed()
}

struct LoadResult {
    requests: u64,
    rps: f64,
    p50_us: u64,
    p99_us: u64,
    errors: u64,
}

/// Drives `connections` keep-alive HTTP/1.1 connections for `seconds`, cycling through `paths`.
fn load(
    addr: std::net::SocketAddr,
    paths: Vec<String>,
    token: String,
    connections: u64,
    seconds: u64,
) -> LoadResult {
    load_as(addr, paths, vec![token], connections, seconds)
}

/// `load` cycling through every (token, path) pair; each connection starts its walk at its own
/// share of the pairs, so that with enough pairs almost every request is a new caller's.
fn load_as(
    addr: std::net::SocketAddr,
    paths: Vec<String>,
    tokens: Vec<String>,
    connections: u64,
    seconds: u64,
) -> LoadResult {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let paths = Arc::new(paths);
        let tokens = Arc::new(tokens);
        let pairs = paths.len() * tokens.len();
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for c in 0..connections {
            let (paths, tokens) = (paths.clone(), tokens.clone());
            tasks.push(tokio::spawn(async move {
                let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
                stream.set_nodelay(true).unwrap();
                let (r, mut w) = stream.into_split();
                let mut r = BufReader::new(r);
                let mut lat = Vec::with_capacity(200_000);
                let mut errors = 0u64;
                let mut i = c as usize * pairs / connections as usize;
                let mut line = String::new();
                let mut body = Vec::new();
                while Instant::now() < deadline {
                    let path = &paths[i % paths.len()];
                    let token = &tokens[(i / paths.len()) % tokens.len()];
                    i += 1;
                    let req = format!("GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\r\n");
                    let t0 = Instant::now();
                    w.write_all(req.as_bytes()).await.expect("write");
                    let mut len = 0usize;
                    line.clear();
                    r.read_line(&mut line).await.expect("status line");
                    if !line.starts_with("HTTP/1.1 200") {
                        errors += 1;
                    }
                    loop {
                        line.clear();
                        r.read_line(&mut line).await.expect("header");
                        if line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap();
                        }
                    }
                    body.resize(len, 0);
                    r.read_exact(&mut body).await.expect("body");
                    lat.push(t0.elapsed().as_micros() as u32);
                }
                (lat, errors)
            }));
        }
        let started = Instant::now();
        let mut all = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let (lat, e) = t.await.unwrap();
            all.extend(lat);
            errors += e;
        }
        let elapsed = started.elapsed().as_secs_f64();
        all.sort_unstable();
        let pct = |p: f64| all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1))).copied().unwrap_or(0) as u64;
        LoadResult { requests: all.len() as u64, rps: all.len() as f64 / elapsed, p50_us: pct(0.50), p99_us: pct(0.99), errors }
    })
}

fn main() {
    let seconds = env_num("BENCH_SECONDS", 5);
    let connections = env_num("BENCH_CONNECTIONS", 32);
    let packages = env_num("BENCH_PACKAGES", 10_000);
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path(), &[]);
    let pid = server.child.id();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    let admin = Client::new(&server.endpoint, Some(&server.admin)).unwrap();
    rt.block_on(async { while admin.health().await.is_err() {} });
    std::thread::sleep(Duration::from_secs(1));
    let idle_rss = rss_mib(pid);
    println!("idle RSS of imagenest serve: {idle_rss:.1} MiB");

    let vendor = rt.block_on(token(&admin, "acme", Role::Vendor));
    let took = rt.block_on(create_packages(&server.endpoint, &vendor, packages, 16));
    println!(
        "created {packages} packages with a version each through the API in {:.2} s ({:.0} packages/s)",
        took.as_secs_f64(),
        packages as f64 / took.as_secs_f64()
    );

    // Seed resolution: one package distributed to every region, a service whitelisting 10 customers.
    let customers: Vec<String> = rt.block_on(async {
        let acme = Client::new(&server.endpoint, Some(&vendor)).unwrap();
        // A real image in the embedded sim cloud, distributed to every region by the engine.
        let out = Command::new(env!("CARGO_BIN_EXE_imagenest"))
            .args([
                "sim-cloud",
                "image",
                "create",
                "--account",
                "acme",
                "--region",
                "cn-hangzhou",
                "--name",
                "bench",
                "--size-gib",
                "20",
                "--data-dir",
            ])
            .arg(dir.path())
            .output()
            .expect("seed a sim image");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let image = String::from_utf8(out.stdout).unwrap().trim().to_string();
        let p = acme.package("bench_pkg_0").await.unwrap();
        let v = acme
            .create_version(&p.id, &custom_version("v_real", image))
            .await
            .unwrap();
        acme.set_distribution_regions(&v.id, &["all".to_string()])
            .await
            .unwrap();
        while acme.distribution(&v.id).await.unwrap().status
            != imagenest_core::distribution::DistributionStatus::Available
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let names: Vec<String> = (0..10).map(|i| format!("cust{i}")).collect();
        let mut tokens = Vec::new();
        for n in &names {
            tokens.push(token(&admin, n, Role::Customer).await);
        }
        acme.create_service(&NewService {
            name: "bench_app".into(),
            visibility: Visibility::Private,
            whitelist: names.iter().cloned().collect(),
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
        let cust = Client::new(&server.endpoint, Some(&tokens[0])).unwrap();
        cust.resolve("bench_pkg_0", None, "cn-hangzhou")
            .await
            .expect("resolvable");
        tokens
    });
    let regions: Vec<String> = imagenest_core::regions::ALIBABA_REGIONS
        .iter()
        .map(|r| r.id.to_string())
        .collect();
    let paths: Vec<String> = regions
        .iter()
        .map(|r| format!("/v1/resolve?package=acme%2Fbench_pkg_0&region={r}"))
        .collect();
    let addr: std::net::SocketAddr = server
        .endpoint
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    // Warm up, then measure (one customer token per run; the cache is per caller).
    let _ = load(addr, paths.clone(), customers[0].clone(), connections, 1);
    let registry = load(
        addr,
        paths.clone(),
        customers[1].clone(),
        connections,
        seconds,
    );

    // The same load against a bare axum handler that answers a body of the same size.
    let body = r#"{"image_id":"m-bench000000000000000","package":"bench_pkg_0","version":"v_1","region":"cn-hangzhou"}"#;
    let bare_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let bare_addr = bare_rt.block_on(async move {
        let app = axum::Router::new().route(
            "/v1/resolve",
            axum::routing::get(
                move || async move { ([("content-type", "application/json")], body) },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        addr
    });
    let _ = load(
        bare_addr,
        paths.clone(),
        customers[0].clone(),
        connections,
        1,
    );
    let bare = load(
        bare_addr,
        paths.clone(),
        customers[0].clone(),
        connections,
        seconds,
    );
    let loaded_rss = rss_mib(pid);

    // Many customers, each resolving for the first time: the service turns public and every
    // request comes from one of `BENCH_CALLERS` new tokens, so the per-caller answers miss and
    // the shared package facts are what is left to hit.
    let callers = env_num("BENCH_CALLERS", 4000);
    let new_callers: Vec<String> = rt.block_on(async {
        let acme = Client::new(&server.endpoint, Some(&vendor)).unwrap();
        let s = acme.service("bench_app").await.unwrap();
        acme.update_service(
            &s.id,
            &ServiceUpdate {
                visibility: Some(Visibility::Public),
                ..Default::default()
            },
            Some(s.revision),
        )
        .await
        .unwrap();
        let mut tokens = Vec::new();
        for i in 0..callers {
            tokens.push(token(&admin, &format!("new{i}"), Role::Customer).await);
        }
        tokens
    });
    let first_time = load_as(addr, paths.clone(), new_callers, connections, seconds);

    // The same data served again with the cache off: every request checks the token and
    // resolves in SQLite (the path a cold or write-heavy registry takes).
    drop(server);
    let uncached_server = start_server(dir.path(), &["--cache-ttl-ms", "0"]);
    let uncached_addr: std::net::SocketAddr = uncached_server
        .endpoint
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let _ = load(
        uncached_addr,
        paths.clone(),
        customers[2].clone(),
        connections,
        1,
    );
    let uncached = load(
        uncached_addr,
        paths,
        customers[3].clone(),
        connections,
        seconds,
    );

    println!();
    println!("| target | requests | req/s | p50 | p99 | non-200 |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (name, r) in [
        ("imagenest GET /v1/resolve", &registry),
        ("bare axum handler", &bare),
        ("imagenest GET /v1/resolve, new callers", &first_time),
        ("imagenest GET /v1/resolve, cache off", &uncached),
    ] {
        println!(
            "| {name} | {} | {:.0} | {:.2} ms | {:.2} ms | {} |",
            r.requests,
            r.rps,
            r.p50_us as f64 / 1000.0,
            r.p99_us as f64 / 1000.0,
            r.errors
        );
    }
    println!();
    println!("resolve / bare throughput: {:.2}", registry.rps / bare.rps);
    println!(
        "resolve with the cache off / bare throughput: {:.2}",
        uncached.rps / bare.rps
    );
    println!("RSS of imagenest serve: idle {idle_rss:.1} MiB, after load {loaded_rss:.1} MiB");
    println!(
        "({connections} connections, {seconds} s per target, one load-generator thread, same machine)"
    );
}
