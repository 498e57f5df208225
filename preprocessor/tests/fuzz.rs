//! Property tests (proptest, in place of cargo-fuzz so they run in CI): no scanner panics or
//! hangs on arbitrary input, untouched output is the input, edits stay in bounds; and on
//! generated valid templates the scanners agree with the reference parsers.
//!
//! `IMAGENEST_FUZZ_CASES=N` multiplies every case count by N for a longer local run
//! (`IMAGENEST_FUZZ_CASES=50 cargo test --release -p imagenest-preprocessor --test fuzz`).

mod common;

use common::oracle;
use imagenest_preprocessor::{Format, Lookup, ScanOptions, resolve, scan};
use proptest::prelude::*;

/// `n` cases, times `IMAGENEST_FUZZ_CASES` when it is set.
fn cases(n: u32) -> u32 {
    let k = std::env::var("IMAGENEST_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(1);
    n.saturating_mul(k.max(1))
}

const YAML_TOKENS: &[&str] = &[
    "Resources",
    "ImageId",
    "Type",
    "Properties",
    "ALIYUN::ECS::Instance",
    ":",
    ": ",
    " ",
    "  ",
    "\n",
    "\r\n",
    "- ",
    "-",
    "#",
    " # c",
    "|",
    "|-",
    ">+",
    "|2",
    "'",
    "''",
    "\"",
    "\\\"",
    "{",
    "}",
    "[",
    "]",
    ", ",
    "!Ref ",
    "!!str ",
    "&a ",
    "*a",
    "\t",
    "centos_7",
    "é中",
    "\\",
    "---\n",
    "...\n",
    "? ",
    "Ref",
    "Fn::Join",
    "Workspace",
    "main.tf",
    "%YAML 1.2\n",
    "\u{feff}",
    "<<: ",
    "&b ",
    "*b",
    "    ",
    ">",
    "|+",
    ">-",
    "12",
    "null",
    ".tf: ",
    "Transform",
];
const HCL_TOKENS: &[&str] = &[
    "resource",
    " \"alicloud_instance\" \"a\" ",
    "{",
    "}",
    "\n",
    "\r\n",
    " ",
    "image_id",
    " = ",
    "=",
    "\"centos_7\"",
    "\"",
    "${",
    "%{",
    "$${",
    "var.x",
    "data.y.z",
    "(",
    ")",
    "[",
    "]",
    "?",
    ":",
    "#",
    "//",
    "/*",
    "*/",
    "<<EOT\n",
    "<<-EOT\n",
    "EOT\n",
    "\\",
    "é",
    "\t",
    ",",
    "dynamic",
    "variable",
    "locals",
];
const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"Resources\"",
    "\"ImageId\"",
    "\"Type\"",
    "\"Properties\"",
    "\"ALIYUN::ECS::Instance\"",
    "\"resource\"",
    "\"alicloud_instance\"",
    "\"image_id\"",
    "\"x\"",
    "\"${var.a}\"",
    "\"\\u00e9\"",
    "\"\\\"\"",
    "1",
    "true",
    "null",
    " ",
    "\n",
    "\"",
];

fn soup(tokens: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(tokens), 0..120).prop_map(|v| v.concat())
}

/// Scanning never panics; when it succeeds, resolving nothing is the identity and edits are in
/// bounds, ordered and on character boundaries.
fn robust(text: &str, format: Format) {
    let Ok(sites) = scan(text, format, &ScanOptions::default()) else {
        return;
    };
    assert_eq!(
        resolve(text, &sites, |_| Lookup::NotAssociated).apply(text),
        text
    );
    let res = resolve(text, &sites, |_| Lookup::Image("m-fuzz".into()));
    let mut last = 0;
    for e in &res.edits {
        assert!(e.span.start >= last && e.span.end <= text.len() && e.span.start <= e.span.end);
        assert!(text.is_char_boundary(e.span.start) && text.is_char_boundary(e.span.end));
        last = e.span.end;
    }
    let _ = res.apply(text);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(400), ..ProptestConfig::default() })]

    #[test]
    fn yaml_scanner_survives_anything(text in soup(YAML_TOKENS)) {
        robust(&text, Format::RosYaml);
    }

    #[test]
    fn hcl_scanner_survives_anything(text in soup(HCL_TOKENS)) {
        robust(&text, Format::Terraform);
    }

    #[test]
    fn json_scanner_survives_anything(text in soup(JSON_TOKENS)) {
        robust(&text, Format::RosJson);
        robust(&text, Format::TerraformJson);
    }

    #[test]
    fn arbitrary_bytes_never_panic(text in ".{0,200}") {
        for f in [Format::RosYaml, Format::RosJson, Format::Terraform, Format::TerraformJson] {
            robust(&text, f);
        }
    }
}

/// One generated ROS resource.
fn ros_resource() -> impl Strategy<Value = (String, usize, usize, bool, bool)> {
    (
        prop::sample::select(vec![
            "ALIYUN::ECS::Instance",
            "ALIYUN::ECS::CopyImage",
            "ALIYUN::ESS::ScalingConfiguration",
            "ALIYUN::ECS::VPC",
        ])
        .prop_map(str::to_string),
        0usize..9,     // value style
        0usize..3,     // extra property style
        any::<bool>(), // type before properties
        any::<bool>(), // comments
    )
}

fn ros_template(resources: &[(String, usize, usize, bool, bool)], crlf: bool) -> String {
    let mut s = String::from(
        "ROSTemplateFormatVersion: '2015-09-01'\nParameters:\n  Img:\n    Default: centos_7\nResources:\n",
    );
    for (i, (ty, style, extra, type_first, comments)) in resources.iter().enumerate() {
        let value = match style {
            0 => "centos_7".to_string(),
            1 => "'ubuntu_22'".to_string(),
            2 => "\"img\\u005f2\"".to_string(),
            3 => "!Ref Img".to_string(),
            4 => "\n        Ref: Img".to_string(),
            5 => "|-\n        block_img".to_string(),
            6 => "{Ref: Img}".to_string(),
            7 => "multi\n        line".to_string(),
            _ => "&anc anchored".to_string(),
        };
        let extra = match extra {
            0 => "      UserData: |\n        ImageId: not_a_site\n        echo hi\n".to_string(),
            1 => "      Tags: [{Key: ImageId, Value: x}, plain]\n".to_string(),
            _ => "      Nested:\n        - ImageId: deep\n          Other: 1\n".to_string(),
        };
        let c = if *comments { "  # comment\n" } else { "" };
        let props = format!(
            "    Properties:{}\n{extra}      ImageId: {value}\n",
            if *comments { " # props" } else { "" }
        );
        let t = format!("    Type: {ty}\n");
        s.push_str(&format!("  R{i}:\n{c}"));
        if *type_first {
            s.push_str(&t);
            s.push_str(&props);
        } else {
            s.push_str(&props);
            s.push_str(&t);
        }
    }
    if crlf { s.replace('\n', "\r\n") } else { s }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(200), ..ProptestConfig::default() })]

    #[test]
    fn generated_ros_yaml_agrees_with_saphyr(res in prop::collection::vec(ros_resource(), 0..8), crlf in any::<bool>()) {
        let text = ros_template(&res, crlf);
        let opts = ScanOptions::default();
        let reference = oracle::sites(&text, Format::RosYaml, &opts.resource_types).expect("generated YAML is valid");
        let mine = scan(&text, Format::RosYaml, &opts).expect("scanner accepts valid YAML");
        prop_assert_eq!(oracle::from_scan(&mine, &reference), reference);
    }

    #[test]
    fn generated_terraform_agrees_with_hcl_edit(
        blocks in prop::collection::vec((0usize..4, 0usize..6, any::<bool>()), 0..8)
    ) {
        let mut text = String::from("variable \"v\" {\n  default = \"centos_7\"\n}\n");
        for (i, (ty, style, nested)) in blocks.iter().enumerate() {
            let ty = ["alicloud_instance", "alicloud_image_copy", "alicloud_ecs_launch_template", "alicloud_vpc"][*ty];
            let value = ["\"centos_7\"", "var.v", "\"${var.v}-x\"", "data.alicloud_images.d.ids[0]", "<<EOT\nheredoc_img\nEOT", "cond ? \"a\" : \"b\""][*style];
            let body = if *nested { format!("  block {{\n    # c\n    image_id = {value}\n  }}\n") } else { format!("  // c\n  image_id = {value}\n") };
            text.push_str(&format!("# r{i}\nresource \"{ty}\" \"r{i}\" {{\n  tags = {{ a = \"}}\" }}\n{body}}}\n"));
        }
        let opts = ScanOptions::default();
        let reference = oracle::sites(&text, Format::Terraform, &opts.resource_types).expect("generated HCL is valid");
        let mine = scan(&text, Format::Terraform, &opts).expect("scanner accepts valid HCL");
        prop_assert_eq!(oracle::from_scan(&mine, &reference), reference);
    }
}
