//! `docs/provider/` is generated from the schemas and `examples/`; this test fails when it
//! is stale. Regenerate with `IMAGENEST_UPDATE_DOCS=1 cargo test -p terraform-provider-imagenest --test docs`.

use std::path::Path;

#[test]
fn provider_docs_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let docs = root.join("docs/provider");
    let update = std::env::var_os("IMAGENEST_UPDATE_DOCS").is_some();
    let mut stale = Vec::new();
    for page in imagenest_provider::docs::pages(&root.join("examples")) {
        let path = docs.join(&page.path);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &page.text).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(page.text.as_str()) {
            stale.push(page.path);
        }
    }
    assert!(
        stale.is_empty(),
        "stale provider docs {stale:?}: run IMAGENEST_UPDATE_DOCS=1 cargo test -p terraform-provider-imagenest --test docs"
    );
}

#[test]
fn every_attribute_has_a_description() {
    use imagenest_provider::framework::ProviderDef;
    use imagenest_provider::schema::{AttrKind, Attribute};
    fn check(owner: &str, attrs: &[Attribute]) {
        for a in attrs {
            assert!(
                !a.description.is_empty(),
                "{owner}.{} has no description",
                a.name
            );
            if let AttrKind::Nested(_, inner) = &a.kind {
                check(&format!("{owner}.{}", a.name), inner);
            }
        }
    }
    let p = imagenest_provider::provider::ImagenestProvider;
    check("provider", &p.schema().attributes);
    for r in p.resources() {
        let s = r.schema();
        assert!(!s.description.is_empty());
        check(r.type_name(), &s.attributes);
        for b in &s.blocks {
            check(&format!("{}.{}", r.type_name(), b.name), &b.attributes);
        }
    }
    for d in p.data_sources() {
        check(d.type_name(), &d.schema().attributes);
    }
}
