//! `replay serve`: a local dashboard and REST API over event recordings and cassettes.
//!
//! [`Dashboard`] builds the axum router; a program that embeds the dashboard registers its
//! own routes on it (the what-if runner adds `POST /api/recording/{file}/replay`), each with
//! its OpenAPI operation so that `/api/openapi.json` stays complete:
//!
//! ```no_run
//! use axum::routing::post;
//! use replay_cli::dashboard::{AppState, Dashboard};
//!
//! async fn whatif(state: axum::extract::State<AppState>) -> &'static str {
//!     let _dir = state.recordings_dir();
//!     "ok"
//! }
//!
//! # async fn demo() -> std::io::Result<()> {
//! let dashboard = Dashboard::new("recordings", "sessions").route(
//!     "POST",
//!     "/api/recording/{file}/replay",
//!     post(whatif),
//!     serde_json::json!({ "summary": "Run a what-if replay" }),
//! );
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:5556").await?;
//! dashboard.serve(listener, std::future::pending()).await
//! # }
//! ```

mod assets;
mod errors;
mod openapi;
mod paths;
mod record;
mod recordings;
mod replay;
mod sessions;
mod state;
mod whatif;

use std::future::Future;
use std::path::PathBuf;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::routing::{MethodRouter, get, post};

pub use errors::{ApiError, ApiPath, ApiQuery, ApiResult, parse_body};
pub use paths::resolve_in;
pub use state::AppState;

/// The what-if route of the session-recorder seed (see [`Dashboard::whatif`]).
const WHATIF_REPLAY: &str = "/api/recording/{file}/replay";
/// The what-if results of a recording.
const WHATIF_LIST: &str = "/api/recording/{file}/replays";

/// The largest request body accepted (bytes); larger bodies are a 413.
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// The dashboard: its directories and any routes a program adds. Build the router with
/// [`Dashboard::router`], or bind and run it with [`Dashboard::serve`].
#[derive(Debug)]
pub struct Dashboard {
    recordings: PathBuf,
    sessions: PathBuf,
    extra: Vec<Extra>,
    whatif: Option<replay_events::whatif::WhatIfHandler>,
}

#[derive(Debug)]
struct Extra {
    method: String,
    path: String,
    handler: MethodRouter<AppState>,
    operation: serde_json::Value,
}

/// One route of the router as the OpenAPI description names it: method and path template.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RouteEntry {
    /// `GET`, `POST`…
    pub method: String,
    /// The path template (`/api/recording/{file}`).
    pub path: String,
}

impl Dashboard {
    /// A dashboard over the event recordings in `recordings` and the cassettes under
    /// `sessions`.
    pub fn new(recordings: impl Into<PathBuf>, sessions: impl Into<PathBuf>) -> Dashboard {
        Dashboard {
            recordings: recordings.into(),
            sessions: sessions.into(),
            extra: Vec::new(),
            whatif: None,
        }
    }

    /// Registers the what-if handler that `POST /api/recording/{file}/replay` runs with the
    /// request's `modified_parameters` (the session-recorder seed's route). Without one, that
    /// route answers 501 and says how to register it: `replay serve` alone cannot run your
    /// system.
    pub fn whatif(mut self, handler: replay_events::whatif::WhatIfHandler) -> Dashboard {
        self.whatif = Some(handler);
        self
    }

    /// Adds a route: `method` and `path` (axum syntax, `{param}`) as the OpenAPI description
    /// shows them, the handler (it receives [`AppState`] as state), and its OpenAPI
    /// operation object (at least `summary`), merged into `/api/openapi.json`.
    pub fn route(
        mut self,
        method: &str,
        path: &str,
        handler: MethodRouter<AppState>,
        operation: serde_json::Value,
    ) -> Dashboard {
        self.extra.push(Extra {
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            handler,
            operation,
        });
        self
    }

    /// The router with its state, ready to serve; and the routes it registers.
    pub fn build(self) -> (Router, Vec<RouteEntry>) {
        let (router, entries, _) = self.assemble();
        (router, entries)
    }

    /// The router, its documented routes, and the state its handlers share.
    fn assemble(self) -> (Router, Vec<RouteEntry>, AppState) {
        let mut spec = openapi::base_spec();
        for extra in &self.extra {
            openapi::add_operation(&mut spec, &extra.method, &extra.path, &extra.operation);
        }
        // A program may register its own what-if routes through `route`: those win.
        let taken = |method: &str, path: &str| {
            self.extra
                .iter()
                .any(|e| e.method == method && e.path == path)
        };
        let own_replay = taken("POST", WHATIF_REPLAY);
        let own_list = taken("GET", WHATIF_LIST);
        if !own_replay {
            openapi::add_operation(
                &mut spec,
                "POST",
                WHATIF_REPLAY,
                &serde_json::json!({
                    "summary": "Replay the recording's inputs through the registered what-if handler with changed parameters",
                    "description": "Body: `{\"modified_parameters\": {…}, \"description\": \"…\"}`. Answers the seed's shape (`success`, `replay_id`, metrics against the original). 501 when no handler is registered (`replay serve` alone): embed the dashboard with `Dashboard::whatif`.",
                }),
            );
        }
        if !own_list {
            openapi::add_operation(
                &mut spec,
                "GET",
                WHATIF_LIST,
                &serde_json::json!({
                    "summary": "The what-if results saved next to the recording, oldest first",
                    "description": "Answers `{\"success\", \"count\", \"replays\": [result…], \"unreadable\": [{\"file\", \"error\"}], \"whatif_handler\"}`: each result document with its `result_file` name and `metrics_formatted` (`name`, `original`, `replayed`, `change` as `replay report` prints them); a result file that cannot be read is listed under `unreadable` instead of failing the list; `whatif_handler` says whether `POST …/replay` runs a what-if on this server.",
                }),
            );
        }
        let whatif_handler = own_replay || self.whatif.is_some();
        let state = AppState::new(self.recordings, self.sessions, spec, whatif_handler);
        let mut routes = Routes {
            router: Router::new(),
            entries: Vec::new(),
        };
        routes
            .api("GET", "/api/openapi.json", get(openapi::serve_spec))
            .api("GET", "/api/recordings", get(recordings::list))
            .api("GET", "/api/recording/{file}", get(recordings::detail))
            .api(
                "GET",
                "/api/recording/{file}/events",
                get(recordings::events),
            )
            .api(
                "GET",
                "/api/recording/{file}/fields",
                get(recordings::fields),
            )
            .api("GET", "/api/recording/{file}/stats", get(recordings::stats))
            .api("POST", "/api/recording/create", post(recordings::create))
            .api("POST", "/api/record/start", post(record::start))
            .api("POST", "/api/record/event", post(record::event))
            .api("POST", "/api/record/stop", post(record::stop))
            .api("GET", "/api/record/status", get(record::status))
            .api("POST", "/api/replay/start/{file}", post(replay::start))
            .api("POST", "/api/replay/pause", post(replay::pause))
            .api("POST", "/api/replay/stop", post(replay::stop))
            .api("POST", "/api/replay/speed", post(replay::speed))
            .api("GET", "/api/replay/status", get(replay::status))
            .api("GET", "/api/replay/stream", get(replay::stream))
            .api("GET", "/api/sessions", get(sessions::list));
        if !own_list {
            routes.api("GET", WHATIF_LIST, get(whatif::list));
        }
        if !own_replay {
            match self.whatif {
                Some(handler) => routes.api(
                    "POST",
                    WHATIF_REPLAY,
                    post(move |state, path, body| whatif::run(handler.clone(), state, path, body)),
                ),
                None => routes.api("POST", WHATIF_REPLAY, post(whatif::unregistered)),
            };
        }
        // One wildcard serves a cassette (`/api/session/a/b.yaml`) and its diff
        // (`/api/session/a/b.yaml/diff`): a wildcard must end a route.
        routes.router = routes
            .router
            .route("/api/session/{*path}", get(sessions::detail_or_diff));
        routes.document("GET", "/api/session/{path}");
        routes.document("GET", "/api/session/{path}/diff");
        for extra in self.extra {
            routes = routes.api_owned(&extra.method, extra.path, extra.handler);
        }
        let Routes { router, entries } = routes;
        let router = router
            .route("/", get(assets::index_page))
            .route("/recording/{file}", get(assets::recording_page))
            .route("/session/{*path}", get(assets::session_page))
            .route("/assets/{name}", get(assets::asset))
            .fallback(not_found)
            .layer(DefaultBodyLimit::max(BODY_LIMIT))
            .with_state(state.clone());
        (router, entries, state)
    }

    /// The router, ready to serve.
    pub fn router(self) -> Router {
        self.build().0
    }

    /// Serves on `listener` until `shutdown` completes, then finishes the requests in flight.
    /// Open live streams (`GET /api/replay/stream`, which a recording page keeps open) end
    /// at that moment too, so the server does not wait for browsers to go away.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (router, _, state) = self.assemble();
        let shutdown = async move {
            shutdown.await;
            state.replays().close_streams();
        };
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
    }
}

struct Routes {
    router: Router<AppState>,
    entries: Vec<RouteEntry>,
}

impl Routes {
    fn api(&mut self, method: &str, path: &str, handler: MethodRouter<AppState>) -> &mut Routes {
        let router = std::mem::take(&mut self.router);
        self.router = router.route(path, handler);
        self.document(method, path);
        self
    }

    fn api_owned(mut self, method: &str, path: String, handler: MethodRouter<AppState>) -> Routes {
        self.api(method, &path, handler);
        self
    }

    fn document(&mut self, method: &str, path: &str) {
        self.entries.push(RouteEntry {
            method: method.to_owned(),
            path: path.to_owned(),
        });
    }
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!(
        "no route `{method} {}`; the API is described at `/api/openapi.json`",
        uri.path()
    ))
}
