//! The distribution engine's view of the store: claiming region copies under leases, recording
//! each step, and the cleanup queue of cloud images to delete.
//!
//! Every write the engine makes is fenced by its lease (`lease_owner = me`), so a registry that
//! lost its lease (it stalled, others took over) cannot overwrite newer progress.

use std::collections::{BTreeMap, BTreeSet};

use imagenest_core::{distribution::RegionStatus, version::ImageSource};
use sqlx::{Row, any::AnyRow};

use super::{Backend, Result, Store, StoreError, new_id, now};

/// Where a copy job's image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobSource {
    /// Copied from the vendor's image (the source region's row: the delivery copy) or from the
    /// delivery copy (every other region).
    Custom {
        source_region: String,
        source_image_id: String,
        /// State, image and error of the delivery copy (the source region's row).
        delivery: Option<(RegionStatus, Option<String>, Option<String>)>,
    },
    /// Looked up per region, never copied.
    Marketplace {
        product_code: String,
        product_version: Option<String>,
    },
}

/// One region copy claimed by the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyJob {
    pub version_id: String,
    pub region: String,
    pub status: RegionStatus,
    pub progress: u8,
    pub image_id: Option<String>,
    pub error: Option<String>,
    /// False for a source-region delivery copy that is not a target region.
    pub target: bool,
    pub copy_key: String,
    pub copy_serial: i64,
    pub copy_requested: bool,
    pub attempts: i64,
    pub share_dirty: i64,
    pub package_id: String,
    pub package_name: String,
    pub version_name: String,
    pub source: JobSource,
    /// Size of the source image (0 until the engine has learnt it).
    pub size_gib: i64,
}

impl CopyJob {
    /// The CopyImage idempotency token of the current copy: the same after any crash, new for
    /// each copy that replaces a failed one (at most 64 characters).
    pub fn client_token(&self) -> String {
        format!(
            "{}-{}-{}-{}",
            self.version_id, self.region, self.copy_key, self.copy_serial
        )
    }

    /// Whether this row holds the delivery account's copy the other regions copy from.
    pub fn is_delivery(&self) -> bool {
        matches!(&self.source, JobSource::Custom { source_region, .. } if *source_region == self.region)
    }
}

/// A cloud image to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanupJob {
    pub id: String,
    pub region: String,
    pub image_id: Option<String>,
    pub client_token: String,
    /// The name the copy was requested with (a re-issued CopyImage must be identical).
    pub image_name: String,
    pub source_region: String,
    pub source_image_id: String,
    pub attempts: i64,
}

fn parse_status(s: &str) -> Result<RegionStatus> {
    RegionStatus::parse(s).ok_or_else(|| StoreError::corrupt(format!("region status {s:?}")))
}

fn job_from_row(row: &AnyRow) -> Result<CopyJob> {
    let image: String = row.try_get("image")?;
    let image: ImageSource = serde_json::from_str(&image).map_err(StoreError::corrupt)?;
    let source = match image {
        ImageSource::Custom { .. } => {
            let delivery = match row.try_get::<Option<String>, _>("d_status")? {
                Some(s) => Some((
                    parse_status(&s)?,
                    row.try_get("d_image_id")?,
                    row.try_get("d_error")?,
                )),
                None => None,
            };
            JobSource::Custom {
                source_region: row.try_get("source_region")?,
                source_image_id: row.try_get("source_image_id")?,
                delivery,
            }
        }
        ImageSource::Marketplace {
            product_code,
            product_version,
        } => JobSource::Marketplace {
            product_code,
            product_version,
        },
    };
    Ok(CopyJob {
        version_id: row.try_get("version_id")?,
        region: row.try_get("region")?,
        status: parse_status(&row.try_get::<String, _>("status")?)?,
        progress: row.try_get::<i64, _>("progress")?.clamp(0, 100) as u8,
        image_id: row.try_get("image_id")?,
        error: row.try_get("error")?,
        target: row.try_get::<i64, _>("target")? != 0,
        copy_key: row.try_get("copy_key")?,
        copy_serial: row.try_get("copy_serial")?,
        copy_requested: row.try_get::<i64, _>("copy_requested")? != 0,
        attempts: row.try_get("attempts")?,
        share_dirty: row.try_get("share_dirty")?,
        package_id: row.try_get("package_id")?,
        package_name: row.try_get("package_name")?,
        version_name: row.try_get("version_name")?,
        source,
        size_gib: row.try_get("source_size_gib")?,
    })
}

const SELECT_JOB: &str = "SELECT rc.version_id, rc.region, rc.status, rc.progress, rc.image_id, rc.error, rc.target, rc.copy_key,
        rc.copy_serial, rc.copy_requested, rc.attempts, rc.share_dirty,
        v.package_id, v.name AS version_name, v.image, v.source_region, v.source_image_id, v.source_size_gib, p.name AS package_name,
        d.status AS d_status, d.image_id AS d_image_id, d.error AS d_error
    FROM region_copies rc JOIN versions v ON v.id = rc.version_id JOIN packages p ON p.id = v.package_id
    LEFT JOIN region_copies d ON d.version_id = rc.version_id AND d.region = v.source_region";

/// How a job's row changes after an engine step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobWrite {
    /// Keep the lease (the engine goes on with this row) or release it.
    pub release: bool,
    /// Earliest time (unix ms) the row may be claimed again.
    pub next_attempt_at: i64,
    /// The `share_dirty` value the sharing step saw; when given and still current, it is cleared.
    pub shared_at: Option<i64>,
    /// A cloud image to hand to the cleanup queue (a failed copy being replaced).
    pub cleanup: Option<CleanupJob>,
}

impl Store {
    /// Frees every lease (SQLite only: one process owns the file, so leases of a crashed run are void).
    pub async fn release_all_leases(&self) -> Result<()> {
        let mut w = self.begin_write().await?;
        sqlx::query("UPDATE region_copies SET lease_owner = NULL, lease_until = 0 WHERE lease_owner IS NOT NULL").execute(&mut *w.tx).await?;
        sqlx::query(
            "UPDATE cleanup SET lease_owner = NULL, lease_until = 0 WHERE lease_owner IS NOT NULL",
        )
        .execute(&mut *w.tx)
        .await?;
        w.commit().await
    }

    /// Claims up to `limit` region copies that need work, under a lease until `lease_until`
    /// (unix ms, unique per claim). Delivery copies come first: every other region waits on them.
    pub async fn claim_copies(
        &self,
        owner: &str,
        now_ms: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<CopyJob>> {
        let mut w = self.begin_write().await?;
        sqlx::query(
            "UPDATE region_copies SET lease_owner = $1, lease_until = $2
             WHERE (version_id, region) IN (
                 SELECT rc.version_id, rc.region FROM region_copies rc JOIN versions v ON v.id = rc.version_id
                 WHERE v.status = 'published' AND rc.next_attempt_at <= $3 AND (rc.lease_owner IS NULL OR rc.lease_until < $3)
                   AND (rc.status IN ('copying', 'deleting')
                        OR (rc.status = 'available' AND rc.share_dirty > 0)
                        OR (rc.status = 'pending' AND (v.source_region = '' OR rc.region = v.source_region
                            OR EXISTS (SELECT 1 FROM region_copies d WHERE d.version_id = rc.version_id
                                       AND d.region = v.source_region AND d.status IN ('available', 'failed')))))
                 ORDER BY CASE WHEN rc.region = v.source_region THEN 0 ELSE 1 END, v.source_size_gib DESC, rc.next_attempt_at
                 LIMIT $4)
               AND (lease_owner IS NULL OR lease_until < $3)",
        )
        .bind(owner)
        .bind(lease_until)
        .bind(now_ms)
        .bind(limit)
        .execute(&mut *w.tx)
        .await?;
        let rows = sqlx::query(&format!(
            "{SELECT_JOB} WHERE rc.lease_owner = $1 AND rc.lease_until = $2"
        ))
        .bind(owner)
        .bind(lease_until)
        .fetch_all(&mut *w.tx)
        .await?;
        w.commit().await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Gives back region copies `owner` claimed but does not work on (`(version_id, region)`).
    pub async fn release_copies(&self, owner: &str, rows: &[(String, String)]) -> Result<()> {
        let mut w = self.begin_write().await?;
        for (version_id, region) in rows {
            sqlx::query(
                "UPDATE region_copies SET lease_owner = NULL, lease_until = 0
                 WHERE version_id = $1 AND region = $2 AND lease_owner = $3",
            )
            .bind(version_id)
            .bind(region)
            .bind(owner)
            .execute(&mut *w.tx)
            .await?;
        }
        w.commit().await
    }

    /// Records the size of a version's source image.
    pub async fn set_source_size(&self, version_id: &str, size_gib: i64) -> Result<()> {
        let mut w = self.begin_write().await?;
        sqlx::query("UPDATE versions SET source_size_gib = $1 WHERE id = $2")
            .bind(size_gib)
            .bind(version_id)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await
    }

    /// Extends every lease `owner` holds to `lease_until`.
    pub async fn renew_leases(&self, owner: &str, lease_until: i64) -> Result<()> {
        let mut w = self.begin_write().await?;
        sqlx::query("UPDATE region_copies SET lease_until = $1 WHERE lease_owner = $2")
            .bind(lease_until)
            .bind(owner)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query("UPDATE cleanup SET lease_until = $1 WHERE lease_owner = $2")
            .bind(lease_until)
            .bind(owner)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await
    }

    /// Takes one of the region's copy slots for a pending job: the row turns `copying` with
    /// `copy_requested` set, before the cloud is asked (so a crash never forgets a copy). Fails
    /// (false) when the region already runs `max_per_region` copies or the lease is lost.
    ///
    /// The count and the claim are one statement; on PostgreSQL, replicas reserving in the same
    /// region also take turns on a per-region advisory lock held until commit, so each one counts
    /// the others' committed reservations and the cap holds across replicas. (SQLite has one
    /// writer at a time already.)
    pub async fn reserve_copy(
        &self,
        owner: &str,
        job: &CopyJob,
        max_per_region: i64,
    ) -> Result<bool> {
        let mut w = self.begin_write().await?;
        if self.backend() == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(region_lock_key(&job.region))
                .execute(&mut *w.tx)
                .await?;
        }
        let n = sqlx::query(
            "UPDATE region_copies SET status = 'copying', copy_requested = 1, progress = 0, error = NULL, updated_at = $1
             WHERE version_id = $2 AND region = $3 AND lease_owner = $4 AND status = 'pending'
               AND (SELECT COUNT(*) FROM region_copies c WHERE c.region = $3 AND c.status = 'copying') < $5",
        )
        .bind(now())
        .bind(&job.version_id)
        .bind(&job.region)
        .bind(owner)
        .bind(max_per_region)
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        w.commit().await?;
        Ok(n == 1)
    }

    /// Writes a job's state back, fenced by the lease. Returns false when the lease was lost
    /// (nothing written).
    pub async fn write_job(&self, owner: &str, job: &CopyJob, how: &JobWrite) -> Result<bool> {
        let mut w = self.begin_write().await?;
        let n = sqlx::query(
            // A region removed while its job was leased stays `deleting` (the job's other fields,
            // such as a finished copy's image ID, are still written so the delete finds it).
            "UPDATE region_copies SET status = CASE WHEN status = 'deleting' THEN status ELSE $1 END, progress = $2, image_id = $3, error = $4, copy_serial = $5, copy_requested = $6,
                 attempts = $7, next_attempt_at = $8, updated_at = $9,
                 share_dirty = CASE WHEN $10 >= 0 AND share_dirty = $10 THEN 0 ELSE share_dirty END,
                 lease_owner = CASE WHEN $11 = 1 THEN NULL ELSE lease_owner END,
                 lease_until = CASE WHEN $11 = 1 THEN 0 ELSE lease_until END
             WHERE version_id = $12 AND region = $13 AND lease_owner = $14",
        )
        .bind(job.status.as_str())
        .bind(i64::from(job.progress))
        .bind(&job.image_id)
        .bind(&job.error)
        .bind(job.copy_serial)
        .bind(i64::from(job.copy_requested))
        .bind(job.attempts)
        .bind(how.next_attempt_at)
        .bind(now())
        .bind(how.shared_at.unwrap_or(-1))
        .bind(i64::from(how.release))
        .bind(&job.version_id)
        .bind(&job.region)
        .bind(owner)
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        if n == 1
            && let Some(c) = &how.cleanup
        {
            insert_cleanup(&mut w, c).await?;
        }
        w.commit().await?;
        Ok(n == 1)
    }

    /// Removes a region copy row whose cloud image is gone (fenced by the lease).
    pub async fn finish_deleting(&self, owner: &str, job: &CopyJob) -> Result<bool> {
        let mut w = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM region_copies WHERE version_id = $1 AND region = $2 AND lease_owner = $3 AND status = 'deleting'")
            .bind(&job.version_id)
            .bind(&job.region)
            .bind(owner)
            .execute(&mut *w.tx)
            .await?
            .rows_affected();
        w.commit().await?;
        Ok(n == 1)
    }

    /// Claims cleanup items under a lease.
    pub async fn claim_cleanup(
        &self,
        owner: &str,
        now_ms: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<CleanupJob>> {
        let mut w = self.begin_write().await?;
        sqlx::query(
            "UPDATE cleanup SET lease_owner = $1, lease_until = $2
             WHERE id IN (SELECT id FROM cleanup WHERE next_attempt_at <= $3 AND (lease_owner IS NULL OR lease_until < $3) ORDER BY created_at LIMIT $4)
               AND (lease_owner IS NULL OR lease_until < $3)",
        )
        .bind(owner)
        .bind(lease_until)
        .bind(now_ms)
        .bind(limit)
        .execute(&mut *w.tx)
        .await?;
        let rows = sqlx::query(
            "SELECT id, region, image_id, client_token, image_name, source_region, source_image_id, attempts FROM cleanup WHERE lease_owner = $1 AND lease_until = $2",
        )
        .bind(owner)
        .bind(lease_until)
        .fetch_all(&mut *w.tx)
        .await?;
        w.commit().await?;
        rows.iter()
            .map(|r| {
                Ok(CleanupJob {
                    id: r.try_get("id")?,
                    region: r.try_get("region")?,
                    image_id: r.try_get("image_id")?,
                    client_token: r.try_get("client_token")?,
                    image_name: r.try_get("image_name")?,
                    source_region: r.try_get("source_region")?,
                    source_image_id: r.try_get("source_image_id")?,
                    attempts: r.try_get("attempts")?,
                })
            })
            .collect()
    }

    /// Done with a cleanup item (its image is gone).
    pub async fn finish_cleanup(&self, owner: &str, id: &str) -> Result<()> {
        let mut w = self.begin_write().await?;
        sqlx::query("DELETE FROM cleanup WHERE id = $1 AND lease_owner = $2")
            .bind(id)
            .bind(owner)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await
    }

    /// Puts a cleanup item back for a later attempt.
    pub async fn defer_cleanup(
        &self,
        owner: &str,
        id: &str,
        attempts: i64,
        next_attempt_at: i64,
        image_id: Option<&str>,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        sqlx::query(
            "UPDATE cleanup SET attempts = $1, next_attempt_at = $2, image_id = COALESCE($3, image_id), lease_owner = NULL, lease_until = 0
             WHERE id = $4 AND lease_owner = $5",
        )
        .bind(attempts)
        .bind(next_attempt_at)
        .bind(image_id)
        .bind(id)
        .bind(owner)
        .execute(&mut *w.tx)
        .await?;
        w.commit().await
    }

    /// The cloud account IDs stored for registry accounts (accounts without one are left out).
    pub async fn cloud_account_ids(
        &self,
        accounts: &BTreeSet<String>,
    ) -> Result<BTreeMap<String, String>> {
        let mut out = BTreeMap::new();
        for name in accounts {
            let row = sqlx::query("SELECT cloud_account_id FROM accounts WHERE name = $1")
                .bind(name)
                .fetch_optional(self.pool())
                .await?;
            if let Some(r) = row {
                let id: String = r.try_get("cloud_account_id")?;
                if !id.is_empty() {
                    out.insert(name.clone(), id);
                }
            }
        }
        Ok(out)
    }

    /// Region copies by status, of target regions (for metrics and for tests waiting on the engine).
    pub async fn copy_counts(&self) -> Result<BTreeMap<String, i64>> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) AS n FROM region_copies WHERE target = 1 GROUP BY status",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out = BTreeMap::new();
        for r in &rows {
            out.insert(r.try_get("status")?, r.try_get("n")?);
        }
        let cleanup: i64 = sqlx::query("SELECT COUNT(*) AS n FROM cleanup")
            .fetch_one(self.pool())
            .await?
            .try_get("n")?;
        out.insert("cleanup".into(), cleanup);
        Ok(out)
    }
}

/// The advisory lock key of a region's copy slots: FNV-1a of a namespaced region ID, the same
/// in every replica and build (a collision only makes two regions take turns).
fn region_lock_key(region: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in "imagenest:copy-slots:".bytes().chain(region.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h as i64
}

async fn insert_cleanup(w: &mut super::WriteTx, c: &CleanupJob) -> Result<()> {
    sqlx::query(
        "INSERT INTO cleanup (id, region, image_id, client_token, image_name, source_region, source_image_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(if c.id.is_empty() { new_id("cln") } else { c.id.clone() })
    .bind(&c.region)
    .bind(&c.image_id)
    .bind(&c.client_token)
    .bind(&c.image_name)
    .bind(&c.source_region)
    .bind(&c.source_image_id)
    .bind(now())
    .execute(&mut *w.tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_lock_keys_are_stable_and_distinct() {
        // Stable across builds: replicas of different versions must agree on the key.
        assert_eq!(region_lock_key("cn-hangzhou"), -1_669_014_414_476_410_813);
        let keys: BTreeSet<i64> = imagenest_core::regions::ALIBABA_REGIONS
            .iter()
            .map(|r| region_lock_key(r.id))
            .collect();
        assert_eq!(keys.len(), imagenest_core::regions::ALIBABA_REGIONS.len());
    }
}
