//! Soups: random sequences of template lines and pieces (YAML, HCL, JSON). Whenever the
//! reference parser reads one, the scanner must read it too and find the same sites (for HCL
//! the same byte spans). `IMAGENEST_FUZZ_CASES=N` runs N times more cases.

mod common;

use common::oracle;
use imagenest_preprocessor::{Format, ScanOptions, scan};
use proptest::prelude::*;

fn cases(n: u32) -> u32 {
    let k = std::env::var("IMAGENEST_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(1);
    n.saturating_mul(k.max(1))
}

/// Lines of ROS YAML in every shape; random sequences of them are often valid YAML.
const LINES: &[&str] = &[
    "Resources:\n",
    "  Vm:\n",
    "    Type: ALIYUN::ECS::Instance\n",
    "    Properties:\n",
    "      ImageId: centos_7\n",
    "      ImageId: 'a''b'\n",
    "      ImageId: \"x\\ty\"\n",
    "      ImageId: |\n",
    "        block\n",
    "      ImageId: >-\n",
    "      ImageId:\n",
    "        Ref: X\n",
    "      ImageId: [a, b]\n",
    "      ImageId: {Ref: X}\n",
    "      - ImageId: s\n",
    "      -\n",
    "        ImageId: t\n",
    "      X: &a centos\n",
    "      ImageId: *a\n",
    "      <<: *a\n",
    "      Y: &m {ImageId: m1}\n",
    "      <<: *m\n",
    "  # c\n",
    "\n",
    "---\n",
    "      ImageId: multi\n",
    "        line\n",
    "      ? ImageId\n",
    "      : explicit\n",
    "      ImageId: !Ref X\n",
    "      ImageId: !!str 5\n",
    "      ImageId: 5\n",
    "    Properties: {ImageId: f,\n",
    "      Z: 1}\n",
    "  Vm2: *vm\n",
    "  Vm3: &vm\n",
    "      ImageId: \"multi\n",
    "        dq\"\n",
    "\t\n",
    "      ImageId: x # c\n",
    "Resources: !!map\n",
    "      ImageId: &i2 |-\n",
    "      ImageId: [*i2]\n",
    "      <<: [*m, *a]\n",
    "    Properties: *m\n",
    "      ImageId: ~\n",
    "      ImageId: \"\"\n",
    "...\n",
    "Workspace:\n",
    "  main.tf: |\n",
    "    resource \"alicloud_instance\" \"w\" {\n",
    "      image_id = \"ws\"\n",
    "    }\n",
];

fn line_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(LINES), 0..25).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(5000), max_global_rejects: 4_000_000_000, ..ProptestConfig::default() })]

    /// Random sequences of template lines: whenever saphyr reads one as YAML, the scanner
    /// reads it too and finds the same sites (CRLF too).
    #[test]
    fn line_soup_agrees_with_saphyr(text in line_soup(), crlf in any::<bool>()) {
        let text = if crlf { text.replace('\n', "\r\n") } else { text };
        let opts = ScanOptions::default();
        let reference = oracle::sites(&text, Format::RosYaml, &opts.resource_types);
        prop_assume!(reference.is_ok());
        let reference = reference.unwrap();
        let mine = scan(&text, Format::RosYaml, &opts);
        prop_assert!(mine.is_ok(), "scanner rejects valid YAML: {:?}\n{}", mine.err(), text);
        prop_assert_eq!(oracle::from_scan(&mine.unwrap(), &reference), reference, "{}", text);
    }
}

/// Pieces of Terraform in every shape; random sequences of them are often valid HCL.
const HCL_PIECES: &[&str] = &[
    "resource \"alicloud_instance\" \"a\" {\n",
    "resource \"alicloud_ecs_launch_template\" \"b\" {\n",
    "resource \"alicloud_image_copy\" \"c\" {\n",
    "data \"alicloud_images\" \"d\" {\n",
    "module \"m\" {\n",
    "locals {\n",
    "variable \"v\" {\n",
    "dynamic \"disk\" {\n",
    "content {\n",
    "nested {\n",
    "}\n",
    "  image_id = \"centos_7\"\n",
    "  image_id = \"a\\\"b\\u00e9\"\n",
    "  image_id = \"$${x}\"\n",
    "  image_id = \"${var.v}\"\n",
    "  image_id = var.v\n",
    "  image_id = <<EOT\nhd\nEOT\n",
    "  image_id = <<-EOT\n    hd2\n  EOT\n",
    "  image_id = cond ? \"a\" : \"b\"\n",
    "  image_id = lookup(var.m, \"k\")\n",
    "  image_id = (\"p\")\n",
    "  default = \"d\"\n",
    "  tags = { a = \"}\", b = \"{\" }\n",
    "  list = [\n    \"x\",\n  ]\n",
    "  # image_id = \"comment\"\n",
    "  // c\n",
    "  /* image_id = \"block\" */\n",
    "  user_data = <<EOF\nimage_id = \"in heredoc\"\n}\nEOF\n",
    "\n",
    "  image_id = \"x\" # trailing\n",
    "  image_id = \"y\" /* c */\n",
];

fn hcl_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(HCL_PIECES), 0..20).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(5000), max_global_rejects: 4_000_000_000, ..ProptestConfig::default() })]

    /// Random sequences of Terraform pieces: whenever hcl-edit reads one, the scanner reads it
    /// too and finds the same sites with the same byte spans (CRLF too).
    #[test]
    fn hcl_soup_agrees_with_hcl_edit(text in hcl_soup(), crlf in any::<bool>()) {
        let text = if crlf { text.replace('\n', "\r\n") } else { text };
        let opts = ScanOptions::default();
        let reference = oracle::sites(&text, Format::Terraform, &opts.resource_types);
        prop_assume!(reference.is_ok());
        let reference = reference.unwrap();
        let mine = scan(&text, Format::Terraform, &opts);
        prop_assert!(mine.is_ok(), "scanner rejects valid HCL: {:?}\n{}", mine.err(), text);
        prop_assert_eq!(oracle::from_scan(&mine.unwrap(), &reference), reference, "{}", text);
    }
}

/// Pieces of ROS JSON and Terraform JSON; random sequences are sometimes valid JSON.
const JSON_PIECES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\n",
    " ",
    "\"Resources\"",
    "\"Vm\"",
    "\"Type\"",
    "\"ALIYUN::ECS::Instance\"",
    "\"Properties\"",
    "\"ImageId\"",
    "\"Image\\u0049d\"",
    "\"centos_7\"",
    "\"c\\u00e9\\\"\"",
    "12",
    "null",
    "true",
    "\"Ref\"",
    "\"resource\"",
    "\"alicloud_instance\"",
    "\"image_id\"",
    "\"${var.x}\"",
    "\"$${y}\"",
    "\"Workspace\"",
    "\"main.tf\"",
    "\"resource \\\"alicloud_instance\\\" \\\"w\\\" {\\n  image_id = \\\"ws\\\"\\n}\\n\"",
    "{\"Vm\": {\"Type\": \"ALIYUN::ECS::Instance\", \"Properties\": {\"ImageId\": \"x\"}}}",
];

fn json_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(JSON_PIECES), 0..30).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(5000), max_global_rejects: 4_000_000_000, ..ProptestConfig::default() })]

    /// Whenever serde_json reads a piece soup, the JSON scanner reads it and finds the same
    /// sites, as ROS JSON and as Terraform JSON.
    #[test]
    fn json_soup_agrees_with_serde_json(text in json_soup()) {
        let opts = ScanOptions::default();
        for format in [Format::RosJson, Format::TerraformJson] {
            let reference = oracle::sites(&text, format, &opts.resource_types);
            prop_assume!(reference.is_ok());
            let reference = reference.unwrap();
            let mine = scan(&text, format, &opts);
            prop_assert!(mine.is_ok(), "scanner rejects valid JSON: {:?}\n{}", mine.err(), text);
            prop_assert_eq!(oracle::from_scan(&mine.unwrap(), &reference), reference, "{}", text);
        }
    }
}
