//! Resolution: which image a caller gets for (package, version | latest, region) — or why not.

use std::collections::BTreeSet;

use crate::{
    Principal,
    access::PackageAccess,
    distribution::{RegionCopy, RegionStatus},
    service::LATEST,
    version::{ImageSource, VersionStatus},
};

/// Which version to resolve.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Selector {
    /// The newest published version that is available in the region.
    Latest,
    Named(String),
}

impl Selector {
    pub fn parse(s: &str) -> Selector {
        if s == LATEST {
            Selector::Latest
        } else {
            Selector::Named(s.to_string())
        }
    }
}

/// What resolution needs to know of a package.
#[derive(Debug, Clone)]
pub struct PackageFacts {
    pub name: String,
    pub owner: String,
    pub access: PackageAccess,
    pub versions: Vec<VersionFacts>,
}

/// What resolution needs to know of one version.
#[derive(Debug, Clone)]
pub struct VersionFacts {
    pub name: String,
    pub status: VersionStatus,
    /// Publication order within the package: higher is newer. Ignored for drafts.
    pub published_seq: i64,
    pub image: ImageSource,
    pub copies: Vec<RegionCopy>,
}

/// A successful resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub image_id: String,
    pub version: String,
}

/// Why a resolution failed. Messages say what is wrong and what would fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("package `{package}` not found")]
    PackageNotFound { package: String },
    /// The caller may not use the package. The registry answers this exactly like
    /// `PackageNotFound`, so that it does not reveal that the package exists.
    #[error("package `{package}` is not shared with account `{account}`")]
    Forbidden { package: String, account: String },
    #[error("package `{package}` has no version `{version}`")]
    VersionNotFound { package: String, version: String },
    #[error("package `{package}` has no published version yet")]
    NoPublishedVersion { package: String },
    #[error("`{package}` version `{version}` is not distributed to {region}; {}", available_hint(.available))]
    NotDistributed {
        package: String,
        version: String,
        region: String,
        available: Vec<String>,
    },
    #[error(
        "`{package}` version `{version}` is still copying to {region} ({progress}% done); try again when it is available"
    )]
    StillCopying {
        package: String,
        version: String,
        region: String,
        progress: u8,
    },
    #[error(
        "`{package}` version `{version}` failed to copy to {region}: {error}; retry the distribution"
    )]
    CopyFailed {
        package: String,
        version: String,
        region: String,
        error: String,
    },
    #[error("`{package}` version `{version}` is a draft and can be tested only in {}; publish it to use it in {region}", .source_region.as_deref().unwrap_or("its source region (a marketplace draft has none)"))]
    DraftOutsideSourceRegion {
        package: String,
        version: String,
        region: String,
        source_region: Option<String>,
    },
}

fn available_hint(regions: &[String]) -> String {
    if regions.is_empty() {
        "it is not available in any region yet".to_string()
    } else {
        format!("it is available in {}", regions.join(", "))
    }
}

/// Resolves a package for `caller` in `region`.
pub fn resolve(
    pkg: &PackageFacts,
    selector: &Selector,
    region: &str,
    caller: &Principal,
) -> Result<Resolved, ResolveError> {
    if !pkg.access.allows(&pkg.owner, caller) {
        return Err(ResolveError::Forbidden {
            package: pkg.name.clone(),
            account: caller.account.clone(),
        });
    }
    let owner_view = caller.is_admin() || caller.account == pkg.owner;
    match selector {
        Selector::Named(name) => {
            let version = pkg
                .versions
                .iter()
                .find(|v| &v.name == name && (owner_view || v.status == VersionStatus::Published))
                .ok_or_else(|| ResolveError::VersionNotFound {
                    package: pkg.name.clone(),
                    version: name.clone(),
                })?;
            resolve_version(pkg, version, region)
        }
        Selector::Latest => {
            let mut published: Vec<&VersionFacts> = pkg
                .versions
                .iter()
                .filter(|v| v.status == VersionStatus::Published)
                .collect();
            if published.is_empty() {
                return Err(ResolveError::NoPublishedVersion {
                    package: pkg.name.clone(),
                });
            }
            published.sort_by_key(|v| std::cmp::Reverse(v.published_seq));
            if let Some(found) = published
                .iter()
                .find_map(|v| available_in(v, region).map(|id| (v, id)))
            {
                return Ok(Resolved {
                    image_id: found.1.to_string(),
                    version: found.0.name.clone(),
                });
            }
            // Nothing available: explain with the newest version that targets the region, else
            // with the regions where some version is available.
            if let Some(v) = published
                .iter()
                .find(|v| copy_in(v, region).is_some_and(|c| c.status != RegionStatus::Deleting))
            {
                return resolve_version(pkg, v, region);
            }
            let available: BTreeSet<String> = published
                .iter()
                .flat_map(|v| {
                    v.copies
                        .iter()
                        .filter(|c| c.status == RegionStatus::Available)
                        .map(|c| c.region.clone())
                })
                .collect();
            Err(ResolveError::NotDistributed {
                package: pkg.name.clone(),
                version: LATEST.to_string(),
                region: region.to_string(),
                available: available.into_iter().collect(),
            })
        }
    }
}

fn resolve_version(
    pkg: &PackageFacts,
    v: &VersionFacts,
    region: &str,
) -> Result<Resolved, ResolveError> {
    let (package, version) = (pkg.name.clone(), v.name.clone());
    if v.status == VersionStatus::Draft {
        return match &v.image {
            ImageSource::Custom {
                region: source,
                image_id,
            } if source == region => Ok(Resolved {
                image_id: image_id.clone(),
                version,
            }),
            image => Err(ResolveError::DraftOutsideSourceRegion {
                package,
                version,
                region: region.to_string(),
                source_region: image.source_region().map(String::from),
            }),
        };
    }
    match copy_in(v, region) {
        Some(c) => match c.status {
            RegionStatus::Available => match &c.image_id {
                Some(id) => Ok(Resolved {
                    image_id: id.clone(),
                    version,
                }),
                None => Err(ResolveError::StillCopying {
                    package,
                    version,
                    region: region.to_string(),
                    progress: c.progress,
                }),
            },
            RegionStatus::Pending | RegionStatus::Copying => Err(ResolveError::StillCopying {
                package,
                version,
                region: region.to_string(),
                progress: c.progress,
            }),
            RegionStatus::Failed => Err(ResolveError::CopyFailed {
                package,
                version,
                region: region.to_string(),
                error: c.error.clone().unwrap_or_else(|| "unknown error".into()),
            }),
            RegionStatus::Deleting => Err(not_distributed(v, package, version, region)),
        },
        None => Err(not_distributed(v, package, version, region)),
    }
}

fn not_distributed(
    v: &VersionFacts,
    package: String,
    version: String,
    region: &str,
) -> ResolveError {
    let available = v
        .copies
        .iter()
        .filter(|c| c.status == RegionStatus::Available)
        .map(|c| c.region.clone())
        .collect();
    ResolveError::NotDistributed {
        package,
        version,
        region: region.to_string(),
        available,
    }
}

fn copy_in<'a>(v: &'a VersionFacts, region: &str) -> Option<&'a RegionCopy> {
    v.copies.iter().find(|c| c.region == region)
}

fn available_in<'a>(v: &'a VersionFacts, region: &str) -> Option<&'a str> {
    copy_in(v, region)
        .filter(|c| c.status == RegionStatus::Available)
        .and_then(|c| c.image_id.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Role, service::Visibility};

    fn copy(region: &str, status: RegionStatus, progress: u8, image: Option<&str>) -> RegionCopy {
        RegionCopy {
            region: region.into(),
            status,
            progress,
            image_id: image.map(String::from),
            error: None,
        }
    }

    fn version(
        name: &str,
        status: VersionStatus,
        seq: i64,
        copies: Vec<RegionCopy>,
    ) -> VersionFacts {
        VersionFacts {
            name: name.into(),
            status,
            published_seq: seq,
            image: ImageSource::Custom {
                region: "cn-hangzhou".into(),
                image_id: format!("m-src-{name}"),
            },
            copies,
        }
    }

    fn package(public: bool, versions: Vec<VersionFacts>) -> PackageFacts {
        let whitelist = ["cust1".to_string()].into_iter().collect();
        let vis = if public {
            Visibility::Public
        } else {
            Visibility::Private
        };
        PackageFacts {
            name: "acme_base".into(),
            owner: "acme".into(),
            access: PackageAccess::derive([(vis, &whitelist)]),
            versions,
        }
    }

    fn who(account: &str, role: Role) -> Principal {
        Principal::new(account, role)
    }

    #[test]
    fn resolution_table() {
        use RegionStatus::*;
        use VersionStatus::*;
        let pkg = package(
            false,
            vec![
                version(
                    "v_1",
                    Published,
                    1,
                    vec![
                        copy("cn-beijing", Available, 100, Some("m-b1")),
                        copy("cn-shanghai", Available, 100, Some("m-s1")),
                    ],
                ),
                version(
                    "v_2",
                    Published,
                    2,
                    vec![
                        copy("cn-beijing", Available, 100, Some("m-b2")),
                        copy("cn-shanghai", Copying, 40, None),
                    ],
                ),
                version(
                    "v_3",
                    Published,
                    3,
                    vec![copy("cn-beijing", Failed, 0, None)],
                ),
                version("v_4", Draft, 0, vec![]),
            ],
        );
        let cust = who("cust1", Role::Customer);
        let owner = who("acme", Role::Vendor);
        let stranger = who("cust2", Role::Customer);
        let other_vendor = who("globex", Role::Vendor);
        let ok = |v: &str, id: &str| {
            Ok(Resolved {
                image_id: id.into(),
                version: v.into(),
            })
        };
        let cases: Vec<(&str, &str, &Principal, Result<Resolved, &str>)> = vec![
            ("latest", "cn-beijing", &cust, ok("v_2", "m-b2")),
            ("latest", "cn-shanghai", &cust, ok("v_1", "m-s1")),
            ("latest", "us-east-1", &cust, Err("NotDistributed")),
            ("v_2", "cn-shanghai", &cust, Err("StillCopying")),
            ("v_3", "cn-beijing", &cust, Err("CopyFailed")),
            ("v_3", "cn-shanghai", &cust, Err("NotDistributed")),
            ("v_9", "cn-beijing", &cust, Err("VersionNotFound")),
            ("v_4", "cn-hangzhou", &cust, Err("VersionNotFound")),
            ("v_4", "cn-hangzhou", &owner, ok("v_4", "m-src-v_4")),
            ("v_4", "cn-beijing", &owner, Err("DraftOutsideSourceRegion")),
            ("latest", "cn-beijing", &stranger, Err("Forbidden")),
            ("latest", "cn-beijing", &other_vendor, Err("Forbidden")),
        ];
        for (sel, region, caller, want) in cases {
            let got = resolve(&pkg, &Selector::parse(sel), region, caller);
            match (&got, &want) {
                (Ok(g), Ok(w)) => assert_eq!(g, w, "{sel} {region}"),
                (Err(e), Err(kind)) => assert!(
                    format!("{e:?}").starts_with(kind),
                    "{sel} {region}: got {e:?}, want {kind}"
                ),
                _ => panic!(
                    "{sel} {region} {}: got {got:?}, want {want:?}",
                    caller.account
                ),
            }
        }
    }

    #[test]
    fn messages_say_where_it_is_and_how_far() {
        use RegionStatus::*;
        let pkg = package(
            true,
            vec![version(
                "v_1",
                VersionStatus::Published,
                1,
                vec![
                    copy("cn-beijing", Available, 100, Some("m-1")),
                    copy("cn-shanghai", Copying, 42, None),
                ],
            )],
        );
        let anyone = who("x", Role::Customer);
        let e = resolve(&pkg, &Selector::Latest, "us-east-1", &anyone).unwrap_err();
        assert!(e.to_string().contains("available in cn-beijing"), "{e}");
        let e = resolve(&pkg, &Selector::Latest, "cn-shanghai", &anyone).unwrap_err();
        assert!(e.to_string().contains("42%"), "{e}");
        let empty = package(true, vec![]);
        assert!(matches!(
            resolve(&empty, &Selector::Latest, "cn-beijing", &anyone),
            Err(ResolveError::NoPublishedVersion { .. })
        ));
    }
}
