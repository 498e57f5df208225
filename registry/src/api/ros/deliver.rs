//! Async mode: uploading the response object to ROS's presigned `ResponseURL`, retrying
//! network errors, throttling and server errors with backoff. ROS does not document the upload's
//! HTTP method, so it is configurable (POST by default). The URL carries a signature: only its
//! host is ever logged.

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use axum::http::{Method, Request, StatusCode, Uri, header};
use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};
use tokio::sync::Semaphore;

/// How answers are delivered to `ResponseURL` in async mode.
#[derive(Debug, Clone)]
pub struct RosDelivery {
    /// HTTP method of the upload (ROS does not document it; POST unless configured).
    pub method: Method,
    /// Attempts before giving up (at least 1).
    pub attempts: u32,
    /// Wait before the second attempt; doubled after each failure, up to 30 s.
    pub first_backoff: Duration,
    /// Limit on one attempt, from connecting to the response's status.
    pub attempt_timeout: Duration,
}

impl Default for RosDelivery {
    fn default() -> Self {
        // Five attempts over about 15 s fit well inside ROS's default 60 s Timeout.
        RosDelivery {
            method: Method::POST,
            attempts: 5,
            first_backoff: Duration::from_secs(1),
            attempt_timeout: Duration::from_secs(10),
        }
    }
}

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Uploads in flight at once; more wait their turn.
const MAX_IN_FLIGHT: usize = 64;

fn shared() -> &'static (Result<HttpClient, String>, Arc<Semaphore>) {
    static SHARED: OnceLock<(Result<HttpClient, String>, Arc<Semaphore>)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let client = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(tokio_rustls::rustls::crypto::ring::default_provider())
            .map(|b| {
                let https = b.https_or_http().enable_http1().build();
                Client::builder(TokioExecutor::new()).build(https)
            })
            .map_err(|e| e.to_string());
        (client, Arc::new(Semaphore::new(MAX_IN_FLIGHT)))
    })
}

/// Checks that `url` is an absolute http(s) URL the answer can be uploaded to.
pub fn target(url: &str) -> Result<Uri, String> {
    let uri: Uri = url
        .parse()
        .map_err(|_| "`ResponseURL` is not a valid URL".to_string())?;
    match uri.scheme_str() {
        Some("http") | Some("https") if uri.host().is_some_and(|h| !h.is_empty()) => Ok(uri),
        _ => Err("`ResponseURL` must be an absolute http or https URL".into()),
    }
}

/// Where an answer goes, and for which resource (for the log).
pub struct Delivery {
    pub uri: Uri,
    pub body: Bytes,
    pub stack_id: String,
    pub logical_resource_id: String,
}

/// Starts delivering in the background; the outcome is logged.
pub fn spawn(config: RosDelivery, delivery: Delivery) {
    tokio::spawn(async move {
        let (client, slots) = shared();
        let client = match client {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "cannot build the HTTP client for ROS answers");
                return;
            }
        };
        // Invariant: the semaphore is never closed.
        let Ok(_slot) = slots.clone().acquire_owned().await else {
            return;
        };
        deliver(client, &config, &delivery).await;
    });
}

async fn deliver(client: &HttpClient, config: &RosDelivery, d: &Delivery) {
    let host = d.uri.host().unwrap_or_default().to_string();
    let mut backoff = config.first_backoff;
    let attempts = config.attempts.max(1);
    for attempt in 1..=attempts {
        let outcome = attempt_once(client, config, d).await;
        let retry = match &outcome {
            Ok(status) if status.is_success() => {
                tracing::info!(stack_id = %d.stack_id, logical_resource_id = %d.logical_resource_id,
                    %host, attempt, "delivered the ROS answer");
                return;
            }
            Ok(status) => {
                status.is_server_error()
                    || *status == StatusCode::TOO_MANY_REQUESTS
                    || *status == StatusCode::REQUEST_TIMEOUT
            }
            Err(_) => true,
        };
        let error = match outcome {
            Ok(status) => format!("answered {status}"),
            Err(e) => e,
        };
        if !retry || attempt == attempts {
            tracing::warn!(stack_id = %d.stack_id, logical_resource_id = %d.logical_resource_id,
                %host, attempt, %error, "gave up delivering the ROS answer");
            return;
        }
        tracing::debug!(stack_id = %d.stack_id, %host, attempt, %error, "retrying the ROS answer");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
}

async fn attempt_once(
    client: &HttpClient,
    config: &RosDelivery,
    d: &Delivery,
) -> Result<StatusCode, String> {
    let req = Request::builder()
        .method(config.method.clone())
        .uri(d.uri.clone())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(d.body.clone()))
        .map_err(|e| format!("cannot build the request: {e}"))?;
    match tokio::time::timeout(config.attempt_timeout, client.request(req)).await {
        Ok(Ok(res)) => Ok(res.status()),
        Ok(Err(e)) => Err(format!("request failed: {e}")),
        Err(_) => Err(format!(
            "no answer within {}",
            humantime::format_duration(config.attempt_timeout)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_http_urls_are_targets() {
        assert!(target("https://ros.aliyuncs.com/callback?sig=x").is_ok());
        assert!(target("http://127.0.0.1:9/x").is_ok());
        assert!(target("/relative").is_err());
        assert!(target("ftp://host/x").is_err());
        assert!(target("file:///etc/passwd").is_err());
        assert!(target("not a url").is_err());
    }
}
