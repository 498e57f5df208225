//! The typed client against a real registry over a socket: every call, and errors that keep
//! the API's code, message and field.

use imagenest_testkit::fixtures::custom_version;
use std::collections::BTreeMap;

use imagenest_client::{Client, ClientError, PageRequest};
use imagenest_core::{
    Role,
    api::{NewToken, TemplateRequest, TokenKind},
    distribution::RegionStatus,
    package::{NewPackage, PackageUpdate},
    service::{Association, NewService, ServiceUpdate, Visibility},
    version::{VersionStatus, VersionUpdate},
};
use imagenest_registry::store::{Backend, CopyUpdate};
use imagenest_testkit::registry::TestRegistry;

fn new_package(name: &str) -> NewPackage {
    NewPackage {
        name: name.into(),
        description: "client test package".into(),
        resource_group: "rg-test".into(),
        tags: BTreeMap::new(),
    }
}

#[tokio::test]
async fn the_whole_api_through_the_client() {
    let reg = TestRegistry::start(Backend::Sqlite).await;
    let admin = Client::new(&reg.url, Some(&reg.admin_token)).unwrap();
    let vendor_token = admin
        .create_token(&NewToken {
            account: "acme".into(),
            role: Role::Vendor,
            kind: TokenKind::Api,
            cloud_account_id: None,
            description: String::new(),
        })
        .await
        .unwrap();
    let acme = Client::new(&reg.url, Some(&vendor_token.token)).unwrap();
    assert_eq!(acme.whoami().await.unwrap().account, "acme");
    acme.health().await.unwrap();
    assert!(acme.regions().await.unwrap().regions.len() > 20);

    let p = acme
        .create_package(&new_package("acme_base"))
        .await
        .unwrap();
    assert_eq!(acme.package("acme_base").await.unwrap().id, p.id);
    assert_eq!(acme.package("acme/acme_base").await.unwrap().id, p.id);
    let updated = acme
        .update_package(
            &p.id,
            &PackageUpdate {
                description: Some("a clearer description".into()),
                ..Default::default()
            },
            Some(p.revision),
        )
        .await
        .unwrap();
    assert_eq!(updated.revision, 2);
    let stale = acme
        .update_package(&p.id, &PackageUpdate::default(), Some(1))
        .await
        .unwrap_err();
    assert_eq!(stale.status(), Some(412));

    let v = acme
        .create_version(&p.id, &custom_version("v_1", "m-src"))
        .await
        .unwrap();
    let v = acme
        .update_version(
            &v.id,
            &VersionUpdate {
                description: Some("first".into()),
                image: None,
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!(v.description, "first");
    assert_eq!(acme.all_versions(&p.id).await.unwrap().len(), 1);
    // Not distributed anywhere yet: 404 saying how to distribute it, not an empty "failed".
    let err = acme.distribution(&v.id).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(
        err.to_string().contains("not distributed to any region"),
        "{err}"
    );
    let d = acme
        .set_distribution_regions(&v.id, &["cn-beijing".to_string()])
        .await
        .unwrap();
    assert_eq!(d.regions.len(), 1);
    assert_eq!(
        acme.version(&v.id).await.unwrap().status,
        VersionStatus::Published
    );
    // Two clients changing the regions from the same read: the second one gets 412, and its
    // regions are not applied.
    let read = acme.distribution(&v.id).await.unwrap();
    assert_eq!(read.revision, d.revision);
    let first = acme
        .set_distribution_regions_if(
            &v.id,
            &["cn-beijing".to_string(), "cn-shanghai".to_string()],
            Some(read.revision),
        )
        .await
        .unwrap();
    assert!(first.revision > read.revision);
    let err = acme
        .set_distribution_regions_if(&v.id, &["us-east-1".to_string()], Some(read.revision))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(412), "{err}");
    let err = acme
        .delete_distribution_if(&v.id, read.revision)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(412), "{err}");
    let now = acme.distribution(&v.id).await.unwrap();
    assert_eq!(now.revision, first.revision);
    let regions: Vec<_> = now.regions.iter().map(|r| r.region.as_str()).collect();
    assert_eq!(regions, ["cn-beijing", "cn-shanghai"]);
    let d = acme
        .set_distribution_regions_if(&v.id, &["cn-beijing".to_string()], Some(now.revision))
        .await
        .unwrap();
    assert!(
        d.regions
            .iter()
            .all(|r| r.region == "cn-beijing" || r.status == RegionStatus::Deleting),
        "{d:?}"
    );
    reg.state
        .store
        .update_region_copy(
            &v.id,
            "cn-beijing",
            &CopyUpdate {
                status: RegionStatus::Available,
                progress: 100,
                image_id: Some("m-bj".into()),
                error: None,
            },
        )
        .await
        .unwrap();
    reg.state.invalidate();
    assert_eq!(
        acme.distribution(&v.id).await.unwrap().region_images["cn-beijing"],
        "m-bj"
    );
    assert_eq!(
        acme.retry_distribution(&v.id).await.unwrap().regions[0].status,
        RegionStatus::Available
    );
    assert_eq!(
        acme.publish_version(&v.id).await.unwrap().status,
        VersionStatus::Published
    );

    // A package name where the ID belongs: the error names the field and the ID to write.
    let err = acme
        .create_service(&NewService {
            name: "acme_app".into(),
            visibility: Visibility::Private,
            whitelist: Default::default(),
            image_associations: BTreeMap::from([(
                "centos_7".to_string(),
                Association {
                    package_id: "acme_base".into(),
                    version: "latest".into(),
                },
            )]),
        })
        .await
        .unwrap_err();
    match &err {
        ClientError::Api { field, message, .. } => {
            assert_eq!(
                field.as_deref(),
                Some("image_associations.centos_7.package_id")
            );
            assert!(message.contains(&p.id), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let s = acme
        .create_service(&NewService {
            name: "acme_app".into(),
            visibility: Visibility::Private,
            whitelist: ["cust1".to_string()].into(),
            image_associations: BTreeMap::from([(
                "centos_7".to_string(),
                Association {
                    package_id: p.id.clone(),
                    version: "latest".into(),
                },
            )]),
        })
        .await
        .unwrap();
    let cust = Client::new(&reg.url, Some(&reg.token("cust1", Role::Customer).await)).unwrap();
    let r = cust.resolve("acme_base", None, "cn-beijing").await.unwrap();
    assert_eq!((r.image_id.as_str(), r.version.as_str()), ("m-bj", "v_1"));
    assert_eq!(
        cust.image_map("acme_app")
            .await
            .unwrap()
            .lookup("centos_7", "cn-beijing"),
        Some("m-bj")
    );
    let template = "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  Vm:\n    \
                    Type: ALIYUN::ECS::Instance\n    Properties:\n      ImageId: centos_7 # ok\n";
    let answer = cust
        .resolve_template(&TemplateRequest {
            service: "acme_app".into(),
            region: "cn-beijing".into(),
            template: template.into(),
            format: None,
            filename: Some("template.yaml".into()),
            strict: true,
        })
        .await
        .unwrap();
    assert_eq!(answer.template, template.replace("centos_7", "m-bj"));
    assert!(answer.complete);
    assert_eq!(answer.format, "ros-yaml");
    assert_eq!(answer.sites.len(), 1);
    let err = cust
        .resolve_template(&TemplateRequest {
            service: "acme_app".into(),
            region: "nowhere-1".into(),
            template: template.into(),
            format: None,
            filename: None,
            strict: false,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("invalid_argument"), "{err}");
    assert_eq!(cust.all_services().await.unwrap().len(), 1);
    assert_eq!(cust.all_packages().await.unwrap().len(), 1);
    let s = acme
        .update_service(
            &s.id,
            &ServiceUpdate {
                visibility: Some(Visibility::Public),
                ..Default::default()
            },
            Some(s.revision),
        )
        .await
        .unwrap();
    assert_eq!(s.visibility, Visibility::Public);
    assert_eq!(
        acme.list_packages(&PageRequest {
            limit: Some(1),
            page_token: None
        })
        .await
        .unwrap()
        .items
        .len(),
        1
    );

    // Errors keep code, message and field.
    let err = cust
        .resolve("acme_base", None, "us-east-1")
        .await
        .unwrap_err();
    match &err {
        ClientError::Api {
            status,
            code,
            message,
            field,
        } => {
            assert_eq!(
                (*status, code.as_str(), field.as_deref()),
                (409, "not_distributed", Some("region"))
            );
            assert!(message.contains("cn-beijing"));
        }
        other => panic!("{other:?}"),
    }
    let err = acme.create_package(&new_package("x")).await.unwrap_err();
    assert_eq!(
        (err.code(), err.status()),
        (Some("invalid_argument"), Some(400))
    );
    assert!(err.to_string().contains("field `name`"), "{err}");
    assert!(acme.package("nope_pkg").await.unwrap_err().is_not_found());

    acme.delete_service(&s.id).await.unwrap();
    acme.delete_distribution(&v.id).await.unwrap();
    acme.delete_version(&v.id).await.unwrap();
    acme.delete_package(&p.id).await.unwrap();
    let tokens = admin.list_tokens().await.unwrap();
    let id = tokens
        .iter()
        .find(|t| t.account == "acme")
        .unwrap()
        .id
        .clone();
    admin.delete_token(&id).await.unwrap();
    assert_eq!(acme.whoami().await.unwrap_err().status(), Some(401));
}

#[tokio::test]
async fn unreachable_and_invalid_endpoints_fail_clearly() {
    let err = Client::new("not a url", None).unwrap_err();
    assert!(matches!(err, ClientError::InvalidEndpoint(_)));
    assert!(matches!(
        Client::new("ftp://example.com", None).unwrap_err(),
        ClientError::InvalidEndpoint(_)
    ));
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::new(&format!("http://127.0.0.1:{port}"), Some("inest_x")).unwrap();
    let err = client.health().await.unwrap_err();
    assert!(matches!(err, ClientError::Transport { .. }), "{err:?}");
    assert!(
        err.to_string().contains("cannot reach the registry"),
        "{err}"
    );
}

/// Every list pages, and a second vendor can neither read nor change anything of acme's: each
/// object answers 404 as if it did not exist, lists leave it out, token lists hold only its own.
#[tokio::test]
async fn lists_page_and_other_vendors_see_nothing() {
    let reg = TestRegistry::start(Backend::Sqlite).await;
    let acme = Client::new(&reg.url, Some(&reg.token("acme", Role::Vendor).await)).unwrap();
    let globex = Client::new(&reg.url, Some(&reg.token("globex", Role::Vendor).await)).unwrap();
    let p = acme
        .create_package(&new_package("acme_base"))
        .await
        .unwrap();
    let mut versions = Vec::new();
    let mut services = Vec::new();
    for i in 0..5 {
        versions.push(
            acme.create_version(
                &p.id,
                &custom_version(format!("v_{i}"), format!("m-src{i}")),
            )
            .await
            .unwrap(),
        );
        services.push(
            acme.create_service(&NewService {
                name: format!("app_{i}"),
                visibility: Visibility::Private,
                whitelist: ["cust1".to_string()].into(),
                image_associations: BTreeMap::from([(
                    format!("lit_{i}"),
                    Association {
                        package_id: p.id.clone(),
                        version: "latest".into(),
                    },
                )]),
            })
            .await
            .unwrap(),
        );
    }

    // Pages of two: every object exactly once, in three pages.
    let mut page = PageRequest {
        limit: Some(2),
        page_token: None,
    };
    let (mut seen, mut pages) = (Vec::new(), 0);
    loop {
        let got = acme.list_versions(&p.id, &page).await.unwrap();
        pages += 1;
        seen.extend(got.items.into_iter().map(|v| v.id));
        match got.next_page_token {
            Some(t) => page.page_token = Some(t),
            None => break,
        }
    }
    seen.sort();
    let mut want: Vec<_> = versions.iter().map(|v| v.id.clone()).collect();
    want.sort();
    assert_eq!((seen, pages), (want, 3));
    let mut page = PageRequest {
        limit: Some(2),
        page_token: None,
    };
    let (mut seen, mut pages) = (Vec::new(), 0);
    loop {
        let got = acme.list_services(&page).await.unwrap();
        pages += 1;
        seen.extend(got.items.into_iter().map(|s| s.id));
        match got.next_page_token {
            Some(t) => page.page_token = Some(t),
            None => break,
        }
    }
    seen.sort();
    let mut want: Vec<_> = services.iter().map(|s| s.id.clone()).collect();
    want.sort();
    assert_eq!((seen, pages), (want, 3));

    // globex: 404 for every object of acme's, by ID and by name, reads and writes alike.
    let s = &services[0];
    let v = &versions[0];
    let not_found = |r: Result<(), ClientError>, what: &str| match r {
        Err(e) if e.is_not_found() => {}
        other => panic!("{what}: expected 404, got {other:?}"),
    };
    not_found(globex.package(&p.id).await.map(drop), "package by ID");
    not_found(
        globex.package("acme/acme_base").await.map(drop),
        "package by owner/name",
    );
    not_found(
        globex
            .list_versions(&p.id, &PageRequest::default())
            .await
            .map(drop),
        "versions",
    );
    not_found(globex.version(&v.id).await.map(drop), "version");
    not_found(globex.publish_version(&v.id).await.map(drop), "publish");
    not_found(globex.delete_version(&v.id).await, "delete version");
    not_found(globex.service(&s.id).await.map(drop), "service");
    not_found(
        globex.service("acme/app_0").await.map(drop),
        "service by owner/name",
    );
    not_found(globex.image_map(&s.id).await.map(drop), "image map");
    not_found(
        globex
            .update_service(
                &s.id,
                &ServiceUpdate {
                    visibility: Some(Visibility::Public),
                    ..Default::default()
                },
                None,
            )
            .await
            .map(drop),
        "update service",
    );
    not_found(globex.delete_service(&s.id).await, "delete service");
    not_found(globex.delete_package(&p.id).await, "delete package");
    assert!(globex.all_packages().await.unwrap().is_empty());
    assert!(globex.all_services().await.unwrap().is_empty());
    let tokens = globex.list_tokens().await.unwrap();
    assert!(
        !tokens.is_empty() && tokens.iter().all(|t| t.account == "globex"),
        "a vendor lists only its own tokens: {tokens:?}"
    );
    // And nothing changed for acme.
    assert_eq!(
        acme.service(&s.id).await.unwrap().visibility,
        Visibility::Private
    );
    assert_eq!(acme.all_versions(&p.id).await.unwrap().len(), 5);
}
