//! Provider benchmark: start-to-handshake time, peak resident memory, and `terraform
//! apply` / no-change `plan` of 200 `imagenest_package` resources against the same
//! count of Terraform's built-in `terraform_data` (the floor: no plugin at all).
//!
//! Run: `cargo bench -p terraform-provider-imagenest --bench terraform`
//! (release build; needs `terraform` on PATH; starts its own `imagenest serve`).

#[path = "../tests/common/mod.rs"]
mod common;

use common::{PROVIDER_BIN, Registry, Tf};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const COUNT: usize = 200;
const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let handshake = handshake_times(20);
    println!(
        "handshake: median {:.1} ms, max {:.1} ms over {} starts",
        ms(handshake[handshake.len() / 2]),
        ms(*handshake.last().unwrap()),
        handshake.len()
    );

    let reg = Registry::start();
    let floor = Tf::new(&reg.endpoint, &reg.token);
    floor.config(&format!("resource \"terraform_data\" \"x\" {{\n  count = {COUNT}\n  input = \"pkg_${{count.index}}\"\n}}\n"));
    let ours = Tf::new(&reg.endpoint, &reg.token);
    ours.config(&format!(
        "resource \"imagenest_package\" \"x\" {{\n  count       = {COUNT}\n  name        = \"bench_pkg_${{count.index}}\"\n  description = \"benchmark package number ${{count.index}}\"\n  tags        = {{ bench = \"yes\" }}\n}}\n"
    ));

    let cpu0 = (children_cpu(), process_cpu(reg.pid()));
    let floor_apply = timed(|| floor.apply());
    let floor_plan = timed(|| floor.assert_no_changes());
    let cpu1 = (children_cpu(), process_cpu(reg.pid()));
    let peak = Arc::new(AtomicU64::new(0));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        std::thread::spawn(move || {
            while sampling.load(Ordering::Relaxed) {
                peak.fetch_max(provider_peak_rss_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let our_apply = timed(|| ours.apply());
    let our_plan = timed(|| ours.assert_no_changes());
    let cpu2 = (children_cpu(), process_cpu(reg.pid()));
    sampling.store(false, Ordering::Relaxed);
    sampler.join().unwrap();
    ours.destroy();

    println!(
        "apply {COUNT}: terraform_data {:.2} s, imagenest_package {:.2} s ({:.1}x)",
        secs(floor_apply),
        secs(our_apply),
        our_apply.as_secs_f64() / floor_apply.as_secs_f64()
    );
    println!(
        "no-change plan {COUNT}: terraform_data {:.2} s, imagenest_package {:.2} s ({:.1}x)",
        secs(floor_plan),
        secs(our_plan),
        our_plan.as_secs_f64() / floor_plan.as_secs_f64()
    );
    println!(
        "provider peak RSS during apply+plan: {:.1} MiB",
        peak.load(Ordering::Relaxed) as f64 / 1024.0
    );
    println!(
        "CPU for apply+plan: terraform_data: terraform {:.2} s; imagenest_package: terraform + provider {:.2} s, registry {:.2} s",
        cpu1.0 - cpu0.0,
        cpu2.0 - cpu1.0,
        cpu2.1 - cpu1.1
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn timed<T>(f: impl FnOnce() -> T) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

/// Time from spawn to the handshake line, sorted.
fn handshake_times(n: usize) -> Vec<Duration> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let pem = params.self_signed(&key).unwrap().pem();
    let dir = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    for _ in 0..n {
        let t = Instant::now();
        let mut child = Command::new(PROVIDER_BIN)
            .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
            .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
            .env("PLUGIN_CLIENT_CERT", &pem)
            .env("PLUGIN_UNIX_SOCKET_DIR", dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        out.push(t.elapsed());
        assert!(line.starts_with("1|6|unix|"), "{line}");
        let _ = child.kill();
        let _ = child.wait();
    }
    out.sort();
    out
}

/// CPU seconds (user + system) of waited-for children of this process (terraform and
/// the providers it started).
fn children_cpu() -> f64 {
    stat_fields("/proc/self/stat", 16, 17)
}

/// CPU seconds of a running process.
fn process_cpu(pid: u32) -> f64 {
    stat_fields(&format!("/proc/{pid}/stat"), 14, 15)
}

/// Sums two clock-tick fields of a /proc stat line, numbered as in proc(5).
fn stat_fields(path: &str, a: usize, b: usize) -> f64 {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let rest = text.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // Fields after ")" start at "state", field 3; clock ticks are 100 per second here.
    let get = |n: usize| f.get(n - 3).copied().unwrap_or(0.0);
    (get(a) + get(b)) / 100.0
}

/// The largest VmHWM (peak resident set) among running provider processes, in KiB.
fn provider_peak_rss_kib() -> u64 {
    let mut max = 0;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    for e in entries.flatten() {
        let p = e.path();
        let is_provider = std::fs::read_to_string(p.join("comm"))
            .is_ok_and(|c| c.trim().starts_with("terraform-provi"));
        if !is_provider {
            continue;
        }
        if let Ok(status) = std::fs::read_to_string(p.join("status")) {
            for line in status.lines() {
                if let Some(v) = line.strip_prefix("VmHWM:") {
                    let kib: u64 = v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
                    max = max.max(kib);
                }
            }
        }
    }
    max
}
