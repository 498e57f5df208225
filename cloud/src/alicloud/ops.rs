//! The ECS operations of the `alicloud` driver: the [`Driver`] trait over signed RPC calls.

use super::AliCloud;
use super::wire;
use crate::driver::{
    CopyRequest, DESCRIBE_BATCH, Driver, ImageState, ImageStatus, MAX_SHARED_ACCOUNTS, RegionInfo,
    SHARE_BATCH, Sharing, SharingChange,
};
use crate::error::{Error, Result};

/// DescribeImages page size (the cloud's maximum).
const PAGE_SIZE: u64 = 100;

fn image_state(region: &str, img: wire::Image) -> ImageState {
    let status = ImageStatus::parse(&img.status);
    let progress = img
        .progress
        .trim_end_matches('%')
        .trim()
        .parse::<u8>()
        .map(|p| p.min(100))
        .unwrap_or(if status.is_usable() { 100 } else { 0 });
    let owner = img.image_owner_id.and_then(|v| match v {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) if !s.is_empty() => Some(s),
        _ => None,
    });
    let non_empty = |s: String| (!s.is_empty()).then_some(s);
    ImageState {
        image_id: img.image_id,
        region: region.to_string(),
        name: img.image_name,
        status,
        progress,
        size_gib: img.size,
        owner_account_id: owner,
        product_code: non_empty(img.product_code),
        version: non_empty(img.image_version),
        creation_time: non_empty(img.creation_time),
    }
}

fn require(what: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::InvalidRequest(format!("{what} must not be empty")));
    }
    Ok(())
}

impl AliCloud {
    /// One ModifyImageSharePermission call with `key.1..key.N` accounts and maybe `IsPublic`.
    async fn modify_call(
        &self,
        region: &str,
        image_id: &str,
        key: &str,
        batch: &[String],
        public: Option<bool>,
    ) -> Result<()> {
        let names: Vec<String> = (1..=batch.len()).map(|n| format!("{key}.{n}")).collect();
        let mut params = vec![
            ("RegionId", region.to_string()),
            ("ImageId", image_id.to_string()),
        ];
        params.extend(names.iter().map(String::as_str).zip(batch.iter().cloned()));
        if let Some(p) = public {
            params.push(("IsPublic", p.to_string()));
        }
        self.call::<wire::EmptyResponse>("ModifyImageSharePermission", region, &params)
            .await
            .map(|_| ())
    }
}

impl Driver for AliCloud {
    fn name(&self) -> &str {
        "alicloud"
    }

    async fn list_regions(&self) -> Result<Vec<RegionInfo>> {
        let params = [("AcceptLanguage", "en-US".to_string())];
        let answer: wire::DescribeRegionsResponse =
            self.call("DescribeRegions", "cn-hangzhou", &params).await?;
        Ok(answer
            .regions
            .region
            .into_iter()
            .map(|r| RegionInfo {
                id: r.region_id,
                name: r.local_name,
            })
            .collect())
    }

    async fn copy_image(&self, request: &CopyRequest) -> Result<String> {
        require("source image ID", &request.source_image_id)?;
        require("destination region", &request.destination_region)?;
        require("client token", &request.client_token)?;
        if request.client_token.len() > 64 || !request.client_token.is_ascii() {
            return Err(Error::InvalidRequest(format!(
                "client token {:?} must be at most 64 ASCII characters",
                request.client_token
            )));
        }
        let mut params = vec![
            ("RegionId", request.source_region.clone()),
            ("ImageId", request.source_image_id.clone()),
            ("DestinationRegionId", request.destination_region.clone()),
            ("DestinationImageName", request.name.clone()),
            ("ClientToken", request.client_token.clone()),
        ];
        if !request.description.is_empty() {
            params.push(("DestinationDescription", request.description.clone()));
        }
        let answer: wire::CopyImageResponse = self
            .call("CopyImage", &request.source_region, &params)
            .await?;
        if answer.image_id.is_empty() {
            return Err(Error::Decode {
                action: "CopyImage".into(),
                region: request.source_region.clone(),
                status: 200,
                detail: "answer has no ImageId".into(),
            });
        }
        Ok(answer.image_id)
    }

    async fn describe_images(&self, region: &str, image_ids: &[String]) -> Result<Vec<ImageState>> {
        let mut out = Vec::with_capacity(image_ids.len());
        for chunk in image_ids.chunks(DESCRIBE_BATCH) {
            let params = [
                ("RegionId", region.to_string()),
                ("ImageId", chunk.join(",")),
                ("Status", wire::ALL_STATUSES.to_string()),
                ("PageSize", PAGE_SIZE.to_string()),
                ("PageNumber", "1".to_string()),
            ];
            let answer: wire::DescribeImagesResponse =
                self.call("DescribeImages", region, &params).await?;
            out.extend(
                answer
                    .images
                    .image
                    .into_iter()
                    .map(|img| image_state(region, img)),
            );
        }
        Ok(out)
    }

    async fn describe_sharing(&self, region: &str, image_id: &str) -> Result<Sharing> {
        require("image ID", image_id)?;
        let mut sharing = Sharing::default();
        let mut page = 1u64;
        loop {
            let params = [
                ("RegionId", region.to_string()),
                ("ImageId", image_id.to_string()),
                ("PageNumber", page.to_string()),
                ("PageSize", PAGE_SIZE.to_string()),
            ];
            let answer: wire::DescribeImageSharePermissionResponse = self
                .call("DescribeImageSharePermission", region, &params)
                .await?;
            sharing.public |= answer
                .share_groups
                .share_group
                .iter()
                .any(|g| g.group == "all");
            let got = answer.accounts.account.len() as u64;
            sharing
                .accounts
                .extend(answer.accounts.account.into_iter().map(|a| a.aliyun_id));
            if got < PAGE_SIZE || page * PAGE_SIZE >= answer.total_count {
                return Ok(sharing);
            }
            page += 1;
        }
    }

    async fn modify_sharing(
        &self,
        region: &str,
        image_id: &str,
        change: &SharingChange,
    ) -> Result<()> {
        require("image ID", image_id)?;
        if change.add.len() > MAX_SHARED_ACCOUNTS {
            return Err(Error::ShareLimit {
                image_id: image_id.to_string(),
                region: region.to_string(),
                requested: change.add.len(),
                limit: MAX_SHARED_ACCOUNTS,
            });
        }
        for batch in change.remove.chunks(SHARE_BATCH) {
            self.modify_call(region, image_id, "RemoveAccount", batch, None)
                .await?;
        }
        for batch in change.add.chunks(SHARE_BATCH) {
            self.modify_call(region, image_id, "AddAccount", batch, None)
                .await?;
        }
        if let Some(public) = change.public {
            self.modify_call(region, image_id, "AddAccount", &[], Some(public))
                .await?;
        }
        Ok(())
    }

    async fn delete_image(&self, region: &str, image_id: &str) -> Result<()> {
        require("image ID", image_id)?;
        let params = [
            ("RegionId", region.to_string()),
            ("ImageId", image_id.to_string()),
            ("Force", "true".to_string()),
        ];
        self.call::<wire::EmptyResponse>("DeleteImage", region, &params)
            .await
            .map(|_| ())
    }

    async fn cancel_copy(&self, region: &str, image_id: &str) -> Result<()> {
        require("image ID", image_id)?;
        let params = [
            ("RegionId", region.to_string()),
            ("ImageId", image_id.to_string()),
        ];
        self.call::<wire::EmptyResponse>("CancelCopyImage", region, &params)
            .await
            .map(|_| ())
    }

    async fn find_marketplace_image(
        &self,
        region: &str,
        product_code: &str,
        product_version: Option<&str>,
    ) -> Result<Option<ImageState>> {
        require("product code", product_code)?;
        let mut best: Option<ImageState> = None;
        let mut page = 1u64;
        loop {
            let params = [
                ("RegionId", region.to_string()),
                ("ImageOwnerAlias", "marketplace".to_string()),
                ("PageNumber", page.to_string()),
                ("PageSize", PAGE_SIZE.to_string()),
            ];
            let answer: wire::DescribeImagesResponse =
                self.call("DescribeImages", region, &params).await?;
            let got = answer.images.image.len() as u64;
            for img in answer.images.image {
                if img.product_code != product_code {
                    continue;
                }
                if product_version.is_some_and(|v| v != img.image_version) {
                    continue;
                }
                let state = image_state(region, img);
                if !state.status.is_usable() {
                    continue;
                }
                let newer = match &best {
                    None => true,
                    Some(b) => state.creation_time > b.creation_time,
                };
                if newer {
                    best = Some(state);
                }
            }
            if got < PAGE_SIZE || page * PAGE_SIZE >= answer.total_count {
                return Ok(best);
            }
            page += 1;
        }
    }
}
