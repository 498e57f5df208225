//! The store suite: every test runs on SQLite and on PostgreSQL (a throw-away server, or
//! `IMAGENEST_TEST_DATABASE_URL`).

use std::collections::{BTreeMap, BTreeSet};

use imagenest_core::{
    Principal, Role,
    access::PackageVisibility,
    distribution::{DistributionStatus, RegionStatus},
    package::{NewPackage, PackageUpdate},
    service::{Association, NewService, Visibility},
    version::{ImageSource, NewVersion, VersionStatus},
};
use imagenest_registry::store::{Backend, CopyUpdate, PageArgs, Store, StoreError};
use imagenest_testkit::registry::open_store;

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(imagenest_registry::store::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(imagenest_registry::store::Backend::Postgres).await
            }
        }
    )*};
}

on_both!(
    packages_round_trip,
    names_are_unique_per_owner,
    updates_check_revisions,
    concurrent_updates_do_not_overwrite,
    lists_paginate,
    versions_publish_in_order,
    pinned_versions_cannot_be_deleted,
    distribution_regions_follow_the_state_machine,
    access_is_derived_from_services,
    tokens_map_to_accounts,
    migrations_run_once,
    copy_slots_hold_across_replicas,
    service_lists_carry_each_services_children,
);

struct Db {
    store: Store,
    _dir: tempfile::TempDir,
}

async fn db(backend: Backend) -> Db {
    let dir = tempfile::tempdir().unwrap();
    Db {
        store: open_store(backend, dir.path()).await,
        _dir: dir,
    }
}

fn new_package(name: &str) -> NewPackage {
    NewPackage {
        name: name.into(),
        description: "a package for tests".into(),
        resource_group: String::new(),
        tags: BTreeMap::new(),
    }
}

fn new_version(name: &str) -> NewVersion {
    NewVersion {
        name: name.into(),
        description: String::new(),
        image: ImageSource::Custom {
            region: "cn-hangzhou".into(),
            image_id: "m-src".into(),
        },
    }
}

async fn packages_round_trip(backend: Backend) {
    let Db { store, _dir } = db(backend).await;
    let mut new = new_package("acme_base");
    new.tags.insert("env".into(), "prod".into());
    let created = store.create_package("acme", &new).await.unwrap();
    let read = store.package(&created.id).await.unwrap();
    assert_eq!(created, read);
    assert_eq!(read.tags["env"], "prod");
    assert_eq!(read.visibility, PackageVisibility::Private);
    assert_eq!(
        store
            .package_by_owner_name("acme", "acme_base")
            .await
            .unwrap()
            .id,
        created.id
    );
    store.delete_package(&created.id).await.unwrap();
    assert!(matches!(
        store.package(&created.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_package(&created.id).await,
        Err(StoreError::NotFound)
    ));
}

async fn names_are_unique_per_owner(backend: Backend) {
    let Db { store, _dir } = db(backend).await;
    store
        .create_package("acme", &new_package("base_img"))
        .await
        .unwrap();
    let err = store
        .create_package("acme", &new_package("base_img"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("already exists")),
        "{err:?}"
    );
    store
        .create_package("globex", &new_package("base_img"))
        .await
        .unwrap();
    assert_eq!(store.packages_named("base_img").await.unwrap().len(), 2);
}

async fn updates_check_revisions(backend: Backend) {
    let Db { store, _dir } = db(backend).await;
    let mut p = store
        .create_package("acme", &new_package("acme_base"))
        .await
        .unwrap();
    let stale = p.clone();
    PackageUpdate {
        description: Some("a new description".into()),
        ..Default::default()
    }
    .apply(&mut p);
    let p2 = store.update_package(&p).await.unwrap();
    assert_eq!(p2.revision, 2);
    assert_eq!(
        store.package(&p.id).await.unwrap().description,
        "a new description"
    );
    // Writing from the stale copy fails instead of silently overwriting.
    let err = store.update_package(&stale).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(
        store.package(&p.id).await.unwrap().description,
        "a new description"
    );
}

async fn concurrent_updates_do_not_overwrite(backend: Backend) {
    let Db { store, _dir } = db(backend).await;
    let p = store
        .create_package("acme", &new_package("acme_base"))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (store, mut mine) = (store.clone(), p.clone());
        mine.description = format!("written by writer {i}");
        tasks.push(tokio::spawn(
            async move { store.update_package(&mine).await },
        ));
    }
    let mut ok = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(p) => ok.push(p.description),
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(
        ok.len(),
        1,
        "exactly one writer based on revision 1 may win"
    );
    let now = store.package(&p.id).await.unwrap();
    assert_eq!(now.description, ok[0]);
    assert_eq!(now.revision, 2);
}

async fn lists_paginate(backend: Backend) {
    let Db { store, _dir } = db(backend).await;
    for i in 0..5 {
        store
            .create_package("acme", &new_package(&format!("pkg_{i}")))
            .await
            .unwrap();
    }
    store
        .create_package("globex", &new_package("other"))
        .await
        .unwrap();
    let vendor = Principal::new("acme", Role::Vendor);
    let mut seen = BTreeSet::new();
    let mut page = PageArgs {
        after: None,
        limit: 2,
    };
    let mut pages = 0;
    loop {
        let p = store.list_packages(&vendor, &page).await.unwrap();
        pages += 1;
        assert!(p.items.len() <= 2);
        seen.extend(p.items.iter().map(|p| p.name.clone()));
        match p.next_page_token {
            Some(t) => page.after = Some(t),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "vendors list only their own");
    assert_eq!(pages, 3);
    let admin = Principal::new("admin", Role::Admin);
    assert_eq!(
        store
            .list_packages(
                &admin,
                &PageArgs {
                    after: None,
                    limit: 100
                }
            )
            .await
            .unwrap()
            .items
            .len(),
        6
    );
    let customer = Principal::new("cust1", Role::Customer);
    assert!(
        store
            .list_packages(
                &customer,
                &PageArgs {
                    after: None,
                    limit: 100
                }
            )
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

async fn versions_publish_in_order(backend: Backend) {
    let Db { store, _dir } = db(backend).await;
    let p = store
        .create_package("acme", &new_package("acme_base"))
        .await
        .unwrap();
    let v1 = store
        .create_version(&p.id, &new_version("v_1"))
        .await
        .unwrap();
    let v2 = store
        .create_version(&p.id, &new_version("v_2"))
        .await
        .unwrap();
    assert_eq!(v1.status, VersionStatus::Draft);
    assert!(matches!(
        store.create_version(&p.id, &new_version("v_1")).await,
        Err(StoreError::Conflict(_))
    ));
    let pub2 = store.publish_version(&v2.id).await.unwrap();
    assert_eq!(pub2.status, VersionStatus::Published);
    assert!(pub2.published_at.is_some());
    store.publish_version(&v1.id).await.unwrap();
    // Publishing again is a no-op.
    assert_eq!(
        store.publish_version(&v1.id).await.unwrap().revision,
        store.version(&v1.id).await.unwrap().revision
    );
    let facts = store.resolution_facts(&p).await.unwrap();
    let seq = |name: &str| {
        facts
            .versions
            .iter()
            .find(|v| v.name == name)
            .unwrap()
            .published_seq
    };
    assert!(
        seq("v_1") > seq("v_2"),
        "v_1 was published last, so it is the newest"
    );
    let drafts = store
        .list_versions(
            &p.id,
            false,
            &PageArgs {
                after: None,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(drafts.items.len(), 2);
    // A stale draft edit cannot overwrite the published state.
    let mut stale = v1.clone();
    stale.description = "edited".into();
    assert!(matches!(
        store.update_version(&stale).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn pinned_versions_cannot_be_deleted(backend: Backend) {
    let Db { store, _dir } = db(backend).await;
    let p = store
        .create_package("acme", &new_package("acme_base"))
        .await
        .unwrap();
    let v = store
        .create_version(&p.id, &new_version("v_1"))
        .await
        .unwrap();
    store.publish_version(&v.id).await.unwrap();
    let svc = NewService {
        name: "acme_app".into(),
        visibility: Visibility::Private,
        whitelist: BTreeSet::new(),
        image_associations: BTreeMap::from([(
            "centos_7".to_string(),
            Association {
                package_id: p.id.clone(),
                version: "v_1".into(),
            },
        )]),
    };
    let s = store.create_service("acme", &svc).await.unwrap();
    let err = store.delete_version(&v.id).await.unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("acme_app")),
        "{err:?}"
    );
    let err = store.delete_package(&p.id).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)));
    store.delete_service(&s.id).await.unwrap();
    store.delete_version(&v.id).await.unwrap();
    store.delete_package(&p.id).await.unwrap();
}

async fn distribution_regions_follow_the_state_machine(backend: Backend) {
    let Db { store, _dir } = db(backend).await;
    let p = store
        .create_package("acme", &new_package("acme_base"))
        .await
        .unwrap();
    let v = store
        .create_version(&p.id, &new_version("v_1"))
        .await
        .unwrap();
    let regions = |r: &[&str]| r.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let d = store
        .set_distribution_regions(&v.id, &regions(&["cn-beijing", "cn-shanghai", "us-east-1"]))
        .await
        .unwrap();
    assert_eq!(
        store.version(&v.id).await.unwrap().status,
        VersionStatus::Published,
        "distributing publishes"
    );
    assert_eq!(d.status, DistributionStatus::Distributing);
    assert!(d.regions.iter().all(|r| r.status == RegionStatus::Pending));

    let up = |status, progress, image: Option<&str>, error: Option<&str>| CopyUpdate {
        status,
        progress,
        image_id: image.map(String::from),
        error: error.map(String::from),
    };
    store
        .update_region_copy(
            &v.id,
            "cn-beijing",
            &up(RegionStatus::Copying, 40, Some("m-b"), None),
        )
        .await
        .unwrap();
    store
        .update_region_copy(
            &v.id,
            "cn-beijing",
            &up(RegionStatus::Available, 100, Some("m-b"), None),
        )
        .await
        .unwrap();
    store
        .update_region_copy(
            &v.id,
            "cn-shanghai",
            &up(RegionStatus::Failed, 0, None, Some("QuotaExceeded")),
        )
        .await
        .unwrap();
    let err = store
        .update_region_copy(
            &v.id,
            "cn-beijing",
            &up(RegionStatus::Copying, 10, None, None),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(_)),
        "available never goes back to copying"
    );
    store
        .update_region_copy(
            &v.id,
            "us-east-1",
            &up(RegionStatus::Available, 100, Some("m-u"), None),
        )
        .await
        .unwrap();
    let d = store.distribution(&v.id).await.unwrap();
    assert_eq!(d.status, DistributionStatus::PartiallyAvailable);
    assert_eq!(d.region_images.len(), 2);
    assert_eq!(
        d.regions
            .iter()
            .find(|r| r.region == "cn-shanghai")
            .unwrap()
            .error
            .as_deref(),
        Some("QuotaExceeded")
    );

    assert_eq!(store.retry_failed_regions(&v.id).await.unwrap(), 1);
    let d = store.distribution(&v.id).await.unwrap();
    assert_eq!(
        d.regions
            .iter()
            .find(|r| r.region == "cn-shanghai")
            .unwrap()
            .status,
        RegionStatus::Pending
    );
    assert_eq!(
        d.regions
            .iter()
            .find(|r| r.region == "cn-beijing")
            .unwrap()
            .status,
        RegionStatus::Available,
        "retry touches only failed regions"
    );

    // Removing a region with a copy starts deleting it; one never started just goes; adding one starts pending.
    let d = store
        .set_distribution_regions(&v.id, &regions(&["cn-beijing", "ap-southeast-1"]))
        .await
        .unwrap();
    let status_of = |r: &str| d.regions.iter().find(|c| c.region == r).map(|c| c.status);
    assert_eq!(status_of("us-east-1"), Some(RegionStatus::Deleting));
    assert_eq!(status_of("cn-shanghai"), None);
    assert_eq!(status_of("ap-southeast-1"), Some(RegionStatus::Pending));
    assert_eq!(status_of("cn-beijing"), Some(RegionStatus::Available));
}

async fn access_is_derived_from_services(backend: Backend) {
    let Db { store, _dir } = db(backend).await;
    let p = store
        .create_package("acme", &new_package("acme_base"))
        .await
        .unwrap();
    assert_eq!(
        store.package_access(&p.id).await.unwrap().visibility(),
        PackageVisibility::Private
    );
    let assoc = BTreeMap::from([(
        "centos_7".to_string(),
        Association {
            package_id: p.id.clone(),
            version: "latest".into(),
        },
    )]);
    let private = NewService {
        name: "acme_private".into(),
        visibility: Visibility::Private,
        whitelist: ["cust1".to_string(), "cust2".to_string()].into(),
        image_associations: assoc.clone(),
    };
    let s = store.create_service("acme", &private).await.unwrap();
    let access = store.package_access(&p.id).await.unwrap();
    assert_eq!(
        access.whitelist,
        ["cust1".to_string(), "cust2".to_string()].into()
    );
    let cust1 = Principal::new("cust1", Role::Customer);
    assert_eq!(
        store
            .list_packages(
                &cust1,
                &PageArgs {
                    after: None,
                    limit: 10
                }
            )
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let cust3 = Principal::new("cust3", Role::Customer);
    assert!(
        store
            .list_packages(
                &cust3,
                &PageArgs {
                    after: None,
                    limit: 10
                }
            )
            .await
            .unwrap()
            .items
            .is_empty()
    );

    let public = NewService {
        name: "acme_public".into(),
        visibility: Visibility::Public,
        whitelist: BTreeSet::new(),
        image_associations: assoc,
    };
    store.create_service("acme", &public).await.unwrap();
    assert_eq!(
        store.package(&p.id).await.unwrap().visibility,
        PackageVisibility::Public
    );
    assert_eq!(
        store
            .list_packages(
                &cust3,
                &PageArgs {
                    after: None,
                    limit: 10
                }
            )
            .await
            .unwrap()
            .items
            .len(),
        1
    );

    // The service round-trips with its whitelist and associations.
    let read = store.service(&s.id).await.unwrap();
    assert_eq!(read.whitelist.len(), 2);
    assert_eq!(read.image_associations["centos_7"].version, "latest");
    let mut changed = read.clone();
    changed.whitelist = ["cust9".to_string()].into();
    let updated = store.update_service(&changed).await.unwrap();
    assert_eq!(
        store.service(&s.id).await.unwrap().whitelist,
        updated.whitelist
    );
    assert!(matches!(
        store.update_service(&read).await,
        Err(StoreError::Conflict(_))
    ));
}

async fn tokens_map_to_accounts(backend: Backend) {
    use imagenest_registry::{auth, store::NewAccountToken};
    let Db { store, _dir } = db(backend).await;
    assert!(!store.has_accounts().await.unwrap());
    let secret = auth::new_secret();
    let t = NewAccountToken {
        account: "acme".into(),
        role: Role::Vendor,
        kind: Default::default(),
        cloud_account_id: Some("1234567890".into()),
        description: "ci".into(),
        secret_hash: auth::hash_secret(&secret),
    };
    let info = store.create_token(t.clone()).await.unwrap();
    let owner = store
        .token_owner(&auth::hash_secret(&secret))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(owner.principal, Principal::new("acme", Role::Vendor));
    assert!(
        store
            .token_owner(&auth::hash_secret("inest_wrong"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store.cloud_account_id("acme").await.unwrap().as_deref(),
        Some("1234567890")
    );
    let mut other_role = t.clone();
    other_role.role = Role::Customer;
    other_role.secret_hash = auth::hash_secret("x");
    assert!(matches!(
        store.create_token(other_role).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.delete_token(&info.id, Some("globex")).await,
        Err(StoreError::NotFound)
    ));
    store.delete_token(&info.id, Some("acme")).await.unwrap();
    assert!(
        store
            .token_owner(&auth::hash_secret(&secret))
            .await
            .unwrap()
            .is_none()
    );
}

async fn migrations_run_once(backend: Backend) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("db.sqlite");
            let first = Store::open_sqlite(&path).await.unwrap();
            first
                .create_package("acme", &new_package("kept_pkg"))
                .await
                .unwrap();
            first.close().await;
            let second = Store::open_sqlite(&path).await.unwrap();
            assert_eq!(second.packages_named("kept_pkg").await.unwrap().len(), 1);
        }
        Backend::Postgres => {
            let url = imagenest_testkit::postgres::fresh_database().await;
            // Two replicas starting at once: both succeed, the schema is applied once.
            let (a, b) = tokio::join!(Store::open(&url), Store::open(&url));
            let (a, b) = (a.unwrap(), b.unwrap());
            a.create_package("acme", &new_package("kept_pkg"))
                .await
                .unwrap();
            assert_eq!(b.packages_named("kept_pkg").await.unwrap().len(), 1);
        }
    }
}

/// Two replicas (two stores on one database; one store on SQLite, which one process owns)
/// reserving copy slots in one region at the same moment: exactly the cap is handed out.
async fn copy_slots_hold_across_replicas(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = match backend {
        Backend::Sqlite => {
            let s = Store::open_sqlite(&dir.path().join("imagenest.db"))
                .await
                .unwrap();
            (s.clone(), s)
        }
        Backend::Postgres => {
            let url = imagenest_testkit::postgres::fresh_database().await;
            let a = Store::open(&url).await.unwrap();
            (a, Store::open(&url).await.unwrap())
        }
    };
    let now_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64
    };
    for round in 0..3 {
        let p = a
            .create_package("acme", &new_package(&format!("slots_{round}")))
            .await
            .unwrap();
        let mut versions = Vec::new();
        for i in 0..12 {
            let v = a
                .create_version(&p.id, &new_version(&format!("v_{i}")))
                .await
                .unwrap();
            a.set_distribution_regions(&v.id, &["cn-hangzhou".to_string()])
                .await
                .unwrap();
            versions.push(v.id);
        }
        let lease = now_ms() + 60_000 + round;
        let mut jobs = Vec::new();
        for (owner, store) in [("replica_a", &a), ("replica_b", &b)] {
            for job in store.claim_copies(owner, now_ms(), lease, 6).await.unwrap() {
                jobs.push((owner, store.clone(), job));
            }
        }
        assert_eq!(jobs.len(), 12);
        let mut tasks = tokio::task::JoinSet::new();
        for (owner, store, job) in jobs {
            tasks.spawn(async move { store.reserve_copy(owner, &job, 5).await.unwrap() });
        }
        let granted = tasks.join_all().await.into_iter().filter(|ok| *ok).count();
        assert_eq!(granted, 5, "round {round}: slots handed out");
        let copying = a.copy_counts().await.unwrap().get("copying").copied();
        assert_eq!(copying, Some(5), "round {round}");
        // The copies finish: the region's slots are free for the next round.
        for v in &versions {
            if a.distribution(v).await.unwrap().regions[0].status == RegionStatus::Copying {
                let done = CopyUpdate {
                    status: RegionStatus::Available,
                    progress: 100,
                    image_id: Some(format!("m-{round}")),
                    error: None,
                };
                a.update_region_copy(v, "cn-hangzhou", &done).await.unwrap();
            }
        }
    }
}

/// Lists fill whitelists and associations for a whole page at once: each service must still
/// get exactly its own.
async fn service_lists_carry_each_services_children(backend: Backend) {
    let Db { store, _dir } = db(backend).await;
    let p = store
        .create_package("acme", &new_package("pkg_a"))
        .await
        .unwrap();
    let mut created = Vec::new();
    for i in 0..5 {
        let svc = NewService {
            name: format!("svc_{i}"),
            visibility: Visibility::Private,
            // svc_0 has no whitelist and no association; the others i of each.
            whitelist: (0..i).map(|n| format!("cust_{i}_{n}")).collect(),
            image_associations: (0..i)
                .map(|n| {
                    (
                        format!("lit_{i}_{n}"),
                        Association {
                            package_id: p.id.clone(),
                            version: "latest".into(),
                        },
                    )
                })
                .collect(),
        };
        created.push(store.create_service("acme", &svc).await.unwrap());
    }
    let admin = Principal::new("root", Role::Admin);
    let mut listed = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_services(
                &admin,
                &PageArgs {
                    limit: 2,
                    after: after.clone(),
                },
            )
            .await
            .unwrap();
        listed.extend(page.items);
        match page.next_page_token {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(listed.len(), 5);
    for s in &created {
        let one = store.service(&s.id).await.unwrap();
        let in_list = listed.iter().find(|l| l.id == s.id).unwrap();
        assert_eq!(one.whitelist, s.whitelist, "{}", s.name);
        assert_eq!(one.image_associations, s.image_associations, "{}", s.name);
        assert_eq!(in_list.whitelist, s.whitelist, "{}", s.name);
        assert_eq!(
            in_list.image_associations, s.image_associations,
            "{}",
            s.name
        );
    }
    let named = store.services_named("svc_3").await.unwrap();
    assert_eq!(named.len(), 1);
    assert_eq!(named[0].whitelist.len(), 3);
}
