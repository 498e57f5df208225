//! `GET /v1/resolve`: the image of a package version in one region, for the caller.
//! The hot path of the registry: answers are cached per caller for one generation (see `cache`),
//! and the store reads behind them per package key for all callers, so that a new caller costs
//! no store read either.

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
    state::{AppState, PackageReads, ResolveKey},
};
use std::sync::Arc;

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
    let reads = package_reads(st, &key.package).await?;
    let chosen = lookup::choose_package(
        reads.iter().map(|(p, facts)| (p, &facts.access)),
        &key.caller,
        &key.package,
        Intent::Resolve,
    )?;
    let (package, facts) = &reads[chosen];
    let r = resolve::resolve(
        facts,
        &Selector::parse(&key.version),
        &key.region,
        &key.caller,
    )?;
    Ok(Resolution {
        image_id: r.image_id,
        package: package.name.clone(),
        version: r.version,
        region: key.region.clone(),
    })
}

/// The store's facts of every package `key` may name, cached per generation for all callers.
async fn package_reads(st: &AppState, key: &str) -> Result<PackageReads, ApiError> {
    let generation = st.generation.current();
    if let Some(hit) = st.package_facts.get(&key.to_string(), generation) {
        return Ok(hit);
    }
    let mut reads = Vec::new();
    for (package, access) in lookup::package_candidates(st, key).await? {
        let facts = st.store.resolution_facts_with(&package, access).await?;
        reads.push((package, facts));
    }
    let reads: PackageReads = Arc::new(reads);
    st.package_facts
        .put(key.to_string(), generation, reads.clone());
    Ok(reads)
}

fn json_response(status: u16, body: bytes::Bytes) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
