//! Accounts, roles and the caller of a request (the principal).

use serde::{Deserialize, Serialize};

/// What a token lets its account do. Admins manage everything; vendors own packages and
/// services; customers only resolve what the permission rules allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Vendor,
    Customer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Vendor => "vendor",
            Role::Customer => "customer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "vendor" => Some(Role::Vendor),
            "customer" => Some(Role::Customer),
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who is calling: the account a bearer token belongs to and the token's role.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Principal {
    pub account: String,
    pub role: Role,
}

impl Principal {
    pub fn new(account: impl Into<String>, role: Role) -> Self {
        Principal {
            account: account.into(),
            role,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// May this caller change objects owned by `owner`? Admins always; vendors their own.
    pub fn can_manage(&self, owner: &str) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Vendor => self.account == owner,
            Role::Customer => false,
        }
    }

    /// May this caller create packages and services (owned by its own account)?
    pub fn can_publish(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Vendor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn management_rules() {
        let admin = Principal::new("root", Role::Admin);
        let acme = Principal::new("acme", Role::Vendor);
        let cust = Principal::new("acme", Role::Customer);
        assert!(admin.can_manage("acme"));
        assert!(acme.can_manage("acme"));
        assert!(!acme.can_manage("globex"));
        assert!(
            !cust.can_manage("acme"),
            "a customer never manages, even with the owner's name"
        );
        assert!(!cust.can_publish());
        assert_eq!(Role::parse("vendor"), Some(Role::Vendor));
        assert_eq!(Role::parse("root"), None);
    }
}
