//! Alibaba Cloud access keys: explicit, or from the standard environment variables.

use crate::error::{Error, Result};

/// An access key pair, optionally with an STS security token. `Debug` never shows the secret
/// or the token.
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub access_key_secret: String,
    pub security_token: Option<String>,
}

impl Credentials {
    /// A long-term access key.
    pub fn new(access_key_id: impl Into<String>, access_key_secret: impl Into<String>) -> Self {
        Credentials {
            access_key_id: access_key_id.into(),
            access_key_secret: access_key_secret.into(),
            security_token: None,
        }
    }

    /// Adds an STS security token (sent as `x-acs-security-token`).
    pub fn with_security_token(mut self, token: impl Into<String>) -> Self {
        self.security_token = Some(token.into());
        self
    }

    /// Reads `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and, when set,
    /// `ALIBABA_CLOUD_SECURITY_TOKEN`.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Credentials::from_env`] over any variable lookup (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let non_empty = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let id = non_empty("ALIBABA_CLOUD_ACCESS_KEY_ID")
            .ok_or_else(|| Error::Credentials("set ALIBABA_CLOUD_ACCESS_KEY_ID".into()))?;
        let secret = non_empty("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
            .ok_or_else(|| Error::Credentials("set ALIBABA_CLOUD_ACCESS_KEY_SECRET".into()))?;
        let mut creds = Credentials::new(id, secret);
        creds.security_token = non_empty("ALIBABA_CLOUD_SECURITY_TOKEN");
        Ok(creds)
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn reads_env_names_and_redacts() {
        let env: HashMap<&str, &str> = [
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIabc"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s3cret"),
            ("ALIBABA_CLOUD_SECURITY_TOKEN", "tok"),
        ]
        .into();
        let creds =
            Credentials::from_lookup(|k| env.get(k).map(|v| v.to_string())).expect("all set");
        assert_eq!(creds.access_key_id, "LTAIabc");
        assert_eq!(creds.security_token.as_deref(), Some("tok"));
        let shown = format!("{creds:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("tok\""),
            "{shown}"
        );
        let missing = Credentials::from_lookup(|k| {
            (k == "ALIBABA_CLOUD_ACCESS_KEY_ID").then(|| "x".to_string())
        });
        assert!(
            missing
                .unwrap_err()
                .to_string()
                .contains("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        );
    }
}
