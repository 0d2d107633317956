//! The emulator's own JSON admin API under `/_emulator/`, for tests and demos:
//!
//! - `POST /_emulator/tags` `{"repo","image","name","updateTime"?,"digest"?}` creates or
//!   updates a tag (the image is created if needed; `updateTime` defaults to now);
//! - `DELETE /_emulator/tags` `{"repo","image","name"}` removes it (404 when absent);
//! - `GET`, `PUT`, `DELETE /_emulator/faults`: read, replace, clear
//!   [fault injection](super::faults);
//! - `GET /_emulator/stats`: request counters ([`StatsSnapshot`](super::stats::StatsSnapshot));
//!   `DELETE /_emulator/stats` zeroes them.
//!
//! Errors are `{"error": "..."}` with status 400 (bad request body) or 404.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::EmulatorState;
use super::faults::FaultConfig;
use super::fixture::TimeValue;
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
    fn validate_key(&self) -> Result<(), Response> {
        for (field, value) in [
            ("repo", &self.repo),
            ("image", &self.image),
            ("name", &self.name),
        ] {
            if value.is_empty() {
                return Err(error(
                    StatusCode::BAD_REQUEST,
                    format!("{field}: must not be empty"),
                ));
            }
        }
        Ok(())
    }
}

pub(super) fn router() -> Router<Arc<EmulatorState>> {
    Router::new()
        .route("/_emulator/tags", post(push_tag).delete(delete_tag))
        .route(
            "/_emulator/faults",
            axum::routing::get(get_faults)
                .put(set_faults)
                .delete(clear_faults),
        )
        .route(
            "/_emulator/stats",
            axum::routing::get(get_stats).delete(reset_stats),
        )
}

/// The answer to any unknown path.
pub(super) async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "no such endpoint: the UCloud API is at `/`, the admin API under `/_emulator/`",
    )
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            format!("invalid JSON request body: {e}"),
        )
    })
}

async fn push_tag(State(state): State<Arc<EmulatorState>>, body: Bytes) -> Response {
    let request: TagRequest = match parse(&body) {
        Ok(r) => r,
        Err(response) => return response,
    };
    if let Err(response) = request.validate_key() {
        return response;
    }
    let unix_seconds = match &request.update_time {
        None => jiff::Timestamp::now().as_second(),
        Some(time) => match time.require_unix_seconds() {
            Ok(secs) => secs,
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("updateTime: {e}")),
        },
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
    Json(body).into_response()
}

async fn delete_tag(State(state): State<Arc<EmulatorState>>, body: Bytes) -> Response {
    let request: TagRequest = match parse(&body) {
        Ok(r) => r,
        Err(response) => return response,
    };
    if let Err(response) = request.validate_key() {
        return response;
    }
    if state
        .store
        .remove_tag(&request.repo, &request.image, &request.name)
    {
        Json(json!({ "deleted": true })).into_response()
    } else {
        let message = format!(
            "tag {:?} not found in image \"{}/{}\"",
            request.name, request.repo, request.image
        );
        error(StatusCode::NOT_FOUND, message)
    }
}

async fn get_faults(State(state): State<Arc<EmulatorState>>) -> Response {
    Json(state.faults.config().unwrap_or_default()).into_response()
}

async fn set_faults(State(state): State<Arc<EmulatorState>>, body: Bytes) -> Response {
    let config: FaultConfig = match parse(&body) {
        Ok(c) => c,
        Err(response) => return response,
    };
    match state.faults.set(config.clone()) {
        Ok(()) => Json(config).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, e),
    }
}

async fn clear_faults(State(state): State<Arc<EmulatorState>>) -> Response {
    state.faults.clear();
    Json(FaultConfig::default()).into_response()
}

async fn get_stats(State(state): State<Arc<EmulatorState>>) -> Response {
    Json(state.stats.snapshot()).into_response()
}

async fn reset_stats(State(state): State<Arc<EmulatorState>>) -> Response {
    state.stats.reset();
    Json(state.stats.snapshot()).into_response()
}
