//! The UCloud API gateway at `/`: parameter parsing, fault injection, Action routing,
//! signature verification and the answer (JSON with `Action`, `RetCode` and, on failure,
//! `Message`). The RetCodes are listed in the [module documentation](super).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header::CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::EmulatorState;
use super::actions;
use super::conn::ConnectionHandle;
use super::error::ApiError;
use super::faults::{Injected, RATE_LIMITED};
use super::params::Params;
use super::stats::Outcome;
use uhub::signature::{sign, signatures_match};

/// The handler of `/` (GET and POST).
pub(super) async fn gateway(
    State(state): State<Arc<EmulatorState>>,
    ConnectInfo(connection): ConnectInfo<ConnectionHandle>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let params = match Params::parse(method == Method::POST, uri.query(), content_type, &body) {
        Ok(params) => params,
        Err(e) => {
            return answer(
                &state,
                None,
                StatusCode::OK,
                Err(ApiError::invalid("Body", e)),
            );
        }
    };
    let action = params.non_empty("Action");
    let faults = state
        .faults
        .for_request(params.get("RepoName"), params.get("ImageName"));
    if let Some(faults) = faults {
        if let Some(latency) = faults.latency() {
            tokio::time::sleep(latency).await;
        }
        match faults.decide(rand::random::<f64>) {
            None => {}
            Some(Injected::Reset) => {
                connection.reset();
                state.stats.record(action, Outcome::Reset);
                tracing::debug!(action, "connection reset by fault injection");
                return StatusCode::OK.into_response();
            }
            Some(Injected::RateLimited) => {
                let error = ApiError::Injected(RATE_LIMITED);
                return answer(&state, action, StatusCode::OK, Err(error));
            }
            Some(Injected::Error {
                ret_code,
                http_status,
            }) => {
                let status = StatusCode::from_u16(http_status).unwrap_or(StatusCode::OK);
                return answer(&state, action, status, Err(ApiError::Injected(ret_code)));
            }
        }
    }
    let result = handle(&state, &params);
    answer(&state, action, StatusCode::OK, result)
}

/// Routes an authenticated request to its Action; the body of a successful answer.
fn handle(state: &EmulatorState, params: &Params) -> Result<String, ApiError> {
    let action = params.non_empty("Action").ok_or(ApiError::MissingAction)?;
    let run = match action {
        "GetImageTag" => actions::get_image_tag,
        "GetRepo" => actions::get_repo,
        "GetRepoImage" => actions::get_repo_image,
        other => return Err(ApiError::ActionNotFound(other.to_string())),
    };
    authenticate(state, params)?;
    run(state, params)
}

/// Verifies `Signature` over every other parameter received.
fn authenticate(state: &EmulatorState, params: &Params) -> Result<(), ApiError> {
    let signature = params
        .non_empty("Signature")
        .ok_or(ApiError::MissingSignature)?;
    let private_key = params
        .get("PublicKey")
        .and_then(|public| state.credentials.get(public))
        .ok_or(ApiError::UserNotExists)?;
    if signatures_match(&sign(params.pairs(), private_key), signature) {
        Ok(())
    } else {
        Err(ApiError::SignatureMismatch)
    }
}

fn answer(
    state: &EmulatorState,
    action: Option<&str>,
    status: StatusCode,
    result: Result<String, ApiError>,
) -> Response {
    let ret_code = result.as_ref().map_or_else(ApiError::ret_code, |_| 0);
    state.stats.record(
        action,
        Outcome::Answered {
            ret_code,
            http_status: status.as_u16(),
        },
    );
    tracing::debug!(action, ret_code, status = status.as_u16(), "answered");
    let body = result.unwrap_or_else(|error| {
        json!({
            "Action": format!("{}Response", action.unwrap_or_default()),
            "RetCode": ret_code,
            "Message": error.to_string(),
        })
        .to_string()
    });
    (status, [(CONTENT_TYPE, "application/json")], body).into_response()
}
