//! `imagenest resolve --registry URL --service NAME` against a real registry and the sim cloud:
//! the literal resolves to the region's copy, a region without a copy is a per-site error, and a
//! token that may not read the service is refused with a clear message.

use imagenest_testkit::fixtures::{custom_version, new_package};
use std::process::Command;
use std::time::{Duration, Instant};

use imagenest_client::Client;
use imagenest_core::{
    Role,
    distribution::DistributionStatus,
    service::{Association, NewService, Visibility},
};
use imagenest_registry::store::Backend;
use imagenest_simcloud::{CopySpeed, Faults};
use imagenest_testkit::cloud::CloudRegistry;

const TEMPLATE: &str = "# deploy\nResources:\n  Vm:\n    Type: ALIYUN::ECS::Instance\n    Properties:\n      ImageId: centos_7 # keep\n";

async fn run(args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_imagenest"))
            .args(args)
            .output()
            .expect("run imagenest")
    })
    .await
    .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolves_through_the_registry_with_the_callers_token() {
    let cr = CloudRegistry::start(Backend::Sqlite, CopySpeed::Instant, Faults::default()).await;
    let token = cr.reg.token("acme", Role::Vendor).await;
    let acme = Client::new(&cr.reg.url, Some(&token)).unwrap();
    let package = acme
        .create_package(&new_package("acme_base", "Acme base image"))
        .await
        .unwrap();
    let source = cr.vendor_image("acme", "cn-hangzhou", "acme-base-v1", 10);
    let version = acme
        .create_version(&package.id, &custom_version("v_1", source))
        .await
        .unwrap();
    acme.set_distribution_regions(
        &version.id,
        &["cn-beijing".to_string(), "cn-hangzhou".to_string()],
    )
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let dist = loop {
        let d = acme.distribution(&version.id).await.unwrap();
        if d.status != DistributionStatus::Distributing {
            break d;
        }
        assert!(Instant::now() < deadline, "distribution did not settle");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(dist.status, DistributionStatus::Available, "{dist:?}");
    acme.publish_version(&version.id).await.unwrap();
    acme.create_service(&NewService {
        name: "acme_app".into(),
        visibility: Visibility::Private,
        whitelist: Default::default(),
        image_associations: [(
            "centos_7".to_string(),
            Association {
                package_id: package.id.clone(),
                version: "latest".into(),
            },
        )]
        .into(),
    })
    .await
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("t.yaml");
    std::fs::write(&template, TEMPLATE).unwrap();
    let args = |region: &str, token: &str| -> Vec<String> {
        [
            "resolve",
            "--region",
            region,
            "--registry",
            &cr.reg.url,
            "--service",
            "acme_app",
            "--token",
            token,
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([template.display().to_string()])
        .collect()
    };

    let o = run(args("cn-beijing", &token)).await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let want = TEMPLATE.replace("centos_7", &dist.region_images["cn-beijing"]);
    assert_eq!(String::from_utf8(o.stdout).unwrap(), want);

    // Associated, but no copy in this region: a per-site error, the template left as it is.
    let o = run(args("ap-southeast-1", &token)).await;
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("t.yaml:6:16") && err.contains("not distributed to ap-southeast-1"),
        "{err}"
    );
    assert_eq!(String::from_utf8(o.stdout).unwrap(), TEMPLATE);

    // Another vendor's token may not read acme's private service.
    let other = cr.reg.token("globex", Role::Vendor).await;
    let o = run(args("cn-beijing", &other)).await;
    // Exit 5: the registry has no service of that name this caller may see.
    assert_eq!(o.status.code(), Some(5));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("acme_app"), "{err}");
    assert!(o.stdout.is_empty());
}
