//! What a regional copy's share list must be: the package's derived visibility (DESIGN §3, §6)
//! turned into cloud account IDs.

use std::{collections::BTreeSet, sync::Arc};

use imagenest_cloud::Sharing;

use crate::store::{Result, Store};

/// Maps a registry account name without a stored cloud account ID to one (the sim cloud derives
/// IDs from names; with a real cloud the name is used as given).
pub type CloudAccountFn = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// The sharing a copy of `package_id` must have: public when any associated service is public,
/// else shared with the cloud accounts of the whitelisted registry accounts.
pub async fn desired(
    store: &Store,
    package_id: &str,
    default_account: &CloudAccountFn,
) -> Result<Sharing> {
    let access = store.package_access(package_id).await?;
    if access.public {
        return Ok(Sharing {
            accounts: BTreeSet::new(),
            public: true,
        });
    }
    let known = store.cloud_account_ids(&access.whitelist).await?;
    let accounts = access
        .whitelist
        .iter()
        .map(|name| {
            known
                .get(name)
                .cloned()
                .unwrap_or_else(|| default_account(name))
        })
        .collect();
    Ok(Sharing {
        accounts,
        public: false,
    })
}
