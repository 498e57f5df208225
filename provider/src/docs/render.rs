//! Markdown for one page in the Terraform registry's layout: frontmatter, title, description,
//! Example Usage, Schema (Required / Optional / Read-Only, then each nested schema under an
//! anchor the parent's line links to) and Import.

use super::REGENERATE;
use super::schema::{Attribute, Block, BlockType};
use serde_json::Value;
use std::collections::VecDeque;

/// The names a page goes by: `page_title` in the frontmatter and the `#` heading.
pub(super) struct Title {
    page_title: String,
    heading: String,
}

impl Title {
    pub(super) fn provider(provider: &str) -> Title {
        Title {
            page_title: format!("{provider} Provider"),
            heading: format!("{provider} Provider"),
        }
    }

    pub(super) fn resource(ty: &str, provider: &str) -> Title {
        Title {
            page_title: format!("{ty} Resource - {provider}"),
            heading: format!("{ty} (Resource)"),
        }
    }

    pub(super) fn data_source(ty: &str, provider: &str) -> Title {
        Title {
            page_title: format!("{ty} Data Source - {provider}"),
            heading: format!("{ty} (Data Source)"),
        }
    }
}

/// The whole page.
pub(super) fn page(
    title: &Title,
    block: &Block,
    example: Option<&str>,
    import: Option<&str>,
) -> String {
    let mut s = String::new();
    frontmatter(&mut s, title, &block.description);
    s.push_str(&format!(
        "\n<!-- Generated from `terraform providers schema -json` and examples/ by `{REGENERATE}`. \
         Edit the schema's descriptions or the example files, then run it again. -->\n"
    ));
    s.push_str(&format!("\n# {}\n", title.heading));
    if !block.description.is_empty() {
        s.push_str(&format!("\n{}\n", block.description.trim_end()));
    }
    if let Some(ex) = example {
        s.push_str(&format!(
            "\n## Example Usage\n\n```terraform\n{}\n```\n",
            ex.trim_end()
        ));
    }
    schema(&mut s, block);
    if let Some(imp) = import {
        s.push_str(&format!(
            "\n## Import\n\nImport is supported using the following syntax:\n\n```shell\n{}\n```\n",
            imp.trim_end()
        ));
    }
    s
}

fn frontmatter(s: &mut String, title: &Title, description: &str) {
    s.push_str("---\n");
    s.push_str(&format!("page_title: {}\n", yaml_quoted(&title.page_title)));
    s.push_str("subcategory: \"\"\n");
    if description.trim().is_empty() {
        s.push_str("description: \"\"\n");
    } else {
        // A literal block keeps quotes, colons and backticks as they are.
        s.push_str("description: |-\n");
        for line in description.trim_end().lines() {
            if line.is_empty() {
                s.push('\n');
            } else {
                s.push_str(&format!("  {line}\n"));
            }
        }
    }
    s.push_str("---\n");
}

fn yaml_quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A nested schema still to be written: its dotted path, its anchor and its contents.
struct Nested<'a> {
    path: String,
    anchor: String,
    body: Body<'a>,
}

enum Body<'a> {
    Attributes(&'a std::collections::BTreeMap<String, Attribute>),
    Block(&'a Block),
}

/// One line of a Required / Optional / Read-Only list.
struct Item<'a> {
    name: &'a str,
    line: String,
    nested: Option<Nested<'a>>,
}

#[derive(Clone, Copy, PartialEq)]
enum Group {
    Required,
    Optional,
    ReadOnly,
}

const GROUPS: [(Group, &str); 3] = [
    (Group::Required, "Required"),
    (Group::Optional, "Optional"),
    (Group::ReadOnly, "Read-Only"),
];

fn schema(s: &mut String, block: &Block) {
    if block.attributes.is_empty() && block.block_types.is_empty() {
        return;
    }
    s.push_str("\n## Schema\n");
    let mut queue = VecDeque::new();
    groups(s, "###", "", Body::Block(block), &mut queue);
    while let Some(nested) = queue.pop_front() {
        s.push_str(&format!(
            "\n<a id=\"{}\"></a>\n### Nested Schema for `{}`\n",
            nested.anchor, nested.path
        ));
        groups(s, "####", &nested.path, nested.body, &mut queue);
    }
}

/// Writes the Required / Optional / Read-Only lists of `body` and queues its nested schemas.
fn groups<'a>(
    s: &mut String,
    level: &str,
    path: &str,
    body: Body<'a>,
    queue: &mut VecDeque<Nested<'a>>,
) {
    let mut items: Vec<(Group, Item<'a>)> = Vec::new();
    let (attributes, blocks) = match body {
        Body::Attributes(attrs) => (attrs, None),
        Body::Block(b) => (&b.attributes, Some(&b.block_types)),
    };
    for (name, a) in attributes {
        items.push(attribute_item(path, name, a));
    }
    for (name, b) in blocks.into_iter().flatten() {
        items.push(block_item(path, name, b));
    }
    items.sort_by(|x, y| x.1.name.cmp(y.1.name));
    for (group, heading) in GROUPS {
        let mut first = true;
        for (_, item) in items.iter_mut().filter(|(g, _)| *g == group) {
            if first {
                s.push_str(&format!("\n{level} {heading}\n\n"));
                first = false;
            }
            s.push_str(&item.line);
            s.push('\n');
            if let Some(nested) = item.nested.take() {
                queue.push_back(nested);
            }
        }
    }
}

fn attribute_item<'a>(path: &str, name: &'a str, a: &'a Attribute) -> (Group, Item<'a>) {
    let group = if a.required {
        Group::Required
    } else if a.optional {
        Group::Optional
    } else {
        Group::ReadOnly
    };
    let mut kind = match (&a.nested_type, &a.ty) {
        (Some(n), _) => match n.nesting_mode.as_str() {
            "list" => "Attributes List".to_string(),
            "set" => "Attributes Set".to_string(),
            "map" => "Attributes Map".to_string(),
            _ => "Attributes".to_string(),
        },
        (None, Some(t)) => type_name(t),
        (None, None) => "Dynamic".to_string(),
    };
    if a.sensitive {
        kind.push_str(", Sensitive");
    }
    if a.deprecated {
        kind.push_str(", Deprecated");
    }
    let nested = a.nested_type.as_ref().map(|n| Nested {
        path: join(path, name),
        anchor: format!("nestedatt--{}", join(path, name).replace('.', "--")),
        body: Body::Attributes(&n.attributes),
    });
    (group, item(name, &kind, &a.description, nested))
}

fn block_item<'a>(path: &str, name: &'a str, b: &'a BlockType) -> (Group, Item<'a>) {
    let group = if b.min_items > 0 {
        Group::Required
    } else {
        Group::Optional
    };
    let mut kind = match b.nesting_mode.as_str() {
        "list" => "Block List".to_string(),
        "set" => "Block Set".to_string(),
        "map" => "Block Map".to_string(),
        _ => "Block".to_string(),
    };
    if b.min_items > 0 {
        kind.push_str(&format!(", Min: {}", b.min_items));
    }
    if b.max_items > 0 && b.nesting_mode != "single" {
        kind.push_str(&format!(", Max: {}", b.max_items));
    }
    if b.block.deprecated {
        kind.push_str(", Deprecated");
    }
    let nested = Nested {
        path: join(path, name),
        anchor: format!("nestedblock--{}", join(path, name).replace('.', "--")),
        body: Body::Block(&b.block),
    };
    (group, item(name, &kind, &b.block.description, Some(nested)))
}

fn item<'a>(name: &'a str, kind: &str, description: &str, nested: Option<Nested<'a>>) -> Item<'a> {
    let mut line = format!("- `{name}` ({kind})");
    let description = description.trim();
    if !description.is_empty() {
        line.push(' ');
        // A list item is one line: a multi-line description continues on the same line.
        line.push_str(&description.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    if let Some(n) = &nested {
        line.push_str(&format!(" (see [below for nested schema](#{}))", n.anchor));
    }
    Item { name, line, nested }
}

/// `region_status` under `` → `region_status`; `b` under `a` → `a.b`.
fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// `"string"` → String, `["map", ["list", "number"]]` → Map of List of Number.
fn type_name(t: &Value) -> String {
    match t {
        Value::String(s) => match s.as_str() {
            "string" => "String".into(),
            "number" => "Number".into(),
            "bool" => "Boolean".into(),
            "dynamic" => "Dynamic".into(),
            other => other.into(),
        },
        Value::Array(parts) => match (parts.first().and_then(Value::as_str), parts.get(1)) {
            (Some("list"), Some(e)) => format!("List of {}", type_name(e)),
            (Some("set"), Some(e)) => format!("Set of {}", type_name(e)),
            (Some("map"), Some(e)) => format!("Map of {}", type_name(e)),
            (Some("object"), _) => "Object".into(),
            (Some("tuple"), _) => "Tuple".into(),
            _ => t.to_string(),
        },
        _ => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::type_name;
    use serde_json::json;

    #[test]
    fn type_names() {
        for (t, want) in [
            (json!("string"), "String"),
            (json!("bool"), "Boolean"),
            (json!(["set", "string"]), "Set of String"),
            (json!(["map", ["map", "string"]]), "Map of Map of String"),
            (
                json!(["list", ["object", {"a": "string"}]]),
                "List of Object",
            ),
            (json!(["tuple", ["string"]]), "Tuple"),
        ] {
            assert_eq!(type_name(&t), want, "{t}");
        }
    }
}
