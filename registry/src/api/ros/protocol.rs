//! The ROS custom resource wire format: the request ROS sends (read leniently, field by field,
//! so a malformed request still gets an answer that echoes what it could), the response object
//! (at most 4,096 bytes), and the stable `PhysicalResourceId` of a stack's resource.

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// ROS's limit on a response object, in bytes; answers stay below it.
pub const MAX_RESPONSE_BYTES: usize = 4096;
/// The longest `PhysicalResourceId` ROS accepts, in bytes.
pub const MAX_PHYSICAL_ID_BYTES: usize = 255;
/// Echoed identifiers longer than this are refused (ROS's own are UUIDs and logical IDs of at
/// most 255 characters), so that the answer always fits in [`MAX_RESPONSE_BYTES`].
pub const MAX_ECHO_BYTES: usize = 300;
/// A `Reason` is cut to this many bytes.
const MAX_REASON_BYTES: usize = 1000;

/// `RequestType` of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestType {
    Create,
    Update,
    Delete,
}

/// A ROS custom resource request (ROS → provider), as far as it could be read.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct RosRequest {
    /// `Create`, `Update` or `Delete`.
    pub request_type: Option<String>,
    /// Presigned public URL the answer is uploaded to in async mode.
    #[serde(rename = "ResponseURL")]
    pub response_url: Option<String>,
    /// The same URL on Alibaba Cloud's internal network.
    #[serde(rename = "IntranetResponseURL")]
    pub intranet_response_url: Option<String>,
    pub stack_id: Option<String>,
    pub stack_name: Option<String>,
    /// The account that owns the stack.
    #[schema(value_type = Option<String>)]
    pub resource_owner_id: Option<Value>,
    #[schema(value_type = Option<String>)]
    pub caller_id: Option<Value>,
    /// The stack's region: the region whose image is answered.
    pub region_id: Option<String>,
    pub request_id: Option<String>,
    pub resource_type: Option<String>,
    pub logical_resource_id: Option<String>,
    /// Set on Update and Delete: the ID answered on Create.
    pub physical_resource_id: Option<String>,
    /// The template's `Parameters`: `Package` (ID, name or owner/name) and `Version` (name or
    /// `latest`, the default).
    #[schema(value_type = Option<Object>)]
    pub resource_properties: Option<Value>,
    /// Set on Update: the parameters before the update.
    #[schema(value_type = Option<Object>)]
    pub old_resource_properties: Option<Value>,
}

/// `Status` of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum RosStatus {
    Success,
    Failed,
}

/// `Data` of a successful Create or Update: read with `Fn::GetAtt: [LogicalId, Key]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct RegionImageData {
    /// The image of the stack's region.
    pub image_id: String,
    /// The package's name.
    pub package: String,
    /// The version resolved (the actual name when `latest` was asked for).
    pub version: String,
    /// The stack's region.
    pub region: String,
}

/// A ROS custom resource response object (provider → ROS); at most 4,096 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct RosResponse {
    pub status: RosStatus,
    /// Why the request failed (set when `Status` is `FAILED`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Stable per stack and logical ID: set on Create, echoed on Update and Delete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_resource_id: Option<String>,
    /// Echoed from the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_id: Option<String>,
    /// Echoed from the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Echoed from the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logical_resource_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<RegionImageData>,
}

/// The request's identifiers that every answer echoes.
#[derive(Debug, Clone, Default)]
pub struct Echo {
    pub stack_id: Option<String>,
    pub request_id: Option<String>,
    pub logical_resource_id: Option<String>,
    pub physical_resource_id: Option<String>,
    /// Where an async answer is uploaded (`ResponseURL`, else `IntranetResponseURL`); not echoed.
    pub response_url: Option<String>,
}

impl Echo {
    pub fn success(&self, data: Option<RegionImageData>) -> RosResponse {
        self.answer(RosStatus::Success, None, data)
    }

    pub fn failed(&self, reason: impl Into<String>) -> RosResponse {
        self.answer(
            RosStatus::Failed,
            Some(cut(reason.into(), MAX_REASON_BYTES)),
            None,
        )
    }

    fn answer(
        &self,
        status: RosStatus,
        reason: Option<String>,
        data: Option<RegionImageData>,
    ) -> RosResponse {
        RosResponse {
            status,
            reason,
            physical_resource_id: self.physical_resource_id.clone(),
            stack_id: self.stack_id.clone(),
            request_id: self.request_id.clone(),
            logical_resource_id: self.logical_resource_id.clone(),
            data,
        }
    }
}

/// What a request asks for, once it is known to be well formed.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub request_type: RequestType,
    pub region_id: Option<String>,
    pub properties: Map<String, Value>,
}

/// Reads a request body. Whatever happens, the identifiers that could be read come back so the
/// answer can echo them; the error is a `Reason` for a FAILED answer.
pub fn read(body: &[u8]) -> (Echo, Result<Parsed, String>) {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return (
                Echo::default(),
                Err(format!(
                    "the request body is not valid JSON ({e}); the registry expects a ROS custom resource request"
                )),
            );
        }
    };
    let Value::Object(obj) = value else {
        return (
            Echo::default(),
            Err("the request body must be a JSON object (a ROS custom resource request)".into()),
        );
    };
    let mut problems = Vec::new();
    let mut text = |name: &str| -> Option<String> {
        match obj.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                problems.push(format!("`{name}` must be a string"));
                None
            }
        }
    };
    let mut echo = Echo {
        stack_id: text("StackId"),
        request_id: text("RequestId"),
        logical_resource_id: text("LogicalResourceId"),
        physical_resource_id: text("PhysicalResourceId"),
        response_url: None,
    };
    echo.response_url = text("ResponseURL").or_else(|| text("IntranetResponseURL"));
    let request_type = text("RequestType");
    let region_id = text("RegionId");
    for (name, field) in [
        ("StackId", &mut echo.stack_id),
        ("RequestId", &mut echo.request_id),
        ("LogicalResourceId", &mut echo.logical_resource_id),
    ] {
        if field.as_ref().is_some_and(|s| s.len() > MAX_ECHO_BYTES) {
            problems.push(format!("`{name}` is longer than {MAX_ECHO_BYTES} bytes"));
            *field = None;
        }
    }
    if echo
        .physical_resource_id
        .as_ref()
        .is_some_and(|s| s.len() > MAX_PHYSICAL_ID_BYTES || s.is_empty())
    {
        problems.push(format!(
            "`PhysicalResourceId` must be 1–{MAX_PHYSICAL_ID_BYTES} bytes"
        ));
        echo.physical_resource_id = None;
    }
    let request_type = match request_type.as_deref() {
        Some("Create") => Some(RequestType::Create),
        Some("Update") => Some(RequestType::Update),
        Some("Delete") => Some(RequestType::Delete),
        Some(other) => {
            problems.push(format!(
                "unknown `RequestType` `{}`: expected Create, Update or Delete",
                cut(other.to_string(), 40)
            ));
            None
        }
        None => {
            problems.push("`RequestType` is missing".into());
            None
        }
    };
    let properties = match obj.get("ResourceProperties") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            problems.push("`ResourceProperties` must be an object".into());
            Map::new()
        }
    };
    // A Create has no PhysicalResourceId yet; Update and Delete echo the one they were given.
    if echo.physical_resource_id.is_none() || request_type == Some(RequestType::Create) {
        if let (Some(stack), Some(logical)) = (&echo.stack_id, &echo.logical_resource_id) {
            echo.physical_resource_id = Some(physical_resource_id(stack, logical));
        }
    }
    match request_type {
        Some(request_type) if problems.is_empty() => (
            echo,
            Ok(Parsed {
                request_type,
                region_id,
                properties,
            }),
        ),
        _ => (
            echo,
            Err(format!("malformed ROS request: {}", problems.join("; "))),
        ),
    }
}

/// The `PhysicalResourceId` of the resource `logical_id` of stack `stack_id`: the same for every
/// Create retry and every Update, and different for every other resource.
pub fn physical_resource_id(stack_id: &str, logical_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"imagenest/ros/region-image/v1\0");
    h.update(stack_id.as_bytes());
    h.update(b"\0");
    h.update(logical_id.as_bytes());
    let digest = hex::encode(h.finalize());
    format!("rimg-{}", &digest[..32])
}

/// A property that names something: a string, or a number written without quotes.
pub fn property(props: &Map<String, Value>, name: &str) -> Result<Option<String>, String> {
    match props.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(format!("the `{name}` parameter is empty"))
        }
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(format!("the `{name}` parameter must be a string")),
    }
}

/// The JSON of `res`, guaranteed to stay under [`MAX_RESPONSE_BYTES`]: when escaping makes the
/// echoed fields too long, a FAILED answer without them is sent instead.
pub fn encode(res: &RosResponse) -> Vec<u8> {
    // Invariant: a RosResponse is strings and plain enums, which always serialise.
    let bytes = serde_json::to_vec(res).expect("a ROS response serialises");
    if bytes.len() < MAX_RESPONSE_BYTES {
        return bytes;
    }
    let fallback = RosResponse {
        status: RosStatus::Failed,
        reason: Some(format!(
            "the answer would exceed ROS's limit of {MAX_RESPONSE_BYTES} bytes; shorten the request's identifiers"
        )),
        physical_resource_id: None,
        stack_id: None,
        request_id: None,
        logical_resource_id: None,
        data: None,
    };
    serde_json::to_vec(&fallback).expect("a ROS response serialises")
}

/// `s` cut to at most `max` bytes on a character boundary, marked with `…` when cut.
fn cut(mut s: String, max: usize) -> String {
    if s.len() <= max {
        return s;
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s.push('…');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn physical_ids_are_stable_and_distinct() {
        let a = physical_resource_id("stack-1", "BaseImage");
        assert_eq!(a, physical_resource_id("stack-1", "BaseImage"));
        assert_ne!(a, physical_resource_id("stack-1", "OtherImage"));
        assert_ne!(a, physical_resource_id("stack-2", "BaseImage"));
        // No ambiguity from concatenation.
        assert_ne!(
            physical_resource_id("ab", "c"),
            physical_resource_id("a", "bc")
        );
        assert!(a.starts_with("rimg-") && a.len() == 37);
    }

    #[test]
    fn reading_keeps_what_it_can_echo() {
        let body =
            br#"{"RequestType":"Explode","StackId":"s","RequestId":"r","LogicalResourceId":"L"}"#;
        let (echo, parsed) = read(body);
        assert_eq!(echo.stack_id.as_deref(), Some("s"));
        assert_eq!(echo.request_id.as_deref(), Some("r"));
        assert_eq!(echo.logical_resource_id.as_deref(), Some("L"));
        assert!(parsed.unwrap_err().contains("Explode"));
        let (echo, parsed) = read(b"[1,2]");
        assert!(echo.stack_id.is_none());
        assert!(parsed.unwrap_err().contains("object"));
        let (_, parsed) = read(br#"{"RequestType":"Create","StackId":7}"#);
        assert!(parsed.unwrap_err().contains("`StackId` must be a string"));
    }

    #[test]
    fn update_and_delete_echo_the_given_physical_id() {
        let body = br#"{"RequestType":"Update","StackId":"s","LogicalResourceId":"L","PhysicalResourceId":"given"}"#;
        assert_eq!(read(body).0.physical_resource_id.as_deref(), Some("given"));
        let body = br#"{"RequestType":"Create","StackId":"s","LogicalResourceId":"L","PhysicalResourceId":"given"}"#;
        assert_eq!(
            read(body).0.physical_resource_id,
            Some(physical_resource_id("s", "L"))
        );
    }

    #[test]
    fn async_answers_go_to_the_public_url_first() {
        let both = br#"{"RequestType":"Delete","ResponseURL":"https://pub","IntranetResponseURL":"http://intra"}"#;
        assert_eq!(read(both).0.response_url.as_deref(), Some("https://pub"));
        let intranet = br#"{"RequestType":"Delete","IntranetResponseURL":"http://intra"}"#;
        assert_eq!(
            read(intranet).0.response_url.as_deref(),
            Some("http://intra")
        );
        assert!(
            read(br#"{"RequestType":"Delete"}"#)
                .0
                .response_url
                .is_none()
        );
    }

    #[test]
    fn answers_always_fit() {
        let nasty = "\u{1}".repeat(MAX_ECHO_BYTES);
        let echo = Echo {
            stack_id: Some(nasty.clone()),
            request_id: Some(nasty.clone()),
            logical_resource_id: Some(nasty),
            ..Echo::default()
        };
        let bytes = encode(&echo.failed("x".repeat(5000)));
        assert!(bytes.len() < MAX_RESPONSE_BYTES);
        let back: RosResponse = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back.status, RosStatus::Failed);
        assert_eq!(cut("ééé".into(), 4), "…");
        assert_eq!(cut("abc".into(), 3), "abc");
    }
}
