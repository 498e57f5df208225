//! What the ROS endpoint tests share: a registry with a distributed package, ROS tokens, the
//! documented request body, checks every answer must pass, and a log capture.
#![allow(dead_code)] // Each test binary uses a different part.

use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock},
};

use imagenest_core::{Role, api::TokenKind, distribution::RegionStatus};
use imagenest_registry::{
    RegistryConfig, auth,
    store::{Backend, CopyUpdate, NewAccountToken},
};
use imagenest_testkit::registry::TestRegistry;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const ENDPOINT: &str = "/v1/ros/custom-resource";

/// Every key a response object may have.
pub const RESPONSE_KEYS: [&str; 7] = [
    "Status",
    "Reason",
    "PhysicalResourceId",
    "StackId",
    "RequestId",
    "LogicalResourceId",
    "Data",
];

/// Log lines of every test in this binary, to check that no token is ever logged.
pub fn captured_logs() -> &'static Arc<Mutex<Vec<u8>>> {
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

pub struct LogSink(Arc<Mutex<Vec<u8>>>);

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
pub async fn ros_token(reg: &TestRegistry, account: &str, role: Role) -> (String, String) {
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

pub struct World {
    pub reg: TestRegistry,
    pub http: reqwest::Client,
    pub acme: String,
    /// ROS token of cust1 (whitelisted) and cust2 (not).
    pub ros1: String,
    pub ros1_id: String,
    pub ros2: String,
    /// An API token of cust1.
    pub api1: String,
}

/// acme's package `acme_base` with v_1 available in cn-beijing and copying (30%) to
/// cn-shanghai, v_2 available in cn-beijing, both published, and a service whitelisting cust1.
pub async fn world(config: RegistryConfig) -> World {
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
    pub async fn api(&self, token: &str, method: Method, path: &str, body: Value) -> Value {
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
    pub async fn post_raw(&self, token: &str, query: &str, body: Vec<u8>) -> Value {
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
    pub async fn post(&self, token: &str, req: &Value) -> Value {
        let v = self
            .post_raw(token, "", serde_json::to_vec(req).unwrap())
            .await;
        check_echo(req, &v);
        v
    }
}

pub fn check_echo(req: &Value, res: &Value) {
    for key in ["StackId", "RequestId", "LogicalResourceId"] {
        assert_eq!(res[key], req[key], "{key} not echoed: {res}");
    }
}

/// A request body as ROS documents it.
pub fn request(kind: &str, stack: &str, logical: &str, request_id: &str, props: Value) -> Value {
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

pub const STACK: &str = "4a6c9851-3b0f-4f5f-8f3a-2a4d7bd1e001";
