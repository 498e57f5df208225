//! The one table of resource types whose image property boots an instance (DESIGN §4).
//!
//! Types that act on an image instead of booting one (`ALIYUN::ECS::CopyImage`,
//! `ALIYUN::ECS::ImageSharePermission`, `alicloud_image_copy`, `alicloud_image_share_permission`,
//! data sources) are deliberately absent: their image IDs are never rewritten.

/// ROS resource types whose `Properties` hold a bootable `ImageId` (at any depth, so nested forms
/// such as `ScalingGroup.ImageId` of types added with `--resource-type` are found too).
pub const ROS_IMAGE_BOOTING_TYPES: &[&str] = &[
    "ALIYUN::ECS::Instance",
    "ALIYUN::ECS::InstanceGroup",
    "ALIYUN::ECS::InstanceGroupClone",
    "ALIYUN::ECS::PrepayInstance",
    "ALIYUN::ECS::LaunchTemplate",
    "ALIYUN::ESS::ScalingConfiguration",
    "ALIYUN::EHPC::Cluster",
];

/// Terraform resource types whose `image_id` arguments (nested blocks included) boot an instance.
pub const TERRAFORM_IMAGE_BOOTING_TYPES: &[&str] = &[
    "alicloud_instance",
    "alicloud_ecs_instance_set",
    "alicloud_ecs_launch_template",
    "alicloud_launch_template",
    "alicloud_ess_scaling_configuration",
    "alicloud_ehpc_cluster",
];

/// Types that name an image to act on; listed so `--resource-type` cannot add them by mistake.
pub const IMAGE_ACTING_TYPES: &[&str] = &[
    "ALIYUN::ECS::CopyImage",
    "ALIYUN::ECS::ImageSharePermission",
    "ALIYUN::ECS::Image",
    "alicloud_image_copy",
    "alicloud_image_share_permission",
    "alicloud_image_export",
    "alicloud_image",
];

use std::borrow::Cow;

/// The set of image-booting resource types in force for one run.
#[derive(Debug, Clone, Default)]
pub struct ResourceTypes {
    extra: Vec<String>,
}

impl ResourceTypes {
    /// The built-in table plus `extra` types (ROS or Terraform names).
    ///
    /// Returns the offending name if one of `extra` acts on an image rather than booting one.
    pub fn with_extra(extra: Vec<String>) -> Result<Self, String> {
        if let Some(bad) = extra
            .iter()
            .find(|t| IMAGE_ACTING_TYPES.contains(&t.as_str()))
        {
            return Err(bad.clone());
        }
        Ok(ResourceTypes { extra })
    }

    /// Whether `ty` (ROS or Terraform) boots an image at its image sites.
    pub fn boots_image(&self, ty: &str) -> bool {
        self.lookup(ty).is_some()
    }

    /// The type's name if it boots an image (borrowed from the table for built-in types).
    pub fn lookup(&self, ty: &str) -> Option<Cow<'static, str>> {
        if let Some(t) = ROS_IMAGE_BOOTING_TYPES
            .iter()
            .chain(TERRAFORM_IMAGE_BOOTING_TYPES)
            .find(|t| **t == ty)
        {
            return Some(Cow::Borrowed(t));
        }
        self.extra
            .iter()
            .find(|t| *t == ty)
            .map(|t| Cow::Owned(t.clone()))
    }
}
