//! The distribution engine against the sim cloud over real HTTP: copies through the delivery
//! account, faults, region changes, retries, sharing and deletion. Every copy is counted in the sim.

use imagenest_testkit::fixtures::{custom_version, new_package};
use std::{
    collections::BTreeMap,
    future::Future,
    time::{Duration, Instant},
};

use imagenest_client::Client;
use imagenest_core::{
    Role,
    distribution::{Distribution, DistributionStatus, RegionStatus},
    service::{Association, NewService, ServiceUpdate, Visibility},
    version::{ImageSource, NewVersion},
};
use imagenest_registry::store::Backend;
use imagenest_simcloud::{
    CopySpeed, DELIVERY_ACCOUNT, Faults, ImageFilter, ImageView, account_id_for,
};
use imagenest_testkit::cloud::CloudRegistry;

/// Polls `check` until it returns `Some`, failing after `secs` seconds with `what`.
async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn settled(client: &Client, version_id: &str, secs: u64) -> Distribution {
    eventually(secs, "the distribution to settle", || async {
        let d = client.distribution(version_id).await.unwrap();
        (d.status != DistributionStatus::Distributing).then_some(d)
    })
    .await
}

fn regions(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The delivery account's images in the sim, by region.
fn delivery_images(cr: &CloudRegistry) -> BTreeMap<String, Vec<ImageView>> {
    let mut out: BTreeMap<String, Vec<ImageView>> = BTreeMap::new();
    for image in cr.sim.images(&ImageFilter {
        owner: Some(DELIVERY_ACCOUNT.to_string()),
        region: None,
        marketplace: false,
    }) {
        out.entry(image.region.clone()).or_default().push(image);
    }
    out
}

struct Setup {
    cr: CloudRegistry,
    acme: Client,
    package_id: String,
}

async fn setup(speed: CopySpeed, faults: Faults) -> Setup {
    let cr = CloudRegistry::start(Backend::Sqlite, speed, faults).await;
    let acme = Client::new(&cr.reg.url, Some(&cr.reg.token("acme", Role::Vendor).await)).unwrap();
    let p = acme
        .create_package(&new_package("acme_base", "Acme base image"))
        .await
        .unwrap();
    Setup {
        cr,
        acme,
        package_id: p.id,
    }
}

async fn version(s: &Setup, name: &str, image_id: &str) -> String {
    s.acme
        .create_version(&s.package_id, &custom_version(name, image_id))
        .await
        .unwrap()
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_through_the_delivery_account_once_per_region() {
    let s = setup(CopySpeed::GibPerSec(200.0), Faults::default()).await;
    let source = s.cr.vendor_image("acme", "cn-hangzhou", "acme-base-v1", 20);
    let vid = version(&s, "v_1", &source).await;
    let d = s
        .acme
        .set_distribution_regions(
            &vid,
            &regions(&["cn-beijing", "cn-shanghai", "ap-southeast-1"]),
        )
        .await
        .unwrap();
    assert_eq!(d.status, DistributionStatus::Distributing);
    let d = settled(&s.acme, &vid, 30).await;
    assert_eq!(d.status, DistributionStatus::Available, "{d:?}");
    assert_eq!(d.region_images.len(), 3);
    let images = delivery_images(&s.cr);
    // One copy per target region plus the delivery copy in the source region, all the delivery account's.
    assert_eq!(
        images.keys().cloned().collect::<Vec<_>>(),
        regions(&["ap-southeast-1", "cn-beijing", "cn-hangzhou", "cn-shanghai"])
    );
    for (region, list) in &images {
        assert_eq!(list.len(), 1, "{region}: {list:?}");
        assert_eq!(list[0].status, "Available");
    }
    for (region, id) in &d.region_images {
        assert_eq!(&images[region][0].image_id, id);
    }
    assert_ne!(
        &images["cn-hangzhou"][0].image_id, &source,
        "the delivery copy is the registry's own"
    );
    // Resolution follows.
    let r = s
        .acme
        .resolve("acme_base", None, "cn-shanghai")
        .await
        .unwrap();
    assert_eq!(r.image_id, d.region_images["cn-shanghai"]);

    // Adding a region copies only there; removing one deletes only its copy.
    let before = d.region_images.clone();
    s.acme
        .set_distribution_regions(
            &vid,
            &regions(&["cn-beijing", "ap-southeast-1", "us-east-1"]),
        )
        .await
        .unwrap();
    let d = settled(&s.acme, &vid, 30).await;
    let d = eventually(30, "cn-shanghai's copy to be deleted", || {
        let d = d.clone();
        let cr = &s.cr;
        async move { (!delivery_images(cr).contains_key("cn-shanghai")).then_some(d) }
    })
    .await;
    let d2 = s.acme.distribution(&vid).await.unwrap();
    assert_eq!(
        d2.regions
            .iter()
            .map(|r| r.region.clone())
            .collect::<Vec<_>>(),
        regions(&["ap-southeast-1", "cn-beijing", "us-east-1"])
    );
    assert_eq!(
        d.region_images["cn-beijing"], before["cn-beijing"],
        "kept regions keep their copy"
    );
    assert_eq!(d.region_images["ap-southeast-1"], before["ap-southeast-1"]);
    let images = delivery_images(&s.cr);
    assert_eq!(images["us-east-1"].len(), 1);
    assert_eq!(
        images["cn-hangzhou"].len(),
        1,
        "the delivery copy stays for later regions"
    );

    // Deleting the version (after removing its distribution) deletes every copy, the delivery copy too.
    s.acme.delete_distribution(&vid).await.unwrap();
    s.acme.delete_version(&vid).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !delivery_images(&s.cr).is_empty() {
        if Instant::now() > deadline {
            panic!(
                "copies left after deleting the version: {:#?}\nstore: {:?}",
                delivery_images(&s.cr),
                s.cr.reg.state.store.copy_counts().await
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The vendor's own image is untouched.
    assert!(s.cr.sim.image(&source).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_end_in_the_right_states_with_the_clouds_messages() {
    let faults = Faults {
        failure_rate: 0.2,
        throttle_rate: 0.2,
        down_regions: ["eu-central-1".to_string()].into(),
        ..Faults::default()
    };
    let s = setup(CopySpeed::GibPerSec(500.0), faults).await;
    let source = s.cr.vendor_image("acme", "cn-hangzhou", "acme-base-v1", 10);
    let vid = version(&s, "v_1", &source).await;
    let targets = regions(&[
        "cn-beijing",
        "cn-shanghai",
        "cn-shenzhen",
        "ap-southeast-1",
        "us-east-1",
        "eu-central-1",
    ]);
    s.acme
        .set_distribution_regions(&vid, &targets)
        .await
        .unwrap();
    let d = settled(&s.acme, &vid, 60).await;
    assert_eq!(d.status, DistributionStatus::PartiallyAvailable, "{d:#?}");
    let down = d
        .regions
        .iter()
        .find(|r| r.region == "eu-central-1")
        .unwrap();
    assert_eq!(down.status, RegionStatus::Failed);
    let message = down.error.as_deref().unwrap();
    assert!(
        message.contains("eu-central-1")
            || message.contains("ServiceUnavailable")
            || message.contains("Region"),
        "the cloud's message is kept: {message}"
    );
    // With 20% failures and throttling, retries still get every healthy region there.
    for r in d.regions.iter().filter(|r| r.region != "eu-central-1") {
        assert_eq!(r.status, RegionStatus::Available, "{r:?}");
    }
    // Failed copies are cleaned up: exactly one copy per available region in the end.
    eventually(60, "failed copies to be cleaned up", || async {
        let images = delivery_images(&s.cr);
        let ok = d.region_images.iter().all(|(region, id)| {
            images
                .get(region)
                .is_some_and(|l| l.len() == 1 && l[0].image_id == *id)
        }) && images.values().flatten().all(|i| i.status == "Available");
        ok.then_some(())
    })
    .await;

    // The region comes back: a retry copies only the failed region.
    s.cr.sim.set_faults(Faults::default()).unwrap();
    let before = d.region_images.clone();
    let d = s.acme.retry_distribution(&vid).await.unwrap();
    assert_eq!(
        d.regions
            .iter()
            .find(|r| r.region == "eu-central-1")
            .unwrap()
            .status,
        RegionStatus::Pending
    );
    let d = settled(&s.acme, &vid, 30).await;
    assert_eq!(d.status, DistributionStatus::Available, "{d:#?}");
    for (region, id) in &before {
        assert_eq!(
            &d.region_images[region], id,
            "{region} was not copied again"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharing_follows_whitelists_and_visibility() {
    let s = setup(CopySpeed::Instant, Faults::default()).await;
    let source = s.cr.vendor_image("acme", "cn-hangzhou", "acme-base-v1", 10);
    let vid = version(&s, "v_1", &source).await;
    s.acme
        .set_distribution_regions(&vid, &regions(&["cn-beijing", "cn-hangzhou"]))
        .await
        .unwrap();
    let d = settled(&s.acme, &vid, 30).await;
    let image = |region: &str| s.cr.sim.image(&d.region_images[region]).unwrap();
    assert!(
        image("cn-beijing").shared_with.is_empty() && !image("cn-beijing").public,
        "no service: private, shared with nobody"
    );

    let svc = s
        .acme
        .create_service(&NewService {
            name: "acme_app".into(),
            visibility: Visibility::Private,
            whitelist: ["cust1".to_string(), "cust2".to_string()].into(),
            image_associations: [(
                "centos_7".to_string(),
                Association {
                    package_id: s.package_id.clone(),
                    version: "latest".into(),
                },
            )]
            .into(),
        })
        .await
        .unwrap();
    let ids = |names: &[&str]| {
        let mut v: Vec<String> = names.iter().map(|n| account_id_for(n)).collect();
        v.sort();
        v
    };
    let shared = |region: &'static str| {
        let d = d.clone();
        let cr = &s.cr;
        move || {
            let i = cr.sim.image(&d.region_images[region]).unwrap();
            let mut v = i.shared_with.clone();
            v.sort();
            async move { Some((v, i.public)) }
        }
    };
    eventually(30, "copies shared with the whitelist", || {
        let f = shared("cn-beijing");
        async move { f().await.filter(|(v, _)| *v == ids(&["cust1", "cust2"])) }
    })
    .await;
    eventually(30, "the source-region copy shared too", || {
        let f = shared("cn-hangzhou");
        async move { f().await.filter(|(v, _)| *v == ids(&["cust1", "cust2"])) }
    })
    .await;
    s.acme
        .update_service(
            &svc.id,
            &ServiceUpdate {
                whitelist: Some(["cust2".to_string()].into()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    eventually(30, "cust1 taken off the share list", || {
        let f = shared("cn-beijing");
        async move { f().await.filter(|(v, _)| *v == ids(&["cust2"])) }
    })
    .await;
    s.acme
        .update_service(
            &svc.id,
            &ServiceUpdate {
                visibility: Some(Visibility::Public),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    eventually(30, "copies made public", || {
        let f = shared("cn-beijing");
        async move { f().await.filter(|(_, public)| *public) }
    })
    .await;
    s.acme.delete_service(&svc.id).await.unwrap();
    eventually(30, "copies private again", || {
        let f = shared("cn-beijing");
        async move { f().await.filter(|(v, public)| !*public && v.is_empty()) }
    })
    .await;
}

/// A private service of `acme` associating `package_id` (as `centos_7`) with `whitelist`.
fn private_service(name: &str, package_id: &str, whitelist: &[String]) -> NewService {
    NewService {
        name: name.into(),
        visibility: Visibility::Private,
        whitelist: whitelist.iter().cloned().collect(),
        image_associations: [(
            "centos_7".to_string(),
            Association {
                package_id: package_id.to_string(),
                version: "latest".into(),
            },
        )]
        .into(),
    }
}

/// Faults that answer every ModifyImageSharePermission call with `code`.
fn sharing_fails_with(code: &str) -> Faults {
    Faults {
        action_errors: [("ModifyImageSharePermission".to_string(), code.to_string())].into(),
        ..Faults::default()
    }
}

/// The sorted share list of an image in the sim.
fn share_list(cr: &CloudRegistry, image_id: &str) -> Vec<String> {
    let mut v = cr.sim.image(image_id).unwrap().shared_with;
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharing_is_retried_with_backoff_until_the_cloud_takes_it() {
    let s = setup(CopySpeed::Instant, Faults::default()).await;
    let source = s.cr.vendor_image("acme", "cn-hangzhou", "acme-base-v1", 10);
    let vid = version(&s, "v_1", &source).await;
    let targets = regions(&["cn-beijing", "cn-shanghai", "cn-hangzhou"]);
    s.acme
        .set_distribution_regions(&vid, &targets)
        .await
        .unwrap();
    let d = settled(&s.acme, &vid, 30).await;
    assert_eq!(d.status, DistributionStatus::Available, "{d:#?}");

    // The cloud throttles every share change for a while.
    s.cr.sim
        .set_faults(sharing_fails_with("Throttling"))
        .unwrap();
    s.acme
        .create_service(&private_service(
            "acme_app",
            &s.package_id,
            &["cust1".to_string()],
        ))
        .await
        .unwrap();
    // The engine keeps trying (attempt after attempt), and each region says why it is not shared yet.
    let d = eventually(
        30,
        "every region to report repeated sharing retries",
        || async {
            let d = s.acme.distribution(&vid).await.unwrap();
            d.regions
                .iter()
                .all(|r| {
                    r.error.as_deref().is_some_and(|e| {
                        e.starts_with("retrying: sharing failed (attempt ")
                            && !e.starts_with("retrying: sharing failed (attempt 1)")
                            && e.contains("Throttling")
                    })
                })
                .then_some(d)
        },
    )
    .await;
    assert_eq!(
        d.status,
        DistributionStatus::Available,
        "a copy that is not shared yet is still available to its owner: {d:#?}"
    );
    for id in d.region_images.values() {
        assert!(share_list(&s.cr, id).is_empty());
    }

    // The throttling ends: sharing converges with no further service change.
    s.cr.sim.set_faults(Faults::default()).unwrap();
    let want = vec![account_id_for("cust1")];
    eventually(30, "every copy shared once the throttling ends", || async {
        let d = s.acme.distribution(&vid).await.unwrap();
        let done = d.regions.iter().all(|r| r.error.is_none())
            && d.region_images
                .values()
                .all(|id| share_list(&s.cr, id) == want);
        done.then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn final_sharing_errors_stay_on_the_region_and_say_what_to_do() {
    let s = setup(CopySpeed::Instant, Faults::default()).await;
    let source = s.cr.vendor_image("acme", "cn-hangzhou", "acme-base-v1", 10);
    let vid = version(&s, "v_1", &source).await;
    s.acme
        .set_distribution_regions(&vid, &regions(&["cn-beijing", "cn-shanghai"]))
        .await
        .unwrap();
    // A second package, sharing fine all along: one package's failure blocks nothing else.
    let other = s
        .acme
        .create_package(&new_package("acme_other", "Another Acme image"))
        .await
        .unwrap();
    let other_source =
        s.cr.vendor_image("acme", "cn-hangzhou", "acme-other-v1", 10);
    let other_vid = s
        .acme
        .create_version(&other.id, &custom_version("o_1", other_source))
        .await
        .unwrap()
        .id;
    s.acme
        .set_distribution_regions(&other_vid, &regions(&["cn-beijing"]))
        .await
        .unwrap();
    settled(&s.acme, &vid, 30).await;
    let other_d = settled(&s.acme, &other_vid, 30).await;

    // Two private services whitelist 60 accounts in all: more than one image can be shared with.
    let names = |range: std::ops::Range<usize>| -> Vec<String> {
        range.map(|i| format!("cust{i:02}")).collect()
    };
    let first = s
        .acme
        .create_service(&private_service("acme_app", &s.package_id, &names(0..30)))
        .await
        .unwrap();
    let second = s
        .acme
        .create_service(&private_service("acme_app2", &s.package_id, &names(30..60)))
        .await
        .unwrap();
    s.acme
        .create_service(&private_service("other_app", &other.id, &names(0..2)))
        .await
        .unwrap();
    let failed = eventually(30, "the share limit error on every region", || async {
        let d = s.acme.distribution(&vid).await.unwrap();
        d.regions
            .iter()
            .all(|r| {
                r.error
                    .as_deref()
                    .is_some_and(|e| e.starts_with("sharing failed"))
            })
            .then_some(d)
    })
    .await;
    assert_eq!(failed.status, DistributionStatus::Available, "{failed:#?}");
    for r in &failed.regions {
        assert_eq!(r.status, RegionStatus::Available);
        let e = r.error.as_deref().unwrap();
        assert!(
            e.contains("60 accounts")
                && e.contains("at most 50")
                && e.contains("acme_base")
                && e.contains("shorten their whitelists"),
            "{e}"
        );
    }
    // The other package was shared regardless.
    let want_other: Vec<String> = {
        let mut v: Vec<String> = names(0..2).iter().map(|n| account_id_for(n)).collect();
        v.sort();
        v
    };
    eventually(30, "the other package shared", || async {
        (share_list(&s.cr, &other_d.region_images["cn-beijing"]) == want_other).then_some(())
    })
    .await;
    // A final error is not retried on its own: the region keeps it.
    let still = s.acme.distribution(&vid).await.unwrap();
    assert_eq!(still.regions, failed.regions);

    // Shortening a whitelist fixes it.
    s.acme.delete_service(&second.id).await.unwrap();
    let mut want: Vec<String> = names(0..30).iter().map(|n| account_id_for(n)).collect();
    want.sort();
    eventually(30, "sharing to converge after the fix", || async {
        let d = s.acme.distribution(&vid).await.unwrap();
        let done = d.regions.iter().all(|r| r.error.is_none())
            && d.region_images
                .values()
                .all(|id| share_list(&s.cr, id) == want);
        done.then_some(())
    })
    .await;

    // A refusal that no service change fixes: `retry` shares again once its cause is gone.
    s.cr.sim
        .set_faults(sharing_fails_with("Forbidden.RAM"))
        .unwrap();
    s.acme
        .update_service(
            &first.id,
            &ServiceUpdate {
                whitelist: Some(names(0..3).into_iter().collect()),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    eventually(30, "the permission error on every region", || async {
        let d = s.acme.distribution(&vid).await.unwrap();
        d.regions
            .iter()
            .all(|r| {
                r.error.as_deref().is_some_and(|e| {
                    e.starts_with("sharing failed") && e.contains("ModifyImageSharePermission")
                })
            })
            .then_some(())
    })
    .await;
    s.cr.sim.set_faults(Faults::default()).unwrap();
    s.acme.retry_distribution(&vid).await.unwrap();
    let mut want: Vec<String> = names(0..3).iter().map(|n| account_id_for(n)).collect();
    want.sort();
    eventually(30, "sharing to converge after the retry", || async {
        let d = s.acme.distribution(&vid).await.unwrap();
        let done = d.regions.iter().all(|r| r.error.is_none())
            && d.region_images
                .values()
                .all(|id| share_list(&s.cr, id) == want);
        done.then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marketplace_versions_are_looked_up_not_copied() {
    let s = setup(CopySpeed::Instant, Faults::default()).await;
    let marketplace = s.cr.sim.images(&ImageFilter {
        owner: None,
        region: None,
        marketplace: true,
    });
    let product = marketplace
        .first()
        .expect("the sim seeds marketplace products");
    let code = product_code(product);
    let with: Vec<String> = marketplace
        .iter()
        .filter(|i| product_code(i) == code)
        .map(|i| i.region.clone())
        .collect();
    let all = imagenest_core::regions::ALIBABA_REGIONS
        .iter()
        .map(|r| r.id.to_string());
    let without = all.clone().find(|r| !with.contains(r));
    let vid = s
        .acme
        .create_version(
            &s.package_id,
            &NewVersion {
                name: "m_1".into(),
                description: String::new(),
                image: ImageSource::Marketplace {
                    product_code: product_code(product),
                    product_version: None,
                },
            },
        )
        .await
        .unwrap()
        .id;
    let mut targets = vec![with[0].clone()];
    targets.extend(without.clone());
    s.acme
        .set_distribution_regions(&vid, &targets)
        .await
        .unwrap();
    let d = settled(&s.acme, &vid, 30).await;
    let ok = d.regions.iter().find(|r| r.region == with[0]).unwrap();
    assert_eq!(ok.status, RegionStatus::Available, "{d:#?}");
    if let Some(missing) = without {
        let failed = d.regions.iter().find(|r| r.region == missing).unwrap();
        assert_eq!(failed.status, RegionStatus::Failed);
        assert!(
            failed.error.as_deref().unwrap().contains("not offered"),
            "{failed:?}"
        );
    }
    assert!(delivery_images(&s.cr).is_empty(), "nothing was copied");
}

fn product_code(image: &ImageView) -> String {
    image
        .product_code
        .clone()
        .unwrap_or_else(|| image.name.clone())
}

/// Moving a service's association from one package to another moves the sharing with it: the
/// old package's copies are unshared (no other service names it), the new one's shared.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharing_follows_a_changed_association() {
    let s = setup(CopySpeed::Instant, Faults::default()).await;
    let other = s
        .acme
        .create_package(&new_package("acme_other", "Another Acme image"))
        .await
        .unwrap();
    let first = version(
        &s,
        "v_1",
        &s.cr.vendor_image("acme", "cn-hangzhou", "acme-base-v1", 10),
    )
    .await;
    let second = s
        .acme
        .create_version(
            &other.id,
            &NewVersion {
                name: "v_1".into(),
                description: String::new(),
                image: ImageSource::Custom {
                    region: "cn-hangzhou".into(),
                    image_id: s
                        .cr
                        .vendor_image("acme", "cn-hangzhou", "acme-other-v1", 10),
                },
            },
        )
        .await
        .unwrap()
        .id;
    for vid in [&first, &second] {
        s.acme
            .set_distribution_regions(vid, &regions(&["cn-beijing"]))
            .await
            .unwrap();
    }
    let first_copy = settled(&s.acme, &first, 30).await.region_images["cn-beijing"].clone();
    let second_copy = settled(&s.acme, &second, 30).await.region_images["cn-beijing"].clone();
    let cust1 = vec![account_id_for("cust1")];

    let svc = s
        .acme
        .create_service(&private_service(
            "acme_app",
            &s.package_id,
            &["cust1".to_string()],
        ))
        .await
        .unwrap();
    eventually(30, "the first package's copy shared with cust1", || {
        let shared = share_list(&s.cr, &first_copy);
        let want = cust1.clone();
        async move { (shared == want).then_some(()) }
    })
    .await;
    assert!(share_list(&s.cr, &second_copy).is_empty());

    s.acme
        .update_service(
            &svc.id,
            &ServiceUpdate {
                image_associations: Some(
                    [(
                        "centos_7".to_string(),
                        Association {
                            package_id: other.id.clone(),
                            version: "latest".into(),
                        },
                    )]
                    .into(),
                ),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    eventually(30, "sharing moved to the second package's copy", || {
        let (old, new) = (
            share_list(&s.cr, &first_copy),
            share_list(&s.cr, &second_copy),
        );
        let want = cust1.clone();
        async move { (old.is_empty() && new == want).then_some(()) }
    })
    .await;
}
