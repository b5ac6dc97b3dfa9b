//! Sign-in and sign-out: a server-side session in a cookie, with a throttle on failures.

use crate::ui::form::Query;
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use cordon_store::accounts::SignIn;
use cordon_store::audit::{Actor, Change};
use serde::Deserialize;

use super::render;
use crate::AppState;
use crate::auth::{ClientAddr, SESSION_COOKIE, SESSION_IDLE, safe_next, session_cookie};
use crate::cookies::cookie;
use crate::i18n::Tr;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: Tr,
    error: Option<String>,
    username: String,
    next: String,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn form(t: Tr, Query(q): Query<NextQuery>) -> Response {
    render(&LoginPage { t, error: None, username: String::new(), next: safe_next(q.next.as_deref()) })
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

pub async fn submit(
    t: Tr,
    State(state): State<AppState>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = safe_next(f.next.as_deref());
    let again = |status: StatusCode, error: String| {
        (status, render(&LoginPage { t, error: Some(error), username: f.username.clone(), next: next.clone() })).into_response()
    };
    let from = addr.map(|a| a.to_string()).unwrap_or_default();
    match state.store.sign_in(&f.username, &f.password, &from).await {
        Ok(SignIn::Locked { minutes }) => {
            again(StatusCode::TOO_MANY_REQUESTS, t.fill("login.throttled", &[("minutes", &minutes.to_string())]))
        }
        Ok(SignIn::Welcome(principal)) => {
            let session = match state.store.create_session(principal.user.id, SESSION_IDLE).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!("{e}");
                    return again(StatusCode::INTERNAL_SERVER_ERROR, t.get("login.unavailable").into());
                }
            };
            let actor = Actor {
                user_id: Some(principal.user.id),
                name: principal.user.username.clone(),
                request_id: None,
                client_addr: addr.map(|a| a.to_string()),
            };
            if let Err(e) = state.store.record(&actor, &Change::new("login", "session", principal.user.id)).await {
                tracing::error!("{e}");
            }
            let mut res = Redirect::to(&next).into_response();
            // No Max-Age: the browser keeps the cookie for its session; the server ends it after
            // SESSION_IDLE without use, however long an active shift lasts.
            let value = session_cookie(&session, &headers, None);
            res.headers_mut().insert(header::SET_COOKIE, value.parse().expect("cookie is ASCII"));
            res
        }
        Ok(SignIn::Wrong) => again(StatusCode::UNAUTHORIZED, t.get("login.failed").into()),
        Err(e) => {
            tracing::error!("{e}");
            again(StatusCode::INTERNAL_SERVER_ERROR, t.get("login.unavailable").into())
        }
    }
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(session) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = state.store.end_session(session).await
    {
        tracing::error!("{e}");
    }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().insert(header::SET_COOKIE, session_cookie("", &headers, Some(0)).parse().expect("cookie is ASCII"));
    res
}
