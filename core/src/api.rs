//! Wire types of the registry API that are not domain objects: pages, errors, tokens,
//! regions and resolution answers. The registry serves them and the client reads them.

use serde::{Deserialize, Serialize};

use crate::Role;

/// One page of a list. Pass `next_page_token` back as `page_token` for the next page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// Default and maximum page sizes of list endpoints.
pub const DEFAULT_PAGE_SIZE: u32 = 100;
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Every error the API answers: a stable machine code, a sentence for people, and the field at
/// fault when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Answer of `GET /v1/resolve`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Resolution {
    pub image_id: String,
    pub package: String,
    pub version: String,
    pub region: String,
}

/// A region the registry's cloud offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegionInfo {
    pub id: String,
    pub name: String,
}

/// Answer of `GET /v1/regions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegionList {
    pub regions: Vec<RegionInfo>,
}

/// What a token is good for: the whole API, or only the ROS custom resource endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    #[default]
    Api,
    Ros,
}

/// Body of `POST /v1/tokens` (admin only). Creates the account on first use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub account: String,
    pub role: Role,
    #[serde(default)]
    pub kind: TokenKind,
    /// The cloud account images are shared with for this account (defaults to the account name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_account_id: Option<String>,
    #[serde(default)]
    pub description: String,
}

/// A token as listed: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    pub id: String,
    pub account: String,
    pub role: Role,
    pub kind: TokenKind,
    pub description: String,
    pub created_at: String,
}

/// Answer of `POST /v1/tokens`: the secret is shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenCreated {
    #[serde(flatten)]
    pub info: TokenInfo,
    pub token: String,
}

/// Answer of `GET /v1/whoami`: the account and role of the calling token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WhoAmI {
    pub account: String,
    pub role: Role,
    pub cloud_account_id: String,
}

/// Body of `POST /v1/resolve/template`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", schema(example = json!({"service": "acme_app", "region": "cn-hangzhou", "template": "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  Vm:\n    Type: ALIYUN::ECS::Instance\n    Properties:\n      ImageId: centos_7\n"})))]
pub struct TemplateRequest {
    /// The service whose image associations apply (ID, name or owner/name).
    pub service: String,
    /// The region to deploy in.
    pub region: String,
    /// The template text (ROS YAML or JSON, Terraform or Terraform JSON).
    pub template: String,
    /// `ros-yaml`, `ros-json`, `tf` or `tf-json`; detected from `filename` and the content when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The template's file name, to detect the format (`main.tf`, `template.yaml`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// Fail (422) when a literal image site has no association or no image in the region.
    #[serde(default)]
    pub strict: bool,
}

/// Answer of `POST /v1/resolve/template`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateAnswer {
    /// The rewritten template: the input byte for byte except the replaced values.
    pub template: String,
    /// The format the template was read as.
    pub format: String,
    /// True when every literal image site was replaced.
    pub complete: bool,
    /// Every image site: file position, resource, value, class, and what happened to it.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub sites: Vec<serde_json::Value>,
}
