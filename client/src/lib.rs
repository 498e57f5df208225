//! Typed async client of the imagenest registry API. Errors keep the API's `code`, `message`
//! and `field`, so callers (the CLI, the provider, the preprocessor) can show them as they are.

use std::time::Duration;

use imagenest_core::{
    api::{
        ErrorBody, NewToken, Page, RegionList, Resolution, TemplateAnswer, TemplateRequest,
        TokenCreated, TokenInfo, WhoAmI,
    },
    distribution::{Distribution, DistributionRequest},
    image_map::ImageMap,
    package::{NewPackage, Package, PackageUpdate},
    service::{NewService, Service, ServiceUpdate},
    version::{NewVersion, Version, VersionUpdate},
};
use reqwest::{Method, StatusCode, Url, header};
use serde::{Serialize, de::DeserializeOwned};

/// What went wrong talking to the registry.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The registry answered with an error.
    #[error("{message} ({code}, HTTP {status}{})", .field.as_deref().map(|f| format!(", field `{f}`")).unwrap_or_default())]
    Api {
        status: u16,
        code: String,
        message: String,
        field: Option<String>,
    },
    /// The registry could not be reached or the connection broke.
    #[error("cannot reach the registry at {url}: {message}")]
    Transport { url: String, message: String },
    /// The registry answered something this client does not understand.
    #[error("unexpected answer from {url}: {message}")]
    Decode { url: String, message: String },
    #[error("invalid registry endpoint `{0}`: give a URL such as http://127.0.0.1:8787")]
    InvalidEndpoint(String),
}

impl ClientError {
    /// The API error code (`not_found`, `conflict`, …), when the registry answered one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

pub type Result<T> = std::result::Result<T, ClientError>;

/// A page request for list calls.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub limit: Option<u32>,
    pub page_token: Option<String>,
}

/// A client bound to one registry and one token.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the registry at `endpoint` (`http://host:port`), authenticating with `token`.
    pub fn new(endpoint: &str, token: Option<&str>) -> Result<Client> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("imagenest-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Transport {
                url: endpoint.to_string(),
                message: e.to_string(),
            })?;
        Client::with_http(http, endpoint, token)
    }

    /// Like `new`, with a caller-configured reqwest client (timeouts, TLS roots).
    pub fn with_http(http: reqwest::Client, endpoint: &str, token: Option<&str>) -> Result<Client> {
        let mut base = Url::parse(endpoint.trim_end_matches('/'))
            .map_err(|_| ClientError::InvalidEndpoint(endpoint.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(ClientError::InvalidEndpoint(endpoint.to_string()));
        }
        base.set_query(None);
        Ok(Client {
            http,
            base,
            token: token.map(String::from),
        })
    }

    pub fn endpoint(&self) -> &str {
        self.base.as_str()
    }

    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        {
            // Invariant: `new` checked that the base URL can have path segments.
            let mut path = url.path_segments_mut().expect("base URL has a path");
            path.pop_if_empty();
            path.extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    async fn send<B: Serialize + ?Sized>(
        &self,
        method: Method,
        url: Url,
        body: Option<&B>,
        if_match: Option<i64>,
    ) -> Result<reqwest::Response> {
        let mut req = self.http.request(method, url.clone());
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let Some(rev) = if_match {
            req = req.header(header::IF_MATCH, format!("\"{rev}\""));
        }
        if let Some(body) = body {
            req = req.json(body);
        }
        let res = req.send().await.map_err(|e| ClientError::Transport {
            url: url.to_string(),
            message: transport_message(&e),
        })?;
        if res.status().is_success() {
            return Ok(res);
        }
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        Err(match serde_json::from_str::<ErrorBody>(&text) {
            Ok(e) => ClientError::Api {
                status: status.as_u16(),
                code: e.code,
                message: e.message,
                field: e.field,
            },
            Err(_) => ClientError::Api {
                status: status.as_u16(),
                code: "http_error".into(),
                message: format!(
                    "{url} answered {status}: {}",
                    text.chars().take(200).collect::<String>()
                ),
                field: None,
            },
        })
    }

    async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&B>,
        if_match: Option<i64>,
    ) -> Result<T> {
        let res = self.send(method, url.clone(), body, if_match).await?;
        let bytes = res.bytes().await.map_err(|e| ClientError::Transport {
            url: url.to_string(),
            message: transport_message(&e),
        })?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
            url: url.to_string(),
            message: e.to_string(),
        })
    }

    async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<T> {
        self.call::<(), T>(Method::GET, self.url(segments, query), None, None)
            .await
    }

    async fn delete(&self, segments: &[&str], if_match: Option<i64>) -> Result<()> {
        self.send::<()>(Method::DELETE, self.url(segments, &[]), None, if_match)
            .await
            .map(drop)
    }

    async fn list<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        page: &PageRequest,
    ) -> Result<Page<T>> {
        let limit = page.limit.map(|l| l.to_string());
        let mut query = Vec::new();
        if let Some(l) = &limit {
            query.push(("limit", l.as_str()));
        }
        if let Some(t) = &page.page_token {
            query.push(("page_token", t.as_str()));
        }
        self.get(segments, &query).await
    }

    async fn list_all<T: DeserializeOwned>(&self, segments: &[&str]) -> Result<Vec<T>> {
        let mut out = Vec::new();
        let mut page = PageRequest {
            limit: Some(imagenest_core::api::MAX_PAGE_SIZE),
            page_token: None,
        };
        loop {
            let p: Page<T> = self.list(segments, &page).await?;
            out.extend(p.items);
            match p.next_page_token {
                Some(t) => page.page_token = Some(t),
                None => return Ok(out),
            }
        }
    }

    // ---- system ----

    /// `GET /healthz`.
    pub async fn health(&self) -> Result<()> {
        self.send::<()>(Method::GET, self.url(&["healthz"], &[]), None, None)
            .await
            .map(drop)
    }

    pub async fn regions(&self) -> Result<RegionList> {
        self.get(&["v1", "regions"], &[]).await
    }

    pub async fn whoami(&self) -> Result<WhoAmI> {
        self.get(&["v1", "whoami"], &[]).await
    }

    // ---- tokens ----

    pub async fn create_token(&self, new: &NewToken) -> Result<TokenCreated> {
        self.call(
            Method::POST,
            self.url(&["v1", "tokens"], &[]),
            Some(new),
            None,
        )
        .await
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>> {
        self.list_all(&["v1", "tokens"]).await
    }

    pub async fn delete_token(&self, id: &str) -> Result<()> {
        self.delete(&["v1", "tokens", id], None).await
    }

    // ---- packages ----

    pub async fn list_packages(&self, page: &PageRequest) -> Result<Page<Package>> {
        self.list(&["v1", "packages"], page).await
    }

    pub async fn all_packages(&self) -> Result<Vec<Package>> {
        self.list_all(&["v1", "packages"]).await
    }

    pub async fn create_package(&self, new: &NewPackage) -> Result<Package> {
        self.call(
            Method::POST,
            self.url(&["v1", "packages"], &[]),
            Some(new),
            None,
        )
        .await
    }

    /// A package by ID, name or `owner/name`.
    pub async fn package(&self, key: &str) -> Result<Package> {
        self.get(&["v1", "packages", key], &[]).await
    }

    /// Updates a package; with `if_match`, fails (412) if it changed since that revision.
    pub async fn update_package(
        &self,
        key: &str,
        update: &PackageUpdate,
        if_match: Option<i64>,
    ) -> Result<Package> {
        self.call(
            Method::PATCH,
            self.url(&["v1", "packages", key], &[]),
            Some(update),
            if_match,
        )
        .await
    }

    pub async fn delete_package(&self, key: &str) -> Result<()> {
        self.delete(&["v1", "packages", key], None).await
    }

    // ---- versions ----

    pub async fn list_versions(&self, package: &str, page: &PageRequest) -> Result<Page<Version>> {
        self.list(&["v1", "packages", package, "versions"], page)
            .await
    }

    pub async fn all_versions(&self, package: &str) -> Result<Vec<Version>> {
        self.list_all(&["v1", "packages", package, "versions"])
            .await
    }

    pub async fn create_version(&self, package: &str, new: &NewVersion) -> Result<Version> {
        self.call(
            Method::POST,
            self.url(&["v1", "packages", package, "versions"], &[]),
            Some(new),
            None,
        )
        .await
    }

    pub async fn version(&self, id: &str) -> Result<Version> {
        self.get(&["v1", "versions", id], &[]).await
    }

    pub async fn update_version(
        &self,
        id: &str,
        update: &VersionUpdate,
        if_match: Option<i64>,
    ) -> Result<Version> {
        self.call(
            Method::PATCH,
            self.url(&["v1", "versions", id], &[]),
            Some(update),
            if_match,
        )
        .await
    }

    pub async fn publish_version(&self, id: &str) -> Result<Version> {
        self.call::<(), _>(
            Method::POST,
            self.url(&["v1", "versions", id, "publish"], &[]),
            None,
            None,
        )
        .await
    }

    pub async fn delete_version(&self, id: &str) -> Result<()> {
        self.delete(&["v1", "versions", id], None).await
    }

    // ---- distributions ----

    pub async fn distribution(&self, version_id: &str) -> Result<Distribution> {
        self.get(&["v1", "versions", version_id, "distribution"], &[])
            .await
    }

    /// Sets the target regions (`["all"]` for every region); publishes a draft first.
    pub async fn set_distribution_regions(
        &self,
        version_id: &str,
        regions: &[String],
    ) -> Result<Distribution> {
        self.set_distribution_regions_if(version_id, regions, None)
            .await
    }

    /// `set_distribution_regions`, failing with 412 when `revision` is given and the regions
    /// changed since the distribution of that revision was read.
    pub async fn set_distribution_regions_if(
        &self,
        version_id: &str,
        regions: &[String],
        revision: Option<i64>,
    ) -> Result<Distribution> {
        let body = DistributionRequest {
            regions: regions.to_vec(),
        };
        self.call(
            Method::PUT,
            self.url(&["v1", "versions", version_id, "distribution"], &[]),
            Some(&body),
            revision,
        )
        .await
    }

    pub async fn delete_distribution(&self, version_id: &str) -> Result<()> {
        self.delete(&["v1", "versions", version_id, "distribution"], None)
            .await
    }

    /// `delete_distribution`, failing with 412 when the regions changed since `revision`.
    pub async fn delete_distribution_if(&self, version_id: &str, revision: i64) -> Result<()> {
        self.delete(
            &["v1", "versions", version_id, "distribution"],
            Some(revision),
        )
        .await
    }

    pub async fn retry_distribution(&self, version_id: &str) -> Result<Distribution> {
        self.call::<(), _>(
            Method::POST,
            self.url(
                &["v1", "versions", version_id, "distribution", "retry"],
                &[],
            ),
            None,
            None,
        )
        .await
    }

    // ---- services ----

    pub async fn list_services(&self, page: &PageRequest) -> Result<Page<Service>> {
        self.list(&["v1", "services"], page).await
    }

    pub async fn all_services(&self) -> Result<Vec<Service>> {
        self.list_all(&["v1", "services"]).await
    }

    pub async fn create_service(&self, new: &NewService) -> Result<Service> {
        self.call(
            Method::POST,
            self.url(&["v1", "services"], &[]),
            Some(new),
            None,
        )
        .await
    }

    /// A service by ID, name or `owner/name`.
    pub async fn service(&self, key: &str) -> Result<Service> {
        self.get(&["v1", "services", key], &[]).await
    }

    pub async fn update_service(
        &self,
        key: &str,
        update: &ServiceUpdate,
        if_match: Option<i64>,
    ) -> Result<Service> {
        self.call(
            Method::PATCH,
            self.url(&["v1", "services", key], &[]),
            Some(update),
            if_match,
        )
        .await
    }

    pub async fn delete_service(&self, key: &str) -> Result<()> {
        self.delete(&["v1", "services", key], None).await
    }

    /// The image map of a service (DESIGN §4).
    pub async fn image_map(&self, service: &str) -> Result<ImageMap> {
        self.get(&["v1", "services", service, "image-map"], &[])
            .await
    }

    // ---- resolution ----

    /// The image of `package` (`version` or latest when `None`) in `region`.
    pub async fn resolve(
        &self,
        package: &str,
        version: Option<&str>,
        region: &str,
    ) -> Result<Resolution> {
        let mut query = vec![("package", package), ("region", region)];
        if let Some(v) = version {
            query.push(("version", v));
        }
        self.get(&["v1", "resolve"], &query).await
    }

    /// Rewrites a template's literal image IDs to the images of `req.region`, server-side, with
    /// this token's permissions (`POST /v1/resolve/template`).
    pub async fn resolve_template(&self, req: &TemplateRequest) -> Result<TemplateAnswer> {
        self.call(
            Method::POST,
            self.url(&["v1", "resolve", "template"], &[]),
            Some(req),
            None,
        )
        .await
    }
}

fn transport_message(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    if e.is_timeout() {
        message.push_str(" (timed out)");
    }
    message
}

/// Whether a status means "try again later" (for callers that retry).
pub fn is_retryable(status: u16) -> bool {
    StatusCode::from_u16(status)
        .is_ok_and(|s| s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS)
}
