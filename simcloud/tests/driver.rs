//! The `alicloud` driver against the sim cloud over real HTTP, one test per operation group.

mod common;

use common::*;
use imagenest_cloud::{
    AliCloud, AliCloudConfig, Credentials, Driver, Error, ImageStatus, Sharing, SharingChange,
};
use imagenest_simcloud::{CopySpeed, ImageFilter, account_id_for, is_image_id};

#[tokio::test]
async fn regions_are_the_real_ones() {
    let (_dir, sim) = start(CopySpeed::Instant).await;
    let d = sim.driver("delivery").unwrap();
    let regions = d.list_regions().await.unwrap();
    assert_eq!(
        regions.len(),
        imagenest_core::regions::ALIBABA_REGIONS.len()
    );
    assert!(
        regions
            .iter()
            .any(|r| r.id == "cn-hangzhou" && r.name == "China (Hangzhou)")
    );
}

#[tokio::test]
async fn copy_describe_delete() {
    let (_dir, sim) = start(CopySpeed::Instant).await;
    let source = vendor_image(&sim, "cn-hangzhou", 20);
    let d = sim.driver("delivery").unwrap();
    // Into the delivery account in the source region, then on to two regions.
    let own = d
        .copy_image(&copy("cn-hangzhou", &source, "cn-hangzhou", "v1-own"))
        .await
        .unwrap();
    assert!(is_image_id(&own), "{own}");
    let a = d
        .copy_image(&copy(
            "cn-hangzhou",
            &own,
            "ap-southeast-1",
            "v1-ap-southeast-1",
        ))
        .await
        .unwrap();
    let b = d
        .copy_image(&copy(
            "cn-hangzhou",
            &own,
            "ap-southeast-1",
            "v1-ap-southeast-1-b",
        ))
        .await
        .unwrap();
    // Several copies of one region in one call; unknown IDs are absent.
    let states = d
        .describe_images(
            "ap-southeast-1",
            &[a.clone(), b.clone(), "m-doesnotexist0000000".into()],
        )
        .await
        .unwrap();
    assert_eq!(states.len(), 2);
    for s in &states {
        assert_eq!(s.status, ImageStatus::Available);
        assert_eq!(s.progress, 100);
        assert_eq!(s.size_gib, 20);
        assert_eq!(s.region, "ap-southeast-1");
        assert_eq!(
            s.owner_account_id.as_deref(),
            Some(account_id_for("delivery").as_str())
        );
    }
    // Counting in the sim: the delivery account owns exactly these copies.
    let owned = sim.images(&ImageFilter {
        owner: Some("delivery".into()),
        ..Default::default()
    });
    assert_eq!(owned.len(), 3);
    d.delete_image("ap-southeast-1", &b).await.unwrap();
    assert!(
        d.describe_images("ap-southeast-1", std::slice::from_ref(&b))
            .await
            .unwrap()
            .is_empty()
    );
    let again = d.delete_image("ap-southeast-1", &b).await.unwrap_err();
    assert!(again.is_not_found(), "{again}");
    assert!(!again.is_retryable());
    // A region mismatch is "not found" too, as in ECS.
    let wrong = d
        .describe_images("cn-beijing", std::slice::from_ref(&a))
        .await
        .unwrap();
    assert!(wrong.is_empty());
}

#[tokio::test]
async fn only_owner_shared_or_public_can_copy() {
    let (_dir, sim) = start(CopySpeed::Instant).await;
    let source = sim
        .create_image(&imagenest_simcloud::CreateImage {
            account: "acme".into(),
            region: "cn-hangzhou".into(),
            name: "private".into(),
            size_gib: 1,
            share_with: vec![],
        })
        .unwrap()
        .image_id;
    let delivery = sim.driver("delivery").unwrap();
    let err = delivery
        .copy_image(&copy("cn-hangzhou", &source, "cn-beijing", "t1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidImageId.NotFound"), "{err}");
    assert!(!err.is_retryable());
    // The owner makes it public: now anyone can copy it.
    let acme = sim.driver("acme").unwrap();
    let change = SharingChange {
        public: Some(true),
        ..Default::default()
    };
    acme.modify_sharing("cn-hangzhou", &source, &change)
        .await
        .unwrap();
    assert!(
        acme.describe_sharing("cn-hangzhou", &source)
            .await
            .unwrap()
            .public
    );
    delivery
        .copy_image(&copy("cn-hangzhou", &source, "cn-beijing", "t1"))
        .await
        .unwrap();
    // Only the owner may change or read sharing.
    let err = delivery
        .describe_sharing("cn-hangzhou", &source)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("Forbidden.NotOwner"));
}

#[tokio::test]
async fn sharing_follows_desired_state_and_limits() {
    let (_dir, sim) = start(CopySpeed::Instant).await;
    let source = vendor_image(&sim, "cn-hangzhou", 1);
    let d = sim.driver("delivery").unwrap();
    let img = d
        .copy_image(&copy("cn-hangzhou", &source, "cn-shanghai", "s"))
        .await
        .unwrap();
    let ids: Vec<String> = (0..50)
        .map(|i| account_id_for(&format!("customer{i}")))
        .collect();
    // 50 accounts: five batches of ten, plus public.
    let desired = Sharing {
        accounts: ids.iter().cloned().collect(),
        public: true,
    };
    let change = d.sync_sharing("cn-shanghai", &img, &desired).await.unwrap();
    assert_eq!(change.add.len(), 50);
    assert_eq!(
        d.describe_sharing("cn-shanghai", &img).await.unwrap(),
        desired
    );
    assert!(
        d.sync_sharing("cn-shanghai", &img, &desired)
            .await
            .unwrap()
            .is_empty()
    );
    // 51 is refused before any call.
    let mut too_many = desired.clone();
    too_many.accounts.insert(account_id_for("one_more"));
    let err = d
        .sync_sharing("cn-shanghai", &img, &too_many)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ShareLimit {
                requested: 51,
                limit: 50,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("at most 50"), "{err}");
    // Adding one more directly: the cloud's quota error, final.
    let add = SharingChange {
        add: vec![account_id_for("one_more")],
        ..Default::default()
    };
    let err = d
        .modify_sharing("cn-shanghai", &img, &add)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("QuotaExceed.ShareImageUser"), "{err}");
    assert!(!err.is_retryable());
    // Swap ten accounts and go private in one sync: removals go first, so the limit holds.
    let mut swapped = Sharing {
        accounts: ids[10..].iter().cloned().collect(),
        public: false,
    };
    swapped
        .accounts
        .extend((0..10).map(|i| account_id_for(&format!("new{i}"))));
    let change = d.sync_sharing("cn-shanghai", &img, &swapped).await.unwrap();
    assert_eq!(
        (change.add.len(), change.remove.len(), change.public),
        (10, 10, Some(false))
    );
    assert_eq!(
        d.describe_sharing("cn-shanghai", &img).await.unwrap(),
        swapped
    );
    // The share list is visible to a shared account: it can describe the image.
    let customer = sim.driver("new3").unwrap();
    assert_eq!(
        describe(&customer, "cn-shanghai", &img).await.status,
        ImageStatus::Available
    );
    // Back to nobody: 50 removals in batches of ten.
    sync_empty(&d, &img).await;
}

async fn sync_empty(d: &AliCloud, img: &str) {
    let change = d
        .sync_sharing("cn-shanghai", img, &Sharing::default())
        .await
        .unwrap();
    assert_eq!(change.remove.len(), 50);
    assert_eq!(
        d.describe_sharing("cn-shanghai", img).await.unwrap(),
        Sharing::default()
    );
}

#[tokio::test]
async fn marketplace_lookup_by_product_code() {
    let (_dir, sim) = start(CopySpeed::Instant).await;
    let d = sim.driver("delivery").unwrap();
    let newest = d
        .find_marketplace_image("eu-central-1", "cmjj00001", None)
        .await
        .unwrap()
        .expect("seeded");
    assert_eq!(newest.version.as_deref(), Some("V2.0"));
    assert_eq!(newest.product_code.as_deref(), Some("cmjj00001"));
    let v1 = d
        .find_marketplace_image("eu-central-1", "cmjj00001", Some("V1.0"))
        .await
        .unwrap()
        .expect("seeded");
    assert_ne!(v1.image_id, newest.image_id);
    assert!(
        d.find_marketplace_image("us-east-1", "cmjj00002", None)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        d.find_marketplace_image("cn-beijing", "cmjj00002", None)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        d.find_marketplace_image("cn-beijing", "nosuch", None)
            .await
            .unwrap()
            .is_none()
    );
    // Marketplace images cannot be copied.
    let err = d
        .copy_image(&copy("eu-central-1", &newest.image_id, "eu-west-1", "m"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("Forbidden.MarketplaceImage"));
}

#[tokio::test]
async fn signatures_are_checked() {
    let (_dir, sim) = start(CopySpeed::Instant).await;
    let a = sim.delivery().unwrap();
    let wrong_secret = AliCloud::new(
        AliCloudConfig::new(Credentials::new(a.access_key_id.clone(), "not-the-secret"))
            .with_endpoint(sim.endpoint()),
    )
    .unwrap();
    let err = wrong_secret.list_regions().await.unwrap_err();
    assert_eq!(err.code(), Some("SignatureDoesNotMatch"), "{err}");
    assert!(!err.is_retryable());
    let unknown = AliCloud::new(
        AliCloudConfig::new(Credentials::new("LTAInobody", "x")).with_endpoint(sim.endpoint()),
    )
    .unwrap();
    let err = unknown.list_regions().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidAccessKeyId.NotFound"), "{err}");
    // STS tokens travel signed and are accepted.
    let sts = AliCloud::new(
        AliCloudConfig::new(
            Credentials::new(a.access_key_id, a.access_key_secret).with_security_token("sts"),
        )
        .with_endpoint(sim.endpoint()),
    )
    .unwrap();
    assert!(!sts.list_regions().await.unwrap().is_empty());
}

#[tokio::test]
async fn unreachable_cloud_is_retryable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let d = AliCloud::new(AliCloudConfig::new(Credentials::new("a", "b")).with_endpoint(endpoint))
        .unwrap();
    let err = d.list_regions().await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err}");
    assert!(err.is_retryable());
}

/// Engine-style generic code over the trait.
async fn regions_of<D: Driver>(d: &D) -> usize {
    d.list_regions().await.unwrap().len()
}

#[tokio::test]
async fn a_dyn_driver_is_a_driver() {
    let (_dir, sim) = start(CopySpeed::Instant).await;
    let source = vendor_image(&sim, "cn-hangzhou", 1);
    let d: std::sync::Arc<dyn imagenest_cloud::DynDriver> =
        std::sync::Arc::new(sim.driver("delivery").unwrap());
    assert_eq!(
        regions_of(&d).await,
        imagenest_core::regions::ALIBABA_REGIONS.len()
    );
    assert_eq!(Driver::name(&d), "alicloud");
    // Futures are Send: they run on spawned tasks.
    let id =
        tokio::spawn({
            let d = d.clone();
            async move {
                Driver::copy_image(&d, &copy("cn-hangzhou", &source, "cn-fuzhou", "dyn")).await
            }
        })
        .await
        .unwrap()
        .unwrap();
    assert!(is_image_id(&id));
}
