//! End to end: distributions through terraform — publishing, regions added and removed,
//! import, drift of a region removed outside Terraform, the frozen image of a published
//! version, the image map data source, regions that fail on create and on update, and
//! marketplace versions.

mod common;

use common::{Registry, Tf, block_on};

fn config(image_id: &str, regions: &str, image_region: &str) -> String {
    format!(
        r#"
resource "imagenest_package" "base" {{
  name        = "acme_base"
  description = "Base image of the acme product"
}}

resource "imagenest_package_version" "v1" {{
  package_id = imagenest_package.base.id
  name       = "v1_0"
  image = {{
    type     = "custom"
    region   = "{image_region}"
    image_id = "{image_id}"
  }}
}}

resource "imagenest_distribution" "v1" {{
  version_id = imagenest_package_version.v1.id
  regions    = {regions}
  wait_for   = "all"
  timeouts {{
    create = "3m"
    update = "3m"
    delete = "3m"
  }}
}}

resource "imagenest_service" "app" {{
  name = "acme_app"
  image_associations = {{
    centos_7 = {{ package_id = imagenest_package.base.id }}
  }}
}}

data "imagenest_image_map" "app" {{
  service    = imagenest_service.app.name
  depends_on = [imagenest_distribution.v1]
}}

output "map_json" {{
  value = data.imagenest_image_map.app.json
}}
"#
    )
}

#[test]
fn distribution_publishes_tracks_regions_and_imports() {
    let reg = Registry::start();
    let tf = Tf::new(&reg.endpoint, &reg.token);
    let image = reg.source_image("cn-hangzhou");
    let two = r#"["cn-hangzhou", "ap-southeast-1"]"#;
    tf.config(&config(&image, two, "cn-hangzhou"));
    tf.apply();
    tf.assert_no_changes();
    let version_id = tf.state_attr("imagenest_package_version.v1", "id");
    let version_id = version_id.as_str().unwrap().to_string();

    // Creating the distribution published the version.
    tf.ok(&[
        "apply",
        "-refresh-only",
        "-auto-approve",
        "-input=false",
        "-no-color",
    ]);
    assert_eq!(
        tf.state_attr("imagenest_package_version.v1", "status"),
        "published"
    );
    let map: serde_json::Value =
        serde_json::from_str(tf.outputs()["map_json"]["value"].as_str().unwrap()).unwrap();
    assert_eq!(map["service"], "acme_app");
    assert_eq!(map["images"]["centos_7"]["package"], "acme_base");
    let regions = map["images"]["centos_7"]["regions"]
        .as_object()
        .map(|m| m.len());
    assert_eq!(regions, Some(2), "{map}");

    // Import by the version's ID.
    tf.ok(&["state", "rm", "-no-color", "imagenest_distribution.v1"]);
    tf.ok(&[
        "import",
        "-input=false",
        "-no-color",
        "imagenest_distribution.v1",
        "acme_base/v1_0",
    ]);
    assert_eq!(
        tf.state_attr("imagenest_distribution.v1", "id"),
        version_id.as_str()
    );
    // Import knows no `timeouts`: one in-place change that touches nothing remote.
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan.contains("0 to add, 1 to change, 0 to destroy") && !plan.contains("region_images ="),
        "{plan}"
    );
    tf.apply();
    tf.assert_no_changes();

    // wait_for = "none" returns at once; the copy goes on.
    let none =
        config(&image, two, "cn-hangzhou").replace("wait_for   = \"all\"", "wait_for   = \"none\"");
    tf.config(&none);
    tf.apply();
    tf.config(&config(&image, two, "cn-hangzhou"));
    tf.apply();
    tf.assert_no_changes();

    // A published version's image is frozen: a new image replaces the version.
    tf.config(&config("m-another0image0id000", two, "cn-hangzhou"));
    let (_, plan) = tf.plan();
    assert!(
        plan.contains("imagenest_package_version.v1 must be replaced")
            && plan.contains("forces replacement"),
        "{plan}"
    );
    tf.config(&config(&image, two, "cn-hangzhou"));

    // A region removed outside Terraform shows as a change and comes back.
    block_on(
        reg.client()
            .set_distribution_regions(&version_id, &["cn-hangzhou".to_string()]),
    )
    .unwrap();
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan.contains("imagenest_distribution.v1 will be updated in-place")
            && plan.contains("ap-southeast-1"),
        "{plan}"
    );
    tf.apply();
    tf.assert_no_changes();

    // Adding a region copies only that one.
    tf.config(&config(
        &image,
        r#"["cn-hangzhou", "ap-southeast-1", "cn-shanghai"]"#,
        "cn-hangzhou",
    ));
    tf.apply();
    tf.assert_no_changes();
    let d = block_on(reg.client().distribution(&version_id)).unwrap();
    let mut regions: Vec<_> = d.regions.iter().map(|r| r.region.as_str()).collect();
    regions.sort();
    assert_eq!(regions, ["ap-southeast-1", "cn-hangzhou", "cn-shanghai"]);

    tf.destroy();
    assert!(
        block_on(reg.client().package("acme_base"))
            .unwrap_err()
            .is_not_found()
    );
}

fn waiting_config(image_id: &str, regions: &str, extra: &str) -> String {
    format!(
        r#"
resource "imagenest_package" "base" {{
  name        = "acme_base"
  description = "Base image of the acme product"
}}

resource "imagenest_package_version" "v1" {{
  package_id = imagenest_package.base.id
  name       = "v1_0"
  image = {{
    type     = "custom"
    region   = "cn-hangzhou"
    image_id = "{image_id}"
  }}
}}

resource "imagenest_distribution" "v1" {{
  version_id = imagenest_package_version.v1.id
  regions    = {regions}
  timeouts {{
    create = "5m"
    delete = "3m"
  }}
}}
{extra}
"#
    )
}

const REGION_IMAGE: &str = r#"
data "imagenest_region_image" "sg" {
  package = imagenest_package.base.name
  region  = "ap-southeast-1"
  depends_on = [imagenest_distribution.v1]
}

output "sg_image" {
  value = data.imagenest_region_image.sg.image_id
}

output "sg_version" {
  value = data.imagenest_region_image.sg.version_name
}

output "images" {
  value = imagenest_distribution.v1.region_images
}
"#;

/// A region that fails makes the apply fail naming it, keeps the region that worked, and
/// the next apply copies only the failed region again.
#[test]
fn failed_regions_are_reported_kept_apart_and_retried() {
    let reg = Registry::start();
    assert!(
        reg.has_sim_cloud(),
        "imagenest serve did not start its embedded sim cloud (no sim-cloud.json)"
    );
    let tf = Tf::new(&reg.endpoint, &reg.token);
    let image = reg.source_image("cn-hangzhou");
    reg.set_sim_faults(r#"{"down_regions": ["ap-southeast-1"]}"#);
    tf.config(&waiting_config(
        &image,
        r#"["cn-hangzhou", "ap-southeast-1"]"#,
        "",
    ));
    let out = tf.fails(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert!(
        out.contains("Distribution to ap-southeast-1 failed"),
        "{out}"
    );
    assert!(!out.contains("Distribution to cn-hangzhou failed"), "{out}");
    // The cloud's own message, and what the next plan will show.
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "ServiceUnavailable",
        "temporary failure of the server in ap-southeast-1",
        "The copies in cn-hangzhou are kept.",
        "\"must be replaced\": that replacement adopts the distribution, deletes no copies",
    ] {
        assert!(flat.contains(want), "no {want:?} in:\n{out}");
    }
    let version_id = tf
        .state_attr("imagenest_package_version.v1", "id")
        .as_str()
        .unwrap()
        .to_string();
    let before = block_on(reg.client().distribution(&version_id)).unwrap();
    let hangzhou = before
        .region_images
        .get("cn-hangzhou")
        .cloned()
        .expect("cn-hangzhou was copied");
    let status = tf.state_attr("imagenest_distribution.v1", "region_status");
    assert_eq!(status["ap-southeast-1"]["status"], "failed", "{status}");

    // Terraform taints a create that failed, so the next plan is a replacement; the
    // provider says what that replacement really does, and the diff shows the copy that
    // stays as unchanged instead of as a value that goes away.
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    let flat = plan.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "imagenest_distribution.v1 is tainted, so must be replaced",
        "Warning: Existing distribution adopted: only regions without a copy are copied",
        "Kept as they are: cn-hangzhou.",
        "Copied again (failed before): ap-southeast-1.",
        "status = \"partially_available\" -> \"available\"",
        "+ \"ap-southeast-1\" = (known after apply)",
    ] {
        assert!(flat.contains(want), "no {want:?} in the plan:\n{plan}");
    }
    assert!(!plan.contains("- \"cn-hangzhou\""), "{plan}");
    assert!(
        !plan.contains("id            = (known after apply)"),
        "{plan}"
    );
    // `terraform untaint` turns the same retry into an in-place update, as the error said.
    tf.ok(&["untaint", "-no-color", "imagenest_distribution.v1"]);
    let (_, plan) = tf.plan();
    assert!(
        plan.contains("imagenest_distribution.v1 will be updated in-place")
            && plan.contains("0 to add, 1 to change, 0 to destroy")
            && !plan.contains("- \"cn-hangzhou\""),
        "{plan}"
    );
    tf.ok(&["taint", "-no-color", "imagenest_distribution.v1"]);

    reg.set_sim_faults(r#"{"down_regions": []}"#);
    tf.config(&waiting_config(
        &image,
        r#"["cn-hangzhou", "ap-southeast-1"]"#,
        REGION_IMAGE,
    ));
    tf.apply();
    tf.assert_no_changes();
    let after = block_on(reg.client().distribution(&version_id)).unwrap();
    assert_eq!(
        after.region_images.get("cn-hangzhou"),
        Some(&hangzhou),
        "cn-hangzhou was copied again"
    );
    assert_eq!(after.region_images.len(), 2);
    let outputs = tf.outputs();
    assert_eq!(
        outputs["sg_image"]["value"],
        after.region_images["ap-southeast-1"].as_str()
    );
    assert_eq!(outputs["sg_version"]["value"], "v1_0");
    assert_eq!(outputs["images"]["value"]["cn-hangzhou"], hangzhou.as_str());
    // The adopting apply leaves nothing behind in the state: destroying the distribution
    // deletes its copies.
    tf.ok(&[
        "destroy",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-target=imagenest_distribution.v1",
    ]);
    match block_on(reg.client().distribution(&version_id)) {
        Ok(d) => assert!(d.regions.is_empty(), "the distribution was kept: {d:?}"),
        Err(e) => assert!(e.is_not_found(), "{e}"),
    }
    tf.destroy();
}

/// With `create_before_destroy`, Terraform creates the replacement of a tainted distribution
/// first and then deletes the old object: that delete must not take the adopted copies along.
#[test]
fn create_before_destroy_keeps_the_adopted_distribution() {
    let reg = Registry::start();
    assert!(
        reg.has_sim_cloud(),
        "imagenest serve did not start its embedded sim cloud (no sim-cloud.json)"
    );
    let tf = Tf::new(&reg.endpoint, &reg.token);
    let image = reg.source_image("cn-hangzhou");
    let config = waiting_config(&image, r#"["cn-hangzhou", "ap-southeast-1"]"#, "").replace(
        "  timeouts {\n    create = \"5m\"",
        "  lifecycle {\n    create_before_destroy = true\n  }\n  timeouts {\n    create = \"5m\"",
    );
    assert!(config.contains("create_before_destroy"));
    tf.config(&config);
    reg.set_sim_faults(r#"{"down_regions": ["ap-southeast-1"]}"#);
    let out = tf.fails(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    assert!(
        out.contains("Distribution to ap-southeast-1 failed"),
        "{out}"
    );
    let version_id = tf
        .state_attr("imagenest_package_version.v1", "id")
        .as_str()
        .unwrap()
        .to_string();
    let hangzhou = block_on(reg.client().distribution(&version_id))
        .unwrap()
        .region_images["cn-hangzhou"]
        .clone();

    reg.set_sim_faults(r#"{"down_regions": []}"#);
    let (_, plan) = tf.plan();
    assert!(
        plan.contains("+/- create replacement and then destroy")
            && plan.contains("Existing distribution adopted"),
        "{plan}"
    );
    tf.apply();
    tf.assert_no_changes();
    let after = block_on(reg.client().distribution(&version_id)).unwrap();
    assert_eq!(
        after.region_images.get("cn-hangzhou"),
        Some(&hangzhou),
        "cn-hangzhou was deleted or copied again: {after:?}"
    );
    assert_eq!(after.region_images.len(), 2, "{after:?}");
    tf.destroy();
}

/// A create that runs out of time fails saying the registry keeps copying; the next plan
/// (a replacement: Terraform taints the object) lists the copy as still in progress, and the
/// next apply waits for that same copy instead of starting another.
#[test]
fn timed_out_create_finishes_without_copying_again() {
    let reg = Registry::start();
    assert!(
        reg.has_sim_cloud(),
        "imagenest serve did not start its embedded sim cloud (no sim-cloud.json)"
    );
    let tf = Tf::new(&reg.endpoint, &reg.token);
    // 16 GiB at the sim's 2 GiB/s: about 8 s for the delivery copy and 8 s for the region.
    let image = reg.source_image_sized("cn-hangzhou", 16);
    let config = waiting_config(&image, r#"["ap-southeast-1"]"#, "");
    tf.config(&config.replace("create = \"5m\"", "create = \"1s\""));
    let out = tf.fails(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "Error: Distribution timed out",
        "Still distributing after 1s",
        "The registry keeps copying and the next apply waits for the same copies again",
    ] {
        assert!(flat.contains(want), "no {want:?} in:\n{out}");
    }
    tf.config(&config);
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    let flat = plan.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "imagenest_distribution.v1 is tainted, so must be replaced",
        "Still copying (the apply waits for them): ap-southeast-1.",
    ] {
        assert!(flat.contains(want), "no {want:?} in the plan:\n{plan}");
    }
    tf.apply();
    tf.assert_no_changes();
    let copies = reg.sim_images("ap-southeast-1");
    assert_eq!(
        copies.len(),
        1,
        "one copy in ap-southeast-1, not two: {copies:?}"
    );
    tf.destroy();
}

/// Adding a region that fails: the update is not tainted; the apply fails naming the region
/// and the cloud's message, the state keeps the region that worked, the next plan shows the
/// failed region as one to add, and once the outage is over only that region is copied.
#[test]
fn failed_new_region_of_an_update_is_reported_kept_apart_and_retried() {
    let reg = Registry::start();
    assert!(
        reg.has_sim_cloud(),
        "imagenest serve did not start its embedded sim cloud (no sim-cloud.json)"
    );
    let tf = Tf::new(&reg.endpoint, &reg.token);
    let image = reg.source_image("cn-hangzhou");
    tf.config(&waiting_config(&image, r#"["cn-hangzhou"]"#, ""));
    tf.apply();
    let version_id = tf
        .state_attr("imagenest_package_version.v1", "id")
        .as_str()
        .unwrap()
        .to_string();
    let hangzhou = block_on(reg.client().distribution(&version_id))
        .unwrap()
        .region_images["cn-hangzhou"]
        .clone();

    reg.set_sim_faults(r#"{"down_regions": ["ap-southeast-1"]}"#);
    let two = waiting_config(&image, r#"["cn-hangzhou", "ap-southeast-1"]"#, "");
    tf.config(&two);
    // The plan shows the copy that stays as unchanged, the new region as to come.
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    let flat = plan.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "imagenest_distribution.v1 will be updated in-place",
        "+ \"ap-southeast-1\" = (known after apply)",
        "0 to add, 1 to change, 0 to destroy",
    ] {
        assert!(flat.contains(want), "no {want:?} in the plan:\n{plan}");
    }
    assert!(!plan.contains("- \"cn-hangzhou\""), "{plan}");

    let out = tf.fails(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "Error: Distribution to ap-southeast-1 failed",
        "on main.tf line 27",
        "ServiceUnavailable",
        "temporary failure of the server in ap-southeast-1",
        "The copies in cn-hangzhou are kept.",
        "The next plan shows the failed regions as regions to add",
    ] {
        assert!(flat.contains(want), "no {want:?} in:\n{out}");
    }
    assert!(
        !flat.contains("Distribution to cn-hangzhou failed"),
        "{out}"
    );
    // The state keeps what worked and records the failure.
    let regions = tf.state_attr("imagenest_distribution.v1", "regions");
    assert_eq!(regions, serde_json::json!(["cn-hangzhou"]));
    let images = tf.state_attr("imagenest_distribution.v1", "region_images");
    assert_eq!(images, serde_json::json!({ "cn-hangzhou": hangzhou }));
    let status = tf.state_attr("imagenest_distribution.v1", "region_status");
    assert_eq!(status["ap-southeast-1"]["status"], "failed", "{status}");
    assert!(
        status["ap-southeast-1"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("ServiceUnavailable")),
        "{status}"
    );

    // Not tainted: the next plan is an in-place update adding the failed region.
    let (code, plan) = tf.plan();
    assert_eq!(code, 2, "{plan}");
    assert!(
        plan.contains("imagenest_distribution.v1 will be updated in-place")
            && plan.contains("+ \"ap-southeast-1\"")
            && !plan.contains("tainted")
            && !plan.contains("- \"cn-hangzhou\""),
        "{plan}"
    );

    reg.set_sim_faults(r#"{"down_regions": []}"#);
    tf.apply();
    tf.assert_no_changes();
    let after = block_on(reg.client().distribution(&version_id)).unwrap();
    assert_eq!(
        after.region_images.get("cn-hangzhou"),
        Some(&hangzhou),
        "cn-hangzhou was copied again"
    );
    assert!(
        after.region_images.contains_key("ap-southeast-1"),
        "{after:?}"
    );
    assert_eq!(
        tf.state_attr("imagenest_distribution.v1", "region_images"),
        serde_json::to_value(&after.region_images).unwrap()
    );
    tf.destroy();
}

fn marketplace_config(image: &str, regions: &str) -> String {
    format!(
        r#"
resource "imagenest_package" "lamp" {{
  name        = "acme_lamp"
  description = "LAMP stack from the marketplace"
}}

resource "imagenest_package_version" "v2" {{
  package_id = imagenest_package.lamp.id
  name       = "v2_0"
  image = {{
    {image}
  }}
}}

resource "imagenest_distribution" "v2" {{
  version_id = imagenest_package_version.v2.id
  regions    = {regions}
  timeouts {{
    create = "3m"
    update = "3m"
    delete = "3m"
  }}
}}

data "imagenest_region_image" "sg" {{
  package    = imagenest_package.lamp.name
  region     = "ap-southeast-1"
  depends_on = [imagenest_distribution.v2]
}}

output "sg_image" {{
  value = data.imagenest_region_image.sg.image_id
}}
"#
    )
}

/// A marketplace version is looked up in each region instead of copied: its distribution
/// names the marketplace's own images; the product version is optional; a product a region
/// does not offer fails there with the lookup's message; a published version's product is
/// frozen.
#[test]
fn marketplace_version_distributes_the_products_images() {
    let reg = Registry::start();
    assert!(
        reg.has_sim_cloud(),
        "imagenest serve did not start its embedded sim cloud (no sim-cloud.json)"
    );
    let tf = Tf::new(&reg.endpoint, &reg.token);
    let lamp_v2 = r#"type            = "marketplace"
    product_code    = "cmjj00001"
    product_version = "V2.0""#;
    let two = r#"["cn-hangzhou", "ap-southeast-1"]"#;
    tf.config(&marketplace_config(lamp_v2, two));
    tf.apply();
    tf.assert_no_changes();
    // The distribution published the version; a refresh brings that into the state.
    tf.ok(&[
        "apply",
        "-refresh-only",
        "-auto-approve",
        "-input=false",
        "-no-color",
    ]);
    let image = tf.state_attr("imagenest_package_version.v2", "image");
    assert_eq!(
        image,
        serde_json::json!({
            "type": "marketplace",
            "product_code": "cmjj00001",
            "product_version": "V2.0",
            "region": null,
            "image_id": null,
        })
    );
    assert_eq!(
        tf.state_attr("imagenest_package_version.v2", "status"),
        "published"
    );
    let images = tf.state_attr("imagenest_distribution.v2", "region_images");
    for region in ["cn-hangzhou", "ap-southeast-1"] {
        assert_eq!(
            images[region],
            reg.marketplace_image(region, "cmjj00001", "V2.0").as_str(),
            "{images}"
        );
    }
    assert_eq!(tf.outputs()["sg_image"]["value"], images["ap-southeast-1"]);
    // A region the version is not distributed to: the error says how to order the read.
    let eu = r#"
data "imagenest_region_image" "eu" {
  package = "acme_lamp"
  region  = "eu-central-1"
}
"#;
    tf.config(&(marketplace_config(lamp_v2, two) + eu));
    let out = tf.fails(&["plan", "-input=false", "-no-color"]);
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("Cannot resolve acme_lamp@latest in eu-central-1")
            && flat.contains("depends_on = [imagenest_distribution.<name>]"),
        "{out}"
    );
    tf.config(&marketplace_config(lamp_v2, two));

    // Import by PACKAGE/VERSION reads the marketplace content back as configured.
    tf.ok(&["state", "rm", "-no-color", "imagenest_package_version.v2"]);
    tf.ok(&[
        "import",
        "-input=false",
        "-no-color",
        "imagenest_package_version.v2",
        "acme_lamp/v2_0",
    ]);
    tf.assert_no_changes();

    // Published: another product version replaces the version.
    tf.config(&marketplace_config(&lamp_v2.replace("V2.0", "V1.0"), two));
    let (_, plan) = tf.plan();
    assert!(
        plan.contains("imagenest_package_version.v2 must be replaced")
            && plan.contains("forces replacement"),
        "{plan}"
    );

    // Without a product version; a product only China regions offer fails elsewhere.
    let gpu = r#"type         = "marketplace"
    product_code = "cmjj00002""#;
    tf.config(&marketplace_config(gpu, two));
    let out = tf.fails(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    for want in [
        "Error: Distribution to ap-southeast-1 failed",
        "marketplace product cmjj00002 is not offered in ap-southeast-1",
    ] {
        assert!(flat.contains(want), "no {want:?} in:\n{out}");
    }
    assert!(
        !flat.contains("Distribution to cn-hangzhou failed"),
        "{out}"
    );
    let images = tf.state_attr("imagenest_distribution.v2", "region_images");
    assert_eq!(
        images,
        serde_json::json!({ "cn-hangzhou": reg.marketplace_image("cn-hangzhou", "cmjj00002", "V1.0") })
    );
    // Dropping the region that cannot have it finishes the distribution.
    tf.config(&marketplace_config(gpu, r#"["cn-hangzhou"]"#).replace(
        "\"ap-southeast-1\"\n  depends_on",
        "\"cn-hangzhou\"\n  depends_on",
    ));
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(
        tf.outputs()["sg_image"]["value"],
        reg.marketplace_image("cn-hangzhou", "cmjj00002", "V1.0")
            .as_str()
    );
    tf.destroy();
}

/// Marketplace content is checked at plan time like custom content, each error at the
/// version's `image` (Terraform 1.11 points no deeper into a nested object; the detail names
/// the field).
#[test]
fn marketplace_validation_errors_point_at_the_image() {
    let reg = Registry::start();
    let tf = Tf::new(&reg.endpoint, &reg.token);
    // Line numbers: the header written by Tf::config takes 8 lines.
    tf.config(
        r#"resource "imagenest_package_version" "no_code" {
  package_id = "pkg-1"
  name       = "v1_0"
  image = {
    type            = "marketplace"
    product_version = "V1.0"
  }
}

resource "imagenest_package_version" "with_region" {
  package_id = "pkg-1"
  name       = "v1_1"
  image = {
    type         = "marketplace"
    product_code = "cmjj00001"
    region       = "cn-hangzhou"
  }
}

resource "imagenest_package_version" "bad_version" {
  package_id = "pkg-1"
  name       = "v1_2"
  image = {
    type            = "marketplace"
    product_code    = "cmjj00001"
    product_version = "version 2"
  }
}

resource "imagenest_package_version" "custom_with_code" {
  package_id = "pkg-1"
  name       = "v1_3"
  image = {
    type         = "custom"
    region       = "cn-hangzhou"
    image_id     = "m-abc"
    product_code = "cmjj00001"
  }
}

resource "imagenest_package_version" "bad_type" {
  package_id = "pkg-1"
  name       = "v1_4"
  image = {
    type         = "store"
    product_code = "cmjj00001"
  }
}
"#,
    );
    let out = tf.fails(&["validate", "-no-color"]);
    let expect = [
        (
            "`product_code` is required when `type` is \"marketplace\"",
            "main.tf line 12",
        ),
        (
            "`region` does not apply when `type` is \"marketplace\"",
            "main.tf line 21",
        ),
        ("Invalid product_version", "main.tf line 31"),
        (
            "product version `version 2` may only hold letters",
            "main.tf line 31",
        ),
        (
            "`product_code` does not apply when `type` is \"custom\"",
            "main.tf line 41",
        ),
        ("Invalid type", "main.tf line 52"),
    ];
    for (what, line) in expect {
        let found = out
            .split("Error: ")
            .any(|block| block.contains(what) && block.contains(line));
        assert!(found, "no error {what:?} at {line:?} in:\n{out}");
    }
    // One error each: an unknown type is not reported twice.
    assert_eq!(out.matches("Error: ").count(), 5, "{out}");
}

/// Ctrl-C during a long copy: terraform sends StopProvider, the apply ends promptly with
/// the progress so far, and destroy still cleans up.
#[test]
fn interrupt_stops_a_long_distribution() {
    use std::io::BufRead;
    let reg = Registry::start();
    assert!(
        reg.has_sim_cloud(),
        "imagenest serve did not start its embedded sim cloud (no sim-cloud.json)"
    );
    let tf = Tf::new(&reg.endpoint, &reg.token);
    // 2,000 GiB at the sim's 2 GiB/s: over 15 minutes per copy.
    let image = reg.source_image_sized("cn-hangzhou", 2000);
    tf.config(&waiting_config(&image, r#"["ap-southeast-1"]"#, ""));
    let mut child = tf.spawn(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let mut seen = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("terraform output");
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("imagenest_distribution.v1: Still creating") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the distribution never started:\n{seen}"
        );
    }
    let interrupted = std::time::Instant::now();
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = common::wait_until(
        "terraform to stop",
        std::time::Duration::from_secs(60),
        || child.try_wait().unwrap(),
    );
    assert!(!status.success());
    assert!(
        interrupted.elapsed() < std::time::Duration::from_secs(20),
        "stopping took {:?}",
        interrupted.elapsed()
    );
    while let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(5)) {
        seen.push_str(&line);
        seen.push('\n');
    }
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(err.contains("Distribution interrupted"), "{seen}\n{err}");
    tf.destroy();
    assert!(
        block_on(reg.client().package("acme_base"))
            .unwrap_err()
            .is_not_found()
    );
}
