//! End to end: the real terraform CLI, the built provider and a real `imagenest serve`.
//! Each test: create → no-change plan → import → update → destroy, plus validation,
//! drift and configuration errors.

mod common;

use common::{Registry, Tf, block_on};

const PACKAGE: &str = r#"
resource "imagenest_package" "base" {
  name        = "acme_base"
  description = "Base image of the acme product"
  tags        = { env = "prod" }
}
"#;

#[test]
fn package_create_import_update_destroy() {
    let reg = Registry::start();
    let tf = Tf::new(&reg.endpoint, &reg.token);
    tf.config(PACKAGE);
    tf.apply();
    tf.assert_no_changes();
    let id = tf.state_attr("imagenest_package.base", "id");
    assert_eq!(
        tf.state_attr("imagenest_package.base", "visibility"),
        "private"
    );

    // Import by name after forgetting it.
    tf.ok(&["state", "rm", "-no-color", "imagenest_package.base"]);
    tf.ok(&[
        "import",
        "-input=false",
        "-no-color",
        "imagenest_package.base",
        "acme_base",
    ]);
    assert_eq!(tf.state_attr("imagenest_package.base", "id"), id);
    tf.assert_no_changes();
    // And by ID.
    tf.ok(&["state", "rm", "-no-color", "imagenest_package.base"]);
    tf.ok(&[
        "import",
        "-input=false",
        "-no-color",
        "imagenest_package.base",
        id.as_str().unwrap(),
    ]);
    tf.assert_no_changes();

    // Update in place.
    tf.config(
        &PACKAGE
            .replace(
                "Base image of the acme product",
                "Base image, second edition",
            )
            .replace("prod", "staging"),
    );
    let (code, plan) = tf.plan();
    assert_eq!(code, 2);
    assert!(plan.contains("1 to change, 0 to destroy"), "{plan}");
    tf.apply();
    tf.assert_no_changes();
    let p = block_on(reg.client().package("acme_base")).unwrap();
    assert_eq!(p.description, "Base image, second edition");
    assert_eq!(p.tags.get("env").map(String::as_str), Some("staging"));

    // A new name replaces the package.
    tf.config(&PACKAGE.replace("\"acme_base\"", "\"acme_base2\""));
    let (_, plan) = tf.plan();
    assert!(
        plan.contains("forces replacement") && plan.contains("1 to add, 0 to change, 1 to destroy"),
        "{plan}"
    );

    tf.destroy();
    let err = block_on(reg.client().package("acme_base")).unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

const FULL: &str = r#"
resource "imagenest_package" "base" {
  name        = "acme_base"
  description = "Base image of the acme product"
}

resource "imagenest_package_version" "v1" {
  package_id  = imagenest_package.base.id
  name        = "v1_0"
  description = "first"
  image = {
    type     = "custom"
    region   = "cn-hangzhou"
    image_id = "m-abc"
  }
}

resource "imagenest_service" "app" {
  name      = "acme_app"
  whitelist = ["globex"]
  image_associations = {
    centos_7 = { package_id = imagenest_package.base.id }
    ubuntu   = { package_id = imagenest_package.base.id, version = imagenest_package_version.v1.name }
  }
}
"#;

#[test]
fn version_and_service_create_import_update_destroy() {
    let reg = Registry::start();
    let tf = Tf::new(&reg.endpoint, &reg.token);
    tf.config(FULL);
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(
        tf.state_attr("imagenest_package_version.v1", "status"),
        "draft"
    );
    assert_eq!(
        tf.state_attr("imagenest_service.app", "visibility"),
        "private"
    );
    let assoc = tf.state_attr("imagenest_service.app", "image_associations");
    assert_eq!(assoc["centos_7"]["version"], "latest");

    for (addr, id) in [
        ("imagenest_package_version.v1", "acme_base/v1_0"),
        ("imagenest_service.app", "acme_app"),
    ] {
        tf.ok(&["state", "rm", "-no-color", addr]);
        tf.ok(&["import", "-input=false", "-no-color", addr, id]);
    }
    tf.assert_no_changes();

    // A draft's image and description change in place; the service's whitelist too.
    let changed = FULL
        .replace("\"first\"", "\"second\"")
        .replace("m-abc", "m-def")
        .replace("[\"globex\"]", "[\"globex\", \"initech\"]")
        .replace(
            "name      = \"acme_app\"",
            "name      = \"acme_app\"\n  visibility = \"public\"",
        );
    tf.config(&changed);
    let (code, plan) = tf.plan();
    assert_eq!(code, 2);
    assert!(
        plan.contains("0 to add, 2 to change, 0 to destroy"),
        "{plan}"
    );
    tf.apply();
    tf.assert_no_changes();
    let svc = block_on(reg.client().service("acme_app")).unwrap();
    assert_eq!(svc.whitelist.len(), 2);
    // The package's derived visibility follows the public service on the next refresh.
    tf.ok(&[
        "apply",
        "-refresh-only",
        "-auto-approve",
        "-input=false",
        "-no-color",
    ]);
    assert_eq!(
        tf.state_attr("imagenest_package.base", "visibility"),
        "public"
    );

    tf.destroy();
    assert!(
        block_on(reg.client().service("acme_app"))
            .unwrap_err()
            .is_not_found()
    );
}

#[test]
fn validation_errors_point_at_the_attribute() {
    let reg = Registry::start();
    let tf = Tf::new(&reg.endpoint, &reg.token);
    // Line numbers: the header written by Tf::config takes 8 lines.
    tf.config(
        r#"resource "imagenest_package" "bad" {
  name        = "ab"
  description = "short"
  tags        = { "aliyun:x" = "y" }
}

resource "imagenest_package_version" "bad" {
  package_id = "pkg-1"
  name       = "latest"
  image = {
    type   = "custom"
    region = "mars-1"
    image_id = "m-1"
  }
}

resource "imagenest_service" "bad" {
  name       = "svc_ok"
  visibility = "secret"
  whitelist  = ["Upper"]
  image_associations = {
    "has space" = { package_id = "pkg-1", version = "v1" }
  }
}

resource "imagenest_distribution" "bad" {
  version_id = "ver-1"
  regions    = ["all", "cn-hangzhou"]
  wait_for   = "sometimes"
  timeouts {
    create = "soon"
  }
}
"#,
    );
    let out = tf.fails(&["validate", "-no-color"]);
    let expect = [
        ("Invalid name", "main.tf line 10"),
        ("Invalid description", "main.tf line 11"),
        ("tags.aliyun:x", "main.tf line 12"),
        ("Invalid name", "main.tf line 17"),
        ("unknown region `mars-1`", "main.tf line 18"),
        ("Invalid visibility", "main.tf line 27"),
        ("Invalid whitelist", "main.tf line 28"),
        ("Invalid key in image_associations", "main.tf line 30"),
        (
            "image_associations[\"has space\"].version",
            "main.tf line 30",
        ),
        ("Invalid regions", "main.tf line 36"),
        ("Invalid wait_for", "main.tf line 37"),
        ("Invalid create", "main.tf line 39"),
    ];
    for (what, line) in expect {
        let found = out
            .split("Error: ")
            .any(|block| block.contains(what) && block.contains(line));
        assert!(found, "no error {what:?} at {line:?} in:\n{out}");
    }
}

#[test]
fn drift_recreates_objects_deleted_outside_terraform() {
    let reg = Registry::start();
    let tf = Tf::new(&reg.endpoint, &reg.token);
    tf.config(FULL);
    tf.apply();
    block_on(async {
        let c = reg.client();
        c.delete_service("acme_app").await.unwrap();
        c.update_package(
            "acme_base",
            &imagenest_core::package::PackageUpdate {
                description: Some("changed by hand!".into()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    });
    let (code, plan) = tf.plan();
    assert_eq!(code, 2);
    assert!(
        plan.contains("imagenest_service.app will be created"),
        "{plan}"
    );
    assert!(
        plan.contains("imagenest_package.base will be updated in-place"),
        "{plan}"
    );
    tf.apply();
    tf.assert_no_changes();
    tf.destroy();
}

#[test]
fn wrong_token_and_unreachable_endpoint_are_clear_errors() {
    let reg = Registry::start();
    let mut tf = Tf::new(&reg.endpoint, "inest_not-a-real-token");
    tf.config(PACKAGE);
    let out = tf.fails(&["plan", "-input=false", "-no-color"]);
    assert!(out.contains("rejected the token"), "{out}");

    // A port nothing listens on: refused at once, not a hang.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = dead.local_addr().unwrap();
    drop(dead);
    tf.set_env("IMAGENEST_ENDPOINT", &format!("http://{addr}"));
    tf.set_env("IMAGENEST_TOKEN", &reg.token);
    let start = std::time::Instant::now();
    let out = tf.fails(&["plan", "-input=false", "-no-color"]);
    assert!(out.contains("Cannot reach the imagenest registry"), "{out}");
    assert!(start.elapsed() < std::time::Duration::from_secs(30));

    tf.set_env("IMAGENEST_ENDPOINT", "");
    let out = tf.fails(&["plan", "-input=false", "-no-color"]);
    assert!(out.contains("Missing registry endpoint"), "{out}");
}
