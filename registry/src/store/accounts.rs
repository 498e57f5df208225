//! Accounts and their bearer tokens (stored as SHA-256 hashes, never in clear).

use imagenest_core::{
    Principal, Role,
    api::{Page, TokenInfo, TokenKind},
};
use sqlx::{Row, any::AnyRow};

use super::{PageArgs, Result, Store, StoreError, new_id, now};

/// A token to store: the account it belongs to (created on first use) and the secret's hash.
#[derive(Debug, Clone)]
pub struct NewAccountToken {
    pub account: String,
    pub role: Role,
    pub kind: TokenKind,
    pub cloud_account_id: Option<String>,
    pub description: String,
    pub secret_hash: String,
}

/// What a token hash resolves to.
#[derive(Debug, Clone)]
pub struct TokenOwner {
    pub principal: Principal,
    pub kind: TokenKind,
    pub secret_hash: String,
}

fn kind_str(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Api => "api",
        TokenKind::Ros => "ros",
    }
}

fn parse_kind(s: &str) -> Result<TokenKind> {
    match s {
        "api" => Ok(TokenKind::Api),
        "ros" => Ok(TokenKind::Ros),
        other => Err(StoreError::corrupt(format!("token kind {other:?}"))),
    }
}

fn parse_role(s: &str) -> Result<Role> {
    Role::parse(s).ok_or_else(|| StoreError::corrupt(format!("role {s:?}")))
}

fn token_info(row: &AnyRow) -> Result<TokenInfo> {
    Ok(TokenInfo {
        id: row.try_get("id")?,
        account: row.try_get("account")?,
        role: parse_role(&row.try_get::<String, _>("role")?)?,
        kind: parse_kind(&row.try_get::<String, _>("kind")?)?,
        description: row.try_get("description")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Stores a token, creating its account on first use. An existing account keeps its role:
    /// asking for another role is a conflict.
    pub async fn create_token(&self, t: NewAccountToken) -> Result<TokenInfo> {
        let mut w = self.begin_write().await?;
        let existing = sqlx::query("SELECT role FROM accounts WHERE name = $1")
            .bind(&t.account)
            .fetch_optional(&mut *w.tx)
            .await?;
        let created_at = now();
        match existing {
            Some(row) => {
                let role = parse_role(&row.try_get::<String, _>("role")?)?;
                if role != t.role {
                    return Err(StoreError::Conflict(format!(
                        "account `{}` exists with role {role}; tokens take the account's role",
                        t.account
                    )));
                }
                if let Some(cloud) = &t.cloud_account_id {
                    sqlx::query("UPDATE accounts SET cloud_account_id = $1 WHERE name = $2")
                        .bind(cloud)
                        .bind(&t.account)
                        .execute(&mut *w.tx)
                        .await?;
                }
            }
            None => {
                sqlx::query("INSERT INTO accounts (name, role, cloud_account_id, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(&t.account)
                    .bind(t.role.as_str())
                    .bind(t.cloud_account_id.as_deref().unwrap_or(""))
                    .bind(&created_at)
                    .execute(&mut *w.tx)
                    .await?;
            }
        }
        let id = new_id("tok");
        sqlx::query("INSERT INTO tokens (id, account, kind, secret_hash, description, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&id)
            .bind(&t.account)
            .bind(kind_str(t.kind))
            .bind(&t.secret_hash)
            .bind(&t.description)
            .bind(&created_at)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(TokenInfo {
            id,
            account: t.account,
            role: t.role,
            kind: t.kind,
            description: t.description,
            created_at,
        })
    }

    /// The account behind a token hash, if the token exists.
    pub async fn token_owner(&self, secret_hash: &str) -> Result<Option<TokenOwner>> {
        let row = sqlx::query(
            "SELECT t.account, a.role, t.kind, t.secret_hash FROM tokens t JOIN accounts a ON a.name = t.account WHERE t.secret_hash = $1",
        )
        .bind(secret_hash)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(TokenOwner {
            principal: Principal::new(
                row.try_get::<String, _>("account")?,
                parse_role(&row.try_get::<String, _>("role")?)?,
            ),
            kind: parse_kind(&row.try_get::<String, _>("kind")?)?,
            secret_hash: row.try_get("secret_hash")?,
        }))
    }

    /// Lists tokens, of one account or (`None`) of all.
    pub async fn list_tokens(
        &self,
        account: Option<&str>,
        page: &PageArgs,
    ) -> Result<Page<TokenInfo>> {
        let rows = sqlx::query(
            "SELECT t.id, t.account, a.role, t.kind, t.description, t.created_at FROM tokens t JOIN accounts a ON a.name = t.account
             WHERE ($1 = '' OR t.account = $1) AND t.id > $2 ORDER BY t.id LIMIT $3",
        )
        .bind(account.unwrap_or(""))
        .bind(page.after())
        .bind(page.fetch_limit())
        .fetch_all(self.pool())
        .await?;
        let items = rows.iter().map(token_info).collect::<Result<Vec<_>>>()?;
        Ok(page.finish(items, |t| &t.id))
    }

    /// Revokes a token. With `account`, only that account's token.
    pub async fn delete_token(&self, id: &str, account: Option<&str>) -> Result<()> {
        let mut w = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM tokens WHERE id = $1 AND ($2 = '' OR account = $2)")
            .bind(id)
            .bind(account.unwrap_or(""))
            .execute(&mut *w.tx)
            .await?
            .rows_affected();
        w.commit().await?;
        if done == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    /// The cloud account ID stored for a registry account, if one was given.
    pub async fn cloud_account_id(&self, account: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT cloud_account_id FROM accounts WHERE name = $1")
            .bind(account)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get::<String, _>("cloud_account_id")?).filter(|s| !s.is_empty()),
            None => None,
        })
    }

    /// Every account's name, sorted.
    pub async fn account_names(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT name FROM accounts ORDER BY name")
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| r.try_get("name").map_err(Into::into))
            .collect()
    }

    /// Whether any account exists yet (first start of a registry).
    pub async fn has_accounts(&self) -> Result<bool> {
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM accounts")
            .fetch_one(self.pool())
            .await?
            .try_get("n")?;
        Ok(n > 0)
    }
}
