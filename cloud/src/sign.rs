//! ACS3-HMAC-SHA256 request signing (Alibaba Cloud V3 signatures), shared by the driver that
//! signs and the sim cloud that verifies.
//!
//! The steps follow Alibaba's public description: a canonical request (method, URI, sorted
//! RFC 3986-encoded query, signed headers, hashed payload) is hashed into a string to sign, and
//! the signature is the HMAC-SHA256 of that string keyed by the access key secret.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The algorithm name that opens the string to sign and the `Authorization` header.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// Lowercase hex SHA-256 of an empty body.
pub const EMPTY_BODY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Percent-encodes a query name or value the way the canonical query needs it: RFC 3986
/// unreserved characters (`A-Z a-z 0-9 - _ . ~`) stay, every other byte becomes `%XX` (upper hex),
/// so a space is `%20` and `*` is `%2A`.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
            out.push(char::from(HEX_UPPER[usize::from(b & 0xf)]));
        }
    }
    out
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Decodes `%XX` escapes (and `+` as a space, as form encoding does) of one query component.
/// Returns `None` when an escape is malformed or the result is not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hi = hex_val(*bytes.get(i + 1)?)?;
                let lo = hex_val(*bytes.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Parses a raw query string (`a=1&b=x%20y`) into decoded pairs, in order.
pub fn parse_query(raw: &str) -> Option<Vec<(String, String)>> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(k)?, percent_decode(v)?))
        })
        .collect()
}

/// The canonical query: pairs sorted by name (then value), each `enc(k)=enc(v)`, joined by `&`.
/// Empty when there are no parameters.
pub fn canonical_query<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (percent_encode(k.as_ref()), percent_encode(v.as_ref())))
        .collect();
    encoded.sort();
    let parts: Vec<String> = encoded
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    parts.join("&")
}

/// Lowercase hex SHA-256 of some bytes (the payload hash and the canonical request hash).
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// What a signature covers: everything but the secret.
#[derive(Debug, Clone)]
pub struct RequestParts<'a> {
    /// HTTP method, upper case (`POST`).
    pub method: &'a str,
    /// The canonical URI, `/` for RPC-style APIs.
    pub uri: &'a str,
    /// The canonical query (see [`canonical_query`]).
    pub canonical_query: &'a str,
    /// The signed headers as (name, value); names are lowercased and sorted here.
    pub headers: &'a [(String, String)],
    /// Lowercase hex SHA-256 of the body.
    pub payload_sha256: &'a str,
}

impl RequestParts<'_> {
    /// Sorted lowercase header names joined by `;`.
    pub fn signed_headers(&self) -> String {
        let mut names: Vec<String> = self
            .headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        names.sort();
        names.join(";")
    }

    /// The canonical request text.
    pub fn canonical_request(&self) -> String {
        let mut headers: Vec<(String, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.trim()))
            .collect();
        headers.sort();
        let mut canonical_headers = String::new();
        for (name, value) in &headers {
            canonical_headers.push_str(name);
            canonical_headers.push(':');
            canonical_headers.push_str(value);
            canonical_headers.push('\n');
        }
        format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            self.method,
            self.uri,
            self.canonical_query,
            canonical_headers,
            self.signed_headers(),
            self.payload_sha256
        )
    }

    /// `ACS3-HMAC-SHA256\n` + hex SHA-256 of the canonical request.
    pub fn string_to_sign(&self) -> String {
        format!(
            "{ALGORITHM}\n{}",
            sha256_hex(self.canonical_request().as_bytes())
        )
    }

    /// Lowercase hex HMAC-SHA256 of the string to sign, keyed by the access key secret.
    pub fn signature(&self, secret: &str) -> String {
        hmac_sha256_hex(secret.as_bytes(), self.string_to_sign().as_bytes())
    }

    /// The full `Authorization` header value.
    pub fn authorization(&self, access_key_id: &str, secret: &str) -> String {
        format!(
            "{ALGORITHM} Credential={access_key_id},SignedHeaders={},Signature={}",
            self.signed_headers(),
            self.signature(secret)
        )
    }
}

fn hmac_sha256_hex(key: &[u8], data: &[u8]) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

/// An `Authorization` header taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key_id: String,
    /// Lowercase header names, in the order the header lists them.
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parses `ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…`.
pub fn parse_authorization(value: &str) -> Option<Authorization> {
    let rest = value.trim().strip_prefix(ALGORITHM)?.trim_start();
    let (mut key, mut names, mut sig) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Credential" => key = Some(v.to_string()),
            "SignedHeaders" => names = Some(v.split(';').map(str::to_ascii_lowercase).collect()),
            "Signature" => sig = Some(v.to_ascii_lowercase()),
            _ => {}
        }
    }
    Some(Authorization {
        access_key_id: key?,
        signed_headers: names?,
        signature: sig?,
    })
}

/// Compares two signatures in time independent of where they differ.
pub fn signatures_equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn official_vector_headers() -> Vec<(String, String)> {
        [
            ("host", "ecs.cn-shanghai.aliyuncs.com"),
            ("x-acs-action", "RunInstances"),
            ("x-acs-version", "2014-05-26"),
            ("x-acs-date", "2023-10-26T10:22:32Z"),
            ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
            ("x-acs-content-sha256", EMPTY_BODY_SHA256),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn official_acs3_vector() {
        let query = canonical_query(&[
            ("RegionId", "cn-shanghai"),
            (
                "ImageId",
                "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
            ),
        ]);
        assert_eq!(
            query,
            "ImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai"
        );
        let headers = official_vector_headers();
        let parts = RequestParts {
            method: "POST",
            uri: "/",
            canonical_query: &query,
            headers: &headers,
            payload_sha256: EMPTY_BODY_SHA256,
        };
        assert_eq!(
            parts.signed_headers(),
            "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
        );
        assert_eq!(
            sha256_hex(parts.canonical_request().as_bytes()),
            "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
        );
        assert_eq!(
            parts.signature("YourAccessKeySecret"),
            "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
        let auth = parts.authorization("YourAccessKeyId", "YourAccessKeySecret");
        let parsed = parse_authorization(&auth).expect("own header parses");
        assert_eq!(parsed.access_key_id, "YourAccessKeyId");
        assert_eq!(parsed.signed_headers.len(), 6);
        assert_eq!(
            parsed.signature,
            "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
    }

    #[test]
    fn empty_body_hash_constant_is_right() {
        assert_eq!(sha256_hex(b""), EMPTY_BODY_SHA256);
    }

    #[test]
    fn percent_encoding_follows_rfc3986() {
        for (raw, enc) in [
            ("abc-_.~XYZ09", "abc-_.~XYZ09"),
            ("a b", "a%20b"),
            ("a*b", "a%2Ab"),
            ("a+b/c=d&e", "a%2Bb%2Fc%3Dd%26e"),
            ("镜像", "%E9%95%9C%E5%83%8F"),
        ] {
            assert_eq!(percent_encode(raw), enc, "{raw}");
            assert_eq!(percent_decode(enc).as_deref(), Some(raw), "{enc}");
        }
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
    }

    #[test]
    fn empty_query_is_empty_string() {
        let none: [(&str, &str); 0] = [];
        assert_eq!(canonical_query(&none), "");
        assert_eq!(parse_query(""), Some(vec![]));
        assert_eq!(
            parse_query("b=2&a=x%20y&c"),
            Some(vec![
                ("b".into(), "2".into()),
                ("a".into(), "x y".into()),
                ("c".into(), "".into())
            ])
        );
    }

    #[test]
    fn changed_secret_or_header_changes_signature() {
        let headers = official_vector_headers();
        let parts = RequestParts {
            method: "POST",
            uri: "/",
            canonical_query: "",
            headers: &headers,
            payload_sha256: EMPTY_BODY_SHA256,
        };
        let a = parts.signature("s1");
        assert_ne!(a, parts.signature("s2"));
        assert!(signatures_equal(&a, &parts.signature("s1")));
        assert!(!signatures_equal(&a, &parts.signature("s2")));
    }
}
