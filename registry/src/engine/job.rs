//! One region copy's steps: start a copy (delivery copy first), watch it, share it, delete it.
//! Each step is recorded in the store before the engine moves on, fenced by the row's lease.

use imagenest_cloud::{CopyRequest, Driver, Error as CloudError, ImageStatus, Sharing};
use imagenest_core::distribution::RegionStatus;

use super::{Shared, backoff, now_ms, sharing};
use crate::store::{CleanupJob, CopyJob, JobSource, JobWrite, StoreError};

type Step = Result<(), StoreError>;

/// Works one claimed region copy as far as it goes now.
pub(super) async fn handle<D: Driver>(sh: &Shared<D>, mut job: CopyJob) {
    let result = match job.status {
        RegionStatus::Pending => start(sh, &mut job).await,
        RegionStatus::Copying => {
            let _slot = sh.permit(&job.region, job.size_gib).await;
            match job.image_id.clone() {
                None => issue(sh, &mut job).await,
                Some(id) => watch(sh, &mut job, &id).await,
            }
        }
        RegionStatus::Available => share(sh, &mut job).await,
        RegionStatus::Deleting => delete_row(sh, &mut job).await,
        RegionStatus::Failed => save(sh, &job, release_now()).await.map(drop),
    };
    if let Err(e) = result {
        tracing::warn!(version_id = %job.version_id, region = %job.region, error = %e, "engine step could not be recorded");
        // Give the row back (lease renewals would keep it ours, unworked): a later claim
        // resumes from what the store holds, as after a crash.
        let row = [(job.version_id.clone(), job.region.clone())];
        if let Err(e) = sh.state.store.release_copies(sh.owner(), &row).await {
            tracing::warn!(version_id = %job.version_id, region = %job.region, error = %e, "cannot give back the region copy; its lease runs out when this registry stops");
        }
    }
    sh.state.invalidate();
}

fn release_now() -> JobWrite {
    JobWrite {
        release: true,
        next_attempt_at: 0,
        shared_at: None,
        cleanup: None,
    }
}

fn release_after(delay: std::time::Duration) -> JobWrite {
    JobWrite {
        release: true,
        next_attempt_at: now_ms() + delay.as_millis() as i64,
        shared_at: None,
        cleanup: None,
    }
}

fn keep() -> JobWrite {
    JobWrite {
        release: false,
        next_attempt_at: 0,
        shared_at: None,
        cleanup: None,
    }
}

async fn save<D>(sh: &Shared<D>, job: &CopyJob, how: JobWrite) -> Result<bool, StoreError> {
    let written = sh.state.store.write_job(sh.owner(), job, &how).await?;
    if !written {
        tracing::warn!(version_id = %job.version_id, region = %job.region, "lease lost; another registry carries on with this region");
    }
    Ok(written)
}

/// The image a region copies from: the vendor's image for the source region's row (the delivery
/// copy), the delivery copy for every other region. `Err(None)`: not ready yet; `Err(Some(msg))`:
/// the delivery copy failed.
fn copy_source(job: &CopyJob) -> Result<(String, String), Option<String>> {
    match &job.source {
        JobSource::Custom {
            source_region,
            source_image_id,
            delivery,
        } => {
            if job.region == *source_region {
                return Ok((source_region.clone(), source_image_id.clone()));
            }
            match delivery {
                Some((RegionStatus::Available, Some(image), _)) => {
                    Ok((source_region.clone(), image.clone()))
                }
                Some((RegionStatus::Failed, _, error)) => Err(Some(format!(
                    "the delivery account's copy in {source_region} failed: {}",
                    error.as_deref().unwrap_or("unknown error")
                ))),
                _ => Err(None),
            }
        }
        JobSource::Marketplace { .. } => Err(Some("marketplace images are not copied".into())),
    }
}

async fn fail<D>(
    sh: &Shared<D>,
    job: &mut CopyJob,
    message: String,
    cleanup: Option<CleanupJob>,
) -> Step {
    tracing::info!(version_id = %job.version_id, region = %job.region, %message, "region copy failed");
    job.status = RegionStatus::Failed;
    job.error = Some(message);
    // A retry must never reuse the token of a copy that failed (or that cleanup may re-issue).
    job.copy_serial += 1;
    job.progress = 0;
    job.image_id = None;
    job.copy_requested = false;
    save(
        sh,
        job,
        JobWrite {
            cleanup,
            ..release_now()
        },
    )
    .await
    .map(drop)
}

/// A cloud call failed: retry later with backoff, or give up after `max_attempts`.
async fn retry_or_fail<D>(sh: &Shared<D>, job: &mut CopyJob, what: &str, err: &CloudError) -> Step {
    job.attempts += 1;
    // Throttling says nothing about the region: keep the last real reason to report it.
    let throttled = err.code().is_some_and(|c| c.starts_with("Throttling"));
    let reason = match (&job.error, throttled) {
        (Some(previous), true) if previous.starts_with("retrying: ") => {
            previous.trim_start_matches("retrying: ").to_string()
        }
        _ => format!("{what} failed: {err}"),
    };
    if !err.is_retryable() || job.attempts >= sh.config.max_attempts {
        if job.status == RegionStatus::Copying && job.image_id.is_none() && !err.is_retryable() {
            // The cloud refused the copy: nothing was created.
            job.copy_requested = false;
        }
        let cleanup = if job.copy_requested {
            Some(cleanup_for(job))
        } else {
            None
        };
        let message = if err.is_retryable() {
            format!("{reason} (gave up after {} attempts)", job.attempts)
        } else {
            reason
        };
        return fail(sh, job, message, cleanup).await;
    }
    tracing::debug!(version_id = %job.version_id, region = %job.region, attempt = job.attempts, error = %err, "{what} will be retried");
    // Shown while the engine retries, so a stuck region says why.
    job.error = Some(format!("retrying: {reason}"));
    save(
        sh,
        job,
        release_after(backoff::delay(
            job.attempts,
            sh.config.backoff_base,
            sh.config.backoff_max,
        )),
    )
    .await
    .map(drop)
}

fn cleanup_for(job: &CopyJob) -> CleanupJob {
    let (source_region, source_image_id) = copy_source(job).unwrap_or_default();
    CleanupJob {
        id: String::new(),
        region: job.region.clone(),
        image_id: job.image_id.clone(),
        client_token: job.client_token(),
        image_name: image_name(job),
        source_region,
        source_image_id,
        attempts: 0,
    }
}

async fn start<D: Driver>(sh: &Shared<D>, job: &mut CopyJob) -> Step {
    if let JobSource::Marketplace {
        product_code,
        product_version,
    } = &job.source
    {
        return match sh
            .driver
            .find_marketplace_image(&job.region, product_code, product_version.as_deref())
            .await
        {
            Ok(Some(image)) => {
                job.status = RegionStatus::Available;
                job.image_id = Some(image.image_id);
                job.progress = 100;
                job.error = None;
                // A marketplace image is the product's own: nothing to share.
                save(
                    sh,
                    job,
                    JobWrite {
                        shared_at: Some(job.share_dirty),
                        ..release_now()
                    },
                )
                .await
                .map(drop)
            }
            Ok(None) => {
                let what = match product_version {
                    Some(v) => format!("marketplace product {product_code} version {v}"),
                    None => format!("marketplace product {product_code}"),
                };
                fail(
                    sh,
                    job,
                    format!("{what} is not offered in {}", job.region),
                    None,
                )
                .await
            }
            Err(e) => retry_or_fail(sh, job, "looking up the marketplace image", &e).await,
        };
    }
    match copy_source(job) {
        Ok(_) => {}
        Err(Some(message)) => return fail(sh, job, message, None).await,
        Err(None) => {
            return save(sh, job, release_after(sh.config.poll_interval))
                .await
                .map(drop);
        }
    }
    if job.size_gib == 0 && job.is_delivery() {
        learn_size(sh, job).await;
    }
    let _slot = sh.permit(&job.region, job.size_gib).await;
    if !sh
        .state
        .store
        .reserve_copy(sh.owner(), job, sh.config.copies_per_region as i64)
        .await?
    {
        // The region is full (another registry's copies) or the lease is gone: later.
        return save(sh, job, release_after(sh.config.poll_interval))
            .await
            .map(drop);
    }
    job.status = RegionStatus::Copying;
    job.copy_requested = true;
    job.progress = 0;
    job.error = None;
    issue(sh, job).await
}

/// Looks up the size of the vendor's source image (once per version), so larger images are
/// copied first. Best effort: an unknown size only loses the ordering.
async fn learn_size<D: Driver>(sh: &Shared<D>, job: &mut CopyJob) {
    let JobSource::Custom {
        source_region,
        source_image_id,
        ..
    } = &job.source
    else {
        return;
    };
    if let Ok(states) = sh
        .driver
        .describe_images(source_region, std::slice::from_ref(source_image_id))
        .await
        && let Some(state) = states.iter().find(|s| s.image_id == *source_image_id)
    {
        job.size_gib = state.size_gib as i64;
        if let Err(e) = sh
            .state
            .store
            .set_source_size(&job.version_id, job.size_gib)
            .await
        {
            tracing::debug!(error = %e, "cannot record the source image size");
        }
    }
}

/// Asks the cloud for the copy (again, after a crash: the token makes it the same copy).
async fn issue<D: Driver>(sh: &Shared<D>, job: &mut CopyJob) -> Step {
    let (source_region, source_image_id) = match copy_source(job) {
        Ok(s) => s,
        Err(message) => {
            return fail(
                sh,
                job,
                message.unwrap_or_else(|| "the delivery copy is gone".into()),
                None,
            )
            .await;
        }
    };
    let request = CopyRequest {
        source_region,
        source_image_id,
        destination_region: job.region.clone(),
        name: image_name(job),
        description: copy_description(&job.region),
        client_token: job.client_token(),
    };
    match sh.driver.copy_image(&request).await {
        Ok(image_id) => {
            // Not recorded yet on purpose: after a crash the same token finds the same copy, so
            // the first write can wait until the copy has progressed or finished.
            job.image_id = Some(image_id.clone());
            watch(sh, job, &image_id).await
        }
        Err(e) => retry_or_fail(sh, job, "CopyImage", &e).await,
    }
}

/// The description every copy into `region` is requested with.
fn copy_description(region: &str) -> String {
    format!("Copied by imagenest for {region}")
}

/// Cloud image names: 2–128 characters, starting with a letter.
fn image_name(job: &CopyJob) -> String {
    let raw = format!("imagenest-{}-{}", job.package_name, job.version_name);
    raw.chars().take(128).collect()
}

/// Follows a running copy until it is available or failed.
async fn watch<D: Driver>(sh: &Shared<D>, job: &mut CopyJob, image_id: &str) -> Step {
    let mut errors = 0i64;
    let mut pace = Pace::new(
        sh.config.poll_interval,
        sh.config.copy_poll_interval,
        job.progress,
    );
    let mut last_write = std::time::Instant::now();
    loop {
        match sh
            .driver
            .describe_images(&job.region, &[image_id.to_string()])
            .await
        {
            Ok(states) => {
                errors = 0;
                match states.into_iter().find(|s| s.image_id == image_id) {
                    Some(state) if state.status.is_usable() => {
                        job.status = RegionStatus::Available;
                        job.progress = 100;
                        job.error = None;
                        return finish_available(sh, job).await;
                    }
                    Some(state) if state.status.is_in_progress() => {
                        pace.observe(state.progress);
                        // Progress is for people: record it at most once a second.
                        if state.progress.min(99) != job.progress
                            && last_write.elapsed() >= std::time::Duration::from_secs(1)
                        {
                            job.progress = state.progress.min(99);
                            last_write = std::time::Instant::now();
                            if !save(sh, job, keep()).await? {
                                return Ok(());
                            }
                        }
                    }
                    Some(state) => {
                        return copy_failed(
                            sh,
                            job,
                            format!(
                                "the cloud reports the copy {image_id} as {}",
                                status_word(&state.status)
                            ),
                        )
                        .await;
                    }
                    None => {
                        return copy_failed(
                            sh,
                            job,
                            format!("the copy {image_id} disappeared from {}", job.region),
                        )
                        .await;
                    }
                }
            }
            Err(e) if e.is_retryable() => {
                errors += 1;
                if errors >= sh.config.max_attempts {
                    return save(
                        sh,
                        job,
                        release_after(backoff::delay(
                            errors,
                            sh.config.backoff_base,
                            sh.config.backoff_max,
                        )),
                    )
                    .await
                    .map(drop);
                }
                tokio::time::sleep(backoff::delay(
                    errors,
                    sh.config.backoff_base,
                    sh.config.backoff_max,
                ))
                .await;
                continue;
            }
            Err(e) => return retry_or_fail(sh, job, "DescribeImages", &e).await,
        }
        tokio::time::sleep(pace.next()).await;
    }
}

/// When to look at a running copy next: just after its estimated completion (from the progress
/// rate), never later than `ceiling`; while no rate is known, the wait doubles from `floor`. Long copies are polled rarely, short ones are noticed as soon as they finish.
struct Pace {
    ceiling: std::time::Duration,
    wait: std::time::Duration,
    first: Option<(std::time::Instant, u8)>,
    estimate: Option<std::time::Duration>,
}

impl Pace {
    fn new(floor: std::time::Duration, ceiling: std::time::Duration, progress: u8) -> Self {
        let floor = floor.min(ceiling);
        Pace {
            ceiling,
            wait: floor,
            first: Some((std::time::Instant::now(), progress)),
            estimate: None,
        }
    }

    fn observe(&mut self, progress: u8) {
        if let Some((at, p0)) = self.first
            && progress > p0
        {
            let rate = f64::from(progress - p0) / at.elapsed().as_secs_f64().max(1e-3);
            self.estimate = Some(std::time::Duration::from_secs_f64(
                f64::from(100 - progress.min(100)) / rate,
            ));
        }
    }

    fn next(&mut self) -> std::time::Duration {
        match self.estimate.take() {
            // A rate-based estimate is precise: wake just after it, even sooner than `floor`.
            Some(e) => (e + std::time::Duration::from_millis(2)).min(self.ceiling),
            None => {
                let w = self.wait;
                self.wait = (self.wait * 2).min(self.ceiling);
                w
            }
        }
    }
}

fn status_word(s: &ImageStatus) -> &str {
    s.as_str()
}

/// The cloud ended a copy without an image: start a new copy (a new token) or give up.
async fn copy_failed<D>(sh: &Shared<D>, job: &mut CopyJob, reason: String) -> Step {
    let cleanup = Some(cleanup_for(job));
    job.attempts += 1;
    if job.attempts >= sh.config.max_copy_failures.max(1) {
        return fail(
            sh,
            job,
            format!("copy to {} failed: {reason}", job.region),
            cleanup,
        )
        .await;
    }
    tracing::info!(version_id = %job.version_id, region = %job.region, %reason, "copy failed; starting a new one");
    job.status = RegionStatus::Pending;
    job.image_id = None;
    job.copy_requested = false;
    job.copy_serial += 1;
    job.progress = 0;
    let delay = backoff::delay(job.attempts, sh.config.backoff_base, sh.config.backoff_max);
    save(
        sh,
        job,
        JobWrite {
            cleanup,
            ..release_after(delay)
        },
    )
    .await
    .map(drop)
}

/// A copy just became available: share it as the permission rules say, then release it.
async fn finish_available<D: Driver>(sh: &Shared<D>, job: &mut CopyJob) -> Step {
    // The copy's attempts are over; from here on they count sharing attempts.
    job.attempts = 0;
    let desired = match desired_sharing(sh, job).await {
        Ok(d) => d,
        Err(e) => {
            // `share_dirty` stays set: the sharing step runs when the row is claimed again.
            tracing::warn!(error = %e, "cannot read sharing rules");
            return save(sh, job, release_after(sh.config.poll_interval))
                .await
                .map(drop);
        }
    };
    if desired == Sharing::default() {
        // A fresh copy is shared with nobody: nothing to change.
        return save(
            sh,
            job,
            JobWrite {
                shared_at: Some(job.share_dirty),
                ..release_now()
            },
        )
        .await
        .map(drop);
    }
    apply_sharing(sh, job, &desired).await
}

async fn desired_sharing<D>(sh: &Shared<D>, job: &CopyJob) -> Result<Sharing, StoreError> {
    if !job.target || matches!(job.source, JobSource::Marketplace { .. }) {
        return Ok(Sharing::default());
    }
    sharing::desired(
        &sh.state.store,
        &job.package_id,
        &sh.state.config.default_cloud_account,
    )
    .await
}

/// An available copy whose sharing must be brought in line (`share_dirty`): after a service
/// change, or again after a failed attempt.
async fn share<D: Driver>(sh: &Shared<D>, job: &mut CopyJob) -> Step {
    if matches!(job.source, JobSource::Marketplace { .. }) || job.image_id.is_none() {
        return save(
            sh,
            job,
            JobWrite {
                shared_at: Some(job.share_dirty),
                ..release_now()
            },
        )
        .await
        .map(drop);
    }
    let desired = match desired_sharing(sh, job).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read sharing rules");
            return save(sh, job, release_after(sh.config.poll_interval))
                .await
                .map(drop);
        }
    };
    apply_sharing(sh, job, &desired).await
}

/// Brings the copy's share list and public flag in line with `desired`. The work is the row's
/// `share_dirty` mark in the store, cleared only once the cloud agrees (or refuses for good),
/// so a retryable failure or a crash mid-way is tried again, with backoff, until it converges.
async fn apply_sharing<D: Driver>(sh: &Shared<D>, job: &mut CopyJob, desired: &Sharing) -> Step {
    let Some(image_id) = job.image_id.clone() else {
        return save(sh, job, release_now()).await.map(drop);
    };
    match sh
        .driver
        .sync_sharing(&job.region, &image_id, desired)
        .await
    {
        Ok(change) => {
            if !change.is_empty() {
                tracing::info!(region = %job.region, image_id, added = change.add.len(), removed = change.remove.len(), public = ?change.public, "sharing synced");
            }
            job.attempts = 0;
            job.error = None;
            save(
                sh,
                job,
                JobWrite {
                    shared_at: Some(job.share_dirty),
                    ..release_now()
                },
            )
            .await
            .map(drop)
        }
        Err(e) if e.is_retryable() => {
            // Sharing never gives up on a retryable error: the copy stays usable by its owner
            // meanwhile, and the error says why the share list is not as configured yet.
            job.attempts += 1;
            job.error = Some(format!(
                "retrying: sharing failed (attempt {}): {e}",
                job.attempts
            ));
            tracing::debug!(version_id = %job.version_id, region = %job.region, attempt = job.attempts, error = %e, "sharing will be retried");
            let delay = backoff::delay(job.attempts, sh.config.backoff_base, sh.config.backoff_max);
            save(sh, job, release_after(delay)).await.map(drop)
        }
        Err(e) => {
            // Final: retrying the same sharing cannot help. The copy stays usable by its owner;
            // the error stays on the region until a service change or a retry shares it again.
            tracing::info!(version_id = %job.version_id, region = %job.region, error = %e, "sharing failed");
            job.attempts = 0;
            job.error = Some(sharing_failed(job, &e));
            save(
                sh,
                job,
                JobWrite {
                    shared_at: Some(job.share_dirty),
                    ..release_now()
                },
            )
            .await
            .map(drop)
        }
    }
}

/// The message a region keeps after a final sharing error: the cloud's words, and what to do.
fn sharing_failed(job: &CopyJob, e: &CloudError) -> String {
    let over_limit = matches!(e, CloudError::ShareLimit { .. })
        || e.code().is_some_and(|c| c.starts_with("QuotaExceed"));
    let forbidden = e.code().is_some_and(|c| c.starts_with("Forbidden"))
        || matches!(e, CloudError::Credentials(_));
    let fix = if over_limit {
        format!(
            "the private services using package {} whitelist more accounts than one image can be shared with ({}): shorten their whitelists or make one of them public",
            job.package_name,
            imagenest_cloud::MAX_SHARED_ACCOUNTS
        )
    } else if forbidden {
        "give the delivery account the right to call ModifyImageSharePermission and DescribeImageSharePermission".to_string()
    } else {
        "fix the cause the cloud names".to_string()
    };
    let cause = e.to_string();
    format!(
        "sharing failed: {}. To fix: {fix}; sharing is tried again after a change to a service using the package, or on `imagenest distribution retry`",
        cause.trim_end_matches('.')
    )
}

/// A removed region: delete its copy from the cloud, then the row.
async fn delete_row<D: Driver>(sh: &Shared<D>, job: &mut CopyJob) -> Step {
    if job.copy_requested && !matches!(job.source, JobSource::Marketplace { .. }) {
        let target = cleanup_for(job);
        match delete_cloud_copy(sh, &target).await {
            Ok(()) => {}
            Err(e) => {
                job.attempts += 1;
                job.error = Some(format!("deleting the copy failed: {e}"));
                let delay =
                    backoff::delay(job.attempts, sh.config.backoff_base, sh.config.backoff_max);
                return save(sh, job, release_after(delay)).await.map(drop);
            }
        }
    }
    sh.state
        .store
        .finish_deleting(sh.owner(), job)
        .await
        .map(drop)
}

/// Works one cleanup item: deletes its cloud image.
pub(super) async fn cleanup<D: Driver>(sh: &Shared<D>, item: CleanupJob) {
    let result = match delete_cloud_copy(sh, &item).await {
        Ok(()) => sh.state.store.finish_cleanup(sh.owner(), &item.id).await,
        Err(e) => {
            tracing::debug!(region = %item.region, error = %e, "cleanup will be retried");
            let attempts = item.attempts + 1;
            let delay = backoff::delay(attempts, sh.config.backoff_base, sh.config.backoff_max);
            sh.state
                .store
                .defer_cleanup(
                    sh.owner(),
                    &item.id,
                    attempts,
                    now_ms() + delay.as_millis() as i64,
                    None,
                )
                .await
        }
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "cleanup step could not be recorded");
    }
}

/// Deletes a copy from the cloud: learns its ID from the idempotency token when it was never
/// recorded, cancels it when still copying. "Not found" counts as deleted.
async fn delete_cloud_copy<D: Driver>(sh: &Shared<D>, item: &CleanupJob) -> Result<(), CloudError> {
    let image_id = match &item.image_id {
        Some(id) => id.clone(),
        None => {
            if item.source_image_id.is_empty() {
                return Ok(());
            }
            let request = CopyRequest {
                source_region: item.source_region.clone(),
                source_image_id: item.source_image_id.clone(),
                destination_region: item.region.clone(),
                // Identical to the original request, so the token finds that copy.
                name: item.image_name.clone(),
                description: copy_description(&item.region),
                client_token: item.client_token.clone(),
            };
            match sh.driver.copy_image(&request).await {
                Ok(id) => id,
                // The source is gone or the cloud refuses: no copy can exist under this token.
                Err(e) if !e.is_retryable() => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    };
    match sh.driver.delete_image(&item.region, &image_id).await {
        Ok(()) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) if !e.is_retryable() => {
            // Most likely still copying: cancel, then delete.
            match sh.driver.cancel_copy(&item.region, &image_id).await {
                Ok(()) => {}
                Err(c) if c.is_retryable() => return Err(c),
                // Not a copy in progress either: the delete error stands.
                Err(_) => return Err(e),
            }
            match sh.driver.delete_image(&item.region, &image_id).await {
                Ok(()) => Ok(()),
                Err(e) if e.is_not_found() => Ok(()),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}
