//! Async mode of the ROS custom resource endpoint: the answer is uploaded to a local HTTP server
//! standing in for ROS's `ResponseURL`, with retries, the configured method, and never without a
//! valid token.

#[path = "ros/common.rs"]
mod common;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    extract::State,
    http::{HeaderMap, Method as AxumMethod, StatusCode as AxumStatus},
};
use imagenest_registry::{RegistryConfig, api::ros::RosDelivery};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use common::{STACK, captured_logs, request, world};

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
