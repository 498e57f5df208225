//! The error of every driver call, classified as retryable (try again later) or final.

/// Whether an error can go away by trying the same call again later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Throttling, internal cloud errors, timeouts, 5xx and connection errors: retry with backoff.
    Retryable,
    /// Not found, forbidden, quota, invalid parameter, bad credentials: retrying cannot help.
    Final,
}

/// A failed driver call. [`Error::Api`] keeps the cloud's own code and message verbatim, so the
/// engine can show users exactly what the cloud said.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The cloud answered with an error body.
    #[error("{action} in {region}: {code}: {message}")]
    Api {
        action: String,
        region: String,
        /// HTTP status of the answer.
        status: u16,
        /// The cloud's error code verbatim (`Throttling`, `InvalidImageId.NotFound`).
        code: String,
        /// The cloud's message verbatim.
        message: String,
        request_id: Option<String>,
    },
    /// The request did not get an answer (connection refused or reset, timeout, TLS).
    #[error("{action} in {region}: cannot reach {endpoint}: {source}")]
    Transport {
        action: String,
        region: String,
        endpoint: String,
        #[source]
        source: reqwest::Error,
    },
    /// The cloud answered something that is not the expected JSON.
    #[error("{action} in {region}: unexpected answer (HTTP {status}): {detail}")]
    Decode {
        action: String,
        region: String,
        status: u16,
        detail: String,
    },
    /// No usable credentials.
    #[error("credentials: {0}")]
    Credentials(String),
    /// Asked to share an image with more accounts than the cloud allows.
    #[error(
        "image {image_id} in {region} would be shared with {requested} accounts; the cloud allows at most {limit} per image"
    )]
    ShareLimit {
        image_id: String,
        region: String,
        requested: usize,
        limit: usize,
    },
    /// A request the driver refuses before sending (empty ID, bad endpoint URL).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

/// Codes that mean "try again later", besides any 5xx answer.
const RETRYABLE_CODES: &[&str] = &[
    "Throttling",
    "ServiceUnavailable",
    "InternalError",
    "UnknownError",
    "RequestTimeout",
    "LastTokenProcessing",
    "IdempotenceProcessing",
    "OperationConflict",
    "IncorrectInstanceStatus",
];

impl Error {
    /// Retryable or final; see [`ErrorClass`].
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Api { status, code, .. } => classify(*status, code),
            Error::Transport { .. } => ErrorClass::Retryable,
            Error::Decode { status, .. } if *status >= 500 => ErrorClass::Retryable,
            Error::Decode { .. }
            | Error::Credentials(_)
            | Error::ShareLimit { .. }
            | Error::InvalidRequest(_) => ErrorClass::Final,
        }
    }

    /// True when retrying the same call later may succeed.
    pub fn is_retryable(&self) -> bool {
        self.class() == ErrorClass::Retryable
    }

    /// The cloud's error code, when the cloud answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// True when the cloud says the image (or other resource) does not exist, e.g. deleting an
    /// image that is already gone. The engine treats that as "done" for deletes.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Api { code, status, .. } if code.contains("NotFound") || *status == 404)
    }
}

/// Classifies an Alibaba error code and HTTP status.
pub fn classify(status: u16, code: &str) -> ErrorClass {
    let head = code.split('.').next().unwrap_or(code);
    let retryable = status >= 500
        || RETRYABLE_CODES.contains(&head)
        || code.contains("Throttling")
        || code.ends_with(".Timeout")
        || code.ends_with("Timeout");
    if retryable {
        ErrorClass::Retryable
    } else {
        ErrorClass::Final
    }
}

/// Shorthand for driver results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_classify() {
        use ErrorClass::*;
        for (status, code, want) in [
            (400, "Throttling", Retryable),
            (400, "Throttling.User", Retryable),
            (503, "Throttling.Api", Retryable),
            (503, "ServiceUnavailable", Retryable),
            (500, "InternalError", Retryable),
            (500, "InvalidParameter", Retryable),
            (504, "Gateway", Retryable),
            (400, "RequestTimeout", Retryable),
            (400, "LastTokenProcessing", Retryable),
            (404, "InvalidImageId.NotFound", Final),
            (403, "Forbidden.RAM", Final),
            (403, "Forbidden", Final),
            (400, "QuotaExceed.ShareImageUser", Final),
            (400, "InvalidParameter", Final),
            (400, "IdempotentParameterMismatch", Final),
            (400, "SignatureDoesNotMatch", Final),
            (400, "IncorrectImageStatus", Final),
        ] {
            assert_eq!(classify(status, code), want, "{status} {code}");
        }
    }

    #[test]
    fn api_error_keeps_cloud_text() {
        let e = Error::Api {
            action: "CopyImage".into(),
            region: "cn-hangzhou".into(),
            status: 404,
            code: "InvalidImageId.NotFound".into(),
            message: "The specified ImageId does not exist.".into(),
            request_id: Some("r1".into()),
        };
        assert_eq!(
            e.to_string(),
            "CopyImage in cn-hangzhou: InvalidImageId.NotFound: The specified ImageId does not exist."
        );
        assert!(e.is_not_found());
        assert!(!e.is_retryable());
        assert_eq!(e.code(), Some("InvalidImageId.NotFound"));
    }
}
