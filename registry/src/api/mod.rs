//! The HTTP API under `/v1`: the router, shared request pieces, and the OpenAPI document
//! generated from the handlers' annotations.

mod distributions;
pub mod lookup;
mod packages;
mod resolve;
pub mod ros;
pub mod services;
mod system;
mod templates;
mod tokens;

use std::time::Instant;

use axum::{
    Router,
    extract::{DefaultBodyLimit, MatchedPath, Request, State},
    http::{HeaderName, HeaderValue, Method, header},
    middleware::{self, Next},
    response::Response,
    routing::{delete, get, post},
};
use imagenest_core::api::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use serde::Deserialize;
use utoipa::{
    Modify, OpenApi,
    openapi::{
        self, ContentBuilder, RefOr, ResponseBuilder,
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

use crate::{error::ApiError, state::AppState, store::PageArgs};

/// The registry's router over `state`. Tests call this directly.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.body_limit;
    Router::new()
        .route("/v1/packages", get(packages::list).post(packages::create))
        .route(
            "/v1/packages/{id}",
            get(packages::get)
                .patch(packages::update)
                .delete(packages::delete),
        )
        .route(
            "/v1/packages/{id}/versions",
            get(versions::list).post(versions::create),
        )
        .route(
            "/v1/versions/{id}",
            get(versions::get)
                .patch(versions::update)
                .delete(versions::delete),
        )
        .route("/v1/versions/{id}/publish", post(versions::publish))
        .route(
            "/v1/versions/{id}/distribution",
            get(distributions::get)
                .put(distributions::put)
                .delete(distributions::delete),
        )
        .route(
            "/v1/versions/{id}/distribution/retry",
            post(distributions::retry),
        )
        .route("/v1/services", get(services::list).post(services::create))
        .route(
            "/v1/services/{id}",
            get(services::get)
                .patch(services::update)
                .delete(services::delete),
        )
        .route("/v1/services/{id}/image-map", get(services::image_map))
        .route("/v1/resolve", get(resolve::resolve))
        .route(
            "/v1/resolve/template",
            post(templates::resolve_template).layer(DefaultBodyLimit::max(
                templates::MAX_TEMPLATE_BYTES + 64 * 1024,
            )),
        )
        .route(
            "/v1/ros/custom-resource/{token}",
            post(ros::custom_resource),
        )
        .route("/v1/regions", get(system::regions))
        .route("/v1/tokens", get(tokens::list).post(tokens::create))
        .route("/v1/tokens/{id}", delete(tokens::delete))
        .route("/v1/whoami", get(tokens::whoami))
        .route("/v1/openapi.json", get(system::openapi))
        .route("/healthz", get(system::healthz))
        .route("/metrics", get(system::metrics))
        .fallback(system::not_found)
        .method_not_allowed_fallback(system::method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

mod versions;

/// Records metrics for every request and, after any write, invalidates the read caches.
async fn observe(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    let res = next.run(req).await;
    // Only a successful write can have changed anything (the ROS endpoint never writes): a flood
    // of rejected requests must not empty the caches.
    let wrote = method != Method::GET && method != Method::HEAD && res.status().is_success();
    if wrote && !route.as_deref().is_some_and(|r| r.starts_with("/v1/ros/")) {
        st.invalidate();
        st.wake_engine();
    }
    st.metrics.record(
        route.as_deref().unwrap_or("unmatched"),
        method.as_str(),
        res.status().as_u16(),
        started.elapsed(),
    );
    res
}

/// `?limit=&page_token=` of list endpoints.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// `next_page_token` of the previous page.
    pub page_token: Option<String>,
}

impl ListQuery {
    pub fn page(&self) -> Result<PageArgs, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(ApiError::invalid(
                "limit",
                format!("limit must be 1–{MAX_PAGE_SIZE}"),
            ));
        }
        Ok(PageArgs {
            after: self.page_token.clone(),
            limit,
        })
    }
}

/// The `ETag` header carrying an object's revision (send it back as `If-Match`).
pub fn etag(revision: i64) -> [(HeaderName, HeaderValue); 1] {
    // Invariant: a quoted integer is always a valid header value.
    [(
        header::ETAG,
        HeaderValue::from_str(&format!("\"{revision}\""))
            .expect("quoted integer is a header value"),
    )]
}

#[derive(OpenApi)]
#[openapi(
    info(title = "imagenest registry API", description = "Deployment packages of VM images, their distribution to regions, services and image resolution."),
    paths(
        packages::list, packages::create, packages::get, packages::update, packages::delete,
        versions::list, versions::create, versions::get, versions::update, versions::publish, versions::delete,
        distributions::get, distributions::put, distributions::delete, distributions::retry,
        services::list, services::create, services::get, services::update, services::delete, services::image_map,
        resolve::resolve, ros::custom_resource, templates::resolve_template,
        tokens::create, tokens::list, tokens::delete, tokens::whoami,
        system::regions, system::healthz, system::metrics, system::openapi,
    ),
    components(schemas(imagenest_core::api::ErrorBody)),
    modifiers(&Conventions),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

/// Adds the bearer scheme and the error answers every operation can give.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        let errors: &[(&str, &str)] = &[
            ("400", "Invalid input; `field` names the offending field"),
            ("401", "Missing, invalid or revoked token"),
            ("403", "The caller may see the object but not do this"),
            ("404", "Not found, or not visible to the caller"),
            ("405", "Method not allowed"),
            (
                "409",
                "Conflicts with the current state (name taken, in use, not distributed, still copying…)",
            ),
            ("412", "If-Match revision is stale"),
            ("413", "Body too large"),
            ("415", "Body is not JSON"),
            ("500", "Internal error (details only in the registry log)"),
        ];
        for item in doc.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for op in ops.into_iter().flatten() {
                for (code, description) in errors {
                    op.responses
                        .responses
                        .entry(code.to_string())
                        .or_insert_with(|| {
                            RefOr::T(
                                ResponseBuilder::new()
                                    .description(*description)
                                    .content(
                                        "application/json",
                                        ContentBuilder::new()
                                            .schema(Some(openapi::Ref::from_schema_name(
                                                "ErrorBody",
                                            )))
                                            .build(),
                                    )
                                    .build(),
                            )
                        });
                }
            }
        }
    }
}
