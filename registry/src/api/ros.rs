//! `POST /v1/ros/custom-resource/{token}`: the registry as an Alibaba Cloud ROS custom resource
//! provider for `Custom::RegionImage`. A stack asks for its region's image of a package version
//! at deploy time, with the same permission and resolution rules as `GET /v1/resolve`.
//!
//! The token in the path is a ROS token (kind `ros`), bound to one account and good for nothing
//! else. Every request gets HTTP 200 and a ROS response object, `SUCCESS` or `FAILED` with a
//! `Reason`, so ROS shows the reason on the stack (sync mode). When the request carries a
//! `ResponseURL` and the token is valid, the same object is also uploaded there (async mode);
//! `?mode=sync` turns that off. The token is never logged, and metrics label the route template.

mod deliver;
mod protocol;

use axum::{
    body::Bytes,
    extract::{Path, State, rejection::BytesRejection, rejection::PathRejection},
    http::{StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use imagenest_core::{
    Principal,
    api::TokenKind,
    resolve::{self, Selector},
    service::LATEST,
};

pub use deliver::RosDelivery;
pub use protocol::{RegionImageData, RosRequest, RosResponse, RosStatus};

use super::{lookup, lookup::Intent};
use crate::{error::ApiError, state::AppState};
use protocol::{Echo, Parsed, RequestType};

/// Parameters of `Custom::RegionImage` besides `Package` and `Version` that are accepted and
/// ignored, in case ROS passes its own properties along.
const IGNORED_PARAMETERS: [&str; 2] = ["ServiceToken", "Timeout"];

/// Tokens longer than this are refused without a look-up.
const MAX_TOKEN_LEN: usize = 256;

/// `?mode=`: whether the answer is also uploaded to the request's `ResponseURL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RosMode {
    /// Answer in the HTTP response and, when the request has a `ResponseURL`, upload it there too.
    Auto,
    /// Answer only in the HTTP response (for a `web[sync]:` ServiceToken).
    Sync,
}

/// Answer a ROS custom resource request for `Custom::RegionImage`.
///
/// `ResourceProperties` (the template's `Parameters`): `Package` (ID, name or owner/name) and
/// `Version` (a version name, or `latest`, the default). Create and Update answer the image of
/// the request's `RegionId` in `Data` (`ImageId`, `Package`, `Version`, `Region`); Delete always
/// succeeds. Failures answer `FAILED` with a `Reason`, still with HTTP 200.
#[utoipa::path(post, path = "/v1/ros/custom-resource/{token}", tag = "ros", security(),
    params(
        ("token" = String, Path, description = "A ROS token (`imagenest token create --ros`); API tokens are refused"),
        ("mode" = inline(Option<RosMode>), Query, description = "`auto` (default) or `sync`: never upload the answer to `ResponseURL`"),
    ),
    request_body(content = RosRequest, content_type = "application/json",
        description = "A ROS custom resource request (Create, Update or Delete)",
        example = json!({"RequestType": "Create", "ResponseURL": "https://ros.example.com/callback",
            "StackId": "4a6c9851-3b0f-4f5f-8f3a-2a4d7bd1e001", "StackName": "acme-demo",
            "ResourceOwnerId": "1234567890123456", "CallerId": "1234567890123456",
            "RegionId": "cn-hangzhou", "RequestId": "0c5a1a55-7c1b-4f4e-9a51-8c2b3f2c1d10",
            "ResourceType": "Custom::RegionImage", "LogicalResourceId": "BaseImage",
            "ResourceProperties": {"Package": "acme_base", "Version": "latest"}})),
    responses((status = 200, description = "The ROS response object: SUCCESS, or FAILED with a Reason", body = RosResponse)))]
pub async fn custom_resource(
    State(st): State<AppState>,
    token: Result<Path<String>, PathRejection>,
    uri: Uri,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            let reason = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                format!(
                    "the request body is larger than the registry accepts ({} bytes)",
                    st.config.body_limit
                )
            } else {
                "could not read the request body".to_string()
            };
            return answer(&Echo::default().failed(reason));
        }
    };
    let (echo, parsed) = protocol::read(&body);
    let mode = match mode(&uri) {
        Ok(m) => m,
        Err(reason) => return answer(&echo.failed(reason)),
    };
    let caller = match token {
        Ok(Path(token)) => authenticate(&st, &token).await,
        Err(_) => Err(invalid_token()),
    };
    let caller = match caller {
        Ok(p) => p,
        Err(reason) => {
            // No upload to ResponseURL: without a valid token the registry calls out to nobody.
            tracing::warn!(
                stack_id = echo.stack_id.as_deref().unwrap_or(""),
                logical_resource_id = echo.logical_resource_id.as_deref().unwrap_or(""),
                "ROS custom resource request with an unusable token"
            );
            return answer(&echo.failed(reason));
        }
    };
    let res = match parsed {
        Err(reason) => echo.failed(reason),
        Ok(p) => respond(&st, &caller, &echo, &p).await,
    };
    tracing::info!(account = %caller.account,
        stack_id = echo.stack_id.as_deref().unwrap_or(""),
        logical_resource_id = echo.logical_resource_id.as_deref().unwrap_or(""),
        status = ?res.status, reason = res.reason.as_deref().unwrap_or(""),
        "ROS custom resource request");
    let bytes = Bytes::from(protocol::encode(&res));
    if mode == RosMode::Auto {
        if let Some(url) = &echo.response_url {
            match deliver::target(url) {
                Ok(uri) => deliver::spawn(
                    st.config.ros_delivery.clone(),
                    deliver::Delivery {
                        uri,
                        body: bytes.clone(),
                        stack_id: echo.stack_id.clone().unwrap_or_default(),
                        logical_resource_id: echo.logical_resource_id.clone().unwrap_or_default(),
                    },
                ),
                Err(e) => tracing::warn!(error = %e, "not uploading the ROS answer"),
            }
        }
    }
    json(bytes)
}

/// The answer to a well-formed request from `caller`.
async fn respond(st: &AppState, caller: &Principal, echo: &Echo, p: &Parsed) -> RosResponse {
    match p.request_type {
        // Nothing is held for a resource, so every Delete succeeds, also for unknown IDs.
        RequestType::Delete => echo.success(None),
        RequestType::Create | RequestType::Update => match region_image(st, caller, p).await {
            Ok(data) => echo.success(Some(data)),
            Err(reason) => echo.failed(reason),
        },
    }
}

/// The image of the request's region, by the rules of `GET /v1/resolve`.
async fn region_image(
    st: &AppState,
    caller: &Principal,
    p: &Parsed,
) -> Result<RegionImageData, String> {
    if let Some(unknown) = p.properties.keys().find(|k| {
        !matches!(k.as_str(), "Package" | "Version") && !IGNORED_PARAMETERS.contains(&k.as_str())
    }) {
        return Err(format!(
            "unknown parameter `{unknown}`: Custom::RegionImage takes `Package` and `Version`"
        ));
    }
    let package = protocol::property(&p.properties, "Package")?.ok_or_else(|| {
        "the `Package` parameter is missing: set Parameters: {Package: <name or ID>, Version: <name or latest>}".to_string()
    })?;
    let version =
        protocol::property(&p.properties, "Version")?.unwrap_or_else(|| LATEST.to_string());
    let region = p
        .region_id
        .clone()
        .ok_or_else(|| "the request has no `RegionId`".to_string())?;
    if !st.config.regions.iter().any(|r| r.id == region) {
        return Err(format!(
            "unknown region `{region}`: the registry's cloud does not offer it"
        ));
    }
    let (pkg, access) = lookup::package(st, caller, &package, Intent::Resolve)
        .await
        .map_err(reason)?;
    let facts = st
        .store
        .resolution_facts_with(&pkg, access)
        .await
        .map_err(|e| reason(e.into()))?;
    let r = resolve::resolve(&facts, &Selector::parse(&version), &region, caller)
        .map_err(|e| reason(e.into()))?;
    Ok(RegionImageData {
        image_id: r.image_id,
        package: pkg.name,
        version: r.version,
        region,
    })
}

/// The `Reason` of an API error: its message, which never carries internals.
fn reason(e: ApiError) -> String {
    e.message
}

fn invalid_token() -> String {
    "the token in the ServiceToken URL is not a valid ROS token of this registry (mistyped or revoked?); create one with `imagenest token create --ros`".into()
}

/// The account of a ROS token; API tokens are refused here.
async fn authenticate(st: &AppState, token: &str) -> Result<Principal, String> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(invalid_token());
    }
    match st.authenticate(token).await {
        Ok(Some((principal, TokenKind::Ros))) => Ok(principal),
        Ok(Some((_, TokenKind::Api))) => Err(
            "the ServiceToken URL holds an API token, which this endpoint refuses: create a ROS token with `imagenest token create --ros`, and revoke the API token, since the template exposed it".into(),
        ),
        Ok(None) => Err(invalid_token()),
        Err(e) => Err(reason(e)),
    }
}

/// `?mode=` of the request URL.
fn mode(uri: &Uri) -> Result<RosMode, String> {
    let mut mode = RosMode::Auto;
    for (k, v) in form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        if k == "mode" {
            mode = match v.as_ref() {
                "auto" => RosMode::Auto,
                "sync" => RosMode::Sync,
                _ => return Err("`mode` in the ServiceToken URL must be `auto` or `sync`".into()),
            };
        }
    }
    Ok(mode)
}

fn answer(res: &RosResponse) -> Response {
    json(Bytes::from(protocol::encode(res)))
}

fn json(body: Bytes) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
