//! A local stand-in for Alibaba Cloud ECS images, **for tests and demos only**: it speaks the
//! ECS API subset the `alicloud` driver uses (CopyImage, DescribeImages,
//! ModifyImageSharePermission, DescribeImageSharePermission, DeleteImage, CancelCopyImage,
//! DescribeRegions) over HTTP, verifying ACS3-HMAC-SHA256 signatures, so the very same driver
//! runs against it as against the real cloud. The registry never links this crate: it talks to
//! the sim over HTTP. The CLI (`imagenest sim-cloud`) and tests start it with [`SimCloud::start`].
//!
//! It models accounts by access key, the real region IDs, images with owner, size, status,
//! progress, share list and public flag, copies that take time proportional to size, at most
//! five running copies per region (more wait), `ClientToken` idempotency, seeded marketplace
//! products, and injected faults. State lives in an append-only journal under
//! `<data-dir>/sim-cloud/`, so it survives crashes and restarts, and copies progress by wall
//! clock meanwhile. The unsigned admin API under `/_sim/` is meant for loopback use.
//! See `docs/sim-cloud.md` for the whole picture.

mod auth;
mod config;
pub mod control;
mod ecs;
mod error;
mod http;
mod info;
mod journal;
pub mod marketplace;
mod model;
mod server;
mod sim;
mod state;

pub use config::{CopySpeed, Faults, SimConfig};
pub use error::SimError;
pub use info::SimInfo;
pub use model::{Account, account_id_for, is_image_id};
pub use server::{SimAccounts, SimCloud};
pub use sim::{CreateImage, DELIVERY_ACCOUNT, ImageFilter, ImageView};
