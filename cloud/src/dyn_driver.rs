//! [`DynDriver`]: the object-safe twin of [`Driver`], for code that wants `Arc<dyn DynDriver>`
//! (say, a server state chosen at run time) instead of generics. Every [`Driver`] is a
//! [`DynDriver`], and `Arc<dyn DynDriver>` is a [`Driver`] again, so generic engine code takes
//! either.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::driver::{CopyRequest, Driver, ImageState, RegionInfo, Sharing, SharingChange};
use crate::error::Result;

/// A boxed `Send` future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// [`Driver`] with boxed futures; see the module docs.
pub trait DynDriver: Send + Sync {
    fn name(&self) -> &str;
    fn list_regions(&self) -> BoxFuture<'_, Result<Vec<RegionInfo>>>;
    fn copy_image<'a>(&'a self, request: &'a CopyRequest) -> BoxFuture<'a, Result<String>>;
    fn describe_images<'a>(
        &'a self,
        region: &'a str,
        image_ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<ImageState>>>;
    fn describe_sharing<'a>(
        &'a self,
        region: &'a str,
        image_id: &'a str,
    ) -> BoxFuture<'a, Result<Sharing>>;
    fn modify_sharing<'a>(
        &'a self,
        region: &'a str,
        image_id: &'a str,
        change: &'a SharingChange,
    ) -> BoxFuture<'a, Result<()>>;
    fn sync_sharing<'a>(
        &'a self,
        region: &'a str,
        image_id: &'a str,
        desired: &'a Sharing,
    ) -> BoxFuture<'a, Result<SharingChange>>;
    fn delete_image<'a>(&'a self, region: &'a str, image_id: &'a str) -> BoxFuture<'a, Result<()>>;
    fn cancel_copy<'a>(&'a self, region: &'a str, image_id: &'a str) -> BoxFuture<'a, Result<()>>;
    fn find_marketplace_image<'a>(
        &'a self,
        region: &'a str,
        product_code: &'a str,
        product_version: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Option<ImageState>>>;
}

impl<D: Driver> DynDriver for D {
    fn name(&self) -> &str {
        Driver::name(self)
    }
    fn list_regions(&self) -> BoxFuture<'_, Result<Vec<RegionInfo>>> {
        Box::pin(Driver::list_regions(self))
    }
    fn copy_image<'a>(&'a self, request: &'a CopyRequest) -> BoxFuture<'a, Result<String>> {
        Box::pin(Driver::copy_image(self, request))
    }
    fn describe_images<'a>(
        &'a self,
        region: &'a str,
        image_ids: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<ImageState>>> {
        Box::pin(Driver::describe_images(self, region, image_ids))
    }
    fn describe_sharing<'a>(
        &'a self,
        region: &'a str,
        image_id: &'a str,
    ) -> BoxFuture<'a, Result<Sharing>> {
        Box::pin(Driver::describe_sharing(self, region, image_id))
    }
    fn modify_sharing<'a>(
        &'a self,
        region: &'a str,
        image_id: &'a str,
        change: &'a SharingChange,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(Driver::modify_sharing(self, region, image_id, change))
    }
    fn sync_sharing<'a>(
        &'a self,
        region: &'a str,
        image_id: &'a str,
        desired: &'a Sharing,
    ) -> BoxFuture<'a, Result<SharingChange>> {
        Box::pin(Driver::sync_sharing(self, region, image_id, desired))
    }
    fn delete_image<'a>(&'a self, region: &'a str, image_id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(Driver::delete_image(self, region, image_id))
    }
    fn cancel_copy<'a>(&'a self, region: &'a str, image_id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(Driver::cancel_copy(self, region, image_id))
    }
    fn find_marketplace_image<'a>(
        &'a self,
        region: &'a str,
        product_code: &'a str,
        product_version: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Option<ImageState>>> {
        Box::pin(Driver::find_marketplace_image(
            self,
            region,
            product_code,
            product_version,
        ))
    }
}

impl Driver for Arc<dyn DynDriver> {
    fn name(&self) -> &str {
        DynDriver::name(&**self)
    }
    async fn list_regions(&self) -> Result<Vec<RegionInfo>> {
        DynDriver::list_regions(&**self).await
    }
    async fn copy_image(&self, request: &CopyRequest) -> Result<String> {
        DynDriver::copy_image(&**self, request).await
    }
    async fn describe_images(&self, region: &str, image_ids: &[String]) -> Result<Vec<ImageState>> {
        DynDriver::describe_images(&**self, region, image_ids).await
    }
    async fn describe_sharing(&self, region: &str, image_id: &str) -> Result<Sharing> {
        DynDriver::describe_sharing(&**self, region, image_id).await
    }
    async fn modify_sharing(
        &self,
        region: &str,
        image_id: &str,
        change: &SharingChange,
    ) -> Result<()> {
        DynDriver::modify_sharing(&**self, region, image_id, change).await
    }
    async fn sync_sharing(
        &self,
        region: &str,
        image_id: &str,
        desired: &Sharing,
    ) -> Result<SharingChange> {
        DynDriver::sync_sharing(&**self, region, image_id, desired).await
    }
    async fn delete_image(&self, region: &str, image_id: &str) -> Result<()> {
        DynDriver::delete_image(&**self, region, image_id).await
    }
    async fn cancel_copy(&self, region: &str, image_id: &str) -> Result<()> {
        DynDriver::cancel_copy(&**self, region, image_id).await
    }
    async fn find_marketplace_image(
        &self,
        region: &str,
        product_code: &str,
        product_version: Option<&str>,
    ) -> Result<Option<ImageState>> {
        DynDriver::find_marketplace_image(&**self, region, product_code, product_version).await
    }
}
