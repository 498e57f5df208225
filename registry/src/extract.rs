//! Request extractors that answer bad input in the API's error format: JSON bodies (with the
//! path of the offending field), query strings, and `If-Match` revisions.

use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::{StatusCode, header, request::Parts},
};
use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body; a syntax or type error names the field at fault.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json")
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            });
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the body is larger than the registry accepts (1 MiB)",
                )
            } else {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_body",
                    format!("could not read the body: {e}"),
                )
            }
        })?;
        parse_json(&bytes).map(Json)
    }
}

/// Parses JSON, naming the path of the field that failed.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        // A syntax error has a line and column but no field; a data error names the path as
        // far as it is known (serde_path_to_error writes `?` for a segment it could not tell).
        let field = if inner.is_syntax() || inner.is_eof() {
            None
        } else {
            let known: Vec<&str> = path
                .split('.')
                .take_while(|segment| !segment.is_empty() && !segment.starts_with('?'))
                .collect();
            (!known.is_empty()).then(|| known.join("."))
        };
        let code = if inner.is_syntax() || inner.is_eof() {
            "malformed_json"
        } else {
            "invalid_argument"
        };
        let mut e = ApiError::new(
            StatusCode::BAD_REQUEST,
            code,
            format!("invalid JSON body: {inner}"),
        );
        e.field = field;
        e
    })
}

/// A query string; a bad parameter is a 400 naming it.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let q = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|err| {
                let path = err.path().to_string();
                let inner = err.into_inner();
                let mut e =
                    ApiError::invalid(path.clone(), format!("invalid query string: {inner}"));
                if path == "." {
                    e.field = None;
                }
                e
            })
    }
}

/// `If-Match: "<revision>"`: the revision the caller last read, when it sent one.
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let Some(v) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let text = v.to_str().unwrap_or("").trim();
        let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
        if text == "*" {
            return Ok(IfMatch(None));
        }
        text.parse::<i64>().map(|r| IfMatch(Some(r))).map_err(|_| {
            ApiError::invalid(
                "If-Match",
                "If-Match must be a revision number as returned in ETag, e.g. \"3\"",
            )
        })
    }
}

impl IfMatch {
    /// Fails with 412 when the caller's revision is not the current one.
    pub fn check(&self, current: i64) -> Result<(), ApiError> {
        match self.0 {
            Some(expected) if expected != current => {
                Err(crate::store::StoreError::RevisionMismatch {
                    expected,
                    actual: current,
                }
                .into())
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_json;
    use imagenest_core::package::NewPackage;

    #[test]
    fn syntax_errors_name_no_field() {
        for body in [&b"{\"name\": "[..], b"not json", b"{\"name\": \"a\","] {
            let err = parse_json::<NewPackage>(body).unwrap_err();
            assert_eq!(err.code, "malformed_json", "{body:?}");
            assert_eq!(err.field, None, "{body:?}");
        }
    }

    #[test]
    fn data_errors_name_the_known_path() {
        let err = parse_json::<NewPackage>(br#"{"name": 7}"#).unwrap_err();
        assert_eq!(err.code, "invalid_argument");
        assert_eq!(err.field.as_deref(), Some("name"));
        let err = parse_json::<NewPackage>(br#"{"name": "p", "tags": {"k": 1}}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("tags.k"));
    }
}
