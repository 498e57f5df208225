//! `/v1/versions/{id}/distribution`: the target regions of a version and each region's copy.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::IntoResponse,
};
use imagenest_core::{
    distribution::{Distribution, DistributionRequest},
    version::VersionStatus,
};

use super::{etag, lookup, lookup::Intent};
use crate::{
    auth::Caller,
    error::ApiError,
    extract::{IfMatch, Json},
    state::AppState,
};

/// Read a version's distribution: overall status and every region's copy.
#[utoipa::path(get, path = "/v1/versions/{id}/distribution", tag = "distributions", params(("id" = String, Path, description = "Version ID")),
    responses((status = 200, description = "The distribution", body = Distribution),
              (status = 404, description = "No such version, or it is not distributed to any region", body = imagenest_core::api::ErrorBody)))]
pub async fn get(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let (v, _) = lookup::version(&st, &caller, &id, Intent::Read).await?;
    let d = st.store.distribution(&v.id).await?;
    // No target region and no copy left: there is no distribution to describe (an empty one
    // would have to claim a status, and none of them is true).
    if d.regions.is_empty() {
        return Err(ApiError::not_found(format!(
            "version `{}` is not distributed to any region; PUT /v1/versions/{}/distribution \
                 with the target regions to distribute it",
            v.name, v.id
        )));
    }
    Ok((etag(d.revision), axum::Json(d)))
}

/// Set the target regions (`["all"]` for every region). Publishes a draft first. New regions are
/// copied, removed regions' copies deleted, kept regions untouched. Send `If-Match` with the
/// revision you read to fail (412) instead of overwriting a concurrent change.
#[utoipa::path(put, path = "/v1/versions/{id}/distribution", tag = "distributions", request_body(content = DistributionRequest, example = json!({"regions": ["cn-hangzhou", "cn-beijing"]})),
    params(("id" = String, Path, description = "Version ID"),
           ("If-Match" = Option<String>, Header, description = "Distribution revision the change is based on (its ETag)")),
    responses((status = 200, description = "The distribution", body = Distribution),
              (status = 412, description = "Someone changed the regions since that revision", body = imagenest_core::api::ErrorBody)))]
pub async fn put(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    IfMatch(expected): IfMatch,
    Json(body): Json<DistributionRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let (v, _) = lookup::version(&st, &caller, &id, Intent::Write).await?;
    let targets = body.target_regions(&st.region_ids())?;
    let d = st
        .store
        .set_distribution_regions_if(&v.id, &targets, expected)
        .await?;
    Ok((etag(d.revision), axum::Json(d)))
}

/// Remove every region: all copies of the version are deleted.
#[utoipa::path(delete, path = "/v1/versions/{id}/distribution", tag = "distributions", params(("id" = String, Path, description = "Version ID"),
           ("If-Match" = Option<String>, Header, description = "Distribution revision the change is based on (its ETag)")),
    responses((status = 204, description = "Every copy is being deleted"),
              (status = 412, description = "Someone changed the regions since that revision", body = imagenest_core::api::ErrorBody)))]
pub async fn delete(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
    IfMatch(expected): IfMatch,
) -> Result<StatusCode, ApiError> {
    let (v, _) = lookup::version(&st, &caller, &id, Intent::Write).await?;
    if v.status == VersionStatus::Published {
        st.store
            .set_distribution_regions_if(&v.id, &[], expected)
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Copy the failed regions again; other regions are untouched.
#[utoipa::path(post, path = "/v1/versions/{id}/distribution/retry", tag = "distributions", params(("id" = String, Path, description = "Version ID")),
    responses((status = 200, description = "The distribution", body = Distribution)))]
pub async fn retry(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<Distribution>, ApiError> {
    let (v, _) = lookup::version(&st, &caller, &id, Intent::Write).await?;
    st.store.retry_failed_regions(&v.id).await?;
    Ok(axum::Json(st.store.distribution(&v.id).await?))
}
