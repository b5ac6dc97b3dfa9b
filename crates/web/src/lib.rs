//! Cordon's web layer: the JSON API under `/api/v1` with its OpenAPI document, and the
//! server-rendered pages (zh-CN), served by one axum router.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;
use cordon_store::Store;

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

/// What every request goes through, as one service around the routes (each tower layer was a
/// clone and a boxed future on every request, and `axum::middleware::from_fn` a boxed clone of
/// everything inside it: the seven of them cost a one-row request about 9 µs, more than a
/// third of its time). In order: a span for the request; its id and the response's security
/// headers (`frame`); an unsafe request a browser sent from another site refused; then, within
/// `timeout` (408) and with a panic caught (500), a NUL in the query or body refused
/// (`error::refuse_nul`) and the handler; and, under `/api/`, any failure answered as problem+json
/// (`error::api_problem`), the timeout's and the panic's too. A panic in all this itself is
/// answered 500 as the last resort. Served as one service: axum readies a router for each new
/// connection by cloning every route (about half a millisecond for all of Cordon's); this one
/// clones an Arc.
fn layered(routes: Router, timeout: Duration) -> Router {
    Router::new().fallback_service(Framed { routes, timeout })
}

#[derive(Clone)]
struct Framed {
    routes: Router,
    timeout: Duration,
}

impl tower::Service<axum::extract::Request> for Framed {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = futures_util::future::BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: axum::extract::Request) -> Self::Future {
        use futures_util::FutureExt;
        use tracing::Instrument;
        let span = tracing::debug_span!("request", method = %req.method(), uri = %req.uri(), version = ?req.version());
        let handled = std::panic::AssertUnwindSafe(frame(self.routes.clone(), self.timeout, req)).catch_unwind();
        Box::pin(
            async move {
                let started = std::time::Instant::now();
                let res = handled.await.unwrap_or_else(panicked);
                let latency = started.elapsed();
                if res.status().is_server_error() {
                    tracing::error!(status = res.status().as_u16(), ?latency, "response failed");
                } else {
                    tracing::debug!(status = res.status().as_u16(), ?latency, "finished processing request");
                }
                Ok(res)
            }
            .instrument(span),
        )
    }
}

/// A panic's answer: 500, and the message in the log.
fn panicked(err: Box<dyn std::any::Any + Send>) -> axum::response::Response {
    let message = err.downcast_ref::<String>().map(String::as_str).or_else(|| err.downcast_ref::<&str>().copied());
    tracing::error!("a request panicked: {}", message.unwrap_or("(no message)"));
    (axum::http::StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "Service panicked")
        .into_response()
}

/// The request's id (kept from `X-Request-Id` when the client or a proxy sent one), recorded on
/// audit events and echoed in the response; an unsafe request a browser sent from another site
/// refused (`auth::cross_site`); a language chosen with `?lang=` remembered; and the response's
/// security headers, where its handler did not set them.
async fn frame(routes: Router, timeout: Duration, mut req: axum::extract::Request) -> axum::response::Response {
    use futures_util::FutureExt;
    use tower::ServiceExt;
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
    let api = req.uri().path().starts_with("/api/");
    let mut res = if auth::cross_site(&req) {
        error::ApiError::forbidden("cross-site request refused (origin check)").into_response()
    } else {
        let handled = async move {
            match error::refuse_nul(req).await {
                Err(refused) => refused,
                Ok(req) => match routes.oneshot(req).await {
                    Ok(res) => res,
                    Err(never) => match never {},
                },
            }
        };
        match tokio::time::timeout(timeout, std::panic::AssertUnwindSafe(handled).catch_unwind()).await {
            Ok(Ok(res)) => res,
            Ok(Err(panic)) => panicked(panic),
            Err(_) => axum::http::StatusCode::REQUEST_TIMEOUT.into_response(),
        }
    };
    if api {
        res = error::api_problem(res).await;
    }
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

/// The OpenAPI document of the JSON API, with security schemes and each operation's permission.
pub fn openapi() -> serde_json::Value {
    api::document()
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
        async fn slow() -> &'static str {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "late"
        }
        let routes = Router::new()
            .route("/api/v1/boom", get(boom))
            .route("/boom", get(boom))
            .route("/api/v1/slow", get(slow))
            .route("/slow", get(slow));
        let app = layered(routes, Duration::from_millis(50));
        let call = |path: &'static str| app.clone().oneshot(Request::get(path).body(Body::empty()).unwrap());
        for (path, status) in [("/api/v1/boom", StatusCode::INTERNAL_SERVER_ERROR), ("/api/v1/slow", StatusCode::REQUEST_TIMEOUT)] {
            let res = call(path).await.unwrap();
            assert_eq!(res.status(), status, "{path}");
            let ctype = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            assert!(ctype.starts_with("application/problem+json"), "{path}: {ctype}");
            assert!(res.headers().contains_key("x-request-id"), "{path}");
            assert_eq!(res.headers().get(header::X_CONTENT_TYPE_OPTIONS).map(|v| v.as_bytes()), Some(&b"nosniff"[..]), "{path}");
            let body = axum::body::to_bytes(res.into_body(), 1 << 16).await.unwrap();
            let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(problem["status"], status.as_u16(), "{path}: {problem}");
        }
        for (path, status) in [("/boom", StatusCode::INTERNAL_SERVER_ERROR), ("/slow", StatusCode::REQUEST_TIMEOUT)] {
            let page = call(path).await.unwrap();
            assert_eq!(page.status(), status, "{path}");
            let ctype = page.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            assert!(!ctype.starts_with("application/problem+json"), "{path}: a page is not answered as a problem");
            assert!(page.headers().contains_key("x-request-id") && page.headers().contains_key(header::X_FRAME_OPTIONS), "{path}");
        }
    }
}
