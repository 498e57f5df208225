//! Cloud drivers of imagenest: the [`Driver`] trait the distribution engine codes against, and
//! the Alibaba Cloud ECS driver [`AliCloud`] (which also drives the sim cloud).
//!
//! - [`driver`]: the trait and its request/answer types;
//! - [`dyn_driver`]: [`DynDriver`], its object-safe twin for `Arc<dyn DynDriver>`;
//! - [`alicloud`]: ECS over reqwest, signed with ACS3-HMAC-SHA256;
//! - [`sign`]: the signing steps, shared with the sim cloud's verifier;
//! - [`error`]: one error type whose class says retryable or final.

pub mod alicloud;
pub mod driver;
pub mod dyn_driver;
pub mod error;
pub mod sign;

pub use alicloud::{AliCloud, AliCloudConfig, Credentials};
pub use driver::{
    CopyRequest, DESCRIBE_BATCH, Driver, ImageState, ImageStatus, MAX_CONCURRENT_COPIES_PER_REGION,
    MAX_SHARED_ACCOUNTS, RegionInfo, SHARE_BATCH, Sharing, SharingChange,
};
pub use dyn_driver::{BoxFuture, DynDriver};
pub use error::{Error, ErrorClass, Result};
