//! `GET /v1/resolve`: the image of a package version in one region, for the caller.
//! The hot path of the registry: answers are cached per caller for one generation (see `cache`).

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use imagenest_core::{
    api::Resolution,
    resolve::{self, Selector},
    service::LATEST,
};
use serde::Deserialize;

use super::{lookup, lookup::Intent};
use crate::{
    auth::Caller,
    error::ApiError,
    extract::Query,
    state::{AppState, ResolveKey},
};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResolveQuery {
    /// Package ID, name, or owner/name.
    #[param(example = "acme_base")]
    pub package: String,
    /// Version name, or `latest` (the default): the newest published version available in the region.
    pub version: Option<String>,
    /// Region ID, e.g. `cn-hangzhou`.
    #[param(example = "cn-hangzhou")]
    pub region: String,
}

/// Resolve a package version to its image ID in a region.
#[utoipa::path(get, path = "/v1/resolve", tag = "resolve", params(ResolveQuery),
    responses((status = 200, description = "The image of the region", body = Resolution)))]
pub async fn resolve(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Query(q): Query<ResolveQuery>,
) -> Response {
    let key = ResolveKey {
        caller,
        package: q.package,
        version: q.version.unwrap_or_else(|| LATEST.to_string()),
        region: q.region,
    };
    let generation = st.generation.current();
    if let Some((status, body)) = st.resolutions.get(&key, generation) {
        return json_response(status, body);
    }
    let (status, body) = match answer(&st, &key).await {
        Ok(r) => (200, serde_json::to_vec(&r)),
        Err(e) => (e.status.as_u16(), serde_json::to_vec(&e.body())),
    };
    // Invariant: both answers are plain structs of strings and always serialise.
    let body = bytes::Bytes::from(body.expect("answer serialises"));
    if status < 500 {
        st.resolutions.put(key, generation, (status, body.clone()));
    }
    json_response(status, body)
}

async fn answer(st: &AppState, key: &ResolveKey) -> Result<Resolution, ApiError> {
    if !st.config.regions.iter().any(|r| r.id == key.region) {
        return Err(ApiError::invalid(
            "region",
            format!(
                "unknown region `{}`; GET /v1/regions lists them",
                key.region
            ),
        ));
    }
    let (package, access) = lookup::package(st, &key.caller, &key.package, Intent::Resolve).await?;
    let facts = st.store.resolution_facts_with(&package, access).await?;
    let r = resolve::resolve(
        &facts,
        &Selector::parse(&key.version),
        &key.region,
        &key.caller,
    )?;
    Ok(Resolution {
        image_id: r.image_id,
        package: package.name,
        version: r.version,
        region: key.region.clone(),
    })
}

fn json_response(status: u16, body: bytes::Bytes) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
