//! Checks the ACS3-HMAC-SHA256 signature of an ECS call and finds the calling account.

use axum::http::HeaderMap;
use imagenest_cloud::sign::{self, RequestParts};

use crate::model::Account;
use crate::sim::{ApiError, NONCE_WINDOW_MS, Sim, now_ms};

/// Headers every signature must cover.
const REQUIRED: &[&str] = &[
    "host",
    "x-acs-action",
    "x-acs-content-sha256",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-version",
];

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn incomplete(msg: impl Into<String>) -> ApiError {
    ApiError::invalid("IncompleteSignature", msg)
}

/// Verifies the request and returns the signing account.
pub fn verify(
    sim: &mut Sim,
    method: &str,
    path: &str,
    params: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Account, ApiError> {
    let auth = header(headers, "authorization")
        .ok_or_else(|| incomplete("The request has no Authorization header."))?;
    let auth = sign::parse_authorization(auth)
        .ok_or_else(|| incomplete("The Authorization header is not ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…."))?;
    let account = sim
        .state
        .account_by_key(&auth.access_key_id)
        .cloned()
        .ok_or_else(|| {
            ApiError::new(
                404,
                "InvalidAccessKeyId.NotFound",
                format!(
                    "Specified access key {:?} is not found.",
                    auth.access_key_id
                ),
            )
        })?;
    if let Some(missing) = REQUIRED
        .iter()
        .find(|h| !auth.signed_headers.iter().any(|s| s == *h))
    {
        return Err(incomplete(format!(
            "The signature must cover the {missing} header."
        )));
    }
    if header(headers, "x-acs-security-token").is_some()
        && !auth
            .signed_headers
            .iter()
            .any(|s| s == "x-acs-security-token")
    {
        return Err(incomplete(
            "The signature must cover the x-acs-security-token header.",
        ));
    }
    let payload = sign::sha256_hex(body);
    if header(headers, "x-acs-content-sha256") != Some(payload.as_str()) {
        return Err(ApiError::invalid(
            "InvalidParameter.ContentSha256",
            "x-acs-content-sha256 does not match the body.",
        ));
    }
    let date = header(headers, "x-acs-date").unwrap_or("");
    let when = humantime::parse_rfc3339(date).map_err(|_| {
        ApiError::invalid(
            "InvalidTimeStamp.Format",
            format!("x-acs-date {date:?} is not YYYY-MM-DDTHH:MM:SSZ."),
        )
    })?;
    let when_ms = when
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    if now_ms().abs_diff(when_ms) > NONCE_WINDOW_MS {
        return Err(ApiError::invalid(
            "InvalidTimeStamp.Expired",
            format!("x-acs-date {date} is more than 15 minutes off."),
        ));
    }
    let mut signed = Vec::with_capacity(auth.signed_headers.len());
    for name in &auth.signed_headers {
        let value = header(headers, name)
            .ok_or_else(|| incomplete(format!("Signed header {name} is missing.")))?;
        signed.push((name.clone(), value.to_string()));
    }
    let query = sign::canonical_query(params);
    let parts = RequestParts {
        method,
        uri: path,
        canonical_query: &query,
        headers: &signed,
        payload_sha256: &payload,
    };
    let expected = parts.signature(&account.access_key_secret);
    if !sign::signatures_equal(&expected, &auth.signature) {
        return Err(ApiError::invalid(
            "SignatureDoesNotMatch",
            format!(
                "The request signature does not conform to Aliyun standards. server string to sign is:{}",
                parts.string_to_sign()
            ),
        ));
    }
    let nonce = header(headers, "x-acs-signature-nonce").unwrap_or("");
    if nonce.is_empty() || !sim.fresh_nonce(nonce) {
        return Err(ApiError::invalid(
            "SignatureNonceUsed",
            "The request signature nonce has been used.",
        ));
    }
    Ok(account)
}
