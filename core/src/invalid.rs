//! `Invalid`: the one error every validation rule returns, naming the offending field.

/// Input broke a rule. `field` is the API field path (`name`, `image.region`, `tags.env`), so the
/// registry can answer `{"code": "invalid_argument", "field": ...}` and the provider can attach a
/// diagnostic to the same attribute.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}
