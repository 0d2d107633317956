//! `uhub-emulator`: a local UCloud UHub API for development, demos, tests and benchmarks.
//!
//! It serves the UCloud gateway at `/` (GET with query parameters, POST with a form or
//! JSON body) with the Actions `GetImageTag`, `GetRepo` and `GetRepoImage` over images
//! loaded from a [fixture](fixture), verifies signatures as UCloud does, and has a JSON
//! [admin API](admin) under `/_emulator/` to change tags, inject [faults](faults) and
//! read [request counters](stats). Every response carries an `X-UCLOUD-REQUEST-UUID`.
//!
//! # RetCodes
//!
//! Checked in this order:
//!
//! | RetCode | Message | when |
//! |---|---|---|
//! | 160 | `Missing Action` | no (or empty) `Action` |
//! | 161 | `Action [X] not found` | an Action other than the three above |
//! | 170 | `Missing Signature` | no (or empty) `Signature` |
//! | 172 | `User Not Exists` | `PublicKey` missing or not in the fixture |
//! | 171 | `Signature VerifyAC Error` | the signature over the received parameters differs |
//! | 220 | `Missing params [RepoName]` | a required parameter is missing or empty; also `[ProjectId]` when the image belongs to a project |
//! | 230 | `Params [Limit] not available: ...` | a parameter is malformed (`Offset`, `Limit`), or names nothing: `Params [RepoName] not available: repo "team" not found`, `Params [ImageName] not available: image "team/web" not found`, `Params [ProjectId] not available: image "team/web" is not in project "x"`, `Params [Body] not available: ...` for a body that does not parse |
//! | 150, 153, any | `Service Unavailable (...)`, ... | [fault injection](faults): `retCode` (default 150); 153 beyond `qpsLimit` |
//!
//! `GetImageTag` lists tags newest first (oldest first or by name with the fixture's
//! `order`, or after `PUT /_emulator/order`); `Limit` defaults to 20 and is capped at the
//! fixture's `maxLimit`; `TagName` restricts the listing to that tag (empty when absent).
//! An image with a `projectId` is visible only to requests naming that `ProjectId`.
//!
//! Use [`serve`] with a listener and an [`EmulatorState`], or [`Emulator::builder`] to
//! run one in-process on a free port.

mod actions;
pub mod admin;
pub mod api;
pub mod conn;
mod error;
pub mod faults;
pub mod fixture;
mod params;
pub mod stats;
pub mod store;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::HeaderValue;
use axum::response::Response;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use actions::DEFAULT_LIMIT;
pub use faults::{FaultConfig, Faults};
pub use fixture::{
    Credential, Fixture, FixtureError, ImageFixture, TagFixture, TagOrder, TimeValue,
    UpdateTimeFormat,
};
pub use stats::{Stats, StatsSnapshot};
pub use store::Store;

/// The response header carrying a fresh request id.
pub const REQUEST_UUID_HEADER: &str = "x-ucloud-request-uuid";

/// Everything the emulator serves and counts, shared by all requests.
#[derive(Debug)]
pub struct EmulatorState {
    credentials: HashMap<String, String>,
    max_limit: Option<u32>,
    store: Store,
    faults: Faults,
    stats: Stats,
}

impl EmulatorState {
    /// State for a fixture, checked first; tags without `updateTime` get the current time.
    pub fn from_fixture(fixture: &Fixture) -> Result<Self, FixtureError> {
        fixture
            .validate()
            .map_err(|message| FixtureError::Invalid {
                origin: "fixture".into(),
                message,
            })?;
        let now = jiff::Timestamp::now().as_second();
        Ok(EmulatorState {
            credentials: fixture
                .credentials
                .iter()
                .map(|c| (c.public_key.clone(), c.private_key.clone()))
                .collect(),
            max_limit: fixture.max_limit,
            store: Store::from_fixture(fixture, now),
            faults: Faults::default(),
            stats: Stats::default(),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

/// The emulator's HTTP routes. Serve it with [`serve`]: the gateway needs the
/// connection information that [`serve`]'s listener provides.
pub fn router(state: Arc<EmulatorState>) -> Router {
    Router::new()
        .route("/", get(api::gateway).post(api::gateway))
        .merge(admin::router())
        .fallback(admin::not_found)
        .layer(axum::middleware::map_response(add_request_uuid))
        .with_state(state)
}

async fn add_request_uuid(mut response: Response) -> Response {
    let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut buffer = uuid::Uuid::encode_buffer();
    let text = id.hyphenated().encode_lower(&mut buffer);
    if let Ok(value) = HeaderValue::from_str(text) {
        response.headers_mut().insert(REQUEST_UUID_HEADER, value);
    }
    response
}

/// Serves the emulator on `listener` until `shutdown` completes, then lets open requests
/// finish.
pub async fn serve(
    listener: TcpListener,
    state: Arc<EmulatorState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<conn::ConnectionHandle>();
    axum::serve(conn::ResettableListener::new(listener), app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Why an in-process emulator did not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error(transparent)]
    Fixture(#[from] FixtureError),
    #[error("cannot listen on 127.0.0.1: {0}")]
    Bind(#[from] std::io::Error),
}

/// Builds an emulator's content, then [spawns](EmulatorBuilder::spawn) it in-process.
#[derive(Clone, Debug, Default)]
pub struct EmulatorBuilder {
    fixture: Fixture,
}

impl EmulatorBuilder {
    /// Replaces everything set so far with `fixture`.
    pub fn fixture(mut self, fixture: Fixture) -> Self {
        self.fixture = fixture;
        self
    }

    /// Replaces everything set so far with the fixture in `yaml`.
    pub fn fixture_yaml(self, yaml: &str) -> Result<Self, FixtureError> {
        Ok(self.fixture(Fixture::from_yaml(yaml)?))
    }

    pub fn credential(mut self, public_key: &str, private_key: &str) -> Self {
        let credential = Credential::new(public_key, private_key);
        self.fixture.credentials.push(credential);
        self
    }

    pub fn max_limit(mut self, max_limit: u32) -> Self {
        self.fixture.max_limit = Some(max_limit);
        self
    }

    pub fn update_time_format(mut self, format: UpdateTimeFormat) -> Self {
        self.fixture.update_time_format = format;
        self
    }

    pub fn order(mut self, order: TagOrder) -> Self {
        self.fixture.order = order;
        self
    }

    pub fn image(mut self, image: ImageFixture) -> Self {
        self.fixture.images.push(image);
        self
    }

    /// The content as a fixture.
    pub fn as_fixture(&self) -> &Fixture {
        &self.fixture
    }

    /// Checks the content and builds the state to [`serve`].
    pub fn build(self) -> Result<Arc<EmulatorState>, FixtureError> {
        EmulatorState::from_fixture(&self.fixture).map(Arc::new)
    }

    /// Starts the emulator on a free port of 127.0.0.1 in the current Tokio runtime.
    pub async fn spawn(self) -> Result<Emulator, EmulatorError> {
        let state = self.build()?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async {
            let _ = stopped.await;
        };
        let task = tokio::spawn(serve(listener, Arc::clone(&state), shutdown));
        Ok(Emulator {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

/// An emulator running in-process; it stops when dropped or [shut down](Emulator::shutdown).
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<EmulatorState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Emulator {
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the endpoint to give a UCloud client.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The live state: change tags, faults and read stats without HTTP.
    pub fn state(&self) -> &Arc<EmulatorState> {
        &self.state
    }

    /// Stops accepting connections and waits for open requests to finish.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.unwrap_or_else(|e| Err(std::io::Error::other(e))),
            None => Ok(()),
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
