//! The ECS actions the sim cloud answers, checked like ECS checks them, on behalf of the
//! signed-in account: CopyImage, DescribeImages, ModifyImageSharePermission,
//! DescribeImageSharePermission, DeleteImage, CancelCopyImage, DescribeRegions.

use imagenest_cloud::alicloud::wire;
use serde_json::Value;

use crate::model::{self, Account, CopyInfo, Image, Status};
use crate::sim::{ApiError, Sim, check_image_name, check_region};
use crate::state::{Event, TokenEntry};

/// The most accounts an image can be shared with.
pub const MAX_SHARES: usize = imagenest_cloud::MAX_SHARED_ACCOUNTS;
/// The most accounts one ModifyImageSharePermission call adds or removes.
pub const SHARE_BATCH: usize = imagenest_cloud::SHARE_BATCH;

/// Decoded query parameters of one call.
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name).filter(|v| !v.is_empty()).ok_or_else(|| {
            ApiError::invalid(
                &format!("Missing{name}"),
                format!("The input parameter \"{name}\" that is mandatory for processing this request is not supplied."),
            )
        })
    }

    /// Values of `prefix.1`, `prefix.2`, … in index order.
    pub fn numbered(&self, prefix: &str) -> Vec<String> {
        let mut found: Vec<(u32, String)> = self
            .0
            .iter()
            .filter_map(|(k, v)| {
                let n = k.strip_prefix(prefix)?.strip_prefix('.')?.parse().ok()?;
                Some((n, v.clone()))
            })
            .collect();
        found.sort();
        found
            .into_iter()
            .map(|(_, v)| v)
            .filter(|v| !v.is_empty())
            .collect()
    }

    fn number(&self, name: &str, default: u64, max: u64) -> Result<u64, ApiError> {
        match self.get(name) {
            None | Some("") => Ok(default),
            Some(v) => match v.parse::<u64>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(ApiError::invalid(
                    &format!("InvalidParameter.{name}"),
                    format!("{name} must be 1-{max}."),
                )),
            },
        }
    }
}

fn not_found(image_id: &str) -> ApiError {
    ApiError::new(
        404,
        "InvalidImageId.NotFound",
        format!("The specified ImageId {image_id:?} does not exist."),
    )
}

fn rfc3339(ms: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_seconds(t).to_string()
}

fn visible(img: &Image, caller: &Account) -> bool {
    img.owner == caller.account_id || img.public || img.shared_with.contains(&caller.account_id)
}

fn json<T: serde::Serialize>(v: Result<T, ApiError>) -> Result<Value, ApiError> {
    v.and_then(|x| serde_json::to_value(x).map_err(|e| ApiError::internal(e.to_string())))
}

/// Runs one action and returns its JSON answer (without `RequestId`, added by the caller).
pub fn dispatch(
    sim: &mut Sim,
    caller: &Account,
    action: &str,
    p: &Params,
) -> Result<Value, ApiError> {
    match action {
        "CopyImage" => json(copy_image(sim, caller, p)),
        "DescribeImages" => json(describe_images(sim, caller, p)),
        "ModifyImageSharePermission" => json(modify_share(sim, caller, p)),
        "DescribeImageSharePermission" => json(describe_share(sim, caller, p)),
        "DeleteImage" => json(delete_image(sim, caller, p)),
        "CancelCopyImage" => json(cancel_copy(sim, caller, p)),
        "DescribeRegions" => json(describe_regions()),
        other => Err(ApiError::new(
            404,
            "InvalidAction.NotFound",
            format!("Specified api {other:?} is not found, please check your url and method."),
        )),
    }
}

fn copy_image(
    sim: &mut Sim,
    caller: &Account,
    p: &Params,
) -> Result<wire::CopyImageResponse, ApiError> {
    let region = p.required("RegionId")?;
    check_region(region)?;
    let image_id = p.required("ImageId")?;
    let dest = p.required("DestinationRegionId")?;
    check_region(dest)?;
    let name = p.get("DestinationImageName").unwrap_or("");
    let description = p.get("DestinationDescription").unwrap_or("");
    let token = p.get("ClientToken").filter(|t| !t.is_empty());
    let fingerprint = format!("{region}|{image_id}|{dest}|{name}|{description}");
    let token_key = token.map(|t| format!("{}/{t}", caller.account_id));
    if let Some(key) = &token_key
        && let Some(entry) = sim.state.tokens.get(key)
    {
        if entry.fingerprint != fingerprint {
            return Err(ApiError::invalid(
                "IdempotentParameterMismatch",
                "The request uses the same client token as a previous, but non-identical request.",
            ));
        }
        return Ok(wire::CopyImageResponse {
            image_id: entry.image_id.clone(),
            ..Default::default()
        });
    }
    let source = sim
        .state
        .images
        .get(image_id)
        .filter(|i| i.region == region && visible(i, caller))
        .ok_or_else(|| not_found(image_id))?;
    if source.is_marketplace() {
        return Err(ApiError::new(
            403,
            "Forbidden.MarketplaceImage",
            "Marketplace images cannot be copied.",
        ));
    }
    if source.status != Status::Available {
        return Err(ApiError::invalid(
            "IncorrectImageStatus",
            format!(
                "The image {image_id} is {}; only Available images can be copied.",
                source.status.as_str()
            ),
        ));
    }
    let name = if name.is_empty() {
        source.name.clone()
    } else {
        name.to_string()
    };
    check_image_name(&name)?;
    let size = source.size_gib;
    let now = crate::sim::now_ms();
    let failure_rate = sim.faults().failure_rate;
    let fails = sim.draw(failure_rate);
    let id = model::new_image_id(&mut sim.rng);
    let image = Image {
        id: id.clone(),
        region: dest.to_string(),
        owner: caller.account_id.clone(),
        name,
        description: description.to_string(),
        size_gib: size,
        status: Status::Waiting,
        created_ms: now,
        copy: Some(CopyInfo {
            source_image_id: image_id.to_string(),
            source_region: region.to_string(),
            seq: 0,
            requested_ms: now,
            duration_ms: sim.speed.duration_ms(size),
            fails,
            started_ms: None,
            finished_ms: None,
        }),
        shared_with: Default::default(),
        public: false,
        product_code: None,
        version: None,
    };
    let token = token_key.map(|k| {
        (
            k,
            TokenEntry {
                fingerprint,
                image_id: id.clone(),
            },
        )
    });
    sim.commit(Event::Copy { image, token })?;
    Ok(wire::CopyImageResponse {
        image_id: id,
        ..Default::default()
    })
}

fn wire_image(img: &Image, caller: &Account, now: u64) -> wire::Image {
    let alias = if img.is_marketplace() {
        "marketplace"
    } else if img.owner == caller.account_id {
        "self"
    } else {
        "others"
    };
    wire::Image {
        image_id: img.id.clone(),
        image_name: img.name.clone(),
        description: img.description.clone(),
        status: img.status.as_str().to_string(),
        progress: format!("{}%", img.progress(now)),
        is_copied: img.copy.is_some(),
        size: img.size_gib,
        creation_time: rfc3339(img.created_ms),
        image_owner_alias: alias.to_string(),
        image_owner_id: img.owner.parse::<u64>().ok().map(Value::from),
        product_code: img.product_code.clone().unwrap_or_default(),
        image_version: img.version.clone().unwrap_or_default(),
        is_public: img.public,
    }
}

fn describe_images(
    sim: &mut Sim,
    caller: &Account,
    p: &Params,
) -> Result<wire::DescribeImagesResponse, ApiError> {
    let region = p.required("RegionId")?;
    check_region(region)?;
    let page_size = p.number("PageSize", 10, 100)?;
    let page = p.number("PageNumber", 1, u64::MAX)?;
    let statuses: Vec<&str> = p
        .get("Status")
        .filter(|s| !s.is_empty())
        .unwrap_or("Available")
        .split(',')
        .map(str::trim)
        .collect();
    let alias = p.get("ImageOwnerAlias").filter(|s| !s.is_empty());
    let name = p.get("ImageName").filter(|s| !s.is_empty());
    let now = sim.state.now_ms;
    let matches = |img: &&Image| {
        img.region == region
            && visible(img, caller)
            && statuses.contains(&img.status.as_str())
            && name.is_none_or(|n| n == img.name)
    };
    let mut found: Vec<wire::Image> = match p.get("ImageId").filter(|s| !s.is_empty()) {
        Some(ids) => {
            let ids: Vec<&str> = ids
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            if ids.len() > 100 {
                return Err(ApiError::invalid(
                    "InvalidParameter.ImageId",
                    "At most 100 image IDs can be described at once.",
                ));
            }
            ids.iter()
                .filter_map(|id| sim.state.images.get(*id))
                .filter(matches)
                .map(|img| wire_image(img, caller, now))
                .collect()
        }
        None => sim
            .state
            .images
            .values()
            .filter(matches)
            .map(|img| wire_image(img, caller, now))
            .collect(),
    };
    if let Some(alias) = alias {
        found.retain(|img| img.image_owner_alias == alias);
    }
    found.sort_by(|a, b| (&b.creation_time, &a.image_id).cmp(&(&a.creation_time, &b.image_id)));
    let total = found.len() as u64;
    let skip = usize::try_from((page - 1).saturating_mul(page_size)).unwrap_or(usize::MAX);
    let images: Vec<wire::Image> = found
        .into_iter()
        .skip(skip)
        .take(page_size as usize)
        .collect();
    Ok(wire::DescribeImagesResponse {
        region_id: region.to_string(),
        total_count: total,
        page_number: page,
        page_size,
        images: wire::Images { image: images },
        ..Default::default()
    })
}

/// The caller's own image in `RegionId`, or the error ECS gives.
fn owned<'a>(sim: &'a Sim, caller: &Account, p: &Params) -> Result<&'a Image, ApiError> {
    let region = p.required("RegionId")?;
    check_region(region)?;
    let image_id = p.required("ImageId")?;
    let img = sim
        .state
        .images
        .get(image_id)
        .filter(|i| i.region == region && visible(i, caller))
        .ok_or_else(|| not_found(image_id))?;
    if img.owner != caller.account_id {
        return Err(ApiError::new(
            403,
            "Forbidden.NotOwner",
            format!("The image {image_id} does not belong to this account."),
        ));
    }
    Ok(img)
}

fn modify_share(
    sim: &mut Sim,
    caller: &Account,
    p: &Params,
) -> Result<wire::EmptyResponse, ApiError> {
    let img = owned(sim, caller, p)?;
    let add = p.numbered("AddAccount");
    let remove = p.numbered("RemoveAccount");
    for (what, list) in [("AddAccount", &add), ("RemoveAccount", &remove)] {
        if list.len() > SHARE_BATCH {
            return Err(ApiError::invalid(
                &format!("InvalidParameter.{what}"),
                format!("At most {SHARE_BATCH} accounts can be given in {what}.N per call."),
            ));
        }
        if let Some(bad) = list
            .iter()
            .find(|a| a.is_empty() || a.len() > 20 || !a.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(ApiError::invalid(
                "InvalidAccount.Malformed",
                format!("The account ID {bad:?} is not valid."),
            ));
        }
    }
    let public = match p.get("IsPublic").filter(|s| !s.is_empty()) {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(v) => {
            return Err(ApiError::invalid(
                "InvalidParameter.IsPublic",
                format!("IsPublic must be true or false, not {v:?}."),
            ));
        }
    };
    if img.status != Status::Available {
        return Err(ApiError::invalid(
            "IncorrectImageStatus",
            format!(
                "The image {} is {}; only Available images can be shared.",
                img.id,
                img.status.as_str()
            ),
        ));
    }
    let mut after = img.shared_with.clone();
    for a in &remove {
        after.remove(a);
    }
    after.extend(add.iter().filter(|a| **a != caller.account_id).cloned());
    if after.len() > MAX_SHARES {
        return Err(ApiError::invalid(
            "QuotaExceed.ShareImageUser",
            format!(
                "The image {} would be shared with {} accounts; at most {MAX_SHARES} are allowed.",
                img.id,
                after.len()
            ),
        ));
    }
    let add = add
        .into_iter()
        .filter(|a| *a != caller.account_id)
        .collect();
    let image_id = img.id.clone();
    sim.commit(Event::Share {
        image_id,
        add,
        remove,
        public,
    })?;
    Ok(wire::EmptyResponse::default())
}

fn describe_share(
    sim: &mut Sim,
    caller: &Account,
    p: &Params,
) -> Result<wire::DescribeImageSharePermissionResponse, ApiError> {
    let img = owned(sim, caller, p)?;
    let page_size = p.number("PageSize", 10, 100)?;
    let page = p.number("PageNumber", 1, u64::MAX)?;
    let skip = usize::try_from((page - 1).saturating_mul(page_size)).unwrap_or(usize::MAX);
    let accounts = img
        .shared_with
        .iter()
        .skip(skip)
        .take(page_size as usize)
        .map(|a| wire::Account {
            aliyun_id: a.clone(),
            shared_time: rfc3339(img.created_ms),
        })
        .collect();
    let groups = if img.public {
        vec![wire::ShareGroup {
            group: "all".into(),
        }]
    } else {
        vec![]
    };
    Ok(wire::DescribeImageSharePermissionResponse {
        region_id: img.region.clone(),
        image_id: img.id.clone(),
        total_count: img.shared_with.len() as u64,
        page_number: page,
        page_size,
        share_groups: wire::ShareGroups {
            share_group: groups,
        },
        accounts: wire::Accounts { account: accounts },
        ..Default::default()
    })
}

fn delete_image(
    sim: &mut Sim,
    caller: &Account,
    p: &Params,
) -> Result<wire::EmptyResponse, ApiError> {
    let img = owned(sim, caller, p)?;
    if img.status.in_progress() {
        return Err(ApiError::invalid(
            "IncorrectImageStatus",
            format!(
                "The image {} is being copied ({}); cancel the copy instead.",
                img.id,
                img.status.as_str()
            ),
        ));
    }
    let image_id = img.id.clone();
    sim.commit(Event::Delete { image_id })?;
    Ok(wire::EmptyResponse::default())
}

fn cancel_copy(
    sim: &mut Sim,
    caller: &Account,
    p: &Params,
) -> Result<wire::EmptyResponse, ApiError> {
    let img = owned(sim, caller, p)?;
    if !img.status.in_progress() {
        return Err(ApiError::invalid(
            "IncorrectImageStatus",
            format!(
                "The image {} is {}; only copies in progress can be cancelled.",
                img.id,
                img.status.as_str()
            ),
        ));
    }
    let image_id = img.id.clone();
    sim.commit(Event::Cancel { image_id })?;
    Ok(wire::EmptyResponse::default())
}

fn describe_regions() -> Result<wire::DescribeRegionsResponse, ApiError> {
    let region = imagenest_core::regions::ALIBABA_REGIONS
        .iter()
        .map(|r| wire::Region {
            region_id: r.id.to_string(),
            local_name: r.name.to_string(),
            region_endpoint: format!("ecs.{}.aliyuncs.com", r.id),
            status: "available".to_string(),
        })
        .collect();
    Ok(wire::DescribeRegionsResponse {
        regions: wire::Regions { region },
        ..Default::default()
    })
}
