//! The ROS custom resource endpoint over a real socket: the documented Create, Update and Delete
//! request bodies (retries, version changes, every failure), malformed and oversized bodies,
//! wrong tokens, and async delivery to a local HTTP server standing in for `ResponseURL`.

use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, Method as AxumMethod, StatusCode as AxumStatus},
};
use imagenest_core::{Role, api::TokenKind, distribution::RegionStatus};
use imagenest_registry::{
    RegistryConfig,
    api::ros::RosDelivery,
    auth,
    store::{Backend, CopyUpdate, NewAccountToken},
};
use imagenest_testkit::registry::TestRegistry;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::mpsc;

const ENDPOINT: &str = "/v1/ros/custom-resource";

/// Every key a response object may have.
const RESPONSE_KEYS: [&str; 7] = [
    "Status",
    "Reason",
    "PhysicalResourceId",
    "StackId",
    "RequestId",
    "LogicalResourceId",
    "Data",
];

/// Log lines of every test in this binary, to check that no token is ever logged.
fn captured_logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || LogSink(sink.clone()))
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buf
    })
}

struct LogSink(Arc<Mutex<Vec<u8>>>);

impl Write for LogSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Mints a ROS token for `account` straight through the store; returns the secret and token ID.
async fn ros_token(reg: &TestRegistry, account: &str, role: Role) -> (String, String) {
    let secret = auth::new_secret();
    let info = reg
        .state
        .store
        .create_token(NewAccountToken {
            account: account.to_string(),
            role,
            kind: TokenKind::Ros,
            cloud_account_id: None,
            description: "ROS stacks".into(),
            secret_hash: auth::hash_secret(&secret),
        })
        .await
        .expect("create ROS token");
    (secret, info.id)
}

struct World {
    reg: TestRegistry,
    http: reqwest::Client,
    acme: String,
    /// ROS token of cust1 (whitelisted) and cust2 (not).
    ros1: String,
    ros1_id: String,
    ros2: String,
    /// An API token of cust1.
    api1: String,
}

/// acme's package `acme_base` with v_1 available in cn-beijing and copying (30%) to
/// cn-shanghai, v_2 available in cn-beijing, both published, and a service whitelisting cust1.
async fn world(config: RegistryConfig) -> World {
    captured_logs();
    let reg = TestRegistry::start_with(Backend::Sqlite, config).await;
    let acme = reg.token("acme", Role::Vendor).await;
    let api1 = reg.token("cust1", Role::Customer).await;
    let (ros1, ros1_id) = ros_token(&reg, "cust1", Role::Customer).await;
    let (ros2, _) = ros_token(&reg, "cust2", Role::Customer).await;
    let w = World {
        http: reqwest::Client::new(),
        acme,
        ros1,
        ros1_id,
        ros2,
        api1,
        reg,
    };
    let p = w
        .api(
            &w.acme,
            Method::POST,
            "/v1/packages",
            json!({"name": "acme_base", "description": "Acme base image for ROS tests"}),
        )
        .await;
    let pid = p["id"].as_str().unwrap().to_string();
    let mut ids = Vec::new();
    for name in ["v_1", "v_2"] {
        let v = w
            .api(
                &w.acme,
                Method::POST,
                &format!("/v1/packages/{pid}/versions"),
                json!({"name": name, "image": {"type": "custom", "region": "cn-hangzhou", "image_id": "m-source1"}}),
            )
            .await;
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let (v1, v2) = (ids[0].clone(), ids[1].clone());
    for (vid, regions) in [
        (&v1, json!(["cn-beijing", "cn-shanghai"])),
        (&v2, json!(["cn-beijing"])),
    ] {
        w.api(
            &w.acme,
            Method::PUT,
            &format!("/v1/versions/{vid}/distribution"),
            json!({"regions": regions}),
        )
        .await;
    }
    let store = &w.reg.state.store;
    let copy = |status, progress, image: &str| CopyUpdate {
        status,
        progress,
        image_id: Some(image.to_string()),
        error: None,
    };
    store
        .update_region_copy(
            &v1,
            "cn-beijing",
            &copy(RegionStatus::Available, 100, "m-beijing1"),
        )
        .await
        .unwrap();
    store
        .update_region_copy(
            &v1,
            "cn-shanghai",
            &copy(RegionStatus::Copying, 30, "m-shanghai1"),
        )
        .await
        .unwrap();
    store
        .update_region_copy(
            &v2,
            "cn-beijing",
            &copy(RegionStatus::Available, 100, "m-beijing2"),
        )
        .await
        .unwrap();
    w.reg.state.invalidate();
    w.api(
        &w.acme,
        Method::POST,
        "/v1/services",
        json!({"name": "acme_app", "whitelist": ["cust1"], "image_associations": {"centos_7": {"package_id": pid, "version": "latest"}}}),
    )
    .await;
    w
}

impl World {
    async fn api(&self, token: &str, method: Method, path: &str, body: Value) -> Value {
        let res = self
            .http
            .request(method.clone(), format!("{}{path}", self.reg.url))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let v: Value = res.json().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v
    }

    /// Posts raw bytes to the ROS endpoint under `token`; checks the envelope every answer
    /// shares and returns the response object.
    async fn post_raw(&self, token: &str, query: &str, body: Vec<u8>) -> Value {
        let res = self
            .http
            .post(format!("{}{ENDPOINT}/{token}{query}", self.reg.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request reaches the registry");
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()["content-type"].to_str().unwrap(),
            "application/json"
        );
        let bytes = res.bytes().await.unwrap();
        assert!(bytes.len() < 4096, "answer of {} bytes", bytes.len());
        let v: Value = serde_json::from_slice(&bytes).expect("the answer is JSON");
        let obj = v.as_object().expect("the answer is an object");
        for key in obj.keys() {
            assert!(
                RESPONSE_KEYS.contains(&key.as_str()),
                "unexpected key {key}: {v}"
            );
        }
        match v["Status"].as_str() {
            Some("SUCCESS") => {
                assert!(obj.get("Reason").is_none(), "{v}");
                let id = v["PhysicalResourceId"]
                    .as_str()
                    .expect("PhysicalResourceId");
                assert!(!id.is_empty() && id.len() <= 255, "{v}");
            }
            Some("FAILED") => {
                let reason = v["Reason"].as_str().expect("Reason");
                assert!(!reason.is_empty(), "{v}");
                assert!(obj.get("Data").is_none(), "{v}");
                for leak in ["SQL", "sqlite", "postgres"] {
                    assert!(!reason.contains(leak), "{reason}");
                }
            }
            _ => panic!("bad Status: {v}"),
        }
        v
    }

    /// Posts a ROS request and checks that it echoes the request's identifiers.
    async fn post(&self, token: &str, req: &Value) -> Value {
        let v = self
            .post_raw(token, "", serde_json::to_vec(req).unwrap())
            .await;
        check_echo(req, &v);
        v
    }
}

fn check_echo(req: &Value, res: &Value) {
    for key in ["StackId", "RequestId", "LogicalResourceId"] {
        assert_eq!(res[key], req[key], "{key} not echoed: {res}");
    }
}

/// A request body as ROS documents it.
fn request(kind: &str, stack: &str, logical: &str, request_id: &str, props: Value) -> Value {
    json!({
        "RequestType": kind,
        "StackId": stack,
        "StackName": "acme-demo",
        "ResourceOwnerId": "1234567890123456",
        "CallerId": "1234567890123456",
        "RegionId": "cn-beijing",
        "RequestId": request_id,
        "ResourceType": "Custom::RegionImage",
        "LogicalResourceId": logical,
        "ResourceProperties": props,
    })
}

const STACK: &str = "4a6c9851-3b0f-4f5f-8f3a-2a4d7bd1e001";

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

/// One upload received by the stand-in for ROS's `ResponseURL`.
#[derive(Debug)]
struct Upload {
    method: AxumMethod,
    path: String,
    content_type: String,
    body: Value,
}

/// A local HTTP server standing in for ROS: records every upload, and answers 503 to the first
/// `failures` of them.
async fn response_url_server(failures: usize) -> (String, mpsc::UnboundedReceiver<Upload>) {
    #[derive(Clone)]
    struct Sink {
        tx: mpsc::UnboundedSender<Upload>,
        left: Arc<Mutex<usize>>,
    }
    async fn record(
        State(sink): State<Sink>,
        method: AxumMethod,
        uri: axum::http::Uri,
        headers: HeaderMap,
        body: axum::body::Bytes,
    ) -> AxumStatus {
        let _ = sink.tx.send(Upload {
            method,
            path: uri.to_string(),
            content_type: headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string(),
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        });
        let mut left = sink.left.lock().unwrap();
        if *left > 0 {
            *left -= 1;
            AxumStatus::SERVICE_UNAVAILABLE
        } else {
            AxumStatus::OK
        }
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let sink = Sink {
        tx,
        left: Arc::new(Mutex::new(failures)),
    };
    let app = Router::new().fallback(record).with_state(sink);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, rx)
}

async fn next_upload(rx: &mut mpsc::UnboundedReceiver<Upload>) -> Upload {
    tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("an upload arrives in time")
        .expect("the stand-in server runs")
}

fn fast_delivery(method: AxumMethod) -> RegistryConfig {
    RegistryConfig {
        ros_delivery: RosDelivery {
            method,
            attempts: 4,
            first_backoff: Duration::from_millis(20),
            attempt_timeout: Duration::from_secs(5),
        },
        ..RegistryConfig::default()
    }
}

#[tokio::test]
async fn async_mode_uploads_the_answer_to_response_url_with_retries() {
    let w = world(fast_delivery(AxumMethod::POST)).await;
    // The stand-in fails twice before it takes the upload.
    let (url, mut rx) = response_url_server(2).await;
    let mut create = request(
        "Create",
        STACK,
        "BaseImage",
        "req-a1",
        json!({"Package": "acme_base", "Version": "v_1"}),
    );
    create["ResponseURL"] = json!(format!("{url}/callback/create?Signature=sig%2Bsecret"));
    create["IntranetResponseURL"] = json!("http://ros-intranet.invalid/callback");
    let answered = w.post(&w.ros1, &create).await;
    assert_eq!(answered["Status"], "SUCCESS", "{answered}");
    for attempt in 1..=3 {
        let up = next_upload(&mut rx).await;
        assert_eq!(up.method, AxumMethod::POST, "attempt {attempt}");
        assert_eq!(up.path, "/callback/create?Signature=sig%2Bsecret");
        assert_eq!(up.content_type, "application/json");
        // The uploaded object is the very answer of the HTTP response.
        assert_eq!(up.body, answered, "attempt {attempt}");
    }
    assert_eq!(answered["Data"]["ImageId"], "m-beijing1");
    // The presigned URL's signature is a secret too: never logged.
    // The registry logs the delivery once the stand-in's answer is in: wait for it.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let logs = loop {
        let logs = String::from_utf8(captured_logs().lock().unwrap().clone()).unwrap();
        if logs.contains("delivered the ROS answer") {
            break logs;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the delivery was never logged"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(
        !logs.contains("sig%2Bsecret"),
        "the ResponseURL is in the log"
    );

    // A failure is uploaded too, so the stack fails at once instead of timing out.
    let mut bad = request(
        "Create",
        STACK,
        "Other",
        "req-a2",
        json!({"Package": "no_such_package"}),
    );
    bad["ResponseURL"] = json!(format!("{url}/callback/bad"));
    let answered = w.post(&w.ros1, &bad).await;
    let up = next_upload(&mut rx).await;
    assert_eq!((up.path.as_str(), &up.body), ("/callback/bad", &answered));
    assert_eq!(up.body["Status"], "FAILED");

    // Without a valid token, and with `?mode=sync`, nothing is uploaded: the next upload
    // the stand-in sees is the Delete that follows.
    let mut wrong = bad.clone();
    wrong["ResponseURL"] = json!(format!("{url}/callback/wrong-token"));
    w.post("inest_wrong", &wrong).await;
    let mut sync = create.clone();
    sync["ResponseURL"] = json!(format!("{url}/callback/sync"));
    let v = w
        .post_raw(&w.ros1, "?mode=sync", serde_json::to_vec(&sync).unwrap())
        .await;
    assert_eq!(v["Status"], "SUCCESS");
    let mut delete = request("Delete", STACK, "BaseImage", "req-a3", json!({}));
    delete["PhysicalResourceId"] = answered["PhysicalResourceId"].clone();
    delete["ResponseURL"] = json!(format!("{url}/callback/delete"));
    let answered = w.post(&w.ros1, &delete).await;
    let up = next_upload(&mut rx).await;
    assert_eq!(
        (up.path.as_str(), &up.body),
        ("/callback/delete", &answered)
    );
}

#[tokio::test]
async fn the_upload_method_is_configurable() {
    let w = world(fast_delivery(AxumMethod::PUT)).await;
    let (url, mut rx) = response_url_server(0).await;
    let mut create = request(
        "Create",
        STACK,
        "BaseImage",
        "req-p",
        json!({"Package": "acme_base"}),
    );
    create["ResponseURL"] = json!(format!("{url}/put-here"));
    let answered = w.post(&w.ros1, &create).await;
    let up = next_upload(&mut rx).await;
    assert_eq!(up.method, AxumMethod::PUT);
    assert_eq!(up.body, answered);
    // An unusable ResponseURL is not called, and the answer still comes back.
    let mut odd = create.clone();
    odd["ResponseURL"] = json!("file:///etc/passwd");
    assert_eq!(w.post(&w.ros1, &odd).await["Status"], "SUCCESS");
}
