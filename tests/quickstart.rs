//! `imagenest quickstart` end to end, as the README's first command runs it: a real registry,
//! the real `terraform` and the built provider; and its one-sentence answer without terraform.

mod newcomer;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use newcomer::{IMAGENEST, provider_bin, require_terraform, root, text};

#[test]
fn quickstart_runs_the_whole_story_and_cleans_up() {
    require_terraform();
    let provider = provider_bin();
    let tmp = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = Command::new(IMAGENEST)
        .arg("quickstart")
        .arg("--provider")
        .arg(&provider)
        .current_dir(root())
        // Its working directory goes under TMPDIR; this test's own one is checked below.
        .env("TMPDIR", tmp.path())
        .env("NO_COLOR", "1")
        .env_remove("IMAGENEST_TOKEN")
        .env_remove("IMAGENEST_ENDPOINT")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let all = text(&out);
    assert!(out.status.success(), "quickstart failed:\n{all}");
    for needle in [
        "Apply complete! Resources: 4 added",
        "Destroy complete! Resources: 4 destroyed",
        "service `acme_app` (public)",
    ] {
        assert!(all.contains(needle), "missing `{needle}` in:\n{all}");
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The region → image table: every target region with its own image.
    let mut images = Vec::new();
    for region in [
        "ap-southeast-1",
        "cn-beijing",
        "cn-hangzhou",
        "cn-shanghai",
        "eu-central-1",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(region) && l.contains(" m-"))
            .unwrap_or_else(|| panic!("no image for {region} in:\n{stdout}"));
        images.push(line.split_whitespace().nth(1).unwrap().to_string());
    }
    let mut distinct = images.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 5, "{images:?}");
    // A diff per resolve region, each replacing the literal with that region's image.
    for (region, image) in [
        ("cn-shanghai", &images[3]),
        ("ap-southeast-1", &images[0]),
        ("eu-central-1", &images[4]),
    ] {
        assert!(
            stdout.contains(&format!("── {region}")),
            "no diff for {region}:\n{stdout}"
        );
        assert!(
            stdout.contains(&format!("+      ImageId: {image}")),
            "ROS diff for {region} lacks {image}:\n{stdout}"
        );
        assert!(stdout.contains(image.as_str()), "{stdout}");
    }
    assert!(stdout.contains("-      ImageId: centos_7"), "{stdout}");
    assert!(stdout.contains("image_id"), "no Terraform diff:\n{stdout}");
    // Cleaned up: nothing left in its temp dir, no registry running.
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "quickstart left {left:?}");
    assert!(
        elapsed < Duration::from_secs(120),
        "the quickstart took {elapsed:?}, over the two minutes it promises"
    );
    eprintln!("quickstart took {elapsed:.1?}");
}

#[test]
fn quickstart_without_terraform_says_so_in_one_sentence() {
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(IMAGENEST)
        .arg("quickstart")
        .env("PATH", empty.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("`terraform`") && stderr.contains("PATH"),
        "{stderr}"
    );
}
