//! The ROS custom resource endpoint over a real socket: the documented Create, Update and Delete
//! request bodies (retries, version changes, every failure), malformed and oversized bodies, and
//! wrong tokens. Async delivery is in `ros_async.rs`.

#[path = "ros/common.rs"]
mod common;

use imagenest_registry::RegistryConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};

use common::{ENDPOINT, STACK, captured_logs, check_echo, request, world};

#[tokio::test]
async fn create_update_delete_answer_the_region_image() {
    let w = world(RegistryConfig::default()).await;

    // Create, with Version defaulting to latest: v_2 is the newest available in cn-beijing.
    let create = request(
        "Create",
        STACK,
        "BaseImage",
        "req-1",
        json!({"Package": "acme_base"}),
    );
    let v = w.post(&w.ros1, &create).await;
    assert_eq!(v["Status"], "SUCCESS", "{v}");
    assert_eq!(
        v["Data"],
        json!({"ImageId": "m-beijing2", "Package": "acme_base", "Version": "v_2", "Region": "cn-beijing"})
    );
    let physical = v["PhysicalResourceId"].as_str().unwrap().to_string();

    // ROS retries the same Create (`idempotent`): the same answer, the same PhysicalResourceId.
    assert_eq!(w.post(&w.ros1, &create).await, v);
    // Another resource of the stack, or the same logical ID in another stack, gets its own ID.
    let other = w
        .post(
            &w.ros1,
            &request(
                "Create",
                STACK,
                "AppImage",
                "req-2",
                json!({"Package": "acme_base", "Version": "latest"}),
            ),
        )
        .await;
    assert_ne!(other["PhysicalResourceId"].as_str().unwrap(), physical);
    let other_stack = w
        .post(
            &w.ros1,
            &request(
                "Create",
                "stack-2",
                "BaseImage",
                "req-3",
                json!({"Package": "acme_base"}),
            ),
        )
        .await;
    assert_ne!(
        other_stack["PhysicalResourceId"].as_str().unwrap(),
        physical
    );

    // Update pins v_1 (by name; also as owner/name): the ID is echoed, the image changes.
    let mut update = request(
        "Update",
        STACK,
        "BaseImage",
        "req-4",
        json!({"Package": "acme/acme_base", "Version": "v_1"}),
    );
    update["PhysicalResourceId"] = json!(physical);
    update["OldResourceProperties"] = json!({"Package": "acme_base"});
    let v = w.post(&w.ros1, &update).await;
    assert_eq!(v["Status"], "SUCCESS", "{v}");
    assert_eq!(v["PhysicalResourceId"], json!(physical));
    assert_eq!(
        v["Data"],
        json!({"ImageId": "m-beijing1", "Package": "acme_base", "Version": "v_1", "Region": "cn-beijing"})
    );
    // An Update whose new version is not usable fails, keeping the ID.
    update["ResourceProperties"] = json!({"Package": "acme_base", "Version": "v_9"});
    let v = w.post(&w.ros1, &update).await;
    assert_eq!(v["Status"], "FAILED");
    assert_eq!(v["PhysicalResourceId"], json!(physical));
    assert!(v["Reason"].as_str().unwrap().contains("v_9"), "{v}");

    // Delete succeeds, echoes the ID, and is idempotent, also for IDs the registry never gave.
    let mut delete = request(
        "Delete",
        STACK,
        "BaseImage",
        "req-5",
        json!({"Package": "acme_base"}),
    );
    delete["PhysicalResourceId"] = json!(physical);
    for _ in 0..2 {
        let v = w.post(&w.ros1, &delete).await;
        assert_eq!(v["Status"], "SUCCESS", "{v}");
        assert_eq!(v["PhysicalResourceId"], json!(physical));
        assert!(v.get("Data").is_none());
    }
    delete["PhysicalResourceId"] = json!("never-created");
    delete["ResourceProperties"] = json!({"Package": "no_such_package"});
    let v = w.post(&w.ros1, &delete).await;
    assert_eq!(
        (v["Status"].as_str(), v["PhysicalResourceId"].as_str()),
        (Some("SUCCESS"), Some("never-created"))
    );
    // A Delete after a Create that failed (no PhysicalResourceId) also succeeds.
    let mut delete = request("Delete", STACK, "Broken", "req-6", json!({}));
    delete.as_object_mut().unwrap().remove("PhysicalResourceId");
    let v = w.post(&w.ros1, &delete).await;
    assert_eq!(v["Status"], "SUCCESS", "{v}");

    // ROS's own properties among the parameters are tolerated.
    let v = w
        .post(&w.ros1, &request("Create", STACK, "Pinned", "req-7", json!({"Package": "acme_base", "Version": "v_1", "ServiceToken": "web[sync]:https://x"})))
        .await;
    assert_eq!(v["Data"]["Version"], "v_1", "{v}");
}

#[tokio::test]
async fn resolution_failures_answer_failed_with_a_reason() {
    let w = world(RegistryConfig::default()).await;
    let create = |props: Value, region: &str| {
        let mut r = request("Create", STACK, "BaseImage", "req-f", props);
        r["RegionId"] = json!(region);
        r
    };
    let cases: Vec<(Value, &str, &str, &[&str])> = vec![
        (
            json!({"Package": "no_such_package"}),
            "cn-beijing",
            "ros1",
            &["no_such_package", "not found"],
        ),
        // cust2 is not on the whitelist: answered exactly like an unknown package.
        (
            json!({"Package": "acme_base"}),
            "cn-beijing",
            "ros2",
            &["acme_base", "not found"],
        ),
        (
            json!({"Package": "acme_base", "Version": "v_1"}),
            "cn-shanghai",
            "ros1",
            &["still copying", "30%"],
        ),
        (
            json!({"Package": "acme_base", "Version": "v_1"}),
            "cn-qingdao",
            "ros1",
            &["not distributed", "cn-qingdao", "cn-beijing"],
        ),
        (
            json!({"Package": "acme_base"}),
            "cn-qingdao",
            "ros1",
            &["acme_base"],
        ),
        (
            json!({"Package": "acme_base"}),
            "mars-north-1",
            "ros1",
            &["unknown region", "mars-north-1"],
        ),
        (
            json!({"Version": "v_1"}),
            "cn-beijing",
            "ros1",
            &["`Package` parameter is missing"],
        ),
        (
            json!({"Package": ""}),
            "cn-beijing",
            "ros1",
            &["`Package` parameter is empty"],
        ),
        (
            json!({"Package": ["a"]}),
            "cn-beijing",
            "ros1",
            &["`Package` parameter must be a string"],
        ),
        (
            json!({"Package": "acme_base", "Versoin": "v_1"}),
            "cn-beijing",
            "ros1",
            &["unknown parameter `Versoin`"],
        ),
    ];
    for (props, region, who, expected) in cases {
        let token = if who == "ros1" { &w.ros1 } else { &w.ros2 };
        let req = create(props.clone(), region);
        let v = w.post(token, &req).await;
        assert_eq!(v["Status"], "FAILED", "{props} in {region}: {v}");
        let reason = v["Reason"].as_str().unwrap();
        for part in expected {
            assert!(
                reason.contains(part),
                "{props} in {region}: `{reason}` lacks `{part}`"
            );
        }
        // Even a failed Create names the resource, so the Delete that follows can echo it.
        assert!(
            v["PhysicalResourceId"]
                .as_str()
                .unwrap()
                .starts_with("rimg-")
        );
    }
    // A request without RegionId.
    let mut req = create(json!({"Package": "acme_base"}), "cn-beijing");
    req.as_object_mut().unwrap().remove("RegionId");
    let v = w.post(&w.ros1, &req).await;
    assert!(v["Reason"].as_str().unwrap().contains("RegionId"), "{v}");
}

#[tokio::test]
async fn malformed_and_oversized_bodies_fail_clearly() {
    let w = world(RegistryConfig::default()).await;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"{not json".to_vec(), "not valid JSON"),
        (b"".to_vec(), "not valid JSON"),
        (b"[1, 2]".to_vec(), "must be a JSON object"),
        (b"{}".to_vec(), "`RequestType` is missing"),
        (br#"{"RequestType": "Explode", "StackId": "s", "RequestId": "r", "LogicalResourceId": "L"}"#.to_vec(), "unknown `RequestType` `Explode`"),
        (br#"{"RequestType": "Create", "StackId": 42}"#.to_vec(), "`StackId` must be a string"),
        (br#"{"RequestType": "Create", "ResourceProperties": "acme_base"}"#.to_vec(), "`ResourceProperties` must be an object"),
        (format!(r#"{{"RequestType": "Create", "LogicalResourceId": "{}"}}"#, "L".repeat(400)).into_bytes(), "longer than 300 bytes"),
        (br#"{"RequestType": "Update", "PhysicalResourceId": ""}"#.to_vec(), "PhysicalResourceId"),
    ];
    for (body, expected) in cases {
        let v = w.post_raw(&w.ros1, "", body.clone()).await;
        assert_eq!(
            v["Status"],
            "FAILED",
            "{}: {v}",
            String::from_utf8_lossy(&body)
        );
        let reason = v["Reason"].as_str().unwrap();
        assert!(reason.contains(expected), "`{reason}` lacks `{expected}`");
    }
    // What could be read is still echoed.
    let body = br#"{"RequestType": "Explode", "StackId": "s", "RequestId": "r", "LogicalResourceId": "L"}"#;
    let v = w.post_raw(&w.ros1, "", body.to_vec()).await;
    assert_eq!(
        (
            v["StackId"].as_str(),
            v["RequestId"].as_str(),
            v["LogicalResourceId"].as_str()
        ),
        (Some("s"), Some("r"), Some("L"))
    );
    // Escaped identifiers that would blow the 4,096-byte limit give a short FAILED answer.
    let nasty = "\u{1}".repeat(300);
    let req = request(
        "Create",
        &nasty,
        &nasty,
        &nasty,
        json!({"Package": "acme_base"}),
    );
    let v = w
        .post_raw(&w.ros1, "", serde_json::to_vec(&req).unwrap())
        .await;
    assert_eq!(v["Status"], "FAILED", "{v}");
    // A body over the registry's limit (1 MiB).
    let mut big = request(
        "Create",
        STACK,
        "BaseImage",
        "req-big",
        json!({"Package": "acme_base"}),
    );
    big["StackName"] = json!("x".repeat(1024 * 1024 + 1));
    let v = w
        .post_raw(&w.ros1, "", serde_json::to_vec(&big).unwrap())
        .await;
    assert_eq!(v["Status"], "FAILED", "{v}");
    assert!(
        v["Reason"]
            .as_str()
            .unwrap()
            .contains("larger than the registry accepts"),
        "{v}"
    );
    // A bad `mode`.
    let req = request(
        "Create",
        STACK,
        "BaseImage",
        "req-m",
        json!({"Package": "acme_base"}),
    );
    let v = w
        .post_raw(&w.ros1, "?mode=later", serde_json::to_vec(&req).unwrap())
        .await;
    assert!(v["Reason"].as_str().unwrap().contains("`mode`"), "{v}");
    check_echo(&req, &v);
    // Other methods are not the protocol.
    let res = w
        .http
        .get(format!("{}{ENDPOINT}/{}", w.reg.url, w.ros1))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn only_valid_ros_tokens_are_accepted_and_never_logged() {
    let w = world(RegistryConfig::default()).await;
    let create = request(
        "Create",
        STACK,
        "BaseImage",
        "req-t",
        json!({"Package": "acme_base"}),
    );
    for (token, expected) in [
        (
            "inest_not_a_real_token".to_string(),
            "not a valid ROS token",
        ),
        ("x".repeat(300), "not a valid ROS token"),
        (w.api1.clone(), "holds an API token"),
        (w.acme.clone(), "holds an API token"),
        ("%FF%FE".to_string(), "not a valid ROS token"),
    ] {
        let v = w.post(&token, &create).await;
        assert_eq!(v["Status"], "FAILED", "{v}");
        assert!(v["Reason"].as_str().unwrap().contains(expected), "{v}");
        // The identifiers are echoed, but not the ID, since the token is not the caller's.
        assert!(v.get("Data").is_none());
    }
    // Deletes need a valid token too.
    let delete = request("Delete", STACK, "BaseImage", "req-d", json!({}));
    assert_eq!(w.post("inest_nope", &delete).await["Status"], "FAILED");

    // A ROS token is refused by the rest of the API.
    let res = w
        .http
        .get(format!(
            "{}/v1/resolve?package=acme_base&region=cn-beijing",
            w.reg.url
        ))
        .bearer_auth(&w.ros1)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // A revoked ROS token stops working at once.
    assert_eq!(w.post(&w.ros1, &create).await["Status"], "SUCCESS");
    let res = w
        .http
        .delete(format!("{}/v1/tokens/{}", w.reg.url, w.ros1_id))
        .bearer_auth(&w.reg.admin_token)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let v = w.post(&w.ros1, &create).await;
    assert_eq!(v["Status"], "FAILED", "{v}");

    // Metrics label the route template, never the token; the log never holds a token either.
    let metrics = w
        .http
        .get(format!("{}/metrics", w.reg.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("route=\"/v1/ros/custom-resource/{token}\""),
        "{metrics}"
    );
    let logs = String::from_utf8(captured_logs().lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("ROS custom resource request"),
        "nothing logged: {logs}"
    );
    for secret in [&w.ros1, &w.ros2, &w.api1] {
        assert!(!metrics.contains(secret.as_str()));
        assert!(!logs.contains(secret.as_str()), "a token is in the log");
    }
}
