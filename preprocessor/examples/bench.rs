//! Throughput and peak memory of the whole `imagenest resolve` command on generated 20 MB ROS
//! YAML and Terraform templates and on the shared corpus; also the library's in-process speed.
//!
//! Run: `cargo build --release --bin imagenest && cargo run --release -p imagenest-preprocessor
//! --example bench -- [--bin target/release/imagenest] [--mb 20] [--corpus ../shared/corpus]`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use imagenest_preprocessor::{Format, Lookup, ScanOptions, resolve, scan};

const LITERALS: [&str; 4] = [
    "centos_7_9_x64_20G_alibase_20240628.vhd",
    "ubuntu_22_04_x64_20G_alibase_20240710.vhd",
    "aliyun_3_x64_20G_alibase_20240528.vhd",
    "acme_app_base",
];

/// A ROS YAML template of about `bytes` bytes with the constructs real templates use.
fn ros_yaml(bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 4096);
    s.push_str("ROSTemplateFormatVersion: '2015-09-01'\nDescription:\n  en: Generated benchmark template\n  zh-cn: 基准模板\n");
    s.push_str("Parameters:\n  ImageId:\n    Type: String\n    Default: centos_7_9_x64_20G_alibase_20240628.vhd\n  VSwitch:\n    Type: String\nResources:\n");
    let mut i = 0usize;
    while s.len() < bytes {
        let lit = LITERALS[i % LITERALS.len()];
        let image = match i % 10 {
            0 => "!Ref ImageId".to_string(),
            1 => format!("'{lit}'"),
            2 => format!("\"{lit}\""),
            _ => lit.to_string(),
        };
        s.push_str(&format!(
            "  # web tier instance {i}\n  Instance{i}:\n    Type: ALIYUN::ECS::Instance\n    Properties:\n      ImageId: {image}\n      InstanceType: ecs.g7.large\n      SecurityGroupId: {{Ref: SecurityGroup}}\n      VSwitchId:\n        Ref: VSwitch\n      UserData:\n        Fn::Base64Encode: |\n          #!/bin/bash\n          echo \"hello {i}\" > /tmp/hello  # greet\n          yum install -y nginx: latest\n      Tags:\n        - Key: app\n          Value: demo-{i}\n        - {{Key: tier, Value: web}}\n  Config{i}:\n    Type: ALIYUN::ESS::ScalingConfiguration\n    Properties:\n      ScalingGroupId:\n        Fn::GetAtt: [Group, ScalingGroupId]\n      ImageId: {lit}\n      Description: >-\n        A folded description that\n        spans two lines.\n"
        ));
        i += 1;
    }
    s.push_str("Outputs:\n  Done:\n    Value: ok\n");
    s
}

/// A Terraform file of about `bytes` bytes.
fn terraform(bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 4096);
    s.push_str(
        "variable \"image_id\" {\n  default = \"centos_7_9_x64_20G_alibase_20240628.vhd\"\n}\n\n",
    );
    let mut i = 0usize;
    while s.len() < bytes {
        let lit = LITERALS[i % LITERALS.len()];
        let image = if i.is_multiple_of(10) {
            "var.image_id".to_string()
        } else {
            format!("\"{lit}\"")
        };
        s.push_str(&format!(
            "# web instance {i}\nresource \"alicloud_instance\" \"web_{i}\" {{\n  image_id        = {image}\n  instance_type   = \"ecs.g7.large\"\n  security_groups = [alicloud_security_group.default.id]\n  vswitch_id      = alicloud_vswitch.default.id // the main vswitch\n  user_data = <<-EOT\n    #!/bin/bash\n    echo \"${{var.name}}-{i}\" }}\n  EOT\n  tags = {{\n    Name = \"web-${{count.index}}\"\n  }}\n}}\n\nresource \"alicloud_ecs_launch_template\" \"lt_{i}\" {{\n  name     = \"lt-{i}\"\n  image_id = \"{lit}\"\n  /* block comment {{ */\n  system_disk {{\n    category = \"cloud_essd\"\n  }}\n}}\n\n"
        ));
        i += 1;
    }
    s
}

fn map_json() -> String {
    let images: Vec<String> = LITERALS
        .iter()
        .enumerate()
        .map(|(i, l)| format!("\"{l}\": {{\"package\": \"p{i}\", \"version\": \"v_1\", \"regions\": {{\"cn-hangzhou\": \"m-bp1bench{i:04}\"}}}}"))
        .collect();
    format!(
        "{{\"service\": \"bench\", \"images\": {{{}}}}}",
        images.join(", ")
    )
}

struct Measured {
    wall: Duration,
    /// User + system CPU time of the command (what a quiet machine's wall time would be).
    cpu: Duration,
    rss: u64,
    code: i32,
}

/// Runs `cmd`, returning its wall time, CPU time and peak resident memory.
fn run_measured(cmd: &mut std::process::Command) -> Measured {
    let start = Instant::now();
    let child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn imagenest");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill; `pid` is our own child, reaped
    // here exactly once (the `Child` handle is forgotten below so it never waits again).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(r, pid, "wait4 failed");
    std::mem::forget(child);
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Measured {
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        rss: usage.ru_maxrss as u64 * 1024,
        code,
    }
}

fn best_of(n: usize, mut f: impl FnMut() -> Measured) -> Measured {
    let mut best = f();
    for _ in 1..n {
        let r = f();
        if r.wall < best.wall {
            best = r;
        }
    }
    best
}

fn mbps(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

/// Runs the command through a fresh, small copy of this program, so that the peak RSS the
/// kernel reports (which includes the spawning process's peak at exec) is the command's own.
fn launch(bin: &Path, args: &[&std::ffi::OsStr]) -> Measured {
    let out = std::process::Command::new(std::env::current_exe().expect("current exe"))
        .arg("--launch")
        .arg(bin)
        .args(args)
        .output()
        .expect("run launcher");
    let line = String::from_utf8(out.stdout).expect("launcher output");
    let f: Vec<u64> = line
        .split_whitespace()
        .map(|x| x.parse().expect("number"))
        .collect();
    Measured {
        wall: Duration::from_nanos(f[0]),
        cpu: Duration::from_nanos(f[1]),
        rss: f[2],
        code: f[3] as i32,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    if std::env::args().nth(1).as_deref() == Some("--launch") {
        let rest: Vec<String> = std::env::args().skip(2).collect();
        let m = run_measured(std::process::Command::new(&rest[0]).args(&rest[1..]));
        println!(
            "{} {} {} {}",
            m.wall.as_nanos(),
            m.cpu.as_nanos(),
            m.rss,
            m.code.max(0)
        );
        return;
    }
    let mut bin = PathBuf::from("target/release/imagenest");
    let mut mb = 20usize;
    let mut corpus = PathBuf::from("../shared/corpus");
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bin" => bin = args.next().expect("--bin PATH").into(),
            "--mb" => mb = args.next().expect("--mb N").parse().expect("a number"),
            "--corpus" => corpus = args.next().expect("--corpus DIR").into(),
            "--write-inputs" => {
                let d = PathBuf::from(args.next().expect("--write-inputs DIR"));
                std::fs::create_dir_all(&d).expect("create dir");
                std::fs::write(d.join("bench.yaml"), ros_yaml(mb << 20)).expect("write");
                std::fs::write(d.join("bench.tf"), terraform(mb << 20)).expect("write");
                std::fs::write(d.join("map.json"), map_json()).expect("write");
                return;
            }
            _ => panic!("unknown argument {a}"),
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let map = dir.path().join("map.json");
    std::fs::write(&map, map_json()).expect("write map");
    let lookup = |lit: &str| match LITERALS.iter().position(|l| *l == lit) {
        Some(i) => Lookup::Image(format!("m-bp1bench{i:04}")),
        None => Lookup::NotAssociated,
    };
    println!(
        "| input | size | sites | `imagenest resolve` wall MB/s | CPU (user+sys) MB/s | peak RSS | RSS / input | library scan+resolve MB/s |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (name, format, ext) in [
        ("ROS YAML", Format::RosYaml, "yaml"),
        ("Terraform", Format::Terraform, "tf"),
    ] {
        let input = dir.path().join(format!("in.{ext}"));
        let len = {
            // Written and dropped before measuring so the bench's own memory is small when it
            // spawns the command.
            let text = if format == Format::RosYaml {
                ros_yaml(mb << 20)
            } else {
                terraform(mb << 20)
            };
            std::fs::write(&input, &text).expect("write input");
            text.len()
        };
        let out = dir.path().join(format!("out.{ext}"));
        let m = best_of(7, || {
            launch(
                &bin,
                &[
                    "resolve".as_ref(),
                    "--region".as_ref(),
                    "cn-hangzhou".as_ref(),
                    "--map".as_ref(),
                    map.as_os_str(),
                    "-o".as_ref(),
                    out.as_os_str(),
                    input.as_os_str(),
                ],
            )
        });
        assert!(
            m.code == 0 || m.code == 1,
            "imagenest resolve exited {}",
            m.code
        );
        let text = std::fs::read_to_string(&input).expect("read input");
        let mut sites_n = 0;
        let lib = best_of(5, || {
            let start = Instant::now();
            let sites = scan(&text, format, &ScanOptions::default()).expect("scan");
            let res = resolve(&text, &sites, lookup);
            let mut sink = std::io::sink();
            res.write_to(&text, &mut sink).expect("write");
            sites_n = sites.len();
            Measured {
                wall: start.elapsed(),
                cpu: start.elapsed(),
                rss: 0,
                code: 0,
            }
        });
        println!(
            "| {name} | {:.1} MB | {sites_n} | {:.0} | {:.0} | {:.1} MB | {:.2}× | {:.0} |",
            len as f64 / 1e6,
            mbps(len, m.wall),
            mbps(len, m.cpu),
            m.rss as f64 / 1e6,
            m.rss as f64 / len as f64,
            mbps(len, lib.wall)
        );
    }
    if corpus.is_dir() {
        for sub in ["ros", "tf"] {
            let d = corpus.join(sub);
            let files: Vec<(PathBuf, String)> = std::fs::read_dir(&d)
                .expect("corpus dir")
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .map(|p| {
                    let t = std::fs::read_to_string(&p).expect("read corpus file");
                    (p, t)
                })
                .collect();
            let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
            let out = dir.path().join(format!("corpus-{sub}"));
            let m = best_of(5, || {
                let _ = std::fs::remove_dir_all(&out);
                launch(
                    &bin,
                    &[
                        "resolve".as_ref(),
                        "--region".as_ref(),
                        "cn-hangzhou".as_ref(),
                        "--map".as_ref(),
                        map.as_os_str(),
                        "-o".as_ref(),
                        out.as_os_str(),
                        d.as_os_str(),
                    ],
                )
            });
            assert!(
                m.code == 0 || m.code == 1,
                "imagenest resolve on the corpus exited {}",
                m.code
            );
            let lib = best_of(5, || {
                let start = Instant::now();
                for (p, t) in &files {
                    let format = imagenest_preprocessor::detect_format(Some(p), t);
                    let sites = scan(t, format, &ScanOptions::default()).expect("scan corpus");
                    let res = resolve(t, &sites, lookup);
                    res.write_to(t, &mut std::io::sink()).expect("write");
                }
                Measured {
                    wall: start.elapsed(),
                    cpu: start.elapsed(),
                    rss: 0,
                    code: 0,
                }
            });
            println!(
                "| corpus {sub}/ ({} files, one command) | {:.2} MB | – | {:.0} | {:.0} | {:.1} MB | – | {:.0} |",
                files.len(),
                bytes as f64 / 1e6,
                mbps(bytes, m.wall),
                mbps(bytes, m.cpu),
                m.rss as f64 / 1e6,
                mbps(bytes, lib.wall)
            );
        }
    } else {
        println!(
            "(corpus {} not found: skipped)",
            Path::new(&corpus).display()
        );
    }
}
