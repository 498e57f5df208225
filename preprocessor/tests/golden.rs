//! Golden fixtures: `tests/fixtures/<case>/{input.*, map.json, expected.*, sites.txt}`.
//! Each input is resolved for cn-hangzhou and must equal `expected.*` byte for byte; every
//! site and outcome must equal `sites.txt`; with no association the output is the input.
//! `IMAGENEST_BLESS=1 cargo test -p imagenest-preprocessor --test golden` rewrites the goldens
//! (review the diff!).

mod common;

use imagenest_preprocessor::{Lookup, resolve, scan};

#[test]
fn fixtures_resolve_to_their_goldens() {
    let bless = std::env::var("IMAGENEST_BLESS").as_deref() == Ok("1");
    let mut failures = Vec::new();
    let fixtures = common::fixtures();
    assert!(fixtures.len() >= 15, "fixtures missing");
    for f in fixtures {
        let sites = scan(&f.text, f.format, &f.opts).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        let res = resolve(&f.text, &sites, |lit| {
            common::lookup(&f.map, lit, common::REGION)
        });
        let out = res.apply(&f.text);
        let lines: String = sites
            .iter()
            .zip(&res.outcomes)
            .map(|(s, o)| common::site_line(s, o) + "\n")
            .collect();
        let expected_path = f.dir.join(format!("expected{}", f.ext));
        let sites_path = f.dir.join("sites.txt");
        if bless {
            std::fs::write(&expected_path, &out).unwrap();
            std::fs::write(&sites_path, &lines).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("{} missing", expected_path.display()));
        if out != expected {
            failures.push(format!(
                "{}: output differs from expected{}:\n{out}",
                f.name, f.ext
            ));
        }
        let want_sites = std::fs::read_to_string(&sites_path).unwrap_or_default();
        if lines != want_sites {
            failures.push(format!(
                "{}: sites differ:\n--- want\n{want_sites}--- got\n{lines}",
                f.name
            ));
        }
        // Only the replaced values may differ: putting the old values back gives the input.
        // (Reverting in ascending order keeps every earlier byte where it was in the input.)
        let mut back = out.clone();
        for e in &res.edits {
            back.replace_range(
                e.span.start..e.span.start + e.text.len(),
                &f.text[e.span.clone()],
            );
        }
        assert_eq!(
            back, f.text,
            "{}: bytes outside the replaced values changed",
            f.name
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn no_association_returns_every_fixture_byte_for_byte() {
    for f in common::fixtures() {
        let sites = scan(&f.text, f.format, &f.opts).unwrap();
        let res = resolve(&f.text, &sites, |_| Lookup::NotAssociated);
        assert!(res.edits.is_empty(), "{}", f.name);
        assert_eq!(res.apply(&f.text), f.text, "{}", f.name);
        // Mapping every literal to itself changes nothing either.
        let same = resolve(&f.text, &sites, |lit| Lookup::Image(lit.to_string()));
        assert_eq!(same.apply(&f.text), f.text, "{}: identity mapping", f.name);
        // A replacement keeps the quoting: with a suffix, each edit is the original bytes plus
        // the suffix (where the original has no escapes and needs no other quoting).
        let suffixed = resolve(&f.text, &sites, |lit| Lookup::Image(format!("{lit}_Q7")));
        for e in &suffixed.edits {
            let orig = &f.text[e.span.clone()];
            let plain = !orig.contains(['\\', '\n', ' ', '\t'])
                && !orig.contains("''")
                && !orig.contains("$${")
                && !orig.contains("%%{")
                && !orig.starts_with(['|', '>', '<', '*']);
            if plain {
                assert_eq!(
                    e.text.replacen("_Q7", "", 1),
                    orig,
                    "{}: quoting not kept at {:?}",
                    f.name,
                    e.span
                );
            }
        }
    }
}

#[test]
fn resolving_twice_is_stable() {
    // After resolving, the new IDs are literals at the same sites; resolving again with the same
    // map changes nothing more.
    for f in common::fixtures() {
        let sites = scan(&f.text, f.format, &f.opts).unwrap();
        let once = resolve(&f.text, &sites, |lit| {
            common::lookup(&f.map, lit, common::REGION)
        })
        .apply(&f.text);
        let sites2 = scan(&once, f.format, &f.opts)
            .unwrap_or_else(|e| panic!("{}: resolved output does not scan: {e}", f.name));
        assert_eq!(sites.len(), sites2.len(), "{}", f.name);
        let twice = resolve(&once, &sites2, |lit| {
            common::lookup(&f.map, lit, common::REGION)
        })
        .apply(&once);
        assert_eq!(once, twice, "{}", f.name);
    }
}

#[test]
fn resolve_text_is_scan_resolve_apply() {
    for f in common::fixtures() {
        let name = f.input.file_name().unwrap().to_str().unwrap().to_string();
        let r = imagenest_preprocessor::resolve_text(&f.text, Some(&name), None, &f.opts, |lit| {
            common::lookup(&f.map, lit, common::REGION)
        })
        .unwrap();
        assert_eq!(r.format, f.format);
        let expected = std::fs::read_to_string(f.dir.join(format!("expected{}", f.ext))).unwrap();
        assert_eq!(r.output, expected, "{}", f.name);
        assert_eq!(r.sites.len(), r.resolution.outcomes.len());
    }
}
