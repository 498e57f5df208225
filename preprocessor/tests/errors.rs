//! Invalid input is refused with the position and what was expected; never a panic.

use imagenest_preprocessor::{Error, Format, ScanOptions, scan, text_of};

#[test]
fn invalid_templates_name_the_position_and_the_expectation() {
    let cases: &[(Format, &str, &str, &str)] = &[
        (
            Format::RosYaml,
            "Resources:\n  Vm:\n    Type: \"open\n",
            "3:11",
            "closing `\"`",
        ),
        (Format::RosYaml, "Resources:\n\tVm: x\n", "2:1", "tab"),
        (
            Format::RosYaml,
            "Resources:\r  Vm:\r    Type: x\r",
            "1:11",
            "lone CR",
        ),
        (
            Format::RosYaml,
            "Resources:\n  Vm:\n    Type: x\n   Bad: y\n",
            "4:4",
            "indentation",
        ),
        (Format::RosYaml, "a: b\n  c: d: e\n", "2:4", "not allowed"),
        (
            Format::RosYaml,
            "Resources: {Vm: [1, 2}\n",
            "1:22",
            "expected `,` or `]`",
        ),
        (
            Format::RosYaml,
            "Resources:\n  Vm: [unclosed\n",
            "2:7",
            "unterminated flow sequence",
        ),
        (
            Format::RosYaml,
            "- a\nb: c\n",
            "2:1",
            "second top-level node",
        ),
        (
            Format::RosYaml,
            "k: |x\n  a\n",
            "1:5",
            "block scalar header",
        ),
        (Format::RosJson, "{\"a\": 1,}", "1:9", "trailing comma"),
        (Format::RosJson, "{\"a\" 1}", "1:6", "expected `:`"),
        (Format::RosJson, "{a: 1}", "1:2", "double quotes"),
        (Format::RosJson, "{\"a\": 1} x", "1:10", "end of the input"),
        (Format::TerraformJson, "[", "1:1", "unterminated"),
        (
            Format::Terraform,
            "resource \"a\" \"b\" {\n  x = 1\n",
            "1:18",
            "expected `}`",
        ),
        (
            Format::Terraform,
            "resource \"a\" \"b\" {\n  x = (1\n}\n",
            "3:1",
            "expected `)`",
        ),
        (
            Format::Terraform,
            "resource \"a\" \"b\" {\n  image_id = \"open\n}\n",
            "2:14",
            "unterminated string",
        ),
        (
            Format::Terraform,
            "x = <<EOT\nnever closed\n",
            "1:5",
            "unterminated heredoc",
        ),
        (Format::Terraform, "}\n", "1:1", "no block is open"),
        (Format::Terraform, "a = \n", "1:5", "expected an expression"),
        (Format::Terraform, "/* open", "1:1", "`*/`"),
    ];
    for (format, text, pos, want) in cases {
        match scan(text, *format, &ScanOptions::default()) {
            Err(e @ Error::Syntax { .. }) => {
                let msg = e.to_string();
                assert!(
                    msg.starts_with(pos),
                    "{text:?}: want position {pos}, got {msg}"
                );
                assert!(msg.contains(want), "{text:?}: want {want:?} in {msg}");
            }
            other => panic!("{text:?}: want a syntax error, got {other:?}"),
        }
    }
}

#[test]
fn binary_and_huge_input_are_refused() {
    assert!(matches!(
        text_of(b"ab\0cd", "x", 1 << 20),
        Err(Error::Binary(_))
    ));
    assert!(matches!(
        text_of(&[0xff, 0xfe, b'a'], "x", 1 << 20),
        Err(Error::Binary(_))
    ));
    assert!(matches!(
        text_of(&[b'a'; 100], "x", 10),
        Err(Error::TooLarge {
            size: 100,
            limit: 10
        })
    ));
    let opts = ScanOptions {
        max_size: 10,
        ..ScanOptions::default()
    };
    assert!(matches!(
        scan("Resources: {}\n", Format::RosYaml, &opts),
        Err(Error::TooLarge { .. })
    ));
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    for f in [Format::RosYaml, Format::RosJson] {
        let e = scan(&deep, f, &ScanOptions::default()).unwrap_err();
        assert!(e.to_string().contains("nesting deeper"), "{e}");
    }
    let hcl = format!("a = {}1{}\n", "(".repeat(100_000), ")".repeat(100_000));
    assert!(
        scan(&hcl, Format::Terraform, &ScanOptions::default())
            .unwrap_err()
            .to_string()
            .contains("nesting deeper")
    );
    let blocks = format!("{}{}", "b {\n".repeat(100_000), "}\n".repeat(100_000));
    assert!(
        scan(&blocks, Format::Terraform, &ScanOptions::default())
            .unwrap_err()
            .to_string()
            .contains("nesting deeper")
    );
    let yaml: String = (0..2000)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    assert!(
        scan(&yaml, Format::RosYaml, &ScanOptions::default())
            .unwrap_err()
            .to_string()
            .contains("nesting deeper")
    );
}

#[test]
fn alias_bombs_are_refused_not_expanded() {
    // Each anchor holds two aliases of the one before: 2^30 ImageIds behind 30 short lines.
    let mut t =
        String::from("Resources:\n  Vm:\n    Type: ALIYUN::ECS::Instance\n    Properties:\n");
    t.push_str("      L0: &a0 {ImageId: centos_7}\n");
    for i in 1..30 {
        t.push_str(&format!("      L{i}: &a{i} [*a{p}, *a{p}]\n", p = i - 1));
    }
    t.push_str("      Last: *a29\n");
    let start = std::time::Instant::now();
    let e = scan(&t, Format::RosYaml, &ScanOptions::default()).unwrap_err();
    assert!(e.to_string().contains("aliases expand to too many"), "{e}");
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
}
