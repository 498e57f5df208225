//! Distributions: the per-region copy state machine and the overall status derived from it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Invalid, regions};

/// State of one region's copy of a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RegionStatus {
    /// Waiting for the engine to start the copy.
    Pending,
    /// The cloud is copying; `progress` says how far.
    Copying,
    /// The copy exists and can be resolved.
    Available,
    /// The copy failed for good; `error` holds the cloud's message. Retrying starts it again.
    Failed,
    /// The region was removed; the engine is deleting its copy.
    Deleting,
}

impl RegionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RegionStatus::Pending => "pending",
            RegionStatus::Copying => "copying",
            RegionStatus::Available => "available",
            RegionStatus::Failed => "failed",
            RegionStatus::Deleting => "deleting",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => RegionStatus::Pending,
            "copying" => RegionStatus::Copying,
            "available" => RegionStatus::Available,
            "failed" => RegionStatus::Failed,
            "deleting" => RegionStatus::Deleting,
            _ => return None,
        })
    }

    /// The allowed transitions. Anything may start deleting; a failed copy may be retried
    /// (back to pending); a settled copy never goes back to copying.
    pub fn can_move_to(self, next: RegionStatus) -> bool {
        use RegionStatus::*;
        match (self, next) {
            (_, Deleting) => true,
            (Pending, Copying | Available | Failed) => true,
            (Copying, Copying | Available | Failed) => true,
            (Failed, Pending) => true,
            // Re-adding a region whose copy is being deleted starts over.
            (Deleting, Pending) => true,
            _ => false,
        }
    }

    /// Settled: the engine has nothing more to do for this region.
    pub fn is_settled(self) -> bool {
        matches!(self, RegionStatus::Available | RegionStatus::Failed)
    }
}

/// One region's copy as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegionCopy {
    pub region: String,
    pub status: RegionStatus,
    /// 0–100; 100 once available.
    pub progress: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Overall state of a distribution, derived from its regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DistributionStatus {
    Distributing,
    Available,
    PartiallyAvailable,
    Failed,
}

impl DistributionStatus {
    /// Derives the overall status: distributing while any target region is unsettled; else
    /// available when every target region is, partially available when some are, failed when none.
    /// Regions being deleted are no longer targets and do not count, except that a distribution
    /// with nothing but copies being deleted is still distributing (its work is in flight).
    pub fn of<'a>(regions: impl IntoIterator<Item = &'a RegionStatus>) -> DistributionStatus {
        let (mut targets, mut available, mut unsettled) = (0, 0, 0);
        let mut deleting = false;
        for s in regions {
            match s {
                RegionStatus::Deleting => {
                    // Only copies being deleted: work is still in flight, nothing failed.
                    deleting = true;
                    continue;
                }
                RegionStatus::Pending | RegionStatus::Copying => unsettled += 1,
                RegionStatus::Available => available += 1,
                RegionStatus::Failed => {}
            }
            targets += 1;
        }
        if unsettled > 0 || (targets == 0 && deleting) {
            DistributionStatus::Distributing
        } else if available == targets && targets > 0 {
            DistributionStatus::Available
        } else if available > 0 {
            DistributionStatus::PartiallyAvailable
        } else {
            DistributionStatus::Failed
        }
    }
}

/// The distribution of one published version (its ID is the version's ID).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Distribution {
    pub id: String,
    pub version_id: String,
    pub package_id: String,
    pub status: DistributionStatus,
    /// Every region the distribution targets, or is removing, sorted by region ID.
    pub regions: Vec<RegionCopy>,
    /// Region → image ID of every available copy.
    pub region_images: BTreeMap<String, String>,
    pub updated_at: String,
    /// Bumped by every change of the target regions; also the `ETag`. Send it back as
    /// `If-Match` to change the regions only if nobody else did since.
    #[serde(default)]
    pub revision: i64,
}

impl Distribution {
    /// Builds the API view from region copies, deriving the status and the image table.
    pub fn from_regions(
        version_id: &str,
        package_id: &str,
        mut regions: Vec<RegionCopy>,
        updated_at: String,
    ) -> Self {
        regions.sort_by(|a, b| a.region.cmp(&b.region));
        let status = DistributionStatus::of(regions.iter().map(|r| &r.status));
        let region_images = regions
            .iter()
            .filter(|r| r.status == RegionStatus::Available)
            .filter_map(|r| Some((r.region.clone(), r.image_id.clone()?)))
            .collect();
        Distribution {
            id: version_id.to_string(),
            version_id: version_id.to_string(),
            package_id: package_id.to_string(),
            status,
            regions,
            region_images,
            updated_at,
            revision: 0,
        }
    }
}

/// Body of `PUT /v1/versions/{id}/distribution`: the full set of target regions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DistributionRequest {
    /// Region IDs, or `["all"]` for every region the cloud offers.
    pub regions: Vec<String>,
}

impl DistributionRequest {
    /// Validates and expands the target regions against the regions the cloud offers:
    /// at least one, no unknown ones, `all` alone means every offered region. Sorted, deduplicated.
    pub fn target_regions(&self, offered: &[String]) -> Result<Vec<String>, Invalid> {
        if self.regions.is_empty() {
            return Err(Invalid::new(
                "regions",
                "name at least one region, or `all`",
            ));
        }
        if self.regions.iter().any(|r| r == "all") {
            if self.regions.len() > 1 {
                return Err(Invalid::new(
                    "regions",
                    "`all` cannot be combined with other regions",
                ));
            }
            let mut all = offered.to_vec();
            all.sort();
            all.dedup();
            return Ok(all);
        }
        let mut out = Vec::with_capacity(self.regions.len());
        for (i, r) in self.regions.iter().enumerate() {
            if !offered.iter().any(|o| o == r) {
                let hint = if regions::find(r).is_some() {
                    "is not offered by this registry's cloud"
                } else {
                    "is not a known region ID"
                };
                return Err(Invalid::new(
                    format!("regions[{i}]"),
                    format!("`{r}` {hint}; GET /v1/regions lists them"),
                ));
            }
            out.push(r.clone());
        }
        out.sort();
        out.dedup();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RegionStatus::*;

    #[test]
    fn overall_status_table() {
        let cases: &[(&[RegionStatus], DistributionStatus)] = &[
            (&[Pending], DistributionStatus::Distributing),
            (&[Available, Copying], DistributionStatus::Distributing),
            (&[Available, Available], DistributionStatus::Available),
            (&[Available, Failed], DistributionStatus::PartiallyAvailable),
            (&[Failed, Failed], DistributionStatus::Failed),
            (&[Available, Deleting], DistributionStatus::Available),
            (&[Failed, Deleting], DistributionStatus::Failed),
            (&[Deleting, Deleting], DistributionStatus::Distributing),
            (&[], DistributionStatus::Failed),
        ];
        for (regions, want) in cases {
            assert_eq!(DistributionStatus::of(regions.iter()), *want, "{regions:?}");
        }
    }

    #[test]
    fn transitions() {
        assert!(Pending.can_move_to(Copying));
        assert!(Copying.can_move_to(Available));
        assert!(Failed.can_move_to(Pending));
        assert!(Available.can_move_to(Deleting));
        assert!(!Available.can_move_to(Copying));
        assert!(!Available.can_move_to(Pending));
        assert!(!Failed.can_move_to(Available));
        assert!(Available.is_settled() && Failed.is_settled() && !Copying.is_settled());
    }

    #[test]
    fn target_regions() {
        let offered: Vec<String> = ["cn-hangzhou", "cn-beijing", "ap-southeast-1"]
            .map(String::from)
            .to_vec();
        let req = |r: &[&str]| DistributionRequest {
            regions: r.iter().map(|s| s.to_string()).collect(),
        };
        assert_eq!(
            req(&["all"]).target_regions(&offered).unwrap(),
            vec!["ap-southeast-1", "cn-beijing", "cn-hangzhou"]
        );
        assert_eq!(
            req(&["cn-beijing", "cn-beijing"])
                .target_regions(&offered)
                .unwrap(),
            vec!["cn-beijing"]
        );
        assert_eq!(
            req(&[]).target_regions(&offered).unwrap_err().field,
            "regions"
        );
        assert_eq!(
            req(&["cn-beijing", "mars-1"])
                .target_regions(&offered)
                .unwrap_err()
                .field,
            "regions[1]"
        );
        assert!(
            req(&["us-east-1"])
                .target_regions(&offered)
                .unwrap_err()
                .message
                .contains("not offered")
        );
        assert!(
            req(&["all", "cn-beijing"])
                .target_regions(&offered)
                .is_err()
        );
    }

    #[test]
    fn region_images_only_from_available_copies() {
        let copy = |region: &str, status, image: Option<&str>| RegionCopy {
            region: region.into(),
            status,
            progress: 0,
            image_id: image.map(String::from),
            error: None,
        };
        let d = Distribution::from_regions(
            "ver-1",
            "pkg-1",
            vec![
                copy("cn-hangzhou", Available, Some("m-1")),
                copy("cn-beijing", Copying, Some("m-2")),
            ],
            String::new(),
        );
        assert_eq!(d.regions[0].region, "cn-beijing");
        assert_eq!(d.region_images.len(), 1);
        assert_eq!(d.status, DistributionStatus::Distributing);
    }
}
