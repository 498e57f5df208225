//! `POST /v1/resolve/template`: rewrite a template's literal image IDs to the images of one
//! region, server-side, with the caller's permissions (the preprocessor as a service).

use std::{collections::BTreeMap, path::Path};

use axum::{extract::State, http::StatusCode};
use imagenest_core::{
    Principal,
    api::{TemplateAnswer, TemplateRequest},
    resolve::{self, Selector},
    service::Service,
};
use imagenest_preprocessor::{Format, Lookup, Outcome, ScanOptions};

use super::{lookup, lookup::Intent, services::build_image_map};
use crate::{auth::Caller, error::ApiError, extract::Json, state::AppState};

/// Largest template the endpoint accepts.
pub const MAX_TEMPLATE_BYTES: usize = 32 * 1024 * 1024;

/// Rewrite a template's literal image IDs to the images of a region.
#[utoipa::path(post, path = "/v1/resolve/template", tag = "resolve", request_body = TemplateRequest,
    responses((status = 200, description = "The rewritten template and a report of every image site", body = TemplateAnswer),
              (status = 422, description = "`strict` and a site could not be resolved", body = imagenest_core::api::ErrorBody)))]
pub async fn resolve_template(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Json(req): Json<TemplateRequest>,
) -> Result<axum::Json<TemplateAnswer>, ApiError> {
    if !st.config.regions.iter().any(|r| r.id == req.region) {
        return Err(ApiError::invalid(
            "region",
            format!(
                "unknown region `{}`; GET /v1/regions lists them",
                req.region
            ),
        ));
    }
    let format = match &req.format {
        Some(name) => Format::from_name(name).ok_or_else(|| {
            ApiError::invalid(
                "format",
                format!("unknown format `{name}`; use ros-yaml, ros-json, tf or tf-json"),
            )
        })?,
        None => imagenest_preprocessor::detect_format(
            req.filename.as_deref().map(Path::new),
            &req.template,
        ),
    };
    let service = lookup::service(&st, &caller, &req.service, Intent::Read).await?;
    let map = build_image_map(&st, &caller, &service).await?;
    let opts = ScanOptions {
        max_size: MAX_TEMPLATE_BYTES,
        ..ScanOptions::default()
    };
    let sites = imagenest_preprocessor::scan(&req.template, format, &opts).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_template", e.to_string())
            .with_field("template")
    })?;
    // Why an associated literal has no image in the region, computed once per literal.
    let mut reasons: BTreeMap<String, String> = BTreeMap::new();
    for literal in map.images.keys() {
        if map.lookup(literal, &req.region).is_none() {
            reasons.insert(
                literal.clone(),
                unavailable_reason(&st, &caller, &service, literal, &req.region).await,
            );
        }
    }
    let resolution = imagenest_preprocessor::resolve(&req.template, &sites, |literal| {
        match map.lookup(literal, &req.region) {
            Some(id) => Lookup::Image(id.to_string()),
            None => match reasons.get(literal) {
                Some(reason) => Lookup::Unavailable(reason.clone()),
                None => Lookup::NotAssociated,
            },
        }
    });
    let complete = resolution
        .outcomes
        .iter()
        .all(|o| matches!(o, Outcome::Replaced { .. } | Outcome::NonLiteral));
    if req.strict && !complete {
        let problems: Vec<String> = sites
            .iter()
            .zip(&resolution.outcomes)
            .filter_map(|(site, o)| match o {
                Outcome::Unassociated => Some(format!(
                    "{}: {} is not associated by service `{}`",
                    site.position, site.resource, service.name
                )),
                Outcome::Failed { message } => {
                    Some(format!("{}: {}: {message}", site.position, site.resource))
                }
                _ => None,
            })
            .take(10)
            .collect();
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unresolved_sites",
            problems.join("; "),
        )
        .with_field("template"));
    }
    let report = sites
        .iter()
        .zip(&resolution.outcomes)
        .map(|(site, outcome)| {
            let mut v = serde_json::to_value(site).unwrap_or_default();
            if let (Some(obj), Ok(serde_json::Value::Object(o))) =
                (v.as_object_mut(), serde_json::to_value(outcome))
            {
                obj.extend(o);
            }
            v
        })
        .collect();
    Ok(axum::Json(TemplateAnswer {
        template: resolution.apply(&req.template),
        format: format_name(format).into(),
        complete,
        sites: report,
    }))
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::RosYaml => "ros-yaml",
        Format::RosJson => "ros-json",
        Format::Terraform => "tf",
        Format::TerraformJson => "tf-json",
    }
}

/// The resolution error of an associated literal in a region, in words.
async fn unavailable_reason(
    st: &AppState,
    caller: &Principal,
    service: &Service,
    literal: &str,
    region: &str,
) -> String {
    let Some(assoc) = service.image_associations.get(literal) else {
        return "not associated".into();
    };
    let package = match st.store.package(&assoc.package_id).await {
        Ok(p) => p,
        Err(_) => return format!("package `{}` not found", assoc.package_id),
    };
    match st.store.resolution_facts(&package).await {
        Ok(facts) => {
            match resolve::resolve(&facts, &Selector::parse(&assoc.version), region, caller) {
                Ok(_) => format!("no image in {region}"),
                Err(e) => ApiError::from(e).message,
            }
        }
        Err(_) => format!("no image in {region}"),
    }
}
