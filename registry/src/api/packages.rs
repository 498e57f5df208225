//! `/v1/packages`: create, list, read, update and delete deployment packages.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use imagenest_core::{
    api::Page,
    package::{NewPackage, Package, PackageUpdate},
};

use super::{ListQuery, etag, lookup, lookup::Intent};
use crate::{
    auth::Caller,
    error::ApiError,
    extract::{IfMatch, Json, Query},
    state::AppState,
};

/// List the packages the caller may see.
#[utoipa::path(get, path = "/v1/packages", tag = "packages", params(ListQuery),
    responses((status = 200, description = "A page of packages", body = Page<Package>)))]
pub async fn list(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<Page<Package>>, ApiError> {
    Ok(axum::Json(
        st.store.list_packages(&caller, &q.page()?).await?,
    ))
}

/// Create a package owned by the caller's account.
#[utoipa::path(post, path = "/v1/packages", tag = "packages", request_body(content = NewPackage, example = json!({"name": "acme_example", "description": "Acme example base image", "tags": {"team": "platform"}})),
    responses((status = 201, description = "Created", body = Package)))]
pub async fn create(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<NewPackage>,
) -> Result<Response, ApiError> {
    if !caller.can_publish() {
        return Err(ApiError::forbidden(
            "customers cannot create packages; use a vendor token",
        ));
    }
    body.validate()?;
    let p = st.store.create_package(&caller.account, &body).await?;
    Ok((StatusCode::CREATED, etag(p.revision), axum::Json(p)).into_response())
}

/// Read a package by ID, name or `owner/name`.
#[utoipa::path(get, path = "/v1/packages/{id}", tag = "packages",
    params(("id" = String, Path, description = "Package ID, name, or owner/name")),
    responses((status = 200, description = "The package", body = Package)))]
pub async fn get(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (p, _) = lookup::package(&st, &caller, &id, Intent::Read).await?;
    Ok((etag(p.revision), axum::Json(p)).into_response())
}

/// Change a package's description, resource group or tags. Send `If-Match` with the revision
/// you read to fail (412) instead of overwriting a concurrent change.
#[utoipa::path(patch, path = "/v1/packages/{id}", tag = "packages", request_body(content = PackageUpdate, example = json!({"description": "Acme base image, hardened"})),
    params(("id" = String, Path, description = "Package ID, name, or owner/name"),
           ("If-Match" = Option<String>, Header, description = "Revision the change is based on")),
    responses((status = 200, description = "The updated package", body = Package)))]
pub async fn update(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(body): Json<PackageUpdate>,
) -> Result<Response, ApiError> {
    body.validate()?;
    let (mut p, _) = lookup::package(&st, &caller, &id, Intent::Write).await?;
    if_match.check(p.revision)?;
    if body.apply(&mut p) {
        p = st.store.update_package(&p).await?;
    }
    Ok((etag(p.revision), axum::Json(p)).into_response())
}

/// Delete a package that has no versions and no service associations.
#[utoipa::path(delete, path = "/v1/packages/{id}", tag = "packages",
    params(("id" = String, Path, description = "Package ID, name, or owner/name")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> Result<StatusCode, ApiError> {
    let (p, _) = lookup::package(&st, &caller, &id, Intent::Write).await?;
    if_match.check(p.revision)?;
    st.store.delete_package(&p.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
