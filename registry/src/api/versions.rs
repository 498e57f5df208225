//! Versions of a package: create drafts, list, read, edit, publish, delete.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use imagenest_core::{
    api::Page,
    version::{NewVersion, Version, VersionUpdate},
};

use super::{ListQuery, etag, lookup, lookup::Intent};
use crate::{
    auth::Caller,
    error::ApiError,
    extract::{IfMatch, Json, Query},
    state::AppState,
};

/// List a package's versions (drafts only for its owner).
#[utoipa::path(get, path = "/v1/packages/{id}/versions", tag = "versions", params(("id" = String, Path, description = "Package ID, name, or owner/name"), ListQuery),
    responses((status = 200, description = "A page of versions", body = Page<Version>)))]
pub async fn list(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<Page<Version>>, ApiError> {
    let (p, _) = lookup::package(&st, &caller, &id, Intent::Read).await?;
    let drafts = caller.can_manage(&p.owner);
    Ok(axum::Json(
        st.store.list_versions(&p.id, drafts, &q.page()?).await?,
    ))
}

/// Create a draft version of a package.
#[utoipa::path(post, path = "/v1/packages/{id}/versions", tag = "versions", request_body(content = NewVersion, example = json!({"name": "v_example", "description": "example", "image": {"type": "custom", "region": "cn-hangzhou", "image_id": "m-source1"}})),
    params(("id" = String, Path, description = "Package ID, name, or owner/name")),
    responses((status = 201, description = "Created (as a draft)", body = Version)))]
pub async fn create(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    Json(body): Json<NewVersion>,
) -> Result<Response, ApiError> {
    let (p, _) = lookup::package(&st, &caller, &id, Intent::Write).await?;
    body.validate()?;
    let v = st.store.create_version(&p.id, &body).await?;
    Ok((StatusCode::CREATED, etag(v.revision), axum::Json(v)).into_response())
}

/// Read a version.
#[utoipa::path(get, path = "/v1/versions/{id}", tag = "versions", params(("id" = String, Path, description = "Version ID")),
    responses((status = 200, description = "The version", body = Version)))]
pub async fn get(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (v, _) = lookup::version(&st, &caller, &id, Intent::Read).await?;
    Ok((etag(v.revision), axum::Json(v)).into_response())
}

/// Edit a version: the description always, the image only while it is a draft.
#[utoipa::path(patch, path = "/v1/versions/{id}", tag = "versions", request_body(content = VersionUpdate, example = json!({"description": "release candidate"})),
    params(("id" = String, Path, description = "Version ID"), ("If-Match" = Option<String>, Header, description = "Revision the change is based on")),
    responses((status = 200, description = "The updated version", body = Version)))]
pub async fn update(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    if_match: IfMatch,
    Json(body): Json<VersionUpdate>,
) -> Result<Response, ApiError> {
    let (mut v, _) = lookup::version(&st, &caller, &id, Intent::Write).await?;
    if_match.check(v.revision)?;
    if body.apply(&mut v)? {
        v = st.store.update_version(&v).await?;
    }
    Ok((etag(v.revision), axum::Json(v)).into_response())
}

/// Publish a draft: its image is frozen from now on. Publishing a published version is a no-op.
#[utoipa::path(post, path = "/v1/versions/{id}/publish", tag = "versions", params(("id" = String, Path, description = "Version ID")),
    responses((status = 200, description = "The published version", body = Version)))]
pub async fn publish(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (v, _) = lookup::version(&st, &caller, &id, Intent::Write).await?;
    let v = st.store.publish_version(&v.id).await?;
    Ok((etag(v.revision), axum::Json(v)).into_response())
}

/// Delete a version no service pins, with its region copies.
#[utoipa::path(delete, path = "/v1/versions/{id}", tag = "versions", params(("id" = String, Path, description = "Version ID")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (v, _) = lookup::version(&st, &caller, &id, Intent::Write).await?;
    st.store.delete_version(&v.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
