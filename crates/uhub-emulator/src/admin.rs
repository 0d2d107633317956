//! The emulator's own JSON admin API under `/_emulator/`, for tests and demos:
//!
//! - `POST /_emulator/tags` `{"repo","image","name","updateTime"?,"digest"?}` creates or
//!   updates a tag (the image is created if needed; `updateTime` defaults to now);
//! - `DELETE /_emulator/tags` `{"repo","image","name"}` removes it (404 when absent);
//! - `GET`, `PUT`, `DELETE /_emulator/faults`: read, replace, clear
//!   [fault injection](super::faults);
//! - `GET /_emulator/stats`: request counters ([`StatsSnapshot`](super::stats::StatsSnapshot));
//!   `DELETE /_emulator/stats` zeroes them;
//! - `GET`, `PUT /_emulator/order` `{"order": "newest" | "oldest" | "name"}`: the order
//!   `GetImageTag` serves tags in ([`TagOrder`]).
//!
//! Errors are `{"error": "..."}` with status 400 (bad request body) or 404.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::EmulatorState;
use super::faults::FaultConfig;
use super::fixture::{TagOrder, TimeValue};
use super::store::render_time;

/// The body of `POST` and `DELETE /_emulator/tags` (`DELETE` reads only the key).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TagRequest {
    pub repo: String,
    pub image: String,
    pub name: String,
    #[serde(default)]
    pub update_time: Option<TimeValue>,
    #[serde(default)]
    pub digest: Option<String>,
}

impl TagRequest {
    fn validate_key(&self) -> Result<(), AdminError> {
        for (field, value) in [
            ("repo", &self.repo),
            ("image", &self.image),
            ("name", &self.name),
        ] {
            if value.is_empty() {
                return Err(AdminError::bad_request(format!(
                    "{field}: must not be empty"
                )));
            }
        }
        Ok(())
    }
}

/// An admin API failure: `{"error": message}` with `status`.
#[derive(Debug)]
pub struct AdminError {
    status: StatusCode,
    message: String,
}

impl AdminError {
    fn bad_request(message: impl Into<String>) -> Self {
        AdminError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

type AdminResult = Result<Json<Value>, AdminError>;

pub(super) fn router() -> Router<Arc<EmulatorState>> {
    Router::new()
        .route("/_emulator/tags", post(push_tag).delete(delete_tag))
        .route(
            "/_emulator/faults",
            get(get_faults).put(set_faults).delete(clear_faults),
        )
        .route("/_emulator/stats", get(get_stats).delete(reset_stats))
        .route("/_emulator/order", get(get_order).put(set_order))
}

/// The body of `GET` and `PUT /_emulator/order`.
#[derive(Clone, Copy, Debug, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    pub order: TagOrder,
}

/// The answer to any unknown path.
pub(super) async fn not_found() -> AdminError {
    AdminError {
        status: StatusCode::NOT_FOUND,
        message: "no such endpoint: the UCloud API is at `/`, the admin API under `/_emulator/`"
            .into(),
    }
}

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, AdminError> {
    serde_json::from_slice(body)
        .map_err(|e| AdminError::bad_request(format!("invalid JSON request body: {e}")))
}

fn to_json(value: impl serde::Serialize) -> AdminResult {
    serde_json::to_value(value)
        .map(Json)
        .map_err(|e| AdminError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: e.to_string(),
        })
}

async fn push_tag(State(state): State<Arc<EmulatorState>>, body: Bytes) -> AdminResult {
    let request: TagRequest = parse(&body)?;
    request.validate_key()?;
    let unix_seconds = match &request.update_time {
        None => jiff::Timestamp::now().as_second(),
        Some(time) => time
            .require_unix_seconds()
            .map_err(|e| AdminError::bad_request(format!("updateTime: {e}")))?,
    };
    let stored = state.store.upsert_tag(
        &request.repo,
        &request.image,
        &request.name,
        unix_seconds,
        request.digest.clone(),
    );
    let mut body = json!({
        "repo": request.repo,
        "image": request.image,
        "name": request.name,
        "updateTime": render_time(unix_seconds, state.store.update_time_format()),
        "created": stored.created,
    });
    if let Some(digest) = request.digest {
        body["digest"] = Value::String(digest);
    }
    Ok(Json(body))
}

async fn delete_tag(State(state): State<Arc<EmulatorState>>, body: Bytes) -> AdminResult {
    let request: TagRequest = parse(&body)?;
    request.validate_key()?;
    if state
        .store
        .remove_tag(&request.repo, &request.image, &request.name)
    {
        Ok(Json(json!({ "deleted": true })))
    } else {
        Err(AdminError {
            status: StatusCode::NOT_FOUND,
            message: format!(
                "tag {:?} not found in image \"{}/{}\"",
                request.name, request.repo, request.image
            ),
        })
    }
}

async fn get_faults(State(state): State<Arc<EmulatorState>>) -> AdminResult {
    to_json(state.faults.config().unwrap_or_default())
}

async fn set_faults(State(state): State<Arc<EmulatorState>>, body: Bytes) -> AdminResult {
    let config: FaultConfig = parse(&body)?;
    state
        .faults
        .set(config.clone())
        .map_err(AdminError::bad_request)?;
    to_json(config)
}

async fn clear_faults(State(state): State<Arc<EmulatorState>>) -> AdminResult {
    state.faults.clear();
    to_json(FaultConfig::default())
}

async fn get_stats(State(state): State<Arc<EmulatorState>>) -> AdminResult {
    to_json(state.stats.snapshot())
}

async fn reset_stats(State(state): State<Arc<EmulatorState>>) -> AdminResult {
    state.stats.reset();
    to_json(state.stats.snapshot())
}

async fn get_order(State(state): State<Arc<EmulatorState>>) -> AdminResult {
    to_json(OrderRequest {
        order: state.store.order(),
    })
}

async fn set_order(State(state): State<Arc<EmulatorState>>, body: Bytes) -> AdminResult {
    let request: OrderRequest = parse(&body)?;
    state.store.set_order(request.order);
    to_json(request)
}
