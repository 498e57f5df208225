//! Packages: create, read, update with revision checks, delete, and their derived access.

use std::collections::BTreeMap;

use imagenest_core::{
    Principal,
    access::{PackageAccess, PackageVisibility},
    api::Page,
    package::{NewPackage, Package},
    service::Visibility,
};
use sqlx::{Row, any::AnyRow};

use super::{PageArgs, Result, Store, StoreError, new_id, now, unique_conflict};

/// Columns of a package plus its derived public flag.
const SELECT_PACKAGE: &str = "SELECT p.id, p.owner, p.name, p.description, p.resource_group, p.tags, p.revision, p.created_at, p.updated_at,
    CASE WHEN EXISTS (SELECT 1 FROM associations a JOIN services s ON s.id = a.service_id
                      WHERE a.package_id = p.id AND s.visibility = 'public')
         THEN CAST(1 AS BIGINT) ELSE CAST(0 AS BIGINT) END AS public
    FROM packages p";

/// Rows a non-admin may read: its own, and those a public service or its whitelist exposes.
const VISIBLE_TO: &str = "(p.owner = $1 OR EXISTS (
    SELECT 1 FROM associations a JOIN services s ON s.id = a.service_id
    WHERE a.package_id = p.id AND (s.visibility = 'public'
        OR EXISTS (SELECT 1 FROM service_whitelist w WHERE w.service_id = s.id AND w.account = $1))))";

fn package_from_row(row: &AnyRow) -> Result<Package> {
    let tags: String = row.try_get("tags")?;
    let tags: BTreeMap<String, String> =
        serde_json::from_str(&tags).map_err(StoreError::corrupt)?;
    let public: i64 = row.try_get("public")?;
    Ok(Package {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        owner: row.try_get("owner")?,
        description: row.try_get("description")?,
        resource_group: row.try_get("resource_group")?,
        tags,
        visibility: if public != 0 {
            PackageVisibility::Public
        } else {
            PackageVisibility::Private
        },
        revision: row.try_get("revision")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn tags_json(tags: &BTreeMap<String, String>) -> String {
    // Invariant: a map of strings always serialises.
    serde_json::to_string(tags).expect("string map serialises")
}

impl Store {
    pub async fn create_package(&self, owner: &str, new: &NewPackage) -> Result<Package> {
        let id = new_id("pkg");
        let ts = now();
        let mut w = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO packages (id, owner, name, description, resource_group, tags, revision, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)",
        )
        .bind(&id)
        .bind(owner)
        .bind(&new.name)
        .bind(&new.description)
        .bind(&new.resource_group)
        .bind(tags_json(&new.tags))
        .bind(&ts)
        .execute(&mut *w.tx)
        .await
        .map_err(|e| unique_conflict(e, || format!("package `{}` already exists for account `{owner}`", new.name)))?;
        w.commit().await?;
        Ok(Package {
            id,
            name: new.name.clone(),
            owner: owner.to_string(),
            description: new.description.clone(),
            resource_group: new.resource_group.clone(),
            tags: new.tags.clone(),
            visibility: PackageVisibility::Private,
            revision: 1,
            created_at: ts.clone(),
            updated_at: ts,
        })
    }

    pub async fn package(&self, id: &str) -> Result<Package> {
        let row = sqlx::query(&format!("{SELECT_PACKAGE} WHERE p.id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        package_from_row(&row.ok_or(StoreError::NotFound)?)
    }

    /// Packages with this name, of every owner (names are unique per owner only).
    pub async fn packages_named(&self, name: &str) -> Result<Vec<Package>> {
        let rows = sqlx::query(&format!(
            "{SELECT_PACKAGE} WHERE p.name = $1 ORDER BY p.owner"
        ))
        .bind(name)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(package_from_row).collect()
    }

    /// The package `owner` has under `name`.
    pub async fn package_by_owner_name(&self, owner: &str, name: &str) -> Result<Package> {
        let row = sqlx::query(&format!(
            "{SELECT_PACKAGE} WHERE p.owner = $1 AND p.name = $2"
        ))
        .bind(owner)
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        package_from_row(&row.ok_or(StoreError::NotFound)?)
    }

    /// Lists the packages `viewer` may read: admins all; vendors their own; customers those
    /// shared with them or public.
    pub async fn list_packages(
        &self,
        viewer: &Principal,
        page: &PageArgs,
    ) -> Result<Page<Package>> {
        use imagenest_core::Role;
        let filter = match viewer.role {
            Role::Admin => "($1 = $1)",
            Role::Vendor => "p.owner = $1",
            Role::Customer => VISIBLE_TO,
        };
        let sql = format!("{SELECT_PACKAGE} WHERE {filter} AND p.id > $2 ORDER BY p.id LIMIT $3");
        let rows = sqlx::query(&sql)
            .bind(&viewer.account)
            .bind(page.after())
            .bind(page.fetch_limit())
            .fetch_all(self.pool())
            .await?;
        let items = rows
            .iter()
            .map(package_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(page.finish(items, |p| &p.id))
    }

    /// Writes the changed fields of `p`, if its stored revision is still `p.revision`; returns
    /// the package with its new revision.
    pub async fn update_package(&self, p: &Package) -> Result<Package> {
        let ts = now();
        let mut w = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE packages SET description = $1, resource_group = $2, tags = $3, revision = revision + 1, updated_at = $4
             WHERE id = $5 AND revision = $6",
        )
        .bind(&p.description)
        .bind(&p.resource_group)
        .bind(tags_json(&p.tags))
        .bind(&ts)
        .bind(&p.id)
        .bind(p.revision)
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        w.commit().await?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "package `{}` changed while this update ran; read it again and retry",
                p.name
            )));
        }
        let mut out = p.clone();
        out.revision += 1;
        out.updated_at = ts;
        Ok(out)
    }

    /// Deletes a package that no service uses and that has no versions left.
    pub async fn delete_package(&self, id: &str) -> Result<()> {
        let mut w = self.begin_write().await?;
        let used: i64 = sqlx::query("SELECT COUNT(*) AS n FROM associations WHERE package_id = $1")
            .bind(id)
            .fetch_one(&mut *w.tx)
            .await?
            .try_get("n")?;
        if used > 0 {
            return Err(StoreError::Conflict(format!(
                "package is associated by {used} service image association(s); remove those associations first"
            )));
        }
        let versions: i64 = sqlx::query("SELECT COUNT(*) AS n FROM versions WHERE package_id = $1")
            .bind(id)
            .fetch_one(&mut *w.tx)
            .await?
            .try_get("n")?;
        if versions > 0 {
            return Err(StoreError::Conflict(format!(
                "package still has {versions} version(s); delete them first"
            )));
        }
        let n = sqlx::query("DELETE FROM packages WHERE id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?
            .rows_affected();
        w.commit().await?;
        if n == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// Who may resolve the package besides its owner, derived from the services using it.
    pub async fn package_access(&self, package_id: &str) -> Result<PackageAccess> {
        let rows = sqlx::query(
            "SELECT s.id, s.visibility, w.account FROM associations a JOIN services s ON s.id = a.service_id
             LEFT JOIN service_whitelist w ON w.service_id = s.id WHERE a.package_id = $1",
        )
        .bind(package_id)
        .fetch_all(self.pool())
        .await?;
        let mut services: BTreeMap<String, (Visibility, std::collections::BTreeSet<String>)> =
            BTreeMap::new();
        for row in &rows {
            let id: String = row.try_get("id")?;
            let vis: String = row.try_get("visibility")?;
            let vis = Visibility::parse(&vis)
                .ok_or_else(|| StoreError::corrupt(format!("visibility {vis:?}")))?;
            let entry = services
                .entry(id)
                .or_insert_with(|| (vis, Default::default()));
            if let Some(account) = row.try_get::<Option<String>, _>("account")? {
                entry.1.insert(account);
            }
        }
        Ok(PackageAccess::derive(
            services.values().map(|(v, w)| (*v, w)),
        ))
    }
}
