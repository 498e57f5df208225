//! The OpenAPI-driven fuzz run: a pinned schemathesis from PyPI, in a venv under the cargo
//! target dir, against a real `imagenest serve` process. Fails on any 5xx and on any response
//! whose status, content type or body the document at `/v1/openapi.json` does not describe.
//!
//! Four passes, each with a fixed seed and one worker so runs repeat: every operation with
//! generated parameters; the operations on one object with the IDs of seeded objects (so their
//! bodies reach the handlers' logic, not just the 404); what a whitelisted customer reads; and
//! token revocation on its own, last, since it may revoke the token the fuzzer itself uses.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// The schemathesis release the run is pinned to.
const SCHEMATHESIS: &str = "schemathesis==4.32.5";
/// Test cases per operation and phase: enough to walk every documented answer, small enough
/// to keep the whole test around a minute on two cores.
const MAX_EXAMPLES: &str = "50";
const SEED: &str = "20261126";
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance";

/// A running `imagenest serve`; killed when dropped.
struct Server {
    child: Child,
    url: String,
    admin: String,
    log: PathBuf,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

async fn start_server() -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let log = dir.path().join("serve.log");
    let out = std::fs::File::create(&log).expect("log file");
    let child = Command::new(env!("CARGO_BIN_EXE_imagenest"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("log file"))
        .stderr(out)
        .kill_on_drop(true)
        .spawn()
        .expect("start imagenest serve");
    let deadline = Instant::now() + Duration::from_secs(60);
    let (url, admin) = loop {
        let endpoint = std::fs::read_to_string(data.join("endpoint")).unwrap_or_default();
        let admin = std::fs::read_to_string(data.join("admin-token")).unwrap_or_default();
        if !endpoint.trim().is_empty() && !admin.trim().is_empty() {
            break (endpoint.trim().to_string(), admin.trim().to_string());
        }
        assert!(
            Instant::now() < deadline,
            "imagenest serve did not start; its log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let server = Server {
        child,
        url,
        admin,
        log,
        dir,
    };
    let http = reqwest::Client::new();
    loop {
        let healthy = http
            .get(format!("{}/healthz", server.url))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if healthy {
            break server;
        }
        assert!(
            Instant::now() < deadline,
            "the registry never became healthy"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `method path` with `token`; panics unless the answer is a success.
async fn call(
    server: &Server,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> Value {
    let res = reqwest::Client::new()
        .request(method.clone(), format!("{}{path}", server.url))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("the registry answers");
    let status = res.status();
    let v: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "seeding {method} {path}: {status} {v}");
    v
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

/// What the fuzzer starts from: tokens and one object of each kind.
struct Seed {
    vendor: String,
    /// A customer on the seeded service's whitelist.
    customer: String,
    revoker: String,
    ros: String,
    package: String,
    version: String,
    service: String,
}

async fn seed(server: &Server) -> Seed {
    use reqwest::Method;
    let admin = &server.admin;
    let token = |account: &str, role: &str, kind: &str| json!({"account": account, "role": role, "kind": kind, "description": "openapi fuzz"});
    let vendor = call(
        server,
        admin,
        Method::POST,
        "/v1/tokens",
        token("acme", "vendor", "api"),
    )
    .await;
    let vendor = vendor["token"].as_str().unwrap().to_string();
    let ros = call(
        server,
        admin,
        Method::POST,
        "/v1/tokens",
        token("acme", "vendor", "ros"),
    )
    .await;
    let revoker = call(
        server,
        admin,
        Method::POST,
        "/v1/tokens",
        token("initech", "vendor", "api"),
    )
    .await;
    let customer = call(
        server,
        admin,
        Method::POST,
        "/v1/tokens",
        token("cust1", "customer", "api"),
    )
    .await;
    let package = call(
        server,
        &vendor,
        Method::POST,
        "/v1/packages",
        json!({"name": "acme_base", "description": "Acme base image for fuzzing", "tags": {"env": "fuzz"}}),
    )
    .await;
    let package = id(&package);
    let image = json!({"type": "custom", "region": "cn-hangzhou", "image_id": "m-source1"});
    let version = call(
        server,
        &vendor,
        Method::POST,
        &format!("/v1/packages/{package}/versions"),
        json!({"name": "v_1", "description": "first", "image": image}),
    )
    .await;
    let version = id(&version);
    let published = call(
        server,
        &vendor,
        Method::POST,
        &format!("/v1/packages/{package}/versions"),
        json!({"name": "v_2", "image": image}),
    )
    .await;
    call(
        server,
        &vendor,
        Method::PUT,
        &format!("/v1/versions/{}/distribution", id(&published)),
        json!({"regions": ["cn-hangzhou", "cn-beijing"]}),
    )
    .await;
    let service = call(
        server,
        &vendor,
        Method::POST,
        "/v1/services",
        json!({"name": "acme_app", "visibility": "private", "whitelist": ["cust1"],
               "image_associations": {"centos_7": {"package_id": package, "version": "latest"}}}),
    )
    .await;
    Seed {
        vendor,
        revoker: revoker["token"].as_str().unwrap().to_string(),
        customer: customer["token"].as_str().unwrap().to_string(),
        ros: ros["token"].as_str().unwrap().to_string(),
        package,
        version,
        service: id(&service),
    }
}

/// The venv with schemathesis, made (or reused) under the cargo target dir.
async fn schemathesis() -> PathBuf {
    // <target>/<profile>/imagenest → <target>
    let target = Path::new(env!("CARGO_BIN_EXE_imagenest"))
        .ancestors()
        .nth(2)
        .expect("the binary lives under the target dir")
        .to_path_buf();
    let venv = target.join("fuzz-venv");
    let bin = venv.join("bin").join("schemathesis");
    let version = SCHEMATHESIS.trim_start_matches("schemathesis==");
    if let Ok(out) = Command::new(&bin).arg("--version").output().await {
        if String::from_utf8_lossy(&out.stdout).contains(version) {
            return bin;
        }
    }
    let python = Command::new("python3").arg("--version").output().await;
    assert!(
        python.is_ok_and(|o| o.status.success()),
        "the OpenAPI fuzz run needs python3 with venv and pip: install them (Debian: apt-get install python3 python3-venv)"
    );
    let _ = std::fs::remove_dir_all(&venv);
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
        .await
        .expect("run python3 -m venv");
    assert!(
        made.status.success(),
        "python3 -m venv {} failed; install the venv module (Debian: apt-get install python3-venv):\n{}",
        venv.display(),
        String::from_utf8_lossy(&made.stderr)
    );
    let pip = Command::new(venv.join("bin").join("pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            SCHEMATHESIS,
        ])
        .output()
        .await
        .expect("run pip");
    assert!(
        pip.status.success(),
        "pip could not install {SCHEMATHESIS} from PyPI into {}:\n{}",
        venv.display(),
        String::from_utf8_lossy(&pip.stderr)
    );
    bin
}

/// One schemathesis pass; panics with its report when it finds anything.
async fn pass(bin: &Path, server: &Server, name: &str, token: &str, config: &str, extra: &[&str]) {
    let config_path = server.dir.path().join(format!("{name}.toml"));
    std::fs::write(&config_path, config).expect("write schemathesis config");
    let started = Instant::now();
    let out = Command::new(bin)
        .arg("--config-file")
        .arg(&config_path)
        .arg("run")
        .arg(format!("{}/v1/openapi.json", server.url))
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args([
            "--checks",
            CHECKS,
            "--max-examples",
            MAX_EXAMPLES,
            "--seed",
            SEED,
        ])
        .args([
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--no-color",
        ])
        .args(["--request-timeout", "10", "--suppress-health-check", "all"])
        .args(extra)
        .current_dir(server.dir.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run schemathesis");
    let report = String::from_utf8_lossy(&out.stdout);
    eprintln!("pass `{name}` took {:.1?}\n{report}", started.elapsed());
    assert!(
        out.status.success(),
        "schemathesis pass `{name}` found responses that break the OpenAPI document (or 5xx):\n{report}\n{}\nregistry log: {}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(&server.log).unwrap_or_default()
    );
}

/// Operations on one object get the seeded object's ID.
fn seeded_config(seed: &Seed) -> String {
    let op = |regex: &str, param: &str, value: &str| {
        format!(
            "[[operations]]\ninclude-path-regex = '{regex}'\nparameters = {{ \"path.{param}\" = \"{value}\" }}\n\n"
        )
    };
    [
        op("^/v1/packages/\\{id\\}", "id", &seed.package),
        op("^/v1/versions/\\{id\\}", "id", &seed.version),
        op("^/v1/services/\\{id\\}", "id", &seed.service),
        op("^/v1/ros/custom-resource/", "token", &seed.ros),
    ]
    .concat()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_errors_and_no_undocumented_responses() {
    let bin = schemathesis().await;
    let server = start_server().await;
    let seed = seed(&server).await;

    // 1. Everything but token revocation, parameters as generated, with the stateful phase.
    pass(
        &bin,
        &server,
        "generated",
        &seed.vendor,
        "",
        &["--exclude-name", "DELETE /v1/tokens/{id}"],
    )
    .await;
    // 2. The operations on one object, on the seeded objects. Deletes stay with pass 1 so the
    //    objects live through the pass.
    pass(
        &bin,
        &server,
        "seeded",
        &seed.vendor,
        &seeded_config(&seed),
        &[
            "--include-path-regex",
            "\\{(id|token)\\}",
            "--exclude-method",
            "DELETE",
            "--phases",
            "examples,coverage,fuzzing",
        ],
    )
    .await;
    // 3. What a whitelisted customer reads, on the seeded objects.
    pass(
        &bin,
        &server,
        "customer",
        &seed.customer,
        &seeded_config(&seed),
        &[
            "--include-method",
            "GET",
            "--phases",
            "examples,coverage,fuzzing",
        ],
    )
    .await;
    // 4. Token revocation, with a token of its own.
    pass(
        &bin,
        &server,
        "tokens",
        &seed.revoker,
        "",
        &["--include-path-regex", "^/v1/tokens"],
    )
    .await;
}
