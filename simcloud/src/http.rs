//! The sim cloud's HTTP faces: the ECS RPC API at `/` (signed, with injected faults) and the
//! unsigned admin API under `/_sim/` (loopback test/demo use only).

use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use imagenest_cloud::alicloud::wire;
use imagenest_cloud::sign;
use rand::Rng;
use serde::Deserialize;
use serde_json::Value;

use crate::auth;
use crate::config::Faults;
use crate::ecs::{self, Params};
use crate::error::SimError;
use crate::info::SimInfo;
use crate::model::Account;
use crate::sim::{ApiError, CreateImage, DELIVERY_ACCOUNT, ImageFilter, ImageView, Sim};

/// What the handlers share.
#[derive(Debug)]
pub struct Shared {
    sim: Mutex<Sim>,
    pub endpoint: String,
    info_path: std::path::PathBuf,
    /// Accounts listed in the info file last written.
    info_accounts: Mutex<usize>,
}

impl Shared {
    pub fn new(sim: Sim, endpoint: String, info_path: std::path::PathBuf) -> Self {
        Shared {
            sim: Mutex::new(sim),
            endpoint,
            info_path,
            info_accounts: Mutex::new(0),
        }
    }

    /// Locks the sim. A handler that panicked cannot leave the state half-changed (every
    /// change is one `State::exec`), so a poisoned lock is still usable.
    pub fn lock(&self) -> MutexGuard<'_, Sim> {
        self.sim.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn info(&self, sim: &Sim) -> SimInfo {
        SimInfo {
            endpoint: self.endpoint.clone(),
            delivery_account: DELIVERY_ACCOUNT.to_string(),
            accounts: sim.state.accounts.values().cloned().collect(),
        }
    }

    /// Rewrites `sim-cloud.json` when accounts were added since it was last written.
    pub fn refresh_info(&self, sim: &Sim) -> Result<(), SimError> {
        let mut written = self.info_accounts.lock().unwrap_or_else(|p| p.into_inner());
        let now = sim.state.accounts.len();
        if *written != now {
            self.info(sim).write(&self.info_path)?;
            *written = now;
        }
        Ok(())
    }
}

/// The router of a sim cloud.
pub fn app(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", any(ecs_call))
        .route(
            "/_sim/health",
            get(|| async { Json(serde_json::json!({"ok": true})) }),
        )
        .route("/_sim/info", get(info))
        .route("/_sim/accounts", post(create_account).get(list_accounts))
        .route("/_sim/images", post(create_image).get(list_images))
        .route("/_sim/faults", get(get_faults).put(put_faults))
        .route("/_sim/copies", get(copy_stats))
        .with_state(shared)
}

fn request_id() -> String {
    let b: [u8; 16] = rand::rng().random();
    let h = hex::encode(b).to_uppercase();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn ecs_error(e: ApiError, request_id: String) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = wire::ErrorBody {
        request_id: Some(request_id),
        host_id: Some("ecs.sim.imagenest".to_string()),
        code: e.code,
        message: e.message,
        recommend: None,
    };
    (status, Json(body)).into_response()
}

async fn ecs_call(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let latency = shared.lock().faults().latency_ms;
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
    }
    let rid = request_id();
    match handle_ecs(&shared, &method, &uri, &headers, &body) {
        Ok(mut value) => {
            if let Value::Object(map) = &mut value {
                map.insert("RequestId".to_string(), Value::String(rid));
            }
            Json(value).into_response()
        }
        Err(e) => {
            tracing::debug!(code = %e.code, "sim ECS error");
            ecs_error(e, rid)
        }
    }
}

fn handle_ecs(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, ApiError> {
    let params = sign::parse_query(uri.query().unwrap_or("")).ok_or_else(|| {
        ApiError::invalid(
            "InvalidParameter",
            "The query string is not valid percent-encoding.",
        )
    })?;
    let mut sim = shared.lock();
    if sim.is_closed() {
        return Err(ApiError::new(
            503,
            "ServiceUnavailable",
            "The sim cloud is shutting down.",
        ));
    }
    let caller: Account = auth::verify(
        &mut sim,
        method.as_str(),
        uri.path(),
        &params,
        headers,
        body,
    )?;
    let action = headers
        .get("x-acs-action")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let throttle = sim.faults().throttle_rate;
    if sim.draw(throttle) {
        return Err(ApiError::invalid(
            "Throttling",
            "Request was denied due to request throttling.",
        ));
    }
    if let Some(code) = sim.faults().action_errors.get(&action) {
        return Err(crate::sim::injected_error(&action, code));
    }
    let params = Params(params);
    for key in ["RegionId", "DestinationRegionId"] {
        if let Some(region) = params.get(key)
            && sim.faults().down_regions.contains(region)
        {
            return Err(ApiError::new(
                503,
                "ServiceUnavailable",
                format!(
                    "The request has failed due to a temporary failure of the server in {region}."
                ),
            ));
        }
    }
    sim.tick();
    ecs::dispatch(&mut sim, &caller, &action, &params)
}

/// An admin API error: `{"code", "message"}` with a status.
struct AdminError(StatusCode, String, String);

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        (
            self.0,
            Json(serde_json::json!({"code": self.1, "message": self.2})),
        )
            .into_response()
    }
}

impl From<ApiError> for AdminError {
    fn from(e: ApiError) -> Self {
        AdminError(
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            e.code,
            e.message,
        )
    }
}

impl From<SimError> for AdminError {
    fn from(e: SimError) -> Self {
        AdminError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError".to_string(),
            e.to_string(),
        )
    }
}

async fn info(State(shared): State<Arc<Shared>>) -> Json<SimInfo> {
    let sim = shared.lock();
    Json(shared.info(&sim))
}

#[derive(Deserialize)]
struct NewAccount {
    name: String,
}

async fn create_account(
    State(shared): State<Arc<Shared>>,
    Json(req): Json<NewAccount>,
) -> Result<Json<Account>, AdminError> {
    let mut sim = shared.lock();
    let account = sim.ensure_account(&req.name)?;
    shared.refresh_info(&sim)?;
    Ok(Json(account))
}

async fn list_accounts(State(shared): State<Arc<Shared>>) -> Json<Vec<Account>> {
    let sim = shared.lock();
    Json(sim.state.accounts.values().cloned().collect())
}

async fn create_image(
    State(shared): State<Arc<Shared>>,
    Json(req): Json<CreateImage>,
) -> Result<Json<ImageView>, AdminError> {
    let mut sim = shared.lock();
    let view = sim.create_image(&req)?;
    shared.refresh_info(&sim)?;
    Ok(Json(view))
}

async fn list_images(
    State(shared): State<Arc<Shared>>,
    Query(filter): Query<ImageFilter>,
) -> Json<Vec<ImageView>> {
    let mut sim = shared.lock();
    sim.tick();
    Json(sim.list(&filter))
}

async fn get_faults(State(shared): State<Arc<Shared>>) -> Json<Faults> {
    Json(shared.lock().faults().clone())
}

/// Replaces the faults; they are saved with the state, so they survive a restart.
async fn put_faults(
    State(shared): State<Arc<Shared>>,
    Json(faults): Json<Faults>,
) -> Result<Json<Faults>, AdminError> {
    shared.lock().set_faults(faults.clone())?;
    Ok(Json(faults))
}

/// What the admin API reports of the copy queues.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct CopyStats {
    /// Per region, the most copies ever in progress at once (running and waiting).
    pub peak_in_progress: std::collections::BTreeMap<String, usize>,
    /// Per `region/image name`, the images CopyImage created.
    #[serde(default)]
    pub copies_made: std::collections::BTreeMap<String, u32>,
}

async fn copy_stats(State(shared): State<Arc<Shared>>) -> Json<CopyStats> {
    let mut sim = shared.lock();
    sim.tick();
    Json(CopyStats {
        peak_in_progress: sim.state.peak_in_progress.clone(),
        copies_made: sim.state.copies_made.clone(),
    })
}
