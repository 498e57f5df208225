//! Permission rules: a package's visibility is derived from the services that use it (DESIGN §3).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::{Principal, service::Visibility};

/// A package's derived visibility as the API shows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PackageVisibility {
    #[default]
    Private,
    Public,
}

/// Who may resolve a package besides its owner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackageAccess {
    /// At least one associated service is public.
    pub public: bool,
    /// Union of the whitelists of the associated services (meaningful when not public).
    pub whitelist: BTreeSet<String>,
}

impl PackageAccess {
    /// Derives access from the services that associate the package:
    /// none → private (owner only); any public → public; otherwise private plus the union of
    /// their whitelists.
    pub fn derive<'a>(
        services: impl IntoIterator<Item = (Visibility, &'a BTreeSet<String>)>,
    ) -> Self {
        let mut access = PackageAccess::default();
        for (visibility, whitelist) in services {
            if visibility == Visibility::Public {
                access.public = true;
            }
            access.whitelist.extend(whitelist.iter().cloned());
        }
        if access.public {
            access.whitelist.clear();
        }
        access
    }

    pub fn visibility(&self) -> PackageVisibility {
        if self.public {
            PackageVisibility::Public
        } else {
            PackageVisibility::Private
        }
    }

    /// May `caller` resolve (and read) a package owned by `owner`?
    pub fn allows(&self, owner: &str, caller: &Principal) -> bool {
        caller.is_admin()
            || caller.account == owner
            || self.public
            || self.whitelist.contains(&caller.account)
    }

    /// The accounts a regional copy must be shared with (empty when public: the copy is made
    /// public instead).
    pub fn share_accounts(&self) -> &BTreeSet<String> {
        &self.whitelist
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn derived_visibility_table() {
        let w1 = set(&["cust1"]);
        let w2 = set(&["cust2"]);
        let none = PackageAccess::derive([]);
        assert_eq!(none.visibility(), PackageVisibility::Private);
        assert!(none.whitelist.is_empty());

        let private =
            PackageAccess::derive([(Visibility::Private, &w1), (Visibility::Private, &w2)]);
        assert_eq!(private.visibility(), PackageVisibility::Private);
        assert_eq!(private.whitelist, set(&["cust1", "cust2"]));

        let public = PackageAccess::derive([(Visibility::Private, &w1), (Visibility::Public, &w2)]);
        assert_eq!(public.visibility(), PackageVisibility::Public);
    }

    #[test]
    fn who_may_resolve() {
        let w = set(&["cust1"]);
        let private = PackageAccess::derive([(Visibility::Private, &w)]);
        let owner = Principal::new("acme", Role::Vendor);
        let other_vendor = Principal::new("globex", Role::Vendor);
        let listed = Principal::new("cust1", Role::Customer);
        let unlisted = Principal::new("cust2", Role::Customer);
        let admin = Principal::new("root", Role::Admin);
        assert!(private.allows("acme", &owner));
        assert!(private.allows("acme", &listed));
        assert!(private.allows("acme", &admin));
        assert!(!private.allows("acme", &unlisted));
        assert!(!private.allows("acme", &other_vendor));
        let nobody = PackageAccess::derive([]);
        assert!(!nobody.allows("acme", &listed));
        let public = PackageAccess::derive([(Visibility::Public, &BTreeSet::new())]);
        assert!(public.allows("acme", &unlisted));
    }
}
