//! The operator's HTTP endpoints for probes: `/healthz` (the process serves requests)
//! and `/readyz`.

use axum::Router;
use axum::routing::get;

/// Serves the probe endpoints on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener) {
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(|| async { "ok" }));
    if let Err(error) = axum::serve(listener, app).await {
        tracing::error!(%error, "health endpoint stopped");
    }
}
