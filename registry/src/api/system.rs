//! Endpoints about the registry itself: health, metrics, regions, the OpenAPI document, and the
//! JSON answers for unknown routes and methods.

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use imagenest_core::api::RegionList;
use utoipa::OpenApi;

use crate::{error::ApiError, state::AppState};

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` when the database answers.
    pub status: String,
}

/// Liveness and readiness: 200 when the database answers, 503 when not.
#[utoipa::path(get, path = "/healthz", tag = "system", security(),
    responses((status = 200, description = "Healthy", body = Health), (status = 503, description = "The database does not answer", body = imagenest_core::api::ErrorBody)))]
pub async fn healthz(State(st): State<AppState>) -> Response {
    match st.store.ping().await {
        Ok(()) => axum::Json(Health {
            status: "ok".into(),
        })
        .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the database does not answer",
            )
            .into_response()
        }
    }
}

/// Metrics in the Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "system", security(),
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub async fn metrics(State(st): State<AppState>) -> Response {
    let mut gauges = vec![(
        "imagenest_up".to_string(),
        "1 while the registry serves.".to_string(),
        1.0,
    )];
    match st.store.copy_counts().await {
        Ok(counts) => {
            for (status, n) in counts {
                let (name, help) = if status == "cleanup" {
                    (
                        "imagenest_cleanup_queue".to_string(),
                        "Cloud images waiting to be deleted.".to_string(),
                    )
                } else {
                    (
                        format!("imagenest_region_copies{{status=\"{status}\"}}"),
                        "Region copies of target regions, by status.".to_string(),
                    )
                };
                gauges.push((name, help, n as f64));
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot count region copies for metrics"),
    }
    let gauges: Vec<(&str, &str, f64)> = gauges
        .iter()
        .map(|(n, h, v)| (n.as_str(), h.as_str(), *v))
        .collect();
    let text = st.metrics.render(&gauges);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// The regions the registry's cloud offers.
#[utoipa::path(get, path = "/v1/regions", tag = "system", security(),
    responses((status = 200, description = "Regions", body = RegionList)))]
pub async fn regions(State(st): State<AppState>) -> axum::Json<RegionList> {
    axum::Json(RegionList {
        regions: st.config.regions.clone(),
    })
}

/// This document.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "system", security(),
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json", body = Object)))]
pub async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        super::ApiDoc::openapi().to_json().unwrap_or_default(),
    )
        .into_response()
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; GET /v1/openapi.json lists them")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method; GET /v1/openapi.json lists them",
    )
}
