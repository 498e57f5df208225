//! What a provider, resource and data source implement: plain Rust over [`Value`]s.
//!
//! The gRPC server (`server`) decodes requests, runs the generic validation and plan
//! rules from the schema, and calls these traits only for what is specific to each
//! resource: talking to the registry.

use crate::diag::Diagnostics;
use crate::plan::Plan;
use crate::schema::Schema;
use crate::value::Value;
use async_trait::async_trait;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

/// Set when Terraform asks the provider to stop (StopProvider, e.g. after Ctrl-C).
#[derive(Debug, Default, Clone)]
pub struct Stop(Arc<(AtomicBool, Notify)>);

impl Stop {
    pub fn trigger(&self) {
        self.0.0.store(true, Ordering::SeqCst);
        self.0.1.notify_waiters();
    }
    pub fn is_stopped(&self) -> bool {
        self.0.0.load(Ordering::SeqCst)
    }
    /// Completes once a stop was requested.
    pub async fn stopped(&self) {
        loop {
            let notified = self.0.1.notified();
            if self.is_stopped() {
                return;
            }
            notified.await;
        }
    }
}

/// What every resource and data source call receives: the configured client and the stop signal.
pub struct Ctx<C> {
    pub client: Arc<C>,
    pub stop: Stop,
}

/// A failed create or update: diagnostics, and the state of whatever was made anyway.
#[derive(Debug)]
pub struct Failure {
    pub diags: Diagnostics,
    pub partial: Option<Value>,
}

impl From<Diagnostics> for Failure {
    fn from(diags: Diagnostics) -> Failure {
        Failure {
            diags,
            partial: None,
        }
    }
}

/// The provider itself: its configuration schema and how a configuration becomes a client.
#[async_trait]
pub trait ProviderDef: Send + Sync + 'static {
    type Client: Send + Sync + 'static;
    fn schema(&self) -> Schema;
    fn resources(&self) -> Vec<Arc<dyn Resource<Self::Client>>>;
    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Self::Client>>>;
    /// Builds the client from the provider configuration; errors become diagnostics.
    async fn configure(&self, config: &Value) -> Result<Self::Client, Diagnostics>;
}

/// A managed resource type.
#[async_trait]
pub trait Resource<C>: Send + Sync {
    /// Full type name, e.g. `imagenest_package`.
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    /// Rules across attributes, beyond the per-attribute validators (unknowns skipped).
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    /// Adjusts the generic plan (no I/O): extra unknowns or replacements.
    fn modify_plan(&self, _prior: &Value, _config: &Value, _plan: &mut Plan) {}
    /// The part of planning that asks the registry, after `modify_plan`: it may predict
    /// computed values, warn (warnings show in the plan output) and return private bytes
    /// (`None` keeps the prior private state). Terraform hands the private bytes back to the
    /// apply that follows, including the delete half of a replacement.
    async fn plan_remote(
        &self,
        _ctx: &Ctx<C>,
        _prior: &Value,
        _plan: &mut Plan,
        _diags: &mut Diagnostics,
    ) -> Option<Vec<u8>> {
        None
    }
    async fn create(&self, ctx: &Ctx<C>, planned: &Value) -> Result<Value, Failure>;
    /// The current remote object, or `None` when it is gone.
    async fn read(&self, ctx: &Ctx<C>, state: &Value) -> Result<Option<Value>, Diagnostics>;
    async fn update(&self, ctx: &Ctx<C>, prior: &Value, planned: &Value) -> Result<Value, Failure>;
    /// Deletes the object; `private` is what `plan_remote` planned (empty otherwise).
    async fn delete(&self, ctx: &Ctx<C>, prior: &Value, private: &[u8]) -> Result<(), Diagnostics>;
    /// The state of an existing object named by `id` (an ID or a unique name).
    async fn import(&self, ctx: &Ctx<C>, id: &str) -> Result<Value, Diagnostics>;
}

/// A data source type.
#[async_trait]
pub trait DataSource<C>: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    /// The full value: configured arguments plus computed results.
    async fn read(&self, ctx: &Ctx<C>, config: &Value) -> Result<Value, Diagnostics>;
}
