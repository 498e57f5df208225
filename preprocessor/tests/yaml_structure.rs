//! Structural differential test of the YAML scanner: for generated documents in many styles and
//! for every corpus template, every scalar's key path and decoded value equal saphyr-parser's.
//! (Sites are a small part of a template; this checks the scanner got everything around them.)

mod common;

use imagenest_preprocessor::debug_scalars;
use proptest::prelude::*;

/// `(path, value)` of every scalar according to saphyr-parser.
fn saphyr_scalars(text: &str) -> Result<Vec<(String, String)>, String> {
    use saphyr_parser::{Event, Parser};
    enum Frame {
        Map {
            key: Option<String>,
            want_key: bool,
            in_key: bool,
        },
        Seq,
    }
    let mut parser = Parser::new_from_str(text.strip_prefix('\u{feff}').unwrap_or(text));
    let mut stack: Vec<Frame> = Vec::new();
    let mut out = Vec::new();
    let mut key_depth = 0usize; // > 0 while inside a complex (collection) key
    while let Some(ev) = parser.next_event() {
        let (ev, _) = ev.map_err(|e| e.to_string())?;
        let is_node = matches!(
            ev,
            Event::Scalar(..)
                | Event::MappingStart(..)
                | Event::SequenceStart(..)
                | Event::Alias(..)
        );
        if !is_node {
            if matches!(ev, Event::MappingEnd | Event::SequenceEnd) {
                if let Some(Frame::Map { in_key: true, .. }) = stack.last() {
                    key_depth -= 1;
                }
                stack.pop();
            }
            continue;
        }
        let mut as_key = false;
        if let Some(Frame::Map { key, want_key, .. }) = stack.last_mut() {
            if *want_key {
                *want_key = false;
                as_key = true;
                *key = match &ev {
                    Event::Scalar(v, ..) => Some(v.to_string()),
                    _ => Some("?".to_string()),
                };
            } else {
                *want_key = true;
            }
        }
        if !as_key
            && key_depth == 0
            && let Event::Scalar(v, ..) = &ev
        {
            let path = stack
                .iter()
                .map(|f| match f {
                    Frame::Map { key, .. } => key.clone().unwrap_or_default(),
                    Frame::Seq => "[]".to_string(),
                })
                .collect::<Vec<_>>()
                .join("/");
            out.push((path, v.to_string()));
        }
        let nested_key = as_key || key_depth > 0;
        match ev {
            Event::MappingStart(..) => {
                if nested_key {
                    key_depth += 1;
                }
                stack.push(Frame::Map {
                    key: None,
                    want_key: true,
                    in_key: nested_key,
                });
            }
            Event::SequenceStart(..) => {
                if nested_key {
                    key_depth += 1;
                    stack.push(Frame::Map {
                        key: None,
                        want_key: false,
                        in_key: true,
                    });
                    // Sequences as keys are rare; treat like a map frame that never takes keys.
                    if let Some(Frame::Map { want_key, .. }) = stack.last_mut() {
                        *want_key = false;
                    }
                } else {
                    stack.push(Frame::Seq);
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

fn compare(name: &str, text: &str) -> Result<(), String> {
    let want = saphyr_scalars(text).map_err(|e| format!("{name}: saphyr rejects it: {e}"))?;
    let got = debug_scalars(text, false).map_err(|e| format!("{name}: scanner rejects it: {e}"))?;
    if got != want {
        let first = got
            .iter()
            .zip(&want)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(want.len()));
        return Err(format!(
            "{name}: scalars differ at #{first}: scanner {:?} vs saphyr {:?} ({} vs {} scalars)",
            got.get(first),
            want.get(first),
            got.len(),
            want.len()
        ));
    }
    Ok(())
}

/// Edge cases the corpus has few of (or none): explicit keys, tabs, chomping, CRLF, flow
/// forms, multi-line scalars, documents. Each must scan exactly as saphyr reads it.
#[test]
fn edge_cases_match_saphyr() {
    let cases = [
        "k: |\n  a\n\t\n  b\nx: 1\n",
        "k: a\n\t\n  b\n",
        "k:\n- a\n-\tb\n",
        "? a\n: b\nc: d\n",
        "--- x\n",
        "a: &x 1\nb: *x\n",
        "- - a\n  - b\n- c\n",
        "k: >\n  a\n    more\n  b\n",
        "? [a, b]\n: v\nc: d\n",
        "a:\n  ? b\n  : c\n  d: e\n",
        "k: 'it''s'\n",
        "k: \"a\\\n   b\"\n",
        "k: - a\n",
        "k: -a\n",
        "k: a:b\n",
        "k: a :b\n",
        "k: a#b\n",
        "'k': v\n\"k2\" : v2\n",
        "k: {a: 1, b: [x, {c: d}], e: }\n",
        "k: [a: 1, b]\n",
        "k: {? a : b}\n",
        "k: {\"a\":1}\n",
        "k: [\n  a,\n  b\n  ]\n",
        "k: {\n  # c\n  a: b\n}\n",
        "k: [a\n  b, c]\n",
        "- a\n-\n- c\n",
        "-\n  a: 1\n  b: 2\n",
        "a:\n-   b: 1\n    c: 2\n",
        "k: !!binary aGVsbG8=\n",
        "k: !Ref\n  x\n",
        "k: &a\n  b: 1\nl: *a\n",
        "<<: {a: 1}\nb: 2\n",
        "a: 1\n---\nb: 2\n...\n---\nc: 3\n",
        "k: \"\\u00e9\\x41\\t\"\n",
        "k: |\n  a\n\n  b\n\n",
        "k: |+\n  a\n\n",
        "k: >-\n  a\n  b\n\n  c\n",
        "k: |1\n  a\n",
        "k:   \t value\n",
        "k:\n  - a\n  # c\n  - b\n",
        "k: v # c: d\n",
        "a: b\r\nc: |\r\n  x\r\n  y\r\nd: 'e\r\n  f'\r\n",
        "{a: b}\n",
        "[a, b]\n",
        "a: [b, c] # x\n",
        "a: \"b\" # x\n",
        "a:\n\n\n  b: c\n",
        "a: b\n  c\n  d\n",
        "- a\n  b\n",
        "k: ~\n",
        "k: 'multi\n\n  line'\n",
    ];
    for c in cases {
        let mine = debug_scalars(c, false).map_err(|e| e.to_string());
        let theirs = saphyr_scalars(c);
        match (&mine, &theirs) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{c:?}"),
            (Err(_), Err(_)) => {}
            _ => panic!("{c:?}: scanner {mine:?}, saphyr {theirs:?}"),
        }
    }
}

#[test]
fn corpus_yaml_scalars_match_saphyr() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    let mut errors = Vec::new();
    for (name, text) in common::corpus_files(&dir) {
        if name.starts_with("ros/")
            && let Err(e) = compare(&name, &text)
        {
            errors.push(e);
        }
    }
    assert!(
        errors.is_empty(),
        "{} files differ:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

#[test]
fn fixture_yaml_scalars_match_saphyr() {
    for f in common::fixtures() {
        if f.ext == ".yaml" {
            compare(&f.name, &f.text).unwrap();
        }
    }
}

#[derive(Debug, Clone)]
enum V {
    Map(Vec<(String, V)>),
    Seq(Vec<V>),
    Str(String),
}

fn value() -> impl Strategy<Value = V> {
    let leaf = prop::sample::select(vec![
        "centos_7",
        "a b",
        "x: y",
        "# not a comment",
        "",
        "tab\there",
        "中文 text",
        "'quoted'",
        "\"dq\"",
        "line1\nline2",
        "-1",
        "http://a:b",
        "trailing ",
        "ALIYUN::ECS::Instance",
        "a, b",
        "[x]",
        "{y}",
        "null",
        "@at",
        "%p",
        "!bang",
        "&amp",
        "*star",
    ])
    .prop_map(|s| V::Str(s.to_string()));
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "ImageId",
                        "Type",
                        "Properties",
                        "k",
                        "key two",
                        "Ref",
                        "Fn::Join",
                        "é"
                    ]),
                    inner.clone()
                ),
                1..5
            )
            .prop_map(|kv| {
                // Duplicate keys are legal for our scanner but ambiguous; keep them unique.
                let mut seen = std::collections::HashSet::new();
                V::Map(
                    kv.into_iter()
                        .filter(|(k, _)| seen.insert(*k))
                        .map(|(k, v)| (k.to_string(), v))
                        .collect(),
                )
            }),
            prop::collection::vec(inner, 1..4).prop_map(V::Seq),
        ]
    })
}

/// Rendering choices, drawn per document.
#[derive(Debug, Clone)]
struct Style {
    indent: usize,
    flow_depth: usize,
    compact_seq: bool,
    comments: bool,
    quote: u8,
}

fn plain_ok(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || "_-.:/ ".contains(c))
        && !s.starts_with(['-', ':', ' '])
        && !s.ends_with([' ', ':'])
        && !s.contains(": ")
        && s.parse::<f64>().is_err()
        && s != "null"
}

fn scalar(s: &str, st: &Style, ind: usize, flow: bool) -> String {
    let dq = || {
        let mut o = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => o.push_str("\\\""),
                '\\' => o.push_str("\\\\"),
                '\n' => o.push_str("\\n"),
                '\t' => o.push_str("\\t"),
                c => o.push(c),
            }
        }
        o.push('"');
        o
    };
    match st.quote % 4 {
        _ if s.contains('\n') && !flow && st.quote.is_multiple_of(2) => {
            let pad = " ".repeat(ind + st.indent);
            format!(
                "|-\n{}",
                s.lines()
                    .map(|l| format!("{pad}{l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        }
        0 | 1 if plain_ok(s) && !(flow && s.contains([',', '[', ']', '{', '}'])) => s.to_string(),
        1 | 2 if !s.contains(['\n', '\t']) => format!("'{}'", s.replace('\'', "''")),
        _ => dq(),
    }
}

fn key(k: &str) -> String {
    if k.contains(' ') {
        format!("\"{k}\"")
    } else {
        k.to_string()
    }
}

fn flow(v: &V, st: &Style) -> String {
    match v {
        V::Str(s) => scalar(
            s,
            &Style {
                quote: 2,
                ..st.clone()
            },
            0,
            true,
        ),
        V::Seq(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|i| flow(i, st))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        V::Map(kv) => format!(
            "{{{}}}",
            kv.iter()
                .map(|(k, v)| format!("{}: {}", key(k), flow(v, st)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn block(v: &V, st: &Style, ind: usize, depth: usize, out: &mut String) {
    let pad = " ".repeat(ind);
    let c = if st.comments { "  # c" } else { "" };
    match v {
        V::Str(_) => unreachable!("scalars are rendered by their parent"),
        V::Map(kv) => {
            for (k, child) in kv {
                match child {
                    V::Str(s) => {
                        out.push_str(&format!("{pad}{}: {}\n", key(k), scalar(s, st, ind, false)))
                    }
                    _ if depth >= st.flow_depth => {
                        out.push_str(&format!("{pad}{}: {}{c}\n", key(k), flow(child, st)))
                    }
                    V::Seq(_) => {
                        out.push_str(&format!("{pad}{}:{c}\n", key(k)));
                        block(
                            child,
                            st,
                            if st.compact_seq { ind } else { ind + st.indent },
                            depth + 1,
                            out,
                        );
                    }
                    V::Map(_) => {
                        out.push_str(&format!("{pad}{}:{c}\n", key(k)));
                        block(child, st, ind + st.indent, depth + 1, out);
                    }
                }
            }
        }
        V::Seq(items) => {
            for item in items {
                match item {
                    V::Str(s) => out.push_str(&format!("{pad}- {}\n", scalar(s, st, ind, false))),
                    _ if depth >= st.flow_depth => {
                        out.push_str(&format!("{pad}- {}\n", flow(item, st)))
                    }
                    _ => {
                        out.push_str(&format!("{pad}-{c}\n"));
                        block(item, st, ind + st.indent, depth + 1, out);
                    }
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn generated_yaml_scalars_match_saphyr(
        doc in prop::collection::vec((prop::sample::select(vec!["Resources", "Parameters", "Outputs"]), value()), 1..3),
        indent in 1usize..5,
        flow_depth in 0usize..5,
        compact_seq in any::<bool>(),
        comments in any::<bool>(),
        quote in any::<u8>(),
        crlf in any::<bool>(),
    ) {
        let st = Style { indent, flow_depth, compact_seq, comments, quote };
        let mut seen = std::collections::HashSet::new();
        let root = V::Map(doc.into_iter().filter(|(k, _)| seen.insert(*k)).map(|(k, v)| (k.to_string(), v)).collect());
        let mut text = String::new();
        if let V::Map(kv) = &root {
            for (k, v) in kv {
                match v {
                    V::Str(s) => text.push_str(&format!("{k}: {}\n", scalar(s, &st, 0, false))),
                    _ => {
                        text.push_str(&format!("{k}:\n"));
                        block(v, &st, st.indent, 1, &mut text);
                    }
                }
            }
        }
        if crlf {
            text = text.replace('\n', "\r\n");
        }
        if let Err(e) = compare("generated", &text)
            && !e.contains("saphyr rejects") {
                prop_assert!(false, "{e}\n---\n{text}");
            }
    }
}
