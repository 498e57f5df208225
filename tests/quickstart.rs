//! `imagenest quickstart` end to end, as the README's first command runs it: a real registry,
//! the real `terraform` and the built provider; and its one-sentence answer without terraform.

mod newcomer;

use std::io::{BufRead, BufReader, Read};
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
    // How long it takes is measured in docs/benchmarks.md, not asserted here.
    eprintln!("quickstart took {elapsed:.1?}");
}

#[test]
fn quickstart_keep_prints_commands_that_work_in_a_fresh_shell() {
    require_terraform();
    let tmp = tempfile::tempdir().unwrap();
    // A provider under another file name is linked under the name Terraform looks for.
    let renamed = tmp.path().join("my-provider-build");
    std::fs::copy(provider_bin(), &renamed).unwrap();
    let out = Command::new(IMAGENEST)
        .arg("quickstart")
        .arg("--keep")
        .arg("--provider")
        .arg(&renamed)
        .current_dir(root())
        .env("TMPDIR", tmp.path())
        .env("NO_COLOR", "1")
        .env_remove("IMAGENEST_TOKEN")
        .env_remove("IMAGENEST_ENDPOINT")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "quickstart --keep failed:\n{}",
        text(&out)
    );
    let line_after = |title: &str| {
        let mut lines = stdout.lines().skip_while(|l| !l.contains(title));
        lines.next();
        lines
            .next()
            .unwrap_or_else(|| panic!("no line after `{title}` in:\n{stdout}"))
            .trim()
            .to_string()
    };
    let export = line_after("Talk to it as the vendor");
    assert!(export.starts_with("export IMAGENEST_ENDPOINT="), "{export}");
    let stop = line_after("Stop and clean up:");
    let pid: u32 = stop
        .split("kill ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .and_then(|pid| pid.trim().parse().ok())
        .unwrap_or_else(|| panic!("no pid in `{stop}`"));
    let imagenest_dir = std::path::Path::new(IMAGENEST).parent().unwrap();
    let fresh_shell = |script: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .env_clear()
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    imagenest_dir.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("HOME", tmp.path())
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .unwrap()
    };
    let listed = fresh_shell(&format!("{export} && imagenest package list"));
    assert!(listed.status.success(), "{}", text(&listed));
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains("acme_base"),
        "{}",
        text(&listed)
    );
    let stopped = fresh_shell(&stop);
    assert!(
        stopped.status.success(),
        "`{stop}` failed:\n{}",
        text(&stopped)
    );
    assert!(
        text(&stopped).contains("Destroy complete!"),
        "{}",
        text(&stopped)
    );
    // The registry is gone: no such process, or a zombie waiting for whoever adopted it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while imagenest_testkit::process::is_running(pid) {
        assert!(
            Instant::now() < deadline,
            "the registry (pid {pid}) still runs"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().starts_with("imagenest-quickstart"))
        .collect();
    assert!(left.is_empty(), "the stop line left {left:?}");
}

#[test]
fn quickstart_interrupted_mid_apply_stops_everything_and_cleans_up() {
    require_terraform();
    let provider = provider_bin();
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(IMAGENEST)
        .arg("quickstart")
        .arg("--provider")
        .arg(&provider)
        // 20 GiB at 1 MiB/s: the apply is still copying when Ctrl-C arrives.
        .args(["--sim-speed", "0.001"])
        .current_dir(root())
        .env("TMPDIR", tmp.path())
        .env("NO_COLOR", "1")
        .env_remove("IMAGENEST_TOKEN")
        .env_remove("IMAGENEST_ENDPOINT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for step 3 (terraform apply) to start, then for its distribution to be copying.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = String::new();
    while !seen.contains("terraform apply examples/quickstart") {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => seen.push_str(&(line + "\n")),
            Err(_) => panic!("quickstart never reached terraform apply:\n{seen}"),
        }
    }
    let apply_log = || {
        std::fs::read_dir(tmp.path())
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path().join("terraform-apply.log"))
            .find(|p| p.is_file())
            .and_then(|p| std::fs::read_to_string(p).ok())
    };
    while !apply_log().is_some_and(|log| log.contains("imagenest_distribution.")) {
        assert!(
            Instant::now() < deadline,
            "terraform never started the distribution"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: plain kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted: removed"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "an interrupted quickstart left {left:?}");
    // No process (registry, terraform, provider) is left working in the removed directory.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let stray = processes_under(tmp.path());
        if stray.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "processes left running: {stray:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `pid: command line` of every process whose working directory is under `dir`.
fn processes_under(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().filter_map(Result::ok) {
        let cwd = match std::fs::read_link(entry.path().join("cwd")) {
            Ok(cwd) => cwd,
            Err(_) => continue,
        };
        // A removed directory reads back as "<path> (deleted)".
        if cwd.to_string_lossy().starts_with(&*dir.to_string_lossy()) {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            found.push(format!(
                "{}: {cmdline}",
                entry.file_name().to_string_lossy()
            ));
        }
    }
    found
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
