//! `ApiError`: every failure as the API answers it — a status and `{code, message, field}`.
//! Internal failures are logged with their cause and answered without it.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use imagenest_core::{Invalid, api::ErrorBody, resolve::ResolveError, version::VersionChangeError};

use crate::store::StoreError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_argument", message).with_field(field)
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn internal() -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the registry log has the details",
        )
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code.to_string(),
            message: self.message.clone(),
            field: self.field.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let unauthenticated = status == StatusCode::UNAUTHORIZED;
        let mut res = (status, axum::Json(self.body())).into_response();
        if unauthenticated {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::not_found("not found"),
            StoreError::Conflict(message) => ApiError::conflict(message),
            StoreError::RevisionMismatch { expected, actual } => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                format!(
                    "If-Match revision {expected} is stale: the current revision is {actual}; read the object again"
                ),
            ),
            StoreError::Database(e) => {
                tracing::error!(error = %e, "database error");
                ApiError::internal()
            }
            StoreError::Corrupt(e) => {
                tracing::error!(error = %e, "corrupt stored data");
                ApiError::internal()
            }
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(err: Invalid) -> Self {
        ApiError::invalid(err.field, err.message)
    }
}

impl From<VersionChangeError> for ApiError {
    fn from(err: VersionChangeError) -> Self {
        match err {
            VersionChangeError::Invalid(i) => i.into(),
            VersionChangeError::Frozen(_) => {
                ApiError::new(StatusCode::CONFLICT, "version_published", err.to_string())
                    .with_field("image")
            }
        }
    }
}

impl From<ResolveError> for ApiError {
    fn from(err: ResolveError) -> Self {
        let message = err.to_string();
        match &err {
            ResolveError::PackageNotFound { package } | ResolveError::Forbidden { package, .. } => {
                // The same answer for both, so a caller cannot learn that a package exists.
                ApiError::not_found(format!(
                    "package `{package}` not found, or not shared with your account"
                ))
                .with_field("package")
            }
            ResolveError::VersionNotFound { .. } | ResolveError::NoPublishedVersion { .. } => {
                ApiError::not_found(message).with_field("version")
            }
            ResolveError::NotDistributed { .. } => {
                ApiError::new(StatusCode::CONFLICT, "not_distributed", message).with_field("region")
            }
            ResolveError::StillCopying { .. } => {
                ApiError::new(StatusCode::CONFLICT, "still_copying", message).with_field("region")
            }
            ResolveError::CopyFailed { .. } => {
                ApiError::new(StatusCode::CONFLICT, "copy_failed", message).with_field("region")
            }
            ResolveError::DraftOutsideSourceRegion { .. } => {
                ApiError::new(StatusCode::CONFLICT, "draft_outside_source_region", message)
                    .with_field("region")
            }
        }
    }
}
