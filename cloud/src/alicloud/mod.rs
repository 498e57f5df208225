//! The `alicloud` driver: Alibaba Cloud ECS's RPC API over reqwest, signed with
//! ACS3-HMAC-SHA256. Points at the real cloud by default, or at any endpoint (the sim cloud).

mod credentials;
mod ops;
pub mod wire;

use std::time::{Duration, SystemTime};

use rand::Rng;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::sign::{self, RequestParts};
pub use credentials::Credentials;

/// ECS API version.
pub const ECS_VERSION: &str = "2014-05-26";

/// How to reach the cloud.
#[derive(Debug, Clone)]
pub struct AliCloudConfig {
    pub credentials: Credentials,
    /// Sends every request to this base URL (`http://127.0.0.1:8790`) instead of
    /// `https://ecs.<region>.aliyuncs.com`; the region still travels in `RegionId`.
    pub endpoint: Option<String>,
    /// Timeout of one request, connect included.
    pub timeout: Duration,
}

impl AliCloudConfig {
    /// Real cloud, 30 s timeout.
    pub fn new(credentials: Credentials) -> Self {
        AliCloudConfig {
            credentials,
            endpoint: None,
            timeout: Duration::from_secs(30),
        }
    }

    /// Targets another endpoint (the sim cloud).
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }
}

/// The Alibaba Cloud ECS driver; cheap to clone (the HTTP connection pool is shared).
#[derive(Debug, Clone)]
pub struct AliCloud {
    http: reqwest::Client,
    credentials: Credentials,
    endpoint: Option<String>,
}

impl AliCloud {
    /// Builds the driver; fails only when the endpoint is not an http(s) URL or the TLS
    /// backend cannot start.
    pub fn new(config: AliCloudConfig) -> Result<Self> {
        let endpoint = match config.endpoint {
            Some(e) => {
                let e = e.trim_end_matches('/').to_string();
                if !(e.starts_with("http://") || e.starts_with("https://")) {
                    return Err(Error::InvalidRequest(format!(
                        "endpoint {e:?} must start with http:// or https://"
                    )));
                }
                Some(e)
            }
            None => None,
        };
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("imagenest/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::InvalidRequest(format!("cannot build HTTP client: {e}")))?;
        Ok(AliCloud {
            http,
            credentials: config.credentials,
            endpoint,
        })
    }

    /// Credentials from `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and
    /// optionally `ALIBABA_CLOUD_SECURITY_TOKEN`, with an optional endpoint override.
    pub fn from_env(endpoint: Option<String>) -> Result<Self> {
        let mut config = AliCloudConfig::new(Credentials::from_env()?);
        config.endpoint = endpoint;
        Self::new(config)
    }

    /// The access key ID this driver signs with (never the secret).
    pub fn access_key_id(&self) -> &str {
        &self.credentials.access_key_id
    }

    fn base_url(&self, region: &str) -> String {
        match &self.endpoint {
            Some(e) => e.clone(),
            None => format!("https://ecs.{region}.aliyuncs.com"),
        }
    }

    /// Sends one signed RPC call and decodes its JSON answer.
    async fn call<T: DeserializeOwned>(
        &self,
        action: &str,
        region: &str,
        params: &[(&str, String)],
    ) -> Result<T> {
        let base = self.base_url(region);
        let query = sign::canonical_query(params);
        let url = if query.is_empty() {
            format!("{base}/")
        } else {
            format!("{base}/?{query}")
        };
        let host =
            host_of(&base).ok_or_else(|| Error::InvalidRequest(format!("no host in {base}")))?;
        let date = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        let nonce = hex::encode(rand::rng().random::<[u8; 16]>());
        let mut headers = vec![
            ("host".to_string(), host),
            ("x-acs-action".to_string(), action.to_string()),
            ("x-acs-version".to_string(), ECS_VERSION.to_string()),
            ("x-acs-date".to_string(), date),
            ("x-acs-signature-nonce".to_string(), nonce),
            (
                "x-acs-content-sha256".to_string(),
                sign::EMPTY_BODY_SHA256.to_string(),
            ),
        ];
        if let Some(token) = &self.credentials.security_token {
            headers.push(("x-acs-security-token".to_string(), token.clone()));
        }
        let parts = RequestParts {
            method: "POST",
            uri: "/",
            canonical_query: &query,
            headers: &headers,
            payload_sha256: sign::EMPTY_BODY_SHA256,
        };
        let authorization = parts.authorization(
            &self.credentials.access_key_id,
            &self.credentials.access_key_secret,
        );
        let mut request = self.http.post(&url).header("authorization", authorization);
        for (name, value) in &headers {
            // reqwest derives `host` from the URL, exactly as signed above.
            if name != "host" {
                request = request.header(name.as_str(), value.as_str());
            }
        }
        tracing::debug!(action, region, "alicloud request");
        let transport = |source| Error::Transport {
            action: action.to_string(),
            region: region.to_string(),
            endpoint: base.clone(),
            source,
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(transport)?;
        let decode = |detail: String| Error::Decode {
            action: action.to_string(),
            region: region.to_string(),
            status,
            detail,
        };
        if (200..300).contains(&status) {
            return serde_json::from_slice(&body)
                .map_err(|e| decode(format!("{e}: {}", snippet(&body))));
        }
        match serde_json::from_slice::<wire::ErrorBody>(&body) {
            Ok(err) if !err.code.is_empty() => {
                tracing::debug!(action, region, code = %err.code, status, "alicloud error");
                Err(Error::Api {
                    action: action.to_string(),
                    region: region.to_string(),
                    status,
                    code: err.code,
                    message: err.message,
                    request_id: err.request_id,
                })
            }
            _ => Err(decode(snippet(&body))),
        }
    }
}

/// `host[:port]` of a base URL, as reqwest sends it in the `Host` header (default ports left out).
fn host_of(base: &str) -> Option<String> {
    let url = reqwest::Url::parse(base).ok()?;
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    })
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut s: String = text.chars().take(200).collect();
    if text.chars().count() > 200 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_keeps_explicit_port_only() {
        assert_eq!(
            host_of("http://127.0.0.1:8790").as_deref(),
            Some("127.0.0.1:8790")
        );
        assert_eq!(
            host_of("https://ecs.cn-hangzhou.aliyuncs.com").as_deref(),
            Some("ecs.cn-hangzhou.aliyuncs.com")
        );
        assert_eq!(
            host_of("https://example.com:443").as_deref(),
            Some("example.com")
        );
    }

    #[test]
    fn endpoint_must_be_http() {
        let creds = Credentials::new("id", "secret");
        assert!(
            AliCloud::new(AliCloudConfig::new(creds.clone()).with_endpoint("127.0.0.1:1")).is_err()
        );
        let d = AliCloud::new(AliCloudConfig::new(creds).with_endpoint("http://127.0.0.1:1/"))
            .expect("valid");
        assert_eq!(d.base_url("cn-hangzhou"), "http://127.0.0.1:1");
    }
}
