//! Cordon's web layer: the JSON API under `/api/v1` with its OpenAPI document, and the
//! server-rendered pages (zh-CN), served by one axum router.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::get;
use cordon_store::Store;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub mod api;
mod assets;
pub mod auth;
pub mod cookies;
pub mod error;
pub mod format;
pub mod hl7;
pub mod i18n;
pub mod mllp;
mod ui;

/// What every handler can reach. Handlers that touch data do so through the [`auth::Caller`]
/// extractor's scoped handle; the raw store here serves sign-in and health only.
#[derive(Clone)]
pub struct AppState {
    store: Store,
}

/// The whole application: API, OpenAPI document, pages and static assets.
pub fn app(store: Store) -> Router {
    let state = AppState { store };
    let (api_router, _) = api::router().split_for_parts();
    let openapi_json = serde_json::to_string_pretty(&api::document()).expect("OpenAPI document serializes");
    let routes = Router::new()
        .merge(api_router)
        .route(
            "/api/openapi.json",
            get(move |_caller: auth::Caller| async move { ([(header::CONTENT_TYPE, "application/json")], openapi_json) }),
        )
        .route("/healthz", get(healthz))
        .merge(ui::router())
        .merge(assets::router())
        .fallback(ui::not_found)
        .method_not_allowed_fallback(ui::not_found)
        .with_state(state);
    layered(routes, REQUEST_TIMEOUT)
}

/// How long a request may take before it is answered 408 (a county's person file over a slow
/// line takes minutes).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(3600);

/// The layers every request goes through, outermost first. A handler's panic and a request over
/// its time are answered inside `api_problems`, so that an API caller gets problem+json for them
/// like for every other error (a page gets the status); the outer panic layer is the last resort
/// for the layers themselves.
fn layered(routes: Router, timeout: Duration) -> Router {
    // One stack around the whole router, not `Router::layer`, which wraps every route in each
    // layer and boxes and clones it again at each level on every request. Served as one
    // service: axum readies a router for each new connection by cloning every route (about half
    // a millisecond for all of Cordon's); this one clones an Arc.
    let stack = tower::ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::new())
        .layer(axum::middleware::from_fn(frame))
        .layer(axum::middleware::from_fn(error::api_problems))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, timeout))
        .layer(CatchPanicLayer::new())
        .layer(axum::middleware::from_fn(error::refuse_nul))
        .service(routes);
    Router::new().fallback_service(stack)
}

/// The OpenAPI document of the JSON API, with security schemes and each operation's permission.
pub fn openapi() -> serde_json::Value {
    api::document()
}

/// What every request goes through, in one layer (each layer is a clone and a boxed future on
/// every request): it gets an id (kept from `X-Request-Id` when the client or a proxy sent one),
/// recorded on audit events and echoed in the response; an unsafe request a browser sent from
/// another site is refused (`auth::cross_site`); a language chosen with `?lang=` is remembered;
/// and the response carries the security headers its handler did not set.
async fn frame(mut req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    const SECURITY: [(header::HeaderName, &str); 4] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CONTENT_SECURITY_POLICY, "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"),
    ];
    let name = header::HeaderName::from_static("x-request-id");
    let id = match req.headers().get(&name).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty() && v.len() <= 64) {
        Some(given) => given.to_string(),
        None => {
            let prefix = PREFIX.get_or_init(|| format!("{:x}", std::process::id() ^ (chrono::Utc::now().timestamp() as u32)));
            format!("{prefix}-{}", NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
        }
    };
    let value = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    req.headers_mut().insert(name.clone(), value.clone());
    let lang = i18n::chosen(req.uri());
    let mut res = if auth::cross_site(&req) {
        axum::response::IntoResponse::into_response(error::ApiError::forbidden("cross-site request refused (origin check)"))
    } else {
        next.run(req).await
    };
    if let Some(lang) = lang {
        i18n::remember(&mut res, lang);
    }
    let headers = res.headers_mut();
    headers.insert(name, value);
    for (header, value) in SECURITY {
        if !headers.contains_key(&header) {
            headers.insert(header, HeaderValue::from_static(value));
        }
    }
    res
}

/// `ok` when the database answers, and, when this process runs the MLLP listener, its state on
/// a second line (503 when it has stopped: HTTP answering while lab results cannot arrive is not
/// healthy).
async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> (axum::http::StatusCode, String) {
    let (mut status, mut body) = match state.store.ping().await {
        Ok(()) => (axum::http::StatusCode::OK, "ok".to_string()),
        Err(_) => (axum::http::StatusCode::SERVICE_UNAVAILABLE, "database unavailable".to_string()),
    };
    if let Some((listening, line)) = mllp::health() {
        if !listening {
            status = axum::http::StatusCode::SERVICE_UNAVAILABLE;
        }
        body = format!("{body}\n{line}");
    }
    (status, body)
}

/// Serves the application on `listener` until the process is interrupted.
pub async fn serve(store: Store, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(listener, app(store).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    async fn boom() -> &'static str {
        if std::hint::black_box(true) {
            panic!("a bug in a handler");
        }
        "never"
    }

    #[tokio::test]
    async fn a_panic_or_a_timeout_answers_an_api_caller_with_problem_json_and_a_page_with_its_status() {
        let routes = Router::new().route("/api/v1/boom", get(boom)).route("/boom", get(boom)).route(
            "/api/v1/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        );
        let app = layered(routes, Duration::from_millis(50));
        let call = |path: &'static str| app.clone().oneshot(Request::get(path).body(Body::empty()).unwrap());
        for (path, status) in [("/api/v1/boom", StatusCode::INTERNAL_SERVER_ERROR), ("/api/v1/slow", StatusCode::REQUEST_TIMEOUT)] {
            let res = call(path).await.unwrap();
            assert_eq!(res.status(), status, "{path}");
            let ctype = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            assert!(ctype.starts_with("application/problem+json"), "{path}: {ctype}");
            assert!(res.headers().contains_key("x-request-id"), "{path}");
            let body = axum::body::to_bytes(res.into_body(), 1 << 16).await.unwrap();
            let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(problem["status"], status.as_u16(), "{path}: {problem}");
        }
        let page = call("/boom").await.unwrap();
        assert_eq!(page.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
