//! The operator's HTTP endpoints on `--metrics-addr`: `/metrics` (OpenMetrics text),
//! `/healthz` (the process serves requests) and `/readyz`, whose answer depends on the
//! process's [`Role`]: a standby is ready, a leader once its caches are synced.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use super::caches::Caches;
use super::metrics::{CONTENT_TYPE, Metrics};

/// What the process is doing, as far as probes are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Role {
    /// Not yet in contact with the leader-election Lease: not ready.
    Starting = 0,
    /// Waiting for the Lease held by another process: ready, so that a rollout
    /// proceeds and the standby can take over.
    Standby = 1,
    /// Running the controllers (leader, or leader election off): ready once every
    /// controller's cache holds its first list.
    Leading = 2,
}

/// Shared state of the endpoints. Cheap to clone.
#[derive(Clone)]
pub struct Probes {
    role: Arc<AtomicU8>,
    caches: Caches,
    metrics: Arc<Metrics>,
}

impl Probes {
    /// Probes starting in [`Role::Starting`].
    pub fn new(metrics: Arc<Metrics>, caches: Caches) -> Self {
        Self {
            role: Arc::new(AtomicU8::new(Role::Starting as u8)),
            caches,
            metrics,
        }
    }

    /// Sets the role, and the `tagwatch_leader` gauge with it.
    pub fn set_role(&self, role: Role) {
        self.role.store(role as u8, Ordering::SeqCst);
        self.metrics.set_leader(role == Role::Leading);
    }

    /// The current role.
    pub fn role(&self) -> Role {
        match self.role.load(Ordering::SeqCst) {
            1 => Role::Standby,
            2 => Role::Leading,
            _ => Role::Starting,
        }
    }

    /// `Ok(what)` when ready, `Err(why not)` otherwise.
    pub fn readiness(&self) -> Result<&'static str, &'static str> {
        match self.role() {
            Role::Starting => Err("not ready: waiting for the leader-election lease"),
            Role::Standby => Ok("ok: standby"),
            Role::Leading if self.caches.synced() => Ok("ok"),
            Role::Leading => Err("not ready: the TagWatch caches are not synced yet"),
        }
    }
}

/// The endpoints' routes.
pub fn router(probes: Probes) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(probes)
}

async fn readyz(State(probes): State<Probes>) -> impl IntoResponse {
    match probes.readiness() {
        Ok(text) => (StatusCode::OK, text),
        Err(text) => (StatusCode::SERVICE_UNAVAILABLE, text),
    }
}

async fn metrics(State(probes): State<Probes>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        probes.metrics.encode(&probes.caches),
    )
}

/// Serves the endpoints on `listener` until the task is dropped. Logs
/// `metrics listening on http://ADDR` with the bound address first, so that a caller
/// that asked for port 0 learns the port.
pub async fn serve(listener: tokio::net::TcpListener, probes: Probes) {
    match listener.local_addr() {
        Ok(addr) => log_address(addr),
        Err(error) => tracing::warn!(%error, "cannot tell the metrics address"),
    }
    if let Err(error) = axum::serve(listener, router(probes)).await {
        tracing::error!(%error, "metrics endpoint stopped");
    }
}

fn log_address(addr: SocketAddr) {
    tracing::info!("metrics listening on http://{addr}");
}

#[cfg(test)]
mod tests {
    use kube::runtime::reflector::store;
    use kube::runtime::watcher::Event;

    use super::*;
    use crate::api::v1alpha1::TagWatch;

    /// Serves `probes` on a free port; returns its base URL.
    async fn spawn(probes: &Probes) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(serve(listener, probes.clone()));
        url
    }

    async fn get_path(url: &str, path: &str) -> (StatusCode, String, Option<String>) {
        let response = reqwest::get(format!("{url}{path}")).await.unwrap();
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string());
        (status, response.text().await.unwrap(), content_type)
    }

    #[tokio::test]
    async fn readiness_follows_the_role_and_the_caches() {
        let caches = Caches::default();
        let probes = Probes::new(Arc::new(Metrics::new()), caches.clone());
        let url = spawn(&probes).await;
        assert_eq!(get_path(&url, "/healthz").await.0, StatusCode::OK);
        assert_eq!(
            get_path(&url, "/readyz").await.0,
            StatusCode::SERVICE_UNAVAILABLE
        );
        probes.set_role(Role::Standby);
        assert_eq!(get_path(&url, "/readyz").await.1, "ok: standby".to_string());
        probes.set_role(Role::Leading);
        let (reader, mut writer) = store::<TagWatch>();
        caches.add(reader);
        let (status, text, _) = get_path(&url, "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{text}");
        assert!(text.contains("caches"), "{text}");
        writer.apply_watcher_event(&Event::Init);
        writer.apply_watcher_event(&Event::InitDone);
        assert_eq!(get_path(&url, "/readyz").await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn metrics_are_openmetrics_text_with_the_leader_gauge() {
        let probes = Probes::new(Arc::new(Metrics::new()), Caches::default());
        let url = spawn(&probes).await;
        let (status, text, content_type) = get_path(&url, "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(content_type.as_deref(), Some(CONTENT_TYPE));
        assert!(text.contains("\ntagwatch_leader 0\n"), "{text}");
        probes.set_role(Role::Leading);
        let (_, text, _) = get_path(&url, "/metrics").await;
        assert!(text.contains("\ntagwatch_leader 1\n"), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }
}
