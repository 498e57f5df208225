//! Finding the object a request names (by ID, name or `owner/name`) and checking that the
//! caller may see or change it. Objects a caller may not see answer 404, never 403, so that
//! their existence is not revealed.

use imagenest_core::{
    Principal, Role, access::PackageAccess, package::Package, service::Service, version::Version,
    version::VersionStatus,
};

use crate::{error::ApiError, state::AppState, store::StoreError};

/// What the caller wants to do with the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Read,
    Write,
    /// Resolve an image: allowed by the permission rules to vendors and customers alike.
    Resolve,
}

fn not_found(kind: &str, key: &str) -> ApiError {
    ApiError::not_found(format!("{kind} `{key}` not found"))
}

fn package_allows(
    st_access: &PackageAccess,
    p: &Package,
    caller: &Principal,
    intent: Intent,
) -> bool {
    match intent {
        Intent::Write => caller.can_manage(&p.owner),
        Intent::Read => {
            caller.is_admin()
                || caller.account == p.owner
                || (caller.role == Role::Customer && st_access.allows(&p.owner, caller))
        }
        Intent::Resolve => st_access.allows(&p.owner, caller),
    }
}

/// The package `key` names (`pkg-…` ID, `name` or `owner/name`), if the caller may use it so.
pub async fn package(
    st: &AppState,
    caller: &Principal,
    key: &str,
    intent: Intent,
) -> Result<(Package, PackageAccess), ApiError> {
    let mut candidates = package_candidates(st, key).await?;
    let chosen = choose_package(
        candidates.iter().map(|(p, access)| (p, access)),
        caller,
        key,
        intent,
    )?;
    Ok(candidates.swap_remove(chosen))
}

/// Every package `key` may name, with its access, whoever asks: the store reads of a lookup,
/// which the resolve path caches per generation for all callers alike.
pub async fn package_candidates(
    st: &AppState,
    key: &str,
) -> Result<Vec<(Package, PackageAccess)>, ApiError> {
    let packages: Vec<Package> = if key.starts_with("pkg-") {
        match st.store.package(key).await {
            Ok(p) => vec![p],
            Err(StoreError::NotFound) => vec![],
            Err(e) => return Err(e.into()),
        }
    } else if let Some((owner, name)) = key.split_once('/') {
        match st.store.package_by_owner_name(owner, name).await {
            Ok(p) => vec![p],
            Err(StoreError::NotFound) => vec![],
            Err(e) => return Err(e.into()),
        }
    } else {
        st.store.packages_named(key).await?
    };
    let mut out = Vec::with_capacity(packages.len());
    for p in packages {
        let access = st.store.package_access(&p.id).await?;
        out.push((p, access));
    }
    Ok(out)
}

/// Which of the candidates `caller` gets for `intent` (its index): by plain name the caller's
/// own package wins over others'; the rest must allow the caller; several left is a conflict.
pub fn choose_package<'a>(
    candidates: impl IntoIterator<Item = (&'a Package, &'a PackageAccess)>,
    caller: &Principal,
    key: &str,
    intent: Intent,
) -> Result<usize, ApiError> {
    let candidates: Vec<(usize, (&Package, &PackageAccess))> =
        candidates.into_iter().enumerate().collect();
    let by_name = !key.starts_with("pkg-") && !key.contains('/');
    let own = candidates
        .iter()
        .find(|(_, (p, _))| by_name && p.owner == caller.account);
    let considered: Vec<_> = match own {
        Some(&own) => vec![own],
        None => candidates,
    };
    let mut allowed = Vec::new();
    for (i, (p, access)) in considered {
        if package_allows(access, p, caller, intent) {
            allowed.push((i, p));
        } else if intent == Intent::Write && package_allows(access, p, caller, Intent::Read) {
            return Err(ApiError::forbidden(format!(
                "only the owner of package `{}` can change it",
                p.name
            )));
        }
    }
    match allowed.as_slice() {
        [] => Err(not_found("package", key)),
        [(i, _)] => Ok(*i),
        _ => Err(ApiError::conflict(format!(
            "several accounts have a package named `{key}`; name it as owner/name ({}) or by ID",
            allowed
                .iter()
                .map(|(_, p)| format!("{}/{}", p.owner, p.name))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .with_field("package")),
    }
}

/// A version by ID with its package, if the caller may use it so (drafts only for the owner).
pub async fn version(
    st: &AppState,
    caller: &Principal,
    id: &str,
    intent: Intent,
) -> Result<(Version, Package), ApiError> {
    let v = match st.store.version(id).await {
        Ok(v) => v,
        Err(StoreError::NotFound) => return Err(not_found("version", id)),
        Err(e) => return Err(e.into()),
    };
    let (p, _) = package(st, caller, &v.package_id, intent)
        .await
        .map_err(|e| {
            if e.code == "not_found" {
                not_found("version", id)
            } else {
                e
            }
        })?;
    if v.status == VersionStatus::Draft && !caller.can_manage(&p.owner) {
        return Err(not_found("version", id));
    }
    Ok((v, p))
}

/// The service `key` names (`svc-…` ID, name or `owner/name`), if the caller may use it so.
/// Customers read public services and those whitelisting them.
pub async fn service(
    st: &AppState,
    caller: &Principal,
    key: &str,
    intent: Intent,
) -> Result<Service, ApiError> {
    let candidates: Vec<Service> = if key.starts_with("svc-") {
        match st.store.service(key).await {
            Ok(s) => vec![s],
            Err(StoreError::NotFound) => vec![],
            Err(e) => return Err(e.into()),
        }
    } else {
        let (owner, name) = match key.split_once('/') {
            Some((o, n)) => (Some(o), n),
            None => (None, key),
        };
        let all: Vec<Service> = st
            .store
            .services_named(name)
            .await?
            .into_iter()
            .filter(|s| owner.is_none_or(|o| s.owner == o))
            .collect();
        match all.iter().position(|s| s.owner == caller.account) {
            Some(i) => vec![all[i].clone()],
            None => all,
        }
    };
    let readable = |s: &Service| {
        caller.is_admin()
            || s.owner == caller.account
            || (caller.role == Role::Customer
                && (s.visibility == imagenest_core::service::Visibility::Public
                    || s.whitelist.contains(&caller.account)))
    };
    let mut allowed = Vec::new();
    for s in candidates {
        match intent {
            Intent::Write if caller.can_manage(&s.owner) => allowed.push(s),
            Intent::Write if readable(&s) => {
                return Err(ApiError::forbidden(format!(
                    "only the owner of service `{}` can change it",
                    s.name
                )));
            }
            Intent::Read | Intent::Resolve if readable(&s) => allowed.push(s),
            _ => {}
        }
    }
    match allowed.len() {
        0 => Err(not_found("service", key)),
        1 => Ok(allowed.remove(0)),
        _ => Err(ApiError::conflict(format!(
            "several accounts have a service named `{key}`; name it as owner/name or by ID"
        ))),
    }
}
