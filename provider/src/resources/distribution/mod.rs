//! `imagenest_distribution`: publishes a version and copies it to regions, waiting as asked.
//!
//! A failed create leaves Terraform with a tainted object that it replaces on the next
//! apply (Terraform 1.11 taints every create that returns an error; a provider cannot
//! avoid it). So that the replacement retries only the failed regions instead of deleting
//! every copy, the create plan notes (in private state) when the registry already holds a
//! distribution of the version and says so in a plan warning; the delete half of the
//! replacement then leaves it alone and the create adopts it, re-copying only failed
//! regions. See docs/decisions/0006-provider-adopts-tainted-distributions.md.

mod retry;

use super::{api_error, known_str};
use crate::diag::Diagnostics;
use crate::framework::{Ctx, Failure, Resource};
use crate::schema::{Attribute, Nesting, Schema, timeouts_block, validate};
use crate::value::{Path, Type, Value};
use async_trait::async_trait;
use imagenest_client::Client;
use imagenest_core::distribution::{
    Distribution, DistributionRequest, DistributionStatus, RegionStatus,
};
use retry::{Op, adoption_note, departs_from_plan, next_apply_note, predict, region_status_value};
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct DistributionResource {
    /// Versions a create in this provider process distributed. Terraform runs one provider
    /// process per apply, so a delete of the same version later in that process is the old
    /// half of a `create_before_destroy` replacement (its private state cannot say "adopt":
    /// Terraform plans the delete of a deposed object from that object's own state) and
    /// must leave the distribution the replacement just adopted alone.
    created: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl DistributionResource {
    fn note_created(&self, version_id: &str) {
        // A poisoned lock only means another call panicked; the set is still usable.
        let mut created = self.created.lock().unwrap_or_else(|e| e.into_inner());
        created.insert(version_id.to_string());
    }

    fn created_here(&self, version_id: &str) -> bool {
        let created = self.created.lock().unwrap_or_else(|e| e.into_inner());
        created.contains(version_id)
    }
}

const ATTRS: &[&str] = &["version_id", "regions"];
/// Prefix of the private state of a create plan that adopts the existing distribution of
/// the version whose ID follows.
const ADOPT: &str = "adopt:";
const DEFAULT_CREATE: Duration = Duration::from_secs(60 * 60);
const DEFAULT_UPDATE: Duration = Duration::from_secs(60 * 60);
const DEFAULT_DELETE: Duration = Duration::from_secs(30 * 60);
const POLL_FIRST: Duration = Duration::from_millis(200);
const POLL_MAX: Duration = Duration::from_secs(2);

fn status_str(s: DistributionStatus) -> &'static str {
    match s {
        DistributionStatus::Distributing => "distributing",
        DistributionStatus::Available => "available",
        DistributionStatus::PartiallyAvailable => "partially_available",
        DistributionStatus::Failed => "failed",
    }
}

/// Regions that count as distributed or on their way (not failed, not being removed).
fn live_regions(d: &Distribution) -> Vec<String> {
    d.regions
        .iter()
        .filter(|r| !matches!(r.status, RegionStatus::Failed | RegionStatus::Deleting))
        .map(|r| r.region.clone())
        .collect()
}

/// The state of a distribution. `regions` lists the live regions, so a failed or lost
/// copy shows as a change on the next plan; `["all"]` is kept while it still holds.
fn to_state(d: &Distribution, base: &Value, all_offered: Option<&[String]>) -> Value {
    let live = live_regions(d);
    let regions = match all_offered {
        Some(offered) if offered.iter().all(|r| live.contains(r)) => Value::string_set(["all"]),
        _ => Value::string_set(live),
    };
    let region_status = Value::Map(
        d.regions
            .iter()
            .filter(|r| r.status != RegionStatus::Deleting)
            .map(|r| (r.region.clone(), region_status_value(r)))
            .collect(),
    );
    let mut state = base.clone();
    state.set("id", Value::from(d.version_id.as_str()));
    state.set("version_id", Value::from(d.version_id.as_str()));
    state.set("regions", regions);
    state.set("status", Value::from(status_str(d.status)));
    state.set("region_images", Value::string_map(d.region_images.clone()));
    state.set("region_status", region_status);
    if state.get("wait_for").is_null() {
        state.set("wait_for", Value::from("all"));
    }
    state
}

/// Whether two values of the resource differ only in provider-side settings.
fn local_only_change(prior: &Value, planned: &Value) -> bool {
    ["id", "version_id", "regions"]
        .iter()
        .all(|n| prior.get(n) == planned.get(n))
}

fn wants_all(v: &Value) -> bool {
    v.get("regions").strings() == ["all"]
}

fn timeout(v: &Value, op: &str, default: Duration) -> Duration {
    known_str(v.get("timeouts"), op)
        .and_then(|s| validate::parse_duration(s).ok())
        .unwrap_or(default)
}

/// What the apply waits for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum WaitFor {
    All,
    Any,
    None,
}

fn wait_for(v: &Value) -> WaitFor {
    match v.get("wait_for").as_str() {
        Some("any") => WaitFor::Any,
        Some("none") => WaitFor::None,
        _ => WaitFor::All,
    }
}

fn done(d: &Distribution, w: WaitFor) -> bool {
    let targets = || {
        d.regions
            .iter()
            .filter(|r| r.status != RegionStatus::Deleting)
    };
    let settled = targets().all(|r| r.status.is_settled());
    match w {
        WaitFor::None => true,
        WaitFor::All => settled,
        WaitFor::Any => settled || targets().any(|r| r.status == RegionStatus::Available),
    }
}

/// Polls the distribution until `w` holds, the deadline passes, or Terraform asks to stop.
async fn settle(
    ctx: &Ctx<Client>,
    version_id: &str,
    w: WaitFor,
    limit: Duration,
    base: &Value,
) -> Result<Distribution, Failure> {
    let start = Instant::now();
    let mut interval = POLL_FIRST;
    loop {
        let d = ctx
            .client
            .distribution(version_id)
            .await
            .map_err(|e| api_error("read the distribution", &e, ATTRS))?;
        if done(&d, w) {
            return Ok(d);
        }
        let partial = |summary: &str, detail: String| Failure {
            diags: Diagnostics::from_error(summary, detail),
            partial: Some(to_state(&d, base, None)),
        };
        if start.elapsed() >= limit {
            return Err(partial(
                "Distribution timed out",
                format!(
                    "Still {} after {}s: {}. The registry keeps copying and the next apply waits \
                     for the same copies again (nothing is copied twice). To wait longer, raise \
                     the limit in the `timeouts` block; to not wait, set `wait_for = \"none\"`.",
                    status_str(d.status),
                    limit.as_secs(),
                    progress_line(&d)
                ),
            ));
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = ctx.stop.stopped() => {
                return Err(partial(
                    "Distribution interrupted",
                    format!(
                        "Terraform asked the provider to stop: {}. The registry keeps copying; \
                         the next apply waits for the same copies again (nothing is copied twice).",
                        progress_line(&d)
                    ),
                ));
            }
        }
        interval = (interval * 3 / 2).min(POLL_MAX);
    }
}

fn progress_line(d: &Distribution) -> String {
    d.regions
        .iter()
        .map(|r| format!("{}: {} {}%", r.region, r.status.as_str(), r.progress))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Sets the target regions, retries failed ones, waits, and reports failed regions.
async fn distribute(
    ctx: &Ctx<Client>,
    planned: &Value,
    limit: Duration,
    op: Op,
    check_plan: bool,
) -> Result<Value, Failure> {
    let version_id = planned.str_attr("version_id").unwrap_or_default();
    let regions = planned.get("regions").strings();
    let d = ctx
        .client
        .set_distribution_regions(&version_id, &regions)
        .await
        .map_err(|e| api_error("distribute the version", &e, ATTRS))?;
    if d.regions.iter().any(|r| r.status == RegionStatus::Failed) {
        ctx.client
            .retry_distribution(&version_id)
            .await
            .map_err(|e| api_error("retry the failed regions", &e, ATTRS))?;
    }
    let d = settle(ctx, &version_id, wait_for(planned), limit, planned).await?;
    let failed: Vec<_> = d
        .regions
        .iter()
        .filter(|r| r.status == RegionStatus::Failed)
        .collect();
    if failed.is_empty() {
        let state = to_state(&d, planned, None);
        if check_plan && let Some(what) = departs_from_plan(planned, &state) {
            return Err(Failure {
                diags: Diagnostics::from_error(
                    "The distribution changed between plan and apply",
                    format!(
                        "Every region is distributed, but not as planned: {what}. A copy was \
                         probably deleted or made again outside Terraform meanwhile; the next plan \
                         shows the distribution as it is now."
                    ),
                ),
                partial: Some(state),
            });
        }
        return Ok(state);
    }
    let mut diags = Diagnostics::new();
    let note = next_apply_note(&d, op);
    for (i, r) in failed.iter().enumerate() {
        let reason = r.error.as_deref().unwrap_or("the cloud gave no reason");
        // The note on what happens next is the same for every region: say it once, last.
        let detail = if i + 1 == failed.len() {
            format!("The cloud's error in {}: {reason}\n\n{note}", r.region)
        } else {
            format!("The cloud's error in {}: {reason}", r.region)
        };
        diags.error_at(
            &Path::attr("regions"),
            format!("Distribution to {} failed", r.region),
            detail,
        );
    }
    Err(Failure {
        diags,
        partial: Some(to_state(&d, planned, None)),
    })
}

/// The planned target regions, `["all"]` expanded; `None` while unknown or unreadable.
async fn target_regions(ctx: &Ctx<Client>, regions: &Value) -> Option<Vec<String>> {
    if !regions.is_wholly_known() || regions.is_null() {
        return None;
    }
    let regions = regions.strings();
    if regions != ["all"] {
        return Some(regions);
    }
    let offered = ctx.client.regions().await.ok()?;
    Some(offered.regions.into_iter().map(|r| r.id).collect())
}

#[async_trait]
impl Resource<Client> for DistributionResource {
    fn type_name(&self) -> &'static str {
        "imagenest_distribution"
    }

    fn schema(&self) -> Schema {
        let region_status = vec![
            Attribute::string("status")
                .computed()
                .describe("`pending` (queued), `copying`, `available` or `failed`."),
            Attribute::number("progress")
                .computed()
                .describe("Copy progress, 0–100."),
            Attribute::string("image_id")
                .computed()
                .describe("The image ID in this region, once available."),
            Attribute::string("error")
                .computed()
                .describe("The cloud's error message when the copy failed."),
        ];
        Schema::new(
            "The distribution of a package version to regions. Creating it publishes the version \
             (its image is frozen from then on) and copies the image to every region in `regions`; \
             a marketplace version uses the product's own image in each region instead. Regions \
             added later are copied, removed ones deleted; destroying the distribution deletes \
             every copy. If some regions fail, the apply ends with an error per region quoting the \
             cloud, the state keeps the copies that worked, and the next apply copies only the \
             failed regions. After a failed create Terraform plans a replacement (\"tainted\"): it \
             adopts the existing distribution and deletes no copy. Time limits default to 60m for \
             create and update and 30m for delete; when one passes, the apply fails with the \
             progress so far while the registry keeps copying.",
            vec![
                Attribute::string("id").computed().keep_on_update().describe("The distributed version's ID (a version has at most one distribution)."),
                Attribute::string("version_id")
                    .required()
                    .force_new()
                    .describe("ID of the version to distribute, e.g. `imagenest_package_version.v2.id`. Changing it replaces the distribution: the new version is copied, the old version's copies deleted."),
                Attribute::typed("regions", Type::set(Type::String))
                    .required()
                    .describe("Region IDs to copy the version to (e.g. `cn-hangzhou`), or `[\"all\"]` for every region the registry's cloud offers. The state lists only regions with a copy (available or in progress), so a failed or lost copy shows in the next plan as a region to add.")
                    .validate(validate::min_items(1)),
                Attribute::string("wait_for")
                    .default(Value::from("all"))
                    .describe("What an apply waits for: `all` (default) until every region is available or failed, and fails if any failed; `any` until the first region is available; `none` not at all (the registry copies in the background; `status` shows `distributing`).")
                    .validate(validate::one_of(&["all", "any", "none"])),
                Attribute::string("status")
                    .computed()
                    .describe("`distributing` (copies in progress), `available` (in every region), `partially_available` (some regions failed) or `failed` (no region has a copy)."),
                Attribute::typed("region_images", Type::map(Type::String))
                    .computed()
                    .describe("Region → image ID of every available copy; regions still copying or failed are absent."),
                Attribute::nested("region_status", Nesting::Map, region_status)
                    .computed()
                    .describe("Region → the copy's `status`, `progress`, `image_id` and, when it failed, the cloud's `error`."),
            ],
        )
        .with_block(timeouts_block(&["create", "update", "delete"]))
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let regions = config.get("regions");
        if !regions.is_wholly_known() || regions.is_null() {
            return;
        }
        let offered: Vec<String> = imagenest_core::regions::ALIBABA_REGIONS
            .iter()
            .map(|r| r.id.to_string())
            .collect();
        let req = DistributionRequest {
            regions: regions.strings(),
        };
        if let Err(e) = req.target_regions(&offered) {
            diags.error_at(&Path::attr("regions"), "Invalid regions", e.message);
        }
    }

    fn modify_plan(&self, prior: &Value, _config: &Value, plan: &mut crate::plan::Plan) {
        // The ID is the version's ID: known at plan time, so a replacement shows it unchanged
        // and dependents need not wait for it.
        if prior.is_null() {
            if let Some(version_id) = plan.planned.get("version_id").as_str() {
                let id = Value::from(version_id);
                plan.planned.set("id", id);
            }
            return;
        }
        // `wait_for` and `timeouts` only steer this provider: changing nothing else changes
        // nothing remote, so the computed values stay as they are.
        if !prior.is_null() && local_only_change(prior, &plan.planned) {
            for name in ["status", "region_images", "region_status"] {
                plan.planned.set(name, prior.get(name).clone());
            }
        }
    }

    async fn plan_remote(
        &self,
        ctx: &Ctx<Client>,
        prior: &Value,
        plan: &mut crate::plan::Plan,
        diags: &mut Diagnostics,
    ) -> Option<Vec<u8>> {
        let creating = prior.is_null();
        // Nothing remote changes (no-op or local-only), or a replacement: Terraform plans
        // the create half again with a null prior.
        if !creating
            && (!plan.planned.get("region_images").is_unknown()
                || !plan.requires_replace.is_empty())
        {
            return None;
        }
        let version_id = plan.planned.get("version_id").as_str()?.to_string();
        let d = ctx.client.distribution(&version_id).await.ok()?;
        if d.regions.iter().all(|r| r.status == RegionStatus::Deleting) {
            return None;
        }
        let targets = target_regions(ctx, plan.planned.get("regions")).await;
        if let Some(targets) = &targets
            && plan.planned.get("wait_for").as_str() == Some("all")
        {
            predict(&d, targets, &mut plan.planned);
        }
        if !creating {
            return None;
        }
        diags.warning_at(
            &Path::attr("regions"),
            "Existing distribution adopted: only regions without a copy are copied",
            adoption_note(&d, targets.as_deref()),
        );
        Some(format!("{ADOPT}{version_id}").into_bytes())
    }

    async fn create(&self, ctx: &Ctx<Client>, planned: &Value) -> Result<Value, Failure> {
        if let Some(version_id) = planned.get("version_id").as_str() {
            self.note_created(version_id);
        }
        let limit = timeout(planned, "create", DEFAULT_CREATE);
        distribute(ctx, planned, limit, Op::Create, true).await
    }

    async fn read(&self, ctx: &Ctx<Client>, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let id = state
            .str_attr("version_id")
            .or_else(|| state.str_attr("id"))
            .unwrap_or_default();
        let d = match ctx.client.distribution(&id).await {
            Ok(d) => d,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(api_error("read the distribution", &e, ATTRS)),
        };
        if d.regions.iter().all(|r| r.status == RegionStatus::Deleting) {
            return Ok(None);
        }
        let offered = if wants_all(state) {
            let regions = ctx
                .client
                .regions()
                .await
                .map_err(|e| api_error("list the regions", &e, ATTRS))?;
            Some(
                regions
                    .regions
                    .into_iter()
                    .map(|r| r.id)
                    .collect::<Vec<_>>(),
            )
        } else {
            None
        };
        Ok(Some(to_state(&d, state, offered.as_deref())))
    }

    async fn update(
        &self,
        ctx: &Ctx<Client>,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, Failure> {
        let limit = timeout(planned, "update", DEFAULT_UPDATE);
        // A local-only change keeps the prior computed values in its plan, which are no
        // prediction: copies may have finished since.
        let check = !local_only_change(prior, planned);
        distribute(ctx, planned, limit, Op::Update, check).await
    }

    async fn delete(
        &self,
        ctx: &Ctx<Client>,
        prior: &Value,
        private: &[u8],
    ) -> Result<(), Diagnostics> {
        let id = prior.str_attr("version_id").unwrap_or_default();
        if private == format!("{ADOPT}{id}").as_bytes() {
            // The delete half of replacing a tainted distribution: the create that follows
            // adopts it and re-copies only what failed. (A replacement for another version
            // deletes this one as usual.)
            tracing::debug!(version_id = %id, "keeping the distribution for the replacement to adopt");
            return Ok(());
        }
        if self.created_here(&id) {
            // The old half of a create_before_destroy replacement: the new object already
            // adopted this distribution.
            tracing::debug!(version_id = %id, "keeping the distribution a create of this apply adopted");
            return Ok(());
        }
        match ctx.client.delete_distribution(&id).await {
            Ok(()) => {}
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(api_error("delete the distribution", &e, ATTRS)),
        }
        let limit = timeout(prior, "delete", DEFAULT_DELETE);
        let start = Instant::now();
        let mut interval = POLL_FIRST;
        loop {
            match ctx.client.distribution(&id).await {
                Ok(d) if d.regions.is_empty() => return Ok(()),
                Ok(d) if start.elapsed() >= limit => {
                    return Err(Diagnostics::from_error(
                        "Deleting the distribution timed out",
                        format!(
                            "Copies still being deleted after {}s: {}",
                            limit.as_secs(),
                            progress_line(&d)
                        ),
                    ));
                }
                Ok(_) => {}
                Err(e) if e.is_not_found() => return Ok(()),
                Err(e) => return Err(api_error("read the distribution", &e, ATTRS)),
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = ctx.stop.stopped() => return Err(Diagnostics::from_error("Delete interrupted", "Terraform asked the provider to stop; the registry keeps deleting the copies.")),
            }
            interval = (interval * 3 / 2).min(POLL_MAX);
        }
    }

    async fn import(&self, ctx: &Ctx<Client>, id: &str) -> Result<Value, Diagnostics> {
        // The version's ID, or `PACKAGE/VERSION`.
        let version = super::find_version(&ctx.client, id).await?;
        let d = ctx
            .client
            .distribution(&version.id)
            .await
            .map_err(|e| api_error(&format!("import distribution {id:?}"), &e, &[]))?;
        if d.regions.is_empty() {
            return Err(Diagnostics::from_error(
                format!("Cannot import distribution {id:?}"),
                "The version is not distributed to any region.",
            ));
        }
        let base = Value::object([("wait_for", Value::from("all")), ("timeouts", Value::Null)]);
        Ok(to_state(&d, &base, None))
    }
}
