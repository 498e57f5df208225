//! Provider documentation in the Terraform registry layout, generated from the schemas
//! and the files under `examples/` (see `tests/docs.rs`, which keeps `docs/provider/` current).

use crate::framework::ProviderDef;
use crate::provider::ImagenestProvider;
use crate::schema::{AttrKind, Attribute, Nesting, Schema};
use crate::value::Type;
use std::path::Path;

/// One generated page: a path under `docs/provider/` and its markdown.
pub struct Page {
    pub path: String,
    pub text: String,
}

/// Every page, reading examples from `examples_dir`.
pub fn pages(examples_dir: &Path) -> Vec<Page> {
    let p = ImagenestProvider;
    let read = |rel: &str| std::fs::read_to_string(examples_dir.join(rel)).ok();
    let mut out = vec![Page {
        path: "index.md".into(),
        text: page(
            "imagenest Provider",
            &p.schema(),
            read("provider/provider.tf"),
            None,
            "The provider also reads `IMAGENEST_ENDPOINT` and `IMAGENEST_TOKEN`.",
        ),
    }];
    for r in p.resources() {
        let name = r.type_name();
        out.push(Page {
            path: format!("resources/{}.md", name.trim_start_matches("imagenest_")),
            text: page(
                &format!("{name} (Resource)"),
                &r.schema(),
                read(&format!("resources/{name}/resource.tf")),
                read(&format!("resources/{name}/import.sh")),
                "",
            ),
        });
    }
    for d in p.data_sources() {
        let name = d.type_name();
        out.push(Page {
            path: format!("data-sources/{}.md", name.trim_start_matches("imagenest_")),
            text: page(
                &format!("{name} (Data Source)"),
                &d.schema(),
                read(&format!("data-sources/{name}/data-source.tf")),
                None,
                "",
            ),
        });
    }
    out
}

fn page(
    title: &str,
    schema: &Schema,
    example: Option<String>,
    import: Option<String>,
    note: &str,
) -> String {
    let mut s = format!(
        "<!-- Generated from the provider schema by `IMAGENEST_UPDATE_DOCS=1 cargo test -p terraform-provider-imagenest --test docs`. -->\n\n# {title}\n\n{}\n",
        schema.description
    );
    if !note.is_empty() {
        s.push_str(&format!("\n{note}\n"));
    }
    if let Some(ex) = example {
        s.push_str(&format!(
            "\n## Example Usage\n\n```terraform\n{}\n```\n",
            ex.trim_end()
        ));
    }
    s.push_str("\n## Schema\n");
    attributes(&mut s, &schema.attributes, "");
    for b in &schema.blocks {
        s.push_str(&format!(
            "\n### Nested Schema for `{}` (block)\n\n{}\n",
            b.name, b.description
        ));
        attributes(&mut s, &b.attributes, &format!("{}.", b.name));
    }
    if let Some(imp) = import {
        s.push_str(&format!(
            "\n## Import\n\nImport is supported using the following syntax:\n\n```shell\n{}\n```\n",
            imp.trim_end()
        ));
    }
    s
}

fn attributes(s: &mut String, attrs: &[Attribute], prefix: &str) {
    type Pick = fn(&Attribute) -> bool;
    let groups: [(&str, Pick); 3] = [
        ("Required", |a| a.required),
        ("Optional", |a| a.optional),
        ("Read-Only", |a| a.computed && !a.optional && !a.required),
    ];
    let mut nested = Vec::new();
    for (title, pick) in groups {
        let list: Vec<&Attribute> = attrs.iter().filter(|a| pick(a)).collect();
        if list.is_empty() {
            continue;
        }
        let level = if prefix.is_empty() { "###" } else { "####" };
        s.push_str(&format!("\n{level} {title}\n\n"));
        for a in list {
            let mut line = format!("- `{}` ({}) {}", a.name, type_name(a), a.description);
            if let Some(d) = &a.default
                && let Some(v) = d.as_str()
            {
                line.push_str(&format!(" Defaults to `{v}`."));
            }
            if a.force_new && !a.description.contains("replace") {
                line.push_str(" Changing it forces a new resource.");
            }
            if a.sensitive {
                line.push_str(" Sensitive.");
            }
            s.push_str(&line);
            s.push('\n');
            if let AttrKind::Nested(_, inner) = &a.kind {
                nested.push((a.name, inner));
            }
        }
    }
    for (name, inner) in nested {
        s.push_str(&format!("\n### Nested Schema for `{prefix}{name}`\n"));
        attributes(s, inner, &format!("{prefix}{name}."));
    }
}

fn type_name(a: &Attribute) -> String {
    match &a.kind {
        AttrKind::Plain(t) => plain(t),
        AttrKind::Nested(Nesting::Single, _) => "Attributes".into(),
        AttrKind::Nested(Nesting::List, _) => "Attributes List".into(),
        AttrKind::Nested(Nesting::Set, _) => "Attributes Set".into(),
        AttrKind::Nested(Nesting::Map, _) => "Attributes Map".into(),
    }
}

fn plain(t: &Type) -> String {
    match t {
        Type::String => "String".into(),
        Type::Number => "Number".into(),
        Type::Bool => "Boolean".into(),
        Type::List(e) => format!("List of {}", plain(e)),
        Type::Set(e) => format!("Set of {}", plain(e)),
        Type::Map(e) => format!("Map of {}", plain(e)),
        Type::Object(_) => "Object".into(),
    }
}
