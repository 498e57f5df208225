//! `/v1/tokens` and `/v1/whoami`: accounts' bearer tokens.

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use imagenest_core::{
    api::{NewToken, Page, TokenCreated, TokenInfo, WhoAmI},
    names,
};

use super::ListQuery;
use crate::{
    auth::{self, Caller},
    error::ApiError,
    extract::{Json, Query},
    state::AppState,
    store::NewAccountToken,
};

/// Create a token (admins only). The account is created on first use with the given role.
#[utoipa::path(post, path = "/v1/tokens", tag = "tokens", request_body = NewToken,
    responses((status = 201, description = "Created; the secret is shown only now", body = TokenCreated)))]
pub async fn create(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Json(body): Json<NewToken>,
) -> Result<(StatusCode, axum::Json<TokenCreated>), ApiError> {
    if !caller.is_admin() {
        return Err(ApiError::forbidden("only admins create tokens"));
    }
    names::account_name("account", &body.account)?;
    if let Some(cloud) = &body.cloud_account_id {
        names::cloud_account_id("cloud_account_id", cloud)?;
    }
    if body.description.chars().count() > 500 {
        return Err(ApiError::invalid("description", "at most 500 characters"));
    }
    let secret = auth::new_secret();
    let info = st
        .store
        .create_token(NewAccountToken {
            account: body.account,
            role: body.role,
            kind: body.kind,
            cloud_account_id: body.cloud_account_id,
            description: body.description,
            secret_hash: auth::hash_secret(&secret),
        })
        .await?;
    if let Some(hook) = st.config.on_account.clone() {
        let account = info.account.clone();
        // The hook may touch files (the sim cloud's account list): off the async threads.
        let _ = tokio::task::spawn_blocking(move || hook(&account)).await;
    }
    Ok((
        StatusCode::CREATED,
        axum::Json(TokenCreated {
            info,
            token: secret,
        }),
    ))
}

/// List tokens: all for admins, the caller's own for others. Secrets are never listed.
#[utoipa::path(get, path = "/v1/tokens", tag = "tokens", params(ListQuery),
    responses((status = 200, description = "A page of tokens", body = Page<TokenInfo>)))]
pub async fn list(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<Page<TokenInfo>>, ApiError> {
    let account = (!caller.is_admin()).then_some(caller.account.as_str());
    Ok(axum::Json(st.store.list_tokens(account, &q.page()?).await?))
}

/// Revoke a token: any for admins, their own for others.
#[utoipa::path(delete, path = "/v1/tokens/{id}", tag = "tokens", params(("id" = String, Path, description = "Token ID")),
    responses((status = 204, description = "Revoked")))]
pub async fn delete(
    State(st): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let account = (!caller.is_admin()).then_some(caller.account.as_str());
    st.store
        .delete_token(&id, account)
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound => {
                ApiError::not_found(format!("token `{id}` not found"))
            }
            e => e.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

/// The account and role of the calling token.
#[utoipa::path(get, path = "/v1/whoami", tag = "tokens", responses((status = 200, description = "The caller", body = WhoAmI)))]
pub async fn whoami(
    State(st): State<AppState>,
    Caller(caller): Caller,
) -> Result<axum::Json<WhoAmI>, ApiError> {
    let cloud_account_id = match st.store.cloud_account_id(&caller.account).await? {
        Some(id) => id,
        None => (st.config.default_cloud_account)(&caller.account),
    };
    Ok(axum::Json(WhoAmI {
        account: caller.account,
        role: caller.role,
        cloud_account_id,
    }))
}
