//! Name, description, tag and literal rules (DESIGN §3), decided once for every caller.

use std::collections::BTreeMap;

use crate::Invalid;

/// Package names: 3–128 characters of ASCII letters, digits and `_`.
pub fn package_name(value: &str) -> Result<(), Invalid> {
    word("name", value, 3, 128)
}

/// Version names: 3–50 characters of ASCII letters, digits and `_`.
pub fn version_name(value: &str) -> Result<(), Invalid> {
    word("name", value, 3, 50)?;
    if value == "latest" {
        return Err(Invalid::new(
            "name",
            "`latest` is reserved: it means the newest published version",
        ));
    }
    Ok(())
}

/// Service names: 3–128 characters of ASCII letters, digits, `_` and `-`.
pub fn service_name(value: &str) -> Result<(), Invalid> {
    identifier("name", value, 3, 128, true)
}

/// Account names: 1–64 characters of lowercase ASCII letters, digits, `_` and `-`, starting with
/// a letter or digit.
pub fn account_name(field: &str, value: &str) -> Result<(), Invalid> {
    identifier(field, value, 1, 64, true)?;
    if value.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(Invalid::new(
            field,
            format!("account name `{value}` must be lowercase"),
        ));
    }
    if value.starts_with(['-', '_']) {
        return Err(Invalid::new(
            field,
            format!("account name `{value}` must start with a letter or digit"),
        ));
    }
    Ok(())
}

/// Package descriptions: 10–500 characters (Unicode scalar values, not bytes).
pub fn package_description(value: &str) -> Result<(), Invalid> {
    text("description", value, 10, 500)
}

/// Version descriptions: optional, at most 500 characters.
pub fn version_description(value: &str) -> Result<(), Invalid> {
    text("description", value, 0, 500)
}

/// Resource group: at most 128 characters, no control characters.
pub fn resource_group(value: &str) -> Result<(), Invalid> {
    text("resource_group", value, 0, 128)
}

/// Maximum number of tags on a package.
pub const MAX_TAGS: usize = 20;

/// Tags: at most 20 pairs; keys 1–128 characters not starting with `aliyun` or `acs:` and not
/// containing `http://` or `https://` (the cloud's tag rules); values at most 128 characters.
pub fn tags(tags: &BTreeMap<String, String>) -> Result<(), Invalid> {
    if tags.len() > MAX_TAGS {
        return Err(Invalid::new(
            "tags",
            format!("at most {MAX_TAGS} tags are allowed, got {}", tags.len()),
        ));
    }
    for (key, value) in tags {
        let field = format!("tags.{key}");
        text(&field, key, 1, 128)?;
        let lower = key.to_ascii_lowercase();
        if lower.starts_with("aliyun") || lower.starts_with("acs:") {
            return Err(Invalid::new(
                field,
                "tag keys must not start with `aliyun` or `acs:`",
            ));
        }
        if lower.contains("http://") || lower.contains("https://") {
            return Err(Invalid::new(
                field,
                "tag keys must not contain `http://` or `https://`",
            ));
        }
        text(&field, value, 0, 128)?;
    }
    Ok(())
}

/// A template literal in an image association: 1–256 characters, no whitespace or control
/// characters (it must be a value a template can hold as a plain string).
pub fn literal(field: &str, value: &str) -> Result<(), Invalid> {
    text(field, value, 1, 256)?;
    if value.chars().any(char::is_whitespace) {
        return Err(Invalid::new(
            field,
            format!("literal `{value}` must not contain whitespace"),
        ));
    }
    Ok(())
}

/// A cloud image ID as a vendor gives it: 1–128 characters of letters, digits, `-`, `_`, `.`.
pub fn image_id(field: &str, value: &str) -> Result<(), Invalid> {
    cloud_id(field, "image ID", value)
}

/// A marketplace product code (`cmjj012345`), with the image ID's character rule.
pub fn product_code(field: &str, value: &str) -> Result<(), Invalid> {
    cloud_id(field, "product code", value)
}

/// A marketplace product version (`V1.0.2`), with the image ID's character rule.
pub fn product_version(field: &str, value: &str) -> Result<(), Invalid> {
    cloud_id(field, "product version", value)
}

/// A cloud account ID (digits on Alibaba Cloud), with the image ID's character rule.
pub fn cloud_account_id(field: &str, value: &str) -> Result<(), Invalid> {
    cloud_id(field, "cloud account ID", value)
}

/// An identifier the cloud issues: 1–128 characters of letters, digits, `-`, `_`, `.`;
/// `what` names it in the message.
fn cloud_id(field: &str, what: &str, value: &str) -> Result<(), Invalid> {
    if value.is_empty() || value.len() > 128 {
        return Err(Invalid::new(
            field,
            format!("{what} must be 1–128 characters"),
        ));
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(Invalid::new(
            field,
            format!("{what} `{value}` may only hold letters, digits, `-`, `_` and `.`"),
        ));
    }
    Ok(())
}

fn word(field: &str, value: &str, min: usize, max: usize) -> Result<(), Invalid> {
    identifier(field, value, min, max, false)
}

fn identifier(field: &str, value: &str, min: usize, max: usize, dash: bool) -> Result<(), Invalid> {
    let len = value.chars().count();
    if len < min || len > max {
        return Err(Invalid::new(
            field,
            format!("must be {min}–{max} characters long, got {len}"),
        ));
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || (dash && c == '-');
    if let Some(bad) = value.chars().find(|&c| !ok(c)) {
        let allowed = if dash {
            "letters, digits, `_` and `-`"
        } else {
            "letters, digits and `_`"
        };
        return Err(Invalid::new(
            field,
            format!("`{value}` contains {bad:?}; only {allowed} are allowed"),
        ));
    }
    Ok(())
}

fn text(field: &str, value: &str, min: usize, max: usize) -> Result<(), Invalid> {
    let len = value.chars().count();
    if len < min || len > max {
        return Err(Invalid::new(
            field,
            format!("must be {min}–{max} characters long, got {len}"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Invalid::new(field, "must not contain control characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names() {
        let cases: &[(&str, bool)] = &[
            ("ab", false),
            ("abc", true),
            ("acme_base_2", true),
            ("with-dash", false),
            ("with space", false),
            ("ünï", false),
            (&"a".repeat(128), true),
            (&"a".repeat(129), false),
            ("", false),
        ];
        for (name, ok) in cases {
            assert_eq!(package_name(name).is_ok(), *ok, "{name:?}");
        }
    }

    #[test]
    fn version_names() {
        let cases: &[(&str, bool)] = &[
            ("v1", false),
            ("v_1", true),
            (&"v".repeat(50), true),
            (&"v".repeat(51), false),
            ("v1.0", false),
            ("latest", false),
        ];
        for (name, ok) in cases {
            assert_eq!(version_name(name).is_ok(), *ok, "{name:?}");
        }
    }

    #[test]
    fn service_and_account_names() {
        assert!(service_name("acme-app_1").is_ok());
        assert!(service_name("ab").is_err());
        assert!(account_name("account", "acme").is_ok());
        assert!(account_name("account", "a").is_ok());
        assert!(account_name("account", "Acme").is_err());
        assert!(account_name("account", "-acme").is_err());
        assert!(account_name("account", &"a".repeat(65)).is_err());
    }

    #[test]
    fn descriptions_count_characters_not_bytes() {
        assert!(package_description("short").is_err());
        assert!(package_description("ten chars!").is_ok());
        assert!(package_description(&"é".repeat(500)).is_ok());
        assert!(package_description(&"é".repeat(501)).is_err());
        assert!(package_description("has a \u{0} nul in it").is_err());
        assert!(version_description("").is_ok());
    }

    #[test]
    fn tag_rules() {
        let mut t = BTreeMap::new();
        for i in 0..20 {
            t.insert(format!("k{i}"), "v".to_string());
        }
        assert!(tags(&t).is_ok());
        t.insert("k20".into(), "v".into());
        let err = tags(&t).unwrap_err();
        assert_eq!(err.field, "tags");
        let bad = BTreeMap::from([("acs:owner".to_string(), "x".to_string())]);
        assert_eq!(tags(&bad).unwrap_err().field, "tags.acs:owner");
        let empty_key = BTreeMap::from([(String::new(), "x".to_string())]);
        assert!(tags(&empty_key).is_err());
        let long_value = BTreeMap::from([("env".to_string(), "x".repeat(129))]);
        assert_eq!(tags(&long_value).unwrap_err().field, "tags.env");
    }

    #[test]
    fn literals_and_image_ids() {
        assert!(literal("image_associations", "centos_7").is_ok());
        assert!(literal("image_associations", "m-bp1abc").is_ok());
        assert!(literal("image_associations", "").is_err());
        assert!(literal("image_associations", "a b").is_err());
        assert!(image_id("image.image_id", "m-bp1abcdefghij").is_ok());
        assert!(image_id("image.image_id", "centos_7_9_x64_20G_alibase_20230815.vhd").is_ok());
        assert!(image_id("image.image_id", "m/../x").is_err());
    }
}
