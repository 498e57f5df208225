//! `imagenest resolve` and `imagenest check` as a user runs them: exit codes, stdin/stdout,
//! `-o` files and directories, `--in-place` atomicity, `--strict`, reports and diffs.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const MAP: &str = r#"{"service": "acme_app", "images": {
  "centos_7": {"package": "acme_base", "version": "v2_1", "regions": {"cn-hangzhou": "m-bp1centos7"}},
  "only_sg": {"package": "acme_sg", "version": "v_1", "regions": {"ap-southeast-1": "m-t4n"}}}}"#;

const ROS: &str = "ROSTemplateFormatVersion: '2015-09-01'\r\n# keep me\r\nResources:\r\n  Vm:\r\n    Type: ALIYUN::ECS::Instance\r\n    Properties:\r\n      ImageId: 'centos_7'   # base\r\n";
const ROS_REF: &str = "Parameters:\n  Img:\n    Default: centos_7\nResources:\n  Vm:\n    Type: ALIYUN::ECS::Instance\n    Properties:\n      ImageId: {Ref: Img}\n  Vm2:\n    Type: ALIYUN::ECS::Instance\n    Properties:\n      ImageId: centos_7\n";
const TF: &str = "resource \"alicloud_instance\" \"web\" {\n  image_id = \"centos_7\" # base\n}\n";

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_imagenest"))
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().expect("run imagenest")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("map.json");
    std::fs::write(&map, MAP).unwrap();
    (dir, map)
}

fn resolve(map: &Path) -> Command {
    let mut c = bin();
    c.args(["resolve", "--region", "cn-hangzhou", "--map"])
        .arg(map);
    c
}

#[test]
fn resolve_writes_stdout_keeping_every_other_byte() {
    let (dir, map) = setup();
    let f = dir.path().join("t.yaml");
    std::fs::write(&f, ROS).unwrap();
    let o = run(resolve(&map).arg(&f));
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        ROS.replace("'centos_7'", "'m-bp1centos7'")
    );
}

#[test]
fn resolve_reads_stdin_with_dash() {
    let (_dir, map) = setup();
    let mut child = resolve(&map)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(TF.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        TF.replace("centos_7", "m-bp1centos7")
    );
}

#[test]
fn resolve_output_file_and_directory() {
    let (dir, map) = setup();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("nested")).unwrap();
    std::fs::write(src.join("a.yaml"), ROS).unwrap();
    std::fs::write(src.join("nested/main.tf"), TF).unwrap();
    std::fs::write(src.join("README.md"), "not a template").unwrap();
    let out = dir.path().join("out");
    let o = run(resolve(&map).arg("-o").arg(&out).arg(&src));
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read_to_string(out.join("a.yaml")).unwrap(),
        ROS.replace("'centos_7'", "'m-bp1centos7'")
    );
    assert_eq!(
        std::fs::read_to_string(out.join("nested/main.tf")).unwrap(),
        TF.replace("centos_7", "m-bp1centos7")
    );
    assert!(!out.join("README.md").exists());

    let single = dir.path().join("single.tf");
    let o = run(resolve(&map)
        .arg("-o")
        .arg(&single)
        .arg(src.join("nested/main.tf")));
    assert_eq!(code(&o), 0);
    assert_eq!(
        std::fs::read_to_string(&single).unwrap(),
        TF.replace("centos_7", "m-bp1centos7")
    );
}

#[test]
fn in_place_rewrites_and_is_all_or_nothing() {
    let (dir, map) = setup();
    let good = dir.path().join("good.tf");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&good, TF).unwrap();
    std::fs::write(&bad, "Resources:\n  Vm: [unclosed\n").unwrap();
    let o = run(resolve(&map).arg("--in-place").arg(&good).arg(&bad));
    assert_eq!(code(&o), 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bad.yaml:2:7") && err.contains("expected"),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&good).unwrap(),
        TF,
        "a failing run must not touch any input"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    std::fs::remove_file(&bad).unwrap();
    let o = run(resolve(&map).arg("--in-place").arg(&good));
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read_to_string(&good).unwrap(),
        TF.replace("centos_7", "m-bp1centos7")
    );
}

#[test]
fn findings_exit_1_but_still_write_and_strict_writes_nothing() {
    let (dir, map) = setup();
    let f = dir.path().join("t.yaml");
    std::fs::write(&f, ROS_REF).unwrap();
    let out = dir.path().join("out.yaml");
    let o = run(resolve(&map).arg("-o").arg(&out).arg(&f));
    assert_eq!(code(&o), 1);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("t.yaml:8:16") && err.contains("whose default is `centos_7`"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        ROS_REF.replace("ImageId: centos_7", "ImageId: m-bp1centos7")
    );

    let unassociated = dir.path().join("u.tf");
    std::fs::write(&unassociated, TF.replace("centos_7", "rocky_9")).unwrap();
    let out2 = dir.path().join("out2.tf");
    let o = run(resolve(&map).arg("-o").arg(&out2).arg(&unassociated));
    assert_eq!(
        code(&o),
        0,
        "an unassociated literal is fine without --strict"
    );
    let o = run(resolve(&map)
        .arg("--strict")
        .arg("-o")
        .arg(dir.path().join("out3.tf"))
        .arg(&unassociated));
    assert_eq!(code(&o), 1);
    assert!(
        !dir.path().join("out3.tf").exists(),
        "--strict with an unresolved site writes nothing"
    );

    let not_here = dir.path().join("sg.tf");
    std::fs::write(&not_here, TF.replace("centos_7", "only_sg")).unwrap();
    let o = run(resolve(&map)
        .arg("-o")
        .arg(dir.path().join("out4.tf"))
        .arg(&not_here));
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("not distributed to cn-hangzhou"));
}

#[test]
fn check_exit_codes_and_reports() {
    let (dir, _map) = setup();
    let lit = dir.path().join("lit.tf");
    std::fs::write(&lit, TF).unwrap();
    let o = run(bin().arg("check").arg(&lit));
    assert_eq!(code(&o), 0);
    assert!(String::from_utf8_lossy(&o.stdout).contains(
        "lit.tf:2:14: alicloud_instance.web (alicloud_instance) image_id: literal `centos_7`"
    ));

    let nonlit = dir.path().join("ref.yaml");
    std::fs::write(&nonlit, ROS_REF).unwrap();
    let o = run(bin().args(["check", "--report", "json"]).arg(&nonlit));
    assert_eq!(code(&o), 1);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let sites = v["files"][0]["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 2);
    assert_eq!(sites[0]["class"], "non_literal");
    assert_eq!(sites[0]["kind"], "ref");
    assert_eq!(sites[0]["error"], true);
    assert_eq!(sites[1]["literal"], "centos_7");
    assert_eq!(sites[1]["line"], 12);

    let bad = dir.path().join("bad.tf");
    std::fs::write(
        &bad,
        "resource \"alicloud_instance\" \"x\" {\n  image_id = \"centos_7\n}\n",
    )
    .unwrap();
    let o = run(bin().arg("check").arg(&bad));
    assert_eq!(code(&o), 2);
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("bad.tf:2:14: invalid HCL: unterminated string")
    );

    let binary = dir.path().join("bin.yaml");
    std::fs::write(&binary, b"\x00\x01\x02garbage").unwrap();
    let o = run(bin().arg("check").arg(&binary));
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("binary"));

    let o = run(bin().arg("check").arg(dir.path().join("missing.yaml")));
    assert_eq!(code(&o), 2);
}

#[test]
fn diff_and_report_and_usage_errors() {
    let (dir, map) = setup();
    let f = dir.path().join("t.tf");
    std::fs::write(&f, TF).unwrap();
    let o = run(resolve(&map).arg("--diff").arg(&f));
    assert_eq!(code(&o), 0);
    let diff = String::from_utf8(o.stdout).unwrap();
    assert!(diff.contains("@@ -2,1 +2,1 @@\n-  image_id = \"centos_7\" # base\n+  image_id = \"m-bp1centos7\" # base\n"), "{diff}");

    let o = run(resolve(&map)
        .args(["--report", "json", "-o"])
        .arg(dir.path().join("o.tf"))
        .arg(&f));
    assert_eq!(code(&o), 0);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"][0]["sites"][0]["outcome"], "replaced");
    assert_eq!(v["files"][0]["sites"][0]["image"], "m-bp1centos7");

    // No mapping source, or two: usage errors.
    let o = run(bin().args(["resolve", "--region", "cn-hangzhou"]).arg(&f));
    assert_eq!(code(&o), 2);
    let o = run(resolve(&map)
        .args(["--registry", "http://127.0.0.1:1", "--service", "s"])
        .arg(&f));
    assert_eq!(code(&o), 2);
    // An unreachable registry is an error naming it.
    let o = run(bin()
        .args([
            "resolve",
            "--region",
            "cn-hangzhou",
            "--registry",
            "http://127.0.0.1:1",
            "--service",
            "s",
            "--token",
            "t",
        ])
        .arg(&f));
    // Exit 3: the registry cannot be reached (README, "Exit codes").
    assert_eq!(code(&o), 3);
    assert!(String::from_utf8_lossy(&o.stderr).contains("127.0.0.1:1"));
}

#[test]
fn variables_of_the_same_module_give_the_hint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("variables.tf"),
        "variable \"image_id\" {\n  default = \"centos_7\"\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        "resource \"alicloud_instance\" \"web\" {\n  image_id = var.image_id\n}\n",
    )
    .unwrap();
    let o = run(bin().arg("check").arg(dir.path()));
    assert_eq!(code(&o), 1);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("main.tf:2:14: error:") && out.contains("whose default is `centos_7`"),
        "{out}"
    );
}

#[test]
fn large_templates_are_mapped_and_rewritten_in_place() {
    let (dir, map) = setup();
    let f = dir.path().join("big.tf");
    let block = TF.replace("\"web\"", "\"web_N\"");
    let text: String = (0..20_000)
        .map(|i| block.replace("_N", &format!("_{i}")))
        .collect();
    assert!(text.len() > 1 << 20);
    std::fs::write(&f, &text).unwrap();
    let o = run(resolve(&map).arg("--in-place").arg(&f));
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        text.replace("centos_7", "m-bp1centos7")
    );
    let binary = dir.path().join("big.yaml");
    let mut bytes = vec![b'a'; 2 << 20];
    bytes[1 << 20] = 0;
    std::fs::write(&binary, &bytes).unwrap();
    let o = run(bin().arg("check").arg(&binary));
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("binary"));
}

#[test]
fn check_reports_region_image_get_att_as_information() {
    let dir = tempfile::tempdir().unwrap();
    let template = "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  BaseImage:\n    Type: Custom::RegionImage\n    Properties:\n      Package: acme_base\n  Web:\n    Type: ALIYUN::ECS::Instance\n    Properties:\n      ImageId:\n        Fn::GetAtt: [BaseImage, ImageId]\n";
    let path = dir.path().join("stack.yaml");
    std::fs::write(&path, template).unwrap();
    let out = run(bin().arg("check").arg(&path));
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("resolved at deploy time by the registry's ROS custom resource endpoint"),
        "{text}"
    );
    assert!(!text.contains("error:"), "{text}");
    // The same GetAtt of anything else is still the Compute Nest limit.
    std::fs::write(
        &path,
        template.replace("[BaseImage, ImageId]", "[OtherStack, ImageId]"),
    )
    .unwrap();
    let out = run(bin().arg("check").arg(&path));
    assert_eq!(code(&out), 1);
}

/// A ROS template that reaches its instances' images through a merge key, an alias and a
/// folded `Workspace` file, and has a number where an image ID should be.
const ROS_CORNERS: &str = concat!(
    "ROSTemplateFormatVersion: '2015-09-01'\n",
    "Metadata:\n",
    "  Defaults: &defaults\n",
    "    ImageId: centos_7\n",
    "Parameters:\n",
    "  Img:\n",
    "    Type: String\n",
    "    Default: &img centos_7\n",
    "Resources:\n",
    "  Web:\n",
    "    Type: ALIYUN::ECS::Instance\n",
    "    Properties:\n",
    "      <<: *defaults\n",
    "  Api:\n",
    "    Type: ALIYUN::ECS::Instance\n",
    "    Properties:\n",
    "      ImageId: *img\n",
    "  Num:\n",
    "    Type: ALIYUN::ECS::Instance\n",
    "    Properties:\n",
    "      ImageId: 12345\n",
    "Workspace:\n",
    "  main.tf: >\n",
    "    resource \"alicloud_instance\" \"tf\" {\n",
    "\n",
    "      image_id = \"centos_7\"\n",
    "\n",
    "    }\n",
);

#[test]
fn merges_aliases_numbers_and_folded_workspace_files() {
    let (dir, map) = setup();
    let f = dir.path().join("corners.yaml");
    std::fs::write(&f, ROS_CORNERS).unwrap();

    // check: the merged site at the anchored literal, the alias, the number, the embedded file.
    let o = run(bin().arg("check").arg(&f));
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    for want in [
        "corners.yaml:4:14: Web (ALIYUN::ECS::Instance) Properties.ImageId: literal `centos_7`",
        "corners.yaml:17:16: Api (ALIYUN::ECS::Instance) Properties.ImageId: literal `centos_7`",
        "corners.yaml:21:16: error: Num (ALIYUN::ECS::Instance) Properties.ImageId",
        "is a number",
        "corners.yaml:26:19: alicloud_instance.tf (alicloud_instance) image_id in Workspace/main.tf",
    ] {
        assert!(out.contains(want), "missing {want:?} in:\n{out}");
    }

    // resolve: each literal rewritten where it is written, nothing else.
    let o = run(resolve(&map).arg(&f));
    assert_eq!(code(&o), 1, "the number is a finding");
    let got = String::from_utf8(o.stdout).unwrap();
    let want = ROS_CORNERS
        .replace("ImageId: centos_7", "ImageId: m-bp1centos7")
        .replace("ImageId: *img", "ImageId: m-bp1centos7")
        .replace("image_id = \"centos_7\"", "image_id = \"m-bp1centos7\"");
    assert_eq!(got, want);

    // A value folded over two lines of the Workspace string cannot be written in place: check
    // says so (exit 1) instead of passing a template that resolve would then fail on.
    let stuck = dir.path().join("stuck.yaml");
    std::fs::write(
        &stuck,
        "Workspace:\n  main.tf: \"resource \\\"alicloud_instance\\\" \\\"a\\\" {\\n  image_id = \\\"cen\n    tos\\\"\\n}\\n\"\n",
    )
    .unwrap();
    let o = run(bin().arg("check").arg(&stuck));
    assert_eq!(code(&o), 1);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("stuck.yaml:2:66: error: alicloud_instance.a"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("cannot be rewritten in place"));
}
