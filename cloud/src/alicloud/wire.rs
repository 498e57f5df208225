//! JSON shapes of the ECS answers this crate uses, as the cloud spells them. The sim cloud
//! serialises the same types, so both ends agree by construction.

use serde::{Deserialize, Serialize};

/// The body of every error answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ErrorBody {
    pub request_id: Option<String>,
    pub host_id: Option<String>,
    pub code: String,
    pub message: String,
    pub recommend: Option<String>,
}

/// An answer that carries nothing but its request ID.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EmptyResponse {
    pub request_id: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CopyImageResponse {
    pub request_id: String,
    pub image_id: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeImagesResponse {
    pub request_id: String,
    pub region_id: String,
    pub total_count: u64,
    pub page_number: u64,
    pub page_size: u64,
    pub images: Images,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Images {
    pub image: Vec<Image>,
}

/// One image of DescribeImages.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Image {
    pub image_id: String,
    pub image_name: String,
    pub description: String,
    /// `Waiting`, `Creating`, `Available`, `UnAvailable`, `CreateFailed`, `Deprecated`.
    pub status: String,
    /// `"45%"`.
    pub progress: String,
    pub is_copied: bool,
    /// GiB.
    pub size: u64,
    pub creation_time: String,
    /// `self`, `others`, `system`, `marketplace`.
    pub image_owner_alias: String,
    /// The owner's account ID: a number in the real cloud's answers.
    pub image_owner_id: Option<serde_json::Value>,
    pub product_code: String,
    pub image_version: String,
    pub is_public: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeImageSharePermissionResponse {
    pub request_id: String,
    pub region_id: String,
    pub image_id: String,
    pub total_count: u64,
    pub page_number: u64,
    pub page_size: u64,
    pub share_groups: ShareGroups,
    pub accounts: Accounts,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ShareGroups {
    pub share_group: Vec<ShareGroup>,
}

/// `Group: "all"` marks a public image.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ShareGroup {
    pub group: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Accounts {
    pub account: Vec<Account>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Account {
    pub aliyun_id: String,
    pub shared_time: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeRegionsResponse {
    pub request_id: String,
    pub regions: Regions,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Regions {
    pub region: Vec<Region>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Region {
    pub region_id: String,
    pub local_name: String,
    pub region_endpoint: String,
    pub status: String,
}

/// Every image status, comma-joined, for DescribeImages calls that must see copies in progress
/// (the cloud's default shows only `Available` images).
pub const ALL_STATUSES: &str = "Waiting,Creating,Available,UnAvailable,CreateFailed,Deprecated";
