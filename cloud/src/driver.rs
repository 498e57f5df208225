//! The driver trait: everything the registry's distribution engine asks of a cloud, done as the
//! registry's **delivery account**.
//!
//! A distribution of a custom image runs, for every target region:
//! 1. [`Driver::copy_image`] from the vendor's source image (shared with the delivery account) to
//!    the delivery account in the source region, then from that copy to each target region, each
//!    call with a [`CopyRequest::client_token`] that is stable for that (version, region) — so a
//!    retry after a crash returns the copy already made instead of a second one;
//! 2. [`Driver::describe_images`] to poll many copies of one region in one call (status,
//!    progress), until each is [`ImageStatus::Available`] or ended badly;
//! 3. [`Driver::sync_sharing`] to bring the copy's share list and public flag in line with the
//!    package's derived visibility.
//!
//! Removing a region uses [`Driver::cancel_copy`] (copy still running) or
//! [`Driver::delete_image`] (copy done). A marketplace version is not copied:
//! [`Driver::find_marketplace_image`] finds the product's image in each region.
//!
//! Drivers never retry and never touch a database: every call does one thing (or a few
//! requests for paging and batching) and reports an [`Error`] whose
//! [`class`](crate::Error::class) tells the engine whether to back off and retry.

use std::collections::BTreeSet;
use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The most accounts one image can be shared with (ECS).
pub const MAX_SHARED_ACCOUNTS: usize = 50;
/// The most accounts one ModifyImageSharePermission call adds or removes (ECS).
pub const SHARE_BATCH: usize = 10;
/// The most copies that run at once into one region (ECS); more wait as `Waiting`.
pub const MAX_CONCURRENT_COPIES_PER_REGION: usize = 5;
/// The most image IDs one DescribeImages call takes; the driver splits longer lists.
pub const DESCRIBE_BATCH: usize = 100;

/// A region the cloud offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionInfo {
    /// `cn-hangzhou`.
    pub id: String,
    /// Human name as the cloud gives it (`China (Hangzhou)`), may be empty.
    pub name: String,
}

/// One image copy to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyRequest {
    /// Region of the image to copy.
    pub source_region: String,
    /// The image to copy; owned by the delivery account or shared with it.
    pub source_image_id: String,
    /// Region the copy lands in; may equal `source_region` (copy into the delivery account).
    pub destination_region: String,
    /// Name of the copy, 2–128 characters.
    pub name: String,
    /// Description of the copy (may be empty).
    pub description: String,
    /// Idempotency token, at most 64 ASCII characters, unique per intended copy. The same token
    /// with the same parameters returns the first call's image ID, even after a crash; the same
    /// token with other parameters fails with `IdempotentParameterMismatch` (final).
    pub client_token: String,
}

/// Lifecycle state of an image as the cloud reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ImageStatus {
    /// A copy queued behind the region's running copies.
    Waiting,
    /// A copy in progress (see [`ImageState::progress`]).
    Creating,
    /// Ready to use.
    Available,
    /// Exists but cannot be used.
    UnAvailable,
    /// The copy failed; the image is useless and should be deleted.
    CreateFailed,
    /// Deprecated by its owner; still usable.
    Deprecated,
    /// A status this driver does not know, verbatim.
    Other(String),
}

impl ImageStatus {
    /// Parses the cloud's status word.
    pub fn parse(s: &str) -> Self {
        match s {
            "Waiting" => Self::Waiting,
            "Creating" => Self::Creating,
            "Available" => Self::Available,
            "UnAvailable" => Self::UnAvailable,
            "CreateFailed" => Self::CreateFailed,
            "Deprecated" => Self::Deprecated,
            other => Self::Other(other.to_string()),
        }
    }

    /// The cloud's status word.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Waiting => "Waiting",
            Self::Creating => "Creating",
            Self::Available => "Available",
            Self::UnAvailable => "UnAvailable",
            Self::CreateFailed => "CreateFailed",
            Self::Deprecated => "Deprecated",
            Self::Other(s) => s,
        }
    }

    /// True while a copy is still on its way (`Waiting` or `Creating`).
    pub fn is_in_progress(&self) -> bool {
        matches!(self, Self::Waiting | Self::Creating)
    }

    /// True when the image can be used (`Available`, `Deprecated`).
    pub fn is_usable(&self) -> bool {
        matches!(self, Self::Available | Self::Deprecated)
    }
}

impl std::fmt::Display for ImageStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One image as the cloud describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageState {
    pub image_id: String,
    pub region: String,
    pub name: String,
    pub status: ImageStatus,
    /// 0–100; 100 once `Available`.
    pub progress: u8,
    /// Size in GiB.
    pub size_gib: u64,
    /// The owner's account ID, when the cloud tells.
    pub owner_account_id: Option<String>,
    /// Marketplace product code (marketplace images only).
    pub product_code: Option<String>,
    /// Image version (marketplace images carry the product version here).
    pub version: Option<String>,
    /// RFC 3339 creation time as the cloud gives it.
    pub creation_time: Option<String>,
}

/// Who an image is shared with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sharing {
    /// Cloud account IDs the image is shared with.
    pub accounts: BTreeSet<String>,
    /// True when every account can use the image.
    pub public: bool,
}

/// A change of an image's sharing; any part may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SharingChange {
    pub add: Vec<String>,
    pub remove: Vec<String>,
    /// `Some(true)` makes the image public, `Some(false)` private, `None` leaves it.
    pub public: Option<bool>,
}

impl SharingChange {
    /// True when the change does nothing.
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty() && self.public.is_none()
    }

    /// The change that turns `current` into `desired`.
    pub fn between(current: &Sharing, desired: &Sharing) -> Self {
        SharingChange {
            add: desired
                .accounts
                .difference(&current.accounts)
                .cloned()
                .collect(),
            remove: current
                .accounts
                .difference(&desired.accounts)
                .cloned()
                .collect(),
            public: (current.public != desired.public).then_some(desired.public),
        }
    }
}

/// A cloud as the delivery account sees it. Implementations are cheap to share (`&self`
/// everywhere, `Send + Sync`) and every method returns a `Send` future, so the engine can
/// spawn calls on a multi-threaded runtime.
///
/// The trait uses `-> impl Future + Send` and is therefore not object safe: code against it
/// with generics (`Engine<D: Driver>`). When a driver must be picked at run time, wrap it as
/// `Arc<dyn DynDriver>` ([`crate::DynDriver`]), which implements `Driver` again. The
/// production driver for both the real cloud and the sim cloud is [`crate::AliCloud`].
pub trait Driver: Send + Sync {
    /// A short name for logs and errors (`alicloud`).
    fn name(&self) -> &str;

    /// The regions the cloud offers, for distributions to `all`.
    fn list_regions(&self) -> impl Future<Output = Result<Vec<RegionInfo>>> + Send;

    /// Starts one copy and returns the new image's ID in `destination_region` right away; the
    /// copy then runs in the cloud (`Waiting`, then `Creating`, then `Available`). Idempotent
    /// through [`CopyRequest::client_token`].
    fn copy_image(&self, request: &CopyRequest) -> impl Future<Output = Result<String>> + Send;

    /// Describes images of one region by ID, any status. IDs the cloud does not know (deleted,
    /// cancelled, never existed) are simply absent from the answer; the answer's order is not
    /// the request's. Long lists are split into calls of [`DESCRIBE_BATCH`] IDs.
    fn describe_images(
        &self,
        region: &str,
        image_ids: &[String],
    ) -> impl Future<Output = Result<Vec<ImageState>>> + Send;

    /// Who an image is shared with, and whether it is public.
    fn describe_sharing(
        &self,
        region: &str,
        image_id: &str,
    ) -> impl Future<Output = Result<Sharing>> + Send;

    /// Applies a sharing change: removals first, then additions, in batches of
    /// [`SHARE_BATCH`] accounts, then the public flag. Adding more than
    /// [`MAX_SHARED_ACCOUNTS`] at once fails with [`Error::ShareLimit`] before any call; the
    /// cloud's own quota error covers the rest.
    fn modify_sharing(
        &self,
        region: &str,
        image_id: &str,
        change: &SharingChange,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Brings an image's sharing to `desired` (reads it, then applies the difference) and
    /// returns the change that was made (empty when nothing had to change). Fails with
    /// [`Error::ShareLimit`] before any change when `desired` names more than
    /// [`MAX_SHARED_ACCOUNTS`] accounts.
    fn sync_sharing(
        &self,
        region: &str,
        image_id: &str,
        desired: &Sharing,
    ) -> impl Future<Output = Result<SharingChange>> + Send {
        async move {
            if desired.accounts.len() > MAX_SHARED_ACCOUNTS {
                return Err(Error::ShareLimit {
                    image_id: image_id.to_string(),
                    region: region.to_string(),
                    requested: desired.accounts.len(),
                    limit: MAX_SHARED_ACCOUNTS,
                });
            }
            let current = self.describe_sharing(region, image_id).await?;
            let change = SharingChange::between(&current, desired);
            if !change.is_empty() {
                self.modify_sharing(region, image_id, &change).await?;
            }
            Ok(change)
        }
    }

    /// Deletes an image owned by the delivery account (a finished or failed copy). A copy in
    /// progress cannot be deleted: cancel it. Deleting an image that is already gone fails
    /// with a not-found error ([`Error::is_not_found`]), which callers may treat as done.
    fn delete_image(&self, region: &str, image_id: &str)
    -> impl Future<Output = Result<()>> + Send;

    /// Cancels a copy in progress in its destination region; the copy disappears.
    fn cancel_copy(&self, region: &str, image_id: &str) -> impl Future<Output = Result<()>> + Send;

    /// Finds the image of a marketplace product in one region: the newest image with that
    /// product code (and that version, when given). `None` when the region has none.
    fn find_marketplace_image(
        &self,
        region: &str,
        product_code: &str,
        product_version: Option<&str>,
    ) -> impl Future<Output = Result<Option<ImageState>>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sharing_change_between() {
        let current = Sharing {
            accounts: ["1", "2"].map(String::from).into(),
            public: false,
        };
        let desired = Sharing {
            accounts: ["2", "3"].map(String::from).into(),
            public: true,
        };
        let change = SharingChange::between(&current, &desired);
        assert_eq!(change.add, vec!["3".to_string()]);
        assert_eq!(change.remove, vec!["1".to_string()]);
        assert_eq!(change.public, Some(true));
        assert!(SharingChange::between(&desired, &desired).is_empty());
    }

    #[test]
    fn status_words_round_trip() {
        for w in [
            "Waiting",
            "Creating",
            "Available",
            "UnAvailable",
            "CreateFailed",
            "Deprecated",
            "Odd",
        ] {
            assert_eq!(ImageStatus::parse(w).as_str(), w);
        }
        assert!(ImageStatus::Waiting.is_in_progress());
        assert!(!ImageStatus::CreateFailed.is_usable());
    }
}
