//! Versions: create drafts, edit them, publish (freezing the image), delete unpinned ones.

use imagenest_core::{
    api::Page,
    version::{ImageSource, NewVersion, Version, VersionStatus},
};
use sqlx::{Row, any::AnyRow};

use super::{PageArgs, Result, Store, StoreError, WriteTx, new_id, now, unique_conflict};

const SELECT_VERSION: &str = "SELECT v.id, v.package_id, v.name, v.description, v.image, v.status, v.published_seq, v.revision, v.created_at, v.updated_at, v.published_at FROM versions v";

pub(super) fn version_from_row(row: &AnyRow) -> Result<Version> {
    let image: String = row.try_get("image")?;
    let status: String = row.try_get("status")?;
    Ok(Version {
        id: row.try_get("id")?,
        package_id: row.try_get("package_id")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        image: serde_json::from_str(&image).map_err(StoreError::corrupt)?,
        status: VersionStatus::parse(&status)
            .ok_or_else(|| StoreError::corrupt(format!("version status {status:?}")))?,
        revision: row.try_get("revision")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        published_at: row.try_get("published_at")?,
    })
}

pub(super) fn image_json(image: &ImageSource) -> String {
    // Invariant: ImageSource is plain strings and always serialises.
    serde_json::to_string(image).expect("image source serialises")
}

impl Store {
    pub async fn create_version(&self, package_id: &str, new: &NewVersion) -> Result<Version> {
        let id = new_id("ver");
        let ts = now();
        let mut w = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO versions (id, package_id, name, description, image, status, published_seq, revision, created_at, updated_at, published_at)
             VALUES ($1, $2, $3, $4, $5, 'draft', 0, 1, $6, $6, NULL)",
        )
        .bind(&id)
        .bind(package_id)
        .bind(&new.name)
        .bind(&new.description)
        .bind(image_json(&new.image))
        .bind(&ts)
        .execute(&mut *w.tx)
        .await
        .map_err(|e| unique_conflict(e, || format!("the package already has a version `{}`", new.name)))?;
        w.commit().await?;
        Ok(Version {
            id,
            package_id: package_id.to_string(),
            name: new.name.clone(),
            description: new.description.clone(),
            image: new.image.clone(),
            status: VersionStatus::Draft,
            revision: 1,
            created_at: ts.clone(),
            updated_at: ts,
            published_at: None,
        })
    }

    pub async fn version(&self, id: &str) -> Result<Version> {
        let row = sqlx::query(&format!("{SELECT_VERSION} WHERE v.id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        version_from_row(&row.ok_or(StoreError::NotFound)?)
    }

    pub async fn version_by_name(&self, package_id: &str, name: &str) -> Result<Version> {
        let row = sqlx::query(&format!(
            "{SELECT_VERSION} WHERE v.package_id = $1 AND v.name = $2"
        ))
        .bind(package_id)
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        version_from_row(&row.ok_or(StoreError::NotFound)?)
    }

    /// Lists a package's versions; drafts only when `drafts` is true.
    pub async fn list_versions(
        &self,
        package_id: &str,
        drafts: bool,
        page: &PageArgs,
    ) -> Result<Page<Version>> {
        let rows = sqlx::query(&format!(
            "{SELECT_VERSION} WHERE v.package_id = $1 AND ($2 = 1 OR v.status = 'published') AND v.id > $3 ORDER BY v.id LIMIT $4"
        ))
        .bind(package_id)
        .bind(i64::from(drafts))
        .bind(page.after())
        .bind(page.fetch_limit())
        .fetch_all(self.pool())
        .await?;
        let items = rows
            .iter()
            .map(version_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(page.finish(items, |v| &v.id))
    }

    /// Writes a version's description and image if its revision is still `v.revision`.
    pub async fn update_version(&self, v: &Version) -> Result<Version> {
        let ts = now();
        let mut w = self.begin_write().await?;
        // The status check keeps a concurrent publish from being overwritten with draft content.
        let n = sqlx::query(
            "UPDATE versions SET description = $1, image = $2, revision = revision + 1, updated_at = $3
             WHERE id = $4 AND revision = $5 AND status = $6",
        )
        .bind(&v.description)
        .bind(image_json(&v.image))
        .bind(&ts)
        .bind(&v.id)
        .bind(v.revision)
        .bind(v.status.as_str())
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        w.commit().await?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "version `{}` changed while this update ran; read it again and retry",
                v.name
            )));
        }
        let mut out = v.clone();
        out.revision += 1;
        out.updated_at = ts;
        Ok(out)
    }

    /// Publishes a draft (no-op for a published version) and returns the version.
    pub async fn publish_version(&self, id: &str) -> Result<Version> {
        let mut w = self.begin_write().await?;
        publish_in(&mut w, id).await?;
        w.commit().await?;
        self.version(id).await
    }

    /// Deletes a version that no service pins by name, with its region copies.
    pub async fn delete_version(&self, id: &str) -> Result<()> {
        let mut w = self.begin_write().await?;
        let row = sqlx::query("SELECT package_id, name FROM versions WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *w.tx)
            .await?;
        let row = row.ok_or(StoreError::NotFound)?;
        let (package_id, name): (String, String) =
            (row.try_get("package_id")?, row.try_get("name")?);
        let pins = sqlx::query(
            "SELECT s.name FROM associations a JOIN services s ON s.id = a.service_id WHERE a.package_id = $1 AND a.version = $2 ORDER BY s.name",
        )
        .bind(&package_id)
        .bind(&name)
        .fetch_all(&mut *w.tx)
        .await?;
        if !pins.is_empty() {
            let names = pins
                .iter()
                .map(|r| r.try_get::<String, _>("name"))
                .collect::<Result<Vec<_>, _>>()?;
            return Err(StoreError::Conflict(format!(
                "version `{name}` is pinned by service(s) {}; point them at another version or `latest` first",
                names.join(", ")
            )));
        }
        // Every copy that may exist in the cloud goes to the cleanup queue, then the rows go.
        let regions = sqlx::query(
            "SELECT region FROM region_copies WHERE version_id = $1 AND copy_requested = 1",
        )
        .bind(id)
        .fetch_all(&mut *w.tx)
        .await?;
        for r in &regions {
            super::distributions::move_to_cleanup(&mut w, id, &r.try_get::<String, _>("region")?)
                .await?;
        }
        sqlx::query("DELETE FROM region_copies WHERE version_id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query("DELETE FROM versions WHERE id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(())
    }
}

/// Publishes inside a write transaction: the version gets the next publication number.
pub(super) async fn publish_in(w: &mut WriteTx, id: &str) -> Result<()> {
    let row = sqlx::query("SELECT package_id, status FROM versions WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *w.tx)
        .await?;
    let row = row.ok_or(StoreError::NotFound)?;
    let status: String = row.try_get("status")?;
    if status == "published" {
        return Ok(());
    }
    let package_id: String = row.try_get("package_id")?;
    let image: String = sqlx::query("SELECT image FROM versions WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *w.tx)
        .await?
        .try_get("image")?;
    let image: ImageSource = serde_json::from_str(&image).map_err(StoreError::corrupt)?;
    let (source_region, source_image_id) = match &image {
        ImageSource::Custom { region, image_id } => (region.clone(), image_id.clone()),
        ImageSource::Marketplace { .. } => (String::new(), String::new()),
    };
    // Lock the package row (a no-op write) so concurrent publishes on PostgreSQL take turns
    // and get distinct numbers; SQLite writers are serialised already.
    sqlx::query("UPDATE packages SET revision = revision WHERE id = $1")
        .bind(&package_id)
        .execute(&mut *w.tx)
        .await?;
    let seq: i64 = sqlx::query(
        "SELECT COALESCE(MAX(published_seq), 0) AS n FROM versions WHERE package_id = $1",
    )
    .bind(&package_id)
    .fetch_one(&mut *w.tx)
    .await?
    .try_get("n")?;
    let ts = now();
    sqlx::query(
        "UPDATE versions SET status = 'published', published_seq = $1, published_at = $2, updated_at = $2, revision = revision + 1,
             source_region = $3, source_image_id = $4
         WHERE id = $5 AND status = 'draft'",
    )
    .bind(seq + 1)
    .bind(&ts)
    .bind(&source_region)
    .bind(&source_image_id)
    .bind(id)
    .execute(&mut *w.tx)
    .await?;
    Ok(())
}
