//! The `imagenest` commands that talk to a registry, against a real `imagenest serve`:
//! token create/list/revoke, read-only views, distribution show --watch / retry, errors and
//! graceful shutdown.

mod common;

use imagenest_testkit::fixtures::{custom_version, new_package};
use std::time::{Duration, Instant};

use common::{Serve, run};
use imagenest_client::Client;

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_commands_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let mut reg = common::serve(dir.path(), &["--sim-speed", "50", "--engine-poll-ms", "20"]).await;

    // token create reads the endpoint and the admin token from the data dir.
    let out = run(&[
        "token",
        "create",
        "--account",
        "acme",
        "--role",
        "vendor",
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let vendor = stdout(&out).trim().to_string();
    assert!(vendor.starts_with("inest_"), "{vendor}");
    assert!(stderr(&out).contains("shown only now"));
    let out = run(&[
        "token",
        "create",
        "--account",
        "cust1",
        "--role",
        "customer",
        "--output",
        "json",
        "--data-dir",
        d,
    ]);
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(created["account"], "cust1");
    let customer = created["token"].as_str().unwrap().to_string();
    // The embedded sim cloud has an account for every registry account (DESIGN §6), with keys.
    let sim: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("sim-cloud.json")).unwrap()).unwrap();
    for name in ["acme", "cust1", "delivery"] {
        let account = sim["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .unwrap_or_else(|| panic!("no sim account `{name}` in {sim}"));
        assert!(
            account["access_key_id"]
                .as_str()
                .is_some_and(|k| !k.is_empty()),
            "{account}"
        );
    }
    // A vendor cannot mint tokens: exit 4 with the registry's message.
    let out = run(&[
        "token",
        "create",
        "--account",
        "x",
        "--role",
        "vendor",
        "--token",
        &vendor,
        "--data-dir",
        d,
    ]);
    // Exit codes (README): 4 refused, 5 not found, 3 unreachable.
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("only admins"), "{}", stderr(&out));

    let acme = Client::new(&reg.endpoint, Some(&vendor)).unwrap();
    let p = acme
        .create_package(&new_package("acme_base", "CLI test package"))
        .await
        .unwrap();
    let image = common::vendor_image(dir.path(), "acme", "base", 10);
    let v = acme
        .create_version(&p.id, &custom_version("v_1", image))
        .await
        .unwrap();
    acme.set_distribution_regions(&v.id, &["cn-beijing".to_string(), "us-east-1".to_string()])
        .await
        .unwrap();

    let out = run(&[
        "distribution",
        "show",
        &v.id,
        "--watch",
        "--output",
        "json",
        "--token",
        &vendor,
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dist: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(dist["status"], "available");
    assert_eq!(dist["region_images"].as_object().unwrap().len(), 2);
    // On a terminal (`script` gives it a pseudo-terminal), --watch draws a bar per region.
    let on_tty = std::process::Command::new("script")
        .args(["-qec"])
        .arg(format!(
            "{} distribution show {} --watch --token {vendor} --data-dir {d}",
            env!("CARGO_BIN_EXE_imagenest"),
            v.id
        ))
        .arg("/dev/null")
        .env("TERM", "xterm")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run `script` (util-linux) to give the CLI a terminal");
    let screen = String::from_utf8_lossy(&on_tty.stdout);
    assert!(on_tty.status.success(), "{screen}");
    for region in ["cn-beijing", "us-east-1"] {
        assert!(
            screen.contains(&format!("{region} [")) && screen.contains("100% available m-"),
            "no finished bar for {region} in:\n{screen}"
        );
    }
    let out = run(&[
        "distribution",
        "show",
        &v.id,
        "--token",
        &vendor,
        "--data-dir",
        d,
    ]);
    assert!(
        stdout(&out).contains("us-east-1") && stdout(&out).contains("available"),
        "{}",
        stdout(&out)
    );
    let out = run(&[
        "distribution",
        "retry",
        &v.id,
        "--output",
        "json",
        "--token",
        &vendor,
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = run(&[
        "package",
        "list",
        "--output",
        "json",
        "--token",
        &vendor,
        "--data-dir",
        d,
    ]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["name"], "acme_base");
    let out = run(&[
        "package",
        "show",
        "acme_base",
        "--token",
        &vendor,
        "--data-dir",
        d,
    ]);
    assert!(
        stdout(&out).contains("Acme") || stdout(&out).contains("CLI test package"),
        "{}",
        stdout(&out)
    );
    let out = run(&[
        "version",
        "list",
        "acme_base",
        "--output",
        "json",
        "--token",
        &vendor,
        "--data-dir",
        d,
    ]);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()[0]["status"],
        "published"
    );
    let out = run(&["service", "list", "--token", &vendor, "--data-dir", d]);
    assert!(out.status.success());
    let out = run(&[
        "package",
        "show",
        "nope_pkg",
        "--token",
        &vendor,
        "--data-dir",
        d,
    ]);
    assert_eq!(out.status.code(), Some(5));
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));

    // Listing and revoking tokens.
    let out = run(&["token", "list", "--output", "json", "--data-dir", d]);
    let tokens: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cust_id = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["account"] == "cust1")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        run(&["token", "revoke", &cust_id, "--data-dir", d])
            .status
            .success()
    );
    // A revoked token is refused: exit 4.
    let out = run(&["package", "list", "--token", &customer, "--data-dir", d]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));

    // An unreachable registry fails clearly.
    let out = run(&[
        "package",
        "list",
        "--endpoint",
        "http://127.0.0.1:9",
        "--token",
        &vendor,
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("cannot reach the registry"),
        "{}",
        stderr(&out)
    );

    // SIGTERM: a graceful stop, exit 0.
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(reg.child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = reg.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status:?}");
    let _ = Serve::admin_token;
}

#[test]
fn an_unreachable_database_fails_at_once_with_the_servers_reason() {
    let dir = tempfile::tempdir().unwrap();
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://imagenest@127.0.0.1:{port}/imagenest");
    let out = run(&[
        "serve",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--database-url",
        &url,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("--database-url") && err.contains("Connection refused"),
        "{err}"
    );
    assert_eq!(
        err.matches("Connection refused").count(),
        1,
        "the cause once: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_serve_gracefully_and_a_restart_finds_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let mut reg = common::serve(dir.path(), &[]).await;
    let out = run(&[
        "token",
        "create",
        "--account",
        "acme",
        "--role",
        "vendor",
        "--data-dir",
        d,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(reg.child.id() as i32, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = reg.child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGINT");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status:?}");
    // The same data dir serves again, with the token made before the stop.
    let _again = common::serve(dir.path(), &[]).await;
    let out = run(&["token", "list", "--output", "json", "--data-dir", d]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("\"acme\""), "{}", stdout(&out));
}
