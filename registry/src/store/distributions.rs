//! Distributions: each published version's region copies, and the facts resolution needs.

use std::collections::BTreeMap;

use imagenest_core::{
    access::PackageAccess,
    distribution::{Distribution, RegionCopy, RegionStatus},
    package::Package,
    resolve::{PackageFacts, VersionFacts},
    version::VersionStatus,
};
use sqlx::{Row, any::AnyRow};

use super::{Result, Store, StoreError, WriteTx, now, versions::publish_in};

fn copy_from_row(row: &AnyRow, prefix: &str) -> Result<Option<RegionCopy>> {
    let region: Option<String> = row.try_get(format!("{prefix}region").as_str())?;
    let Some(region) = region else {
        return Ok(None);
    };
    let status: String = row.try_get(format!("{prefix}status").as_str())?;
    let progress: i64 = row.try_get(format!("{prefix}progress").as_str())?;
    Ok(Some(RegionCopy {
        region,
        status: RegionStatus::parse(&status)
            .ok_or_else(|| StoreError::corrupt(format!("region status {status:?}")))?,
        progress: progress.clamp(0, 100) as u8,
        image_id: row.try_get(format!("{prefix}image_id").as_str())?,
        error: row.try_get(format!("{prefix}error").as_str())?,
    }))
}

/// One region copy's new state, as the engine (or a test) records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyUpdate {
    pub status: RegionStatus,
    pub progress: u8,
    pub image_id: Option<String>,
    pub error: Option<String>,
}

impl Store {
    /// The distribution of a version (empty region list when it was never distributed).
    pub async fn distribution(&self, version_id: &str) -> Result<Distribution> {
        let v = sqlx::query(
            "SELECT package_id, updated_at, distribution_revision FROM versions WHERE id = $1",
        )
        .bind(version_id)
        .fetch_optional(self.pool())
        .await?;
        let v = v.ok_or(StoreError::NotFound)?;
        let rows = sqlx::query(
            "SELECT region, status, progress, image_id, error, updated_at FROM region_copies WHERE version_id = $1 AND target = 1 ORDER BY region",
        )
        .bind(version_id)
        .fetch_all(self.pool())
        .await?;
        let mut updated_at: String = v.try_get("updated_at")?;
        let mut copies = Vec::with_capacity(rows.len());
        for row in &rows {
            copies.extend(copy_from_row(row, "")?);
            let ts: String = row.try_get("updated_at")?;
            if ts > updated_at {
                updated_at = ts;
            }
        }
        let mut d = Distribution::from_regions(
            version_id,
            &v.try_get::<String, _>("package_id")?,
            copies,
            updated_at,
        );
        d.revision = v.try_get("distribution_revision")?;
        Ok(d)
    }

    /// Sets the target regions of a version's distribution, publishing a draft first. New regions
    /// start `pending`; removed regions start `deleting` (or vanish when no copy was ever
    /// requested); regions kept keep their state. A custom image's source region always has a row:
    /// it holds the delivery account's copy the other regions copy from (hidden when it is not a
    /// target). Returns the distribution.
    pub async fn set_distribution_regions(
        &self,
        version_id: &str,
        targets: &[String],
    ) -> Result<Distribution> {
        self.set_distribution_regions_if(version_id, targets, None)
            .await
    }

    /// `set_distribution_regions` if the distribution's revision is still `expected` (when
    /// given); every change of the targets bumps it.
    pub async fn set_distribution_regions_if(
        &self,
        version_id: &str,
        targets: &[String],
        expected: Option<i64>,
    ) -> Result<Distribution> {
        let mut w = self.begin_write().await?;
        publish_in(&mut w, version_id).await?;
        // Bumping the revision also locks the version row, so that concurrent region changes on
        // PostgreSQL take turns; the expected revision, when given, is checked by the same
        // statement, and only a miss reads the row again to tell why.
        let bumped = sqlx::query(
            "UPDATE versions SET distribution_revision = distribution_revision + 1
             WHERE id = $1 AND ($2 = 0 OR distribution_revision = $3)",
        )
        .bind(version_id)
        .bind(i64::from(expected.is_some()))
        .bind(expected.unwrap_or(0))
        .execute(&mut *w.tx)
        .await?;
        if bumped.rows_affected() == 0 {
            let row = sqlx::query("SELECT distribution_revision FROM versions WHERE id = $1")
                .bind(version_id)
                .fetch_optional(&mut *w.tx)
                .await?;
            return Err(match (row, expected) {
                (Some(row), Some(expected)) => StoreError::RevisionMismatch {
                    expected,
                    actual: row.try_get("distribution_revision")?,
                },
                _ => StoreError::NotFound,
            });
        }
        let source_region: String = sqlx::query("SELECT source_region FROM versions WHERE id = $1")
            .bind(version_id)
            .fetch_one(&mut *w.tx)
            .await?
            .try_get("source_region")?;
        let rows = sqlx::query("SELECT region, status, image_id, copy_requested, target FROM region_copies WHERE version_id = $1")
            .bind(version_id)
            .fetch_all(&mut *w.tx)
            .await?;
        struct Current {
            status: RegionStatus,
            requested: bool,
            target: bool,
        }
        let mut current: BTreeMap<String, Current> = BTreeMap::new();
        for row in &rows {
            let status: String = row.try_get("status")?;
            current.insert(
                row.try_get("region")?,
                Current {
                    status: RegionStatus::parse(&status)
                        .ok_or_else(|| StoreError::corrupt(format!("region status {status:?}")))?,
                    requested: row.try_get::<i64, _>("copy_requested")? != 0,
                    target: row.try_get::<i64, _>("target")? != 0,
                },
            );
        }
        let ts = now();
        let mut wanted: Vec<(String, bool)> = targets.iter().map(|r| (r.clone(), true)).collect();
        if !source_region.is_empty() && !targets.contains(&source_region) {
            wanted.push((source_region.clone(), false));
        }
        for (region, target) in &wanted {
            match current.get(region) {
                None => insert_copy(&mut w, version_id, region, *target, &ts).await?,
                Some(c) if c.status == RegionStatus::Deleting => {
                    // The old copy is still being deleted: hand it to the cleanup queue and start over.
                    move_to_cleanup(&mut w, version_id, region).await?;
                    sqlx::query("DELETE FROM region_copies WHERE version_id = $1 AND region = $2")
                        .bind(version_id)
                        .bind(region)
                        .execute(&mut *w.tx)
                        .await?;
                    insert_copy(&mut w, version_id, region, *target, &ts).await?;
                }
                Some(c) if c.target != *target => {
                    sqlx::query("UPDATE region_copies SET target = $1, share_dirty = share_dirty + 1, updated_at = $2 WHERE version_id = $3 AND region = $4")
                        .bind(i64::from(*target))
                        .bind(&ts)
                        .bind(version_id)
                        .bind(region)
                        .execute(&mut *w.tx)
                        .await?;
                }
                Some(_) => {}
            }
        }
        for (region, c) in &current {
            if wanted.iter().any(|(r, _)| r == region) || c.status == RegionStatus::Deleting {
                continue;
            }
            if !c.requested {
                sqlx::query("DELETE FROM region_copies WHERE version_id = $1 AND region = $2")
                    .bind(version_id)
                    .bind(region)
                    .execute(&mut *w.tx)
                    .await?;
            } else {
                sqlx::query(
                    "UPDATE region_copies SET status = 'deleting', next_attempt_at = 0, attempts = 0, updated_at = $1 WHERE version_id = $2 AND region = $3",
                )
                .bind(&ts)
                .bind(version_id)
                .bind(region)
                .execute(&mut *w.tx)
                .await?;
            }
        }
        w.commit().await?;
        self.distribution(version_id).await
    }

    /// Puts every failed region of a distribution (and a failed delivery copy) back to
    /// `pending`, and has available regions whose sharing failed (they carry an error) shared
    /// again at once; returns how many regions.
    pub async fn retry_failed_regions(&self, version_id: &str) -> Result<u64> {
        let mut w = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE region_copies SET status = 'pending', progress = 0, error = NULL, image_id = NULL, copy_requested = 0,
                 attempts = 0, next_attempt_at = 0, updated_at = $1
             WHERE version_id = $2 AND status = 'failed'",
        )
        .bind(now())
        .bind(version_id)
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        let shares = sqlx::query(
            "UPDATE region_copies SET share_dirty = share_dirty + 1, attempts = 0, next_attempt_at = 0, updated_at = $1
             WHERE version_id = $2 AND status = 'available' AND error IS NOT NULL",
        )
        .bind(now())
        .bind(version_id)
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        w.commit().await?;
        Ok(n + shares)
    }

    /// Records a region copy's new state, enforcing the state machine.
    pub async fn update_region_copy(
        &self,
        version_id: &str,
        region: &str,
        up: &CopyUpdate,
    ) -> Result<()> {
        let mut w = self.begin_write().await?;
        let row =
            sqlx::query("SELECT status FROM region_copies WHERE version_id = $1 AND region = $2")
                .bind(version_id)
                .bind(region)
                .fetch_optional(&mut *w.tx)
                .await?
                .ok_or(StoreError::NotFound)?;
        let status: String = row.try_get("status")?;
        let from = RegionStatus::parse(&status)
            .ok_or_else(|| StoreError::corrupt(format!("region status {status:?}")))?;
        if !from.can_move_to(up.status) {
            return Err(StoreError::Conflict(format!(
                "region {region} cannot move from {} to {}",
                from.as_str(),
                up.status.as_str()
            )));
        }
        sqlx::query("UPDATE region_copies SET status = $1, progress = $2, image_id = $3, error = $4, updated_at = $5,
                 copy_requested = CASE WHEN $3 IS NULL THEN copy_requested ELSE 1 END
             WHERE version_id = $6 AND region = $7")
            .bind(up.status.as_str())
            .bind(i64::from(up.progress))
            .bind(&up.image_id)
            .bind(&up.error)
            .bind(now())
            .bind(version_id)
            .bind(region)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(())
    }

    /// Everything resolution needs to know of a package: access, versions and their copies.
    pub async fn resolution_facts(&self, package: &Package) -> Result<PackageFacts> {
        let access = self.package_access(&package.id).await?;
        self.resolution_facts_with(package, access).await
    }

    /// `resolution_facts` for a caller that already read the package's access (a lookup does).
    pub async fn resolution_facts_with(
        &self,
        package: &Package,
        access: PackageAccess,
    ) -> Result<PackageFacts> {
        let rows = sqlx::query(
            "SELECT v.id, v.name, v.status, v.published_seq, v.image,
                    c.region AS c_region, c.status AS c_status, c.progress AS c_progress, c.image_id AS c_image_id, c.error AS c_error
             FROM versions v LEFT JOIN region_copies c ON c.version_id = v.id AND c.target = 1
             WHERE v.package_id = $1 ORDER BY v.id",
        )
        .bind(&package.id)
        .fetch_all(self.pool())
        .await?;
        let mut versions: Vec<(String, VersionFacts)> = Vec::new();
        for row in &rows {
            let id: String = row.try_get("id")?;
            if versions.last().is_none_or(|(last, _)| *last != id) {
                let status: String = row.try_get("status")?;
                let image: String = row.try_get("image")?;
                versions.push((
                    id,
                    VersionFacts {
                        name: row.try_get("name")?,
                        status: VersionStatus::parse(&status).ok_or_else(|| {
                            StoreError::corrupt(format!("version status {status:?}"))
                        })?,
                        published_seq: row.try_get("published_seq")?,
                        image: serde_json::from_str(&image).map_err(StoreError::corrupt)?,
                        copies: Vec::new(),
                    },
                ));
            }
            if let Some(copy) = copy_from_row(row, "c_")? {
                // Invariant: a version was pushed above for this row.
                versions
                    .last_mut()
                    .expect("version pushed")
                    .1
                    .copies
                    .push(copy);
            }
        }
        Ok(PackageFacts {
            name: package.name.clone(),
            owner: package.owner.clone(),
            access,
            versions: versions.into_iter().map(|(_, v)| v).collect(),
        })
    }
}

/// A new region copy row: pending, with a fresh copy key (part of the cloud idempotency token).
async fn insert_copy(
    w: &mut WriteTx,
    version_id: &str,
    region: &str,
    target: bool,
    ts: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO region_copies (version_id, region, status, progress, image_id, error, updated_at, target, copy_key)
         VALUES ($1, $2, 'pending', 0, NULL, NULL, $3, $4, $5)",
    )
    .bind(version_id)
    .bind(region)
    .bind(ts)
    .bind(i64::from(target))
    .bind(super::random_key(8))
    .execute(&mut *w.tx)
    .await?;
    Ok(())
}

/// Queues the cloud image of a region copy row for deletion (when a copy was ever requested).
pub(super) async fn move_to_cleanup(w: &mut WriteTx, version_id: &str, region: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO cleanup (id, region, image_id, client_token, image_name, source_region, source_image_id, created_at)
         SELECT $1, rc.region, rc.image_id, rc.version_id || '-' || rc.region || '-' || rc.copy_key || '-' || CAST(rc.copy_serial AS TEXT),
                SUBSTR('imagenest-' || p.name || '-' || v.name, 1, 128),
                v.source_region, COALESCE(CASE WHEN rc.region = v.source_region THEN v.source_image_id ELSE d.image_id END, ''), $2
         FROM region_copies rc JOIN versions v ON v.id = rc.version_id JOIN packages p ON p.id = v.package_id
         LEFT JOIN region_copies d ON d.version_id = rc.version_id AND d.region = v.source_region
         WHERE rc.version_id = $3 AND rc.region = $4 AND rc.copy_requested = 1",
    )
    .bind(super::new_id("cln"))
    .bind(now())
    .bind(version_id)
    .bind(region)
    .execute(&mut *w.tx)
    .await?;
    Ok(())
}
