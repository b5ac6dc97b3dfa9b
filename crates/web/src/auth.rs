//! Who is calling: a bearer API token or a session cookie, turned into a [`Scoped`] store
//! handle. Handlers that touch data take a [`Caller`]; without one a request never reaches them.
//! Also the same-origin check for cookie sessions and the login throttle.

use std::net::{IpAddr, SocketAddr};

use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Redirect, Response};
use cordon_store::audit::Actor;

use crate::format::percent;
use cordon_store::scoped::Scoped;

use crate::AppState;
use crate::cookies::cookie;
use crate::error::ApiError;

pub const SESSION_COOKIE: &str = "cordon_session";
/// A session ends after this long without use.
pub const SESSION_IDLE: Duration = Duration::from_secs(8 * 3600);

/// The authenticated caller of a request, holding the only store handle handlers may use.
pub struct Caller(pub Scoped);

/// The client's address: the connection's peer (proxies are not trusted by default).
pub fn client_addr(parts_ext: &axum::http::Extensions) -> Option<IpAddr> {
    parts_ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

/// The client's address as an extractor (absent when the server was not given peer addresses).
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(client_addr(&parts.extensions)))
    }
}

fn actor_for(parts: &Parts, user_id: i64, name: &str) -> Actor {
    Actor {
        user_id: Some(user_id),
        name: name.to_string(),
        request_id: parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_string),
        client_addr: client_addr(&parts.extensions).map(|a| a.to_string()),
    }
}

/// Why a request has no caller: API requests get 401, pages go to the login form.
pub struct Unauthenticated {
    api: bool,
    next: String,
}

impl IntoResponse for Unauthenticated {
    fn into_response(self) -> Response {
        if self.api {
            let mut res = ApiError::unauthorized("sign in, or send Authorization: Bearer <token>").into_response();
            res.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            res
        } else {
            Redirect::to(&format!("/login?next={}", percent(&self.next))).into_response()
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let api = parts.uri.path().starts_with("/api/");
        let bearer =
            parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
        let found = match (bearer, cookie(&parts.headers, SESSION_COOKIE)) {
            (Some(token), _) => state.store.token_principal(token).await,
            (None, Some(session)) => state.store.session_principal(session, SESSION_IDLE).await,
            (None, None) => Ok(None),
        };
        match found {
            Ok(Some(principal)) => {
                let actor = actor_for(parts, principal.user.id, &principal.user.username);
                Ok(Caller(state.store.scoped(principal, actor)))
            }
            Ok(None) => {
                let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/").to_string();
                Err(Unauthenticated { api, next }.into_response())
            }
            Err(e) => Err(ApiError::from(e).into_response()),
        }
    }
}

/// Whether a browser sent this unsafe request from another site (CSRF), for cookie sessions:
/// such a request is refused. Requests with a bearer token carry no ambient credentials and pass.
pub(crate) fn cross_site(req: &Request) -> bool {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !unsafe_method || req.headers().contains_key(header::AUTHORIZATION) {
        return false;
    }
    let h = req.headers();
    match h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => !matches!(site, "same-origin" | "none"),
        None => match (h.get(header::ORIGIN).and_then(|v| v.to_str().ok()), h.get(header::HOST).and_then(|v| v.to_str().ok())) {
            (Some(origin), Some(host)) => origin.split_once("://").map(|(_, rest)| rest) != Some(host),
            _ => false,
        },
    }
}

/// A `Set-Cookie` value for the session; `Secure` when the request came over TLS (directly or
/// as a proxy says with `X-Forwarded-Proto`).
pub fn session_cookie(value: &str, headers: &HeaderMap, max_age: Option<u64>) -> String {
    let tls = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https");
    let mut c = format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if tls {
        c.push_str("; Secure");
    }
    c
}

/// Redirect targets after login must stay on this site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
    }
}
