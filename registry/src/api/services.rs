//! `/v1/services`: services, their whitelists and image associations, and their image maps.

use std::collections::BTreeMap;

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use imagenest_core::{
    Principal,
    api::Page,
    distribution::RegionStatus,
    image_map::{ImageMap, ImageMapEntry},
    resolve::{self, Selector},
    service::{Association, LATEST, NewService, Service, ServiceUpdate},
    version::VersionStatus,
};

use super::{ListQuery, etag, lookup, lookup::Intent};
use crate::{
    auth::Caller,
    error::ApiError,
    extract::{IfMatch, Json, Query},
    state::AppState,
    store::StoreError,
};

/// Every association must name a package of the service's owner, and a version it has.
async fn check_associations(
    st: &AppState,
    owner: &str,
    assoc: &BTreeMap<String, Association>,
) -> Result<(), ApiError> {
    for (literal, a) in assoc {
        let field = format!("image_associations.{literal}.package_id");
        let p = match st.store.package(&a.package_id).await {
            Ok(p) if p.owner == owner => p,
            Ok(_) | Err(StoreError::NotFound) => {
                // A name where the ID belongs is the common slip: say which ID to write.
                let name = a.package_id.rsplit('/').next().unwrap_or(&a.package_id);
                let message = match st.store.package_by_owner_name(owner, name).await {
                    Ok(p) => format!(
                        "`{}` is a package name; associations take the package ID: `{}`",
                        a.package_id, p.id
                    ),
                    Err(StoreError::NotFound) => format!(
                        "no package with ID `{}` among the packages of account `{owner}` \
                         (associations take a package ID, pkg-…; `imagenest package list` shows them)",
                        a.package_id
                    ),
                    Err(e) => return Err(e.into()),
                };
                return Err(ApiError::invalid(field, message));
            }
            Err(e) => return Err(e.into()),
        };
        if a.version != LATEST {
            match st.store.version_by_name(&p.id, &a.version).await {
                Ok(_) => {}
                Err(StoreError::NotFound) => {
                    return Err(ApiError::invalid(
                        format!("image_associations.{literal}.version"),
                        format!(
                            "package `{}` has no version `{}`; use a version name or `latest`",
                            p.name, a.version
                        ),
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// List the services the caller may see.
#[utoipa::path(get, path = "/v1/services", tag = "services", params(ListQuery),
    responses((status = 200, description = "A page of services", body = Page<Service>)))]
pub async fn list(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<Page<Service>>, ApiError> {
    Ok(axum::Json(
        st.store.list_services(&caller, &q.page()?).await?,
    ))
}

/// Create a service owned by the caller's account.
#[utoipa::path(post, path = "/v1/services", tag = "services", request_body(content = NewService, example = json!({"name": "acme_example_app", "visibility": "private", "whitelist": ["cust1"]})),
    responses((status = 201, description = "Created", body = Service)))]
pub async fn create(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<NewService>,
) -> Result<Response, ApiError> {
    if !caller.can_publish() {
        return Err(ApiError::forbidden(
            "customers cannot create services; use a vendor token",
        ));
    }
    body.validate()?;
    check_associations(&st, &caller.account, &body.image_associations).await?;
    let s = st.store.create_service(&caller.account, &body).await?;
    Ok((StatusCode::CREATED, etag(s.revision), axum::Json(s)).into_response())
}

/// Read a service by ID, name or `owner/name`.
#[utoipa::path(get, path = "/v1/services/{id}", tag = "services", params(("id" = String, Path, description = "Service ID, name, or owner/name")),
    responses((status = 200, description = "The service", body = Service)))]
pub async fn get(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let s = lookup::service(&st, &caller, &id, Intent::Read).await?;
    Ok((etag(s.revision), axum::Json(s)).into_response())
}

/// Change a service; a given whitelist or association map replaces the old one whole.
#[utoipa::path(patch, path = "/v1/services/{id}", tag = "services", request_body(content = ServiceUpdate, example = json!({"whitelist": ["cust1", "cust2"]})),
    params(("id" = String, Path, description = "Service ID, name, or owner/name"), ("If-Match" = Option<String>, Header, description = "Revision the change is based on")),
    responses((status = 200, description = "The updated service", body = Service)))]
pub async fn update(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(body): Json<ServiceUpdate>,
) -> Result<Response, ApiError> {
    body.validate()?;
    let mut s = lookup::service(&st, &caller, &id, Intent::Write).await?;
    if_match.check(s.revision)?;
    if let Some(assoc) = &body.image_associations {
        check_associations(&st, &s.owner, assoc).await?;
    }
    if body.apply(&mut s) {
        s = st.store.update_service(&s).await?;
    }
    Ok((etag(s.revision), axum::Json(s)).into_response())
}

/// Delete a service.
#[utoipa::path(delete, path = "/v1/services/{id}", tag = "services", params(("id" = String, Path, description = "Service ID, name, or owner/name")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> Result<StatusCode, ApiError> {
    let s = lookup::service(&st, &caller, &id, Intent::Write).await?;
    if_match.check(s.revision)?;
    st.store.delete_service(&s.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The image map of a service (DESIGN §4): for each associated literal, the image in every region
/// where the caller can resolve it. Feed it to `imagenest resolve --map` in air-gapped pipelines.
#[utoipa::path(get, path = "/v1/services/{id}/image-map", tag = "services", params(("id" = String, Path, description = "Service ID, name, or owner/name")),
    responses((status = 200, description = "The image map", body = ImageMap)))]
pub async fn image_map(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<ImageMap>, ApiError> {
    let s = lookup::service(&st, &caller, &id, Intent::Read).await?;
    Ok(axum::Json(build_image_map(&st, &caller, &s).await?))
}

/// Builds a service's image map as `caller` sees it.
pub async fn build_image_map(
    st: &AppState,
    caller: &Principal,
    s: &Service,
) -> Result<ImageMap, ApiError> {
    let mut images = BTreeMap::new();
    for (literal, a) in &s.image_associations {
        let package = match st.store.package(&a.package_id).await {
            Ok(p) => p,
            Err(StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        let facts = st.store.resolution_facts(&package).await?;
        let selector = Selector::parse(&a.version);
        // Candidate regions: wherever a matching version has an available copy.
        let mut candidates: Vec<&str> = facts
            .versions
            .iter()
            .filter(|v| {
                v.status == VersionStatus::Published
                    && (selector == Selector::Latest || v.name == a.version)
            })
            .flat_map(|v| {
                v.copies
                    .iter()
                    .filter(|c| c.status == RegionStatus::Available)
                    .map(|c| c.region.as_str())
            })
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let mut regions = BTreeMap::new();
        for region in candidates {
            if let Ok(r) = resolve::resolve(&facts, &selector, region, caller) {
                regions.insert(region.to_string(), r.image_id);
            }
        }
        images.insert(
            literal.clone(),
            ImageMapEntry {
                package: package.name.clone(),
                version: a.version.clone(),
                regions,
            },
        );
    }
    Ok(ImageMap {
        service: s.name.clone(),
        images,
    })
}
