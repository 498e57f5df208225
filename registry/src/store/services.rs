//! Services with their whitelists and image associations.

use std::collections::{BTreeMap, BTreeSet};

use imagenest_core::{
    Principal, Role,
    api::Page,
    service::{Association, NewService, Service, Visibility},
};
use sqlx::{Row, any::AnyRow};

use super::{PageArgs, Result, Store, StoreError, WriteTx, new_id, now, unique_conflict};

const SELECT_SERVICE: &str = "SELECT s.id, s.owner, s.name, s.visibility, s.revision, s.created_at, s.updated_at FROM services s";

fn service_from_row(row: &AnyRow) -> Result<Service> {
    let vis: String = row.try_get("visibility")?;
    Ok(Service {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        owner: row.try_get("owner")?,
        visibility: Visibility::parse(&vis)
            .ok_or_else(|| StoreError::corrupt(format!("visibility {vis:?}")))?,
        whitelist: BTreeSet::new(),
        image_associations: BTreeMap::new(),
        revision: row.try_get("revision")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Marks the available copies of the packages a service associates (before and after a change)
/// for a sharing sync: their share lists must follow the packages' derived visibility. A copy
/// backing off after failed sharing attempts is synced at once: the change may be the fix.
async fn mark_sharing_dirty(
    w: &mut WriteTx,
    service_id: &str,
    extra: impl Iterator<Item = &String>,
) -> Result<()> {
    let rows = sqlx::query("SELECT DISTINCT package_id FROM associations WHERE service_id = $1")
        .bind(service_id)
        .fetch_all(&mut *w.tx)
        .await?;
    let mut packages: BTreeSet<String> = extra.cloned().collect();
    for row in &rows {
        packages.insert(row.try_get("package_id")?);
    }
    for p in packages {
        sqlx::query(
            "UPDATE region_copies SET share_dirty = share_dirty + 1, next_attempt_at = 0
             WHERE status = 'available' AND version_id IN (SELECT id FROM versions WHERE package_id = $1)",
        )
        .bind(p)
        .execute(&mut *w.tx)
        .await?;
    }
    Ok(())
}

async fn write_children(
    w: &mut WriteTx,
    id: &str,
    whitelist: &BTreeSet<String>,
    assoc: &BTreeMap<String, Association>,
) -> Result<()> {
    mark_sharing_dirty(w, id, assoc.values().map(|a| &a.package_id)).await?;
    sqlx::query("DELETE FROM service_whitelist WHERE service_id = $1")
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
    sqlx::query("DELETE FROM associations WHERE service_id = $1")
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
    for account in whitelist {
        sqlx::query("INSERT INTO service_whitelist (service_id, account) VALUES ($1, $2)")
            .bind(id)
            .bind(account)
            .execute(&mut *w.tx)
            .await?;
    }
    for (literal, a) in assoc {
        sqlx::query("INSERT INTO associations (service_id, literal, package_id, version) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(literal)
            .bind(&a.package_id)
            .bind(&a.version)
            .execute(&mut *w.tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                    StoreError::Conflict(format!("image_associations.{literal}: package `{}` does not exist", a.package_id))
                }
                _ => StoreError::Database(e),
            })?;
    }
    Ok(())
}

impl Store {
    pub async fn create_service(&self, owner: &str, new: &NewService) -> Result<Service> {
        let id = new_id("svc");
        let ts = now();
        let mut w = self.begin_write().await?;
        sqlx::query("INSERT INTO services (id, owner, name, visibility, revision, created_at, updated_at) VALUES ($1, $2, $3, $4, 1, $5, $5)")
            .bind(&id)
            .bind(owner)
            .bind(&new.name)
            .bind(new.visibility.as_str())
            .bind(&ts)
            .execute(&mut *w.tx)
            .await
            .map_err(|e| unique_conflict(e, || format!("service `{}` already exists for account `{owner}`", new.name)))?;
        write_children(&mut w, &id, &new.whitelist, &new.image_associations).await?;
        w.commit().await?;
        Ok(Service {
            id,
            name: new.name.clone(),
            owner: owner.to_string(),
            visibility: new.visibility,
            whitelist: new.whitelist.clone(),
            image_associations: new.image_associations.clone(),
            revision: 1,
            created_at: ts.clone(),
            updated_at: ts,
        })
    }

    async fn fill_service(&self, s: Service) -> Result<Service> {
        let mut filled = self.fill_services(vec![s]).await?;
        filled.pop().ok_or(StoreError::NotFound)
    }

    /// Adds whitelists and associations to a page of services: two queries for the whole page
    /// (at most `MAX_PAGE_SIZE` + 1 IDs), not two per service.
    async fn fill_services(&self, mut services: Vec<Service>) -> Result<Vec<Service>> {
        if services.is_empty() {
            return Ok(services);
        }
        let ids: Vec<String> = services.iter().map(|s| s.id.clone()).collect();
        let at: std::collections::HashMap<&str, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let placeholders = (1..=ids.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");

        let sql = format!(
            "SELECT service_id, account FROM service_whitelist WHERE service_id IN ({placeholders})"
        );
        let mut query = sqlx::query(&sql);
        for id in &ids {
            query = query.bind(id);
        }
        for row in &query.fetch_all(self.pool()).await? {
            let id: String = row.try_get("service_id")?;
            if let Some(&i) = at.get(id.as_str()) {
                services[i].whitelist.insert(row.try_get("account")?);
            }
        }

        let sql = format!(
            "SELECT service_id, literal, package_id, version FROM associations WHERE service_id IN ({placeholders})"
        );
        let mut query = sqlx::query(&sql);
        for id in &ids {
            query = query.bind(id);
        }
        for row in &query.fetch_all(self.pool()).await? {
            let id: String = row.try_get("service_id")?;
            if let Some(&i) = at.get(id.as_str()) {
                services[i].image_associations.insert(
                    row.try_get("literal")?,
                    Association {
                        package_id: row.try_get("package_id")?,
                        version: row.try_get("version")?,
                    },
                );
            }
        }
        Ok(services)
    }

    pub async fn service(&self, id: &str) -> Result<Service> {
        let row = sqlx::query(&format!("{SELECT_SERVICE} WHERE s.id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        self.fill_service(service_from_row(&row.ok_or(StoreError::NotFound)?)?)
            .await
    }

    /// Services with this name, of every owner.
    pub async fn services_named(&self, name: &str) -> Result<Vec<Service>> {
        let rows = sqlx::query(&format!(
            "{SELECT_SERVICE} WHERE s.name = $1 ORDER BY s.owner"
        ))
        .bind(name)
        .fetch_all(self.pool())
        .await?;
        let services = rows
            .iter()
            .map(service_from_row)
            .collect::<Result<Vec<_>>>()?;
        self.fill_services(services).await
    }

    /// Lists the services `viewer` may read: admins all; vendors their own; customers public
    /// ones and those whitelisting them.
    pub async fn list_services(
        &self,
        viewer: &Principal,
        page: &PageArgs,
    ) -> Result<Page<Service>> {
        let filter = match viewer.role {
            Role::Admin => "($1 = $1)",
            Role::Vendor => "s.owner = $1",
            Role::Customer => {
                "(s.visibility = 'public' OR EXISTS (SELECT 1 FROM service_whitelist w WHERE w.service_id = s.id AND w.account = $1))"
            }
        };
        let sql = format!("{SELECT_SERVICE} WHERE {filter} AND s.id > $2 ORDER BY s.id LIMIT $3");
        let rows = sqlx::query(&sql)
            .bind(&viewer.account)
            .bind(page.after())
            .bind(page.fetch_limit())
            .fetch_all(self.pool())
            .await?;
        let items = rows
            .iter()
            .map(service_from_row)
            .collect::<Result<Vec<_>>>()?;
        let items = self.fill_services(items).await?;
        Ok(page.finish(items, |s| &s.id))
    }

    /// Writes a service whole (name, visibility, whitelist, associations) if its revision is
    /// still `s.revision`.
    pub async fn update_service(&self, s: &Service) -> Result<Service> {
        let ts = now();
        let mut w = self.begin_write().await?;
        let n = sqlx::query("UPDATE services SET name = $1, visibility = $2, revision = revision + 1, updated_at = $3 WHERE id = $4 AND revision = $5")
            .bind(&s.name)
            .bind(s.visibility.as_str())
            .bind(&ts)
            .bind(&s.id)
            .bind(s.revision)
            .execute(&mut *w.tx)
            .await
            .map_err(|e| unique_conflict(e, || format!("service `{}` already exists for account `{}`", s.name, s.owner)))?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "service `{}` changed while this update ran; read it again and retry",
                s.name
            )));
        }
        write_children(&mut w, &s.id, &s.whitelist, &s.image_associations).await?;
        w.commit().await?;
        let mut out = s.clone();
        out.revision += 1;
        out.updated_at = ts;
        Ok(out)
    }

    pub async fn delete_service(&self, id: &str) -> Result<()> {
        let mut w = self.begin_write().await?;
        mark_sharing_dirty(&mut w, id, std::iter::empty()).await?;
        sqlx::query("DELETE FROM service_whitelist WHERE service_id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query("DELETE FROM associations WHERE service_id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        let n = sqlx::query("DELETE FROM services WHERE id = $1")
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
}
