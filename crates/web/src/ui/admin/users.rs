//! Administration: accounts on a page, as the CLI keeps them — create one with its role and
//! areas, change them, reset a password, disable or enable, and make or revoke API tokens. Each
//! act is the store's, audited; a form that does not read is said on the page with its input
//! kept, and changes nothing.

use crate::ui::form::Path;
use askama::Template;
use axum::response::{IntoResponse, Redirect, Response};
use cordon_domain::AreaCode;
use cordon_domain::access::Role;
use cordon_store::StoreError;
use cordon_store::accounts::{ApiToken, NewUser, User, UserChange};
use serde::Deserialize;

use crate::auth::Caller;
use crate::format::local;
use crate::i18n::Tr;
use crate::ui::form::{Form, Query};
use crate::ui::{NoticeQuery, Places, UserBadge, failure, render, said};

/// What the create and edit forms hold, as typed (kept when refused).
#[derive(Default, Deserialize)]
pub struct AccountInput {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    /// Area codes, separated by spaces, commas or 、.
    #[serde(default)]
    areas: String,
    #[serde(default)]
    password: String,
}

pub struct AccountRow {
    username: String,
    display_name: String,
    role: String,
    areas: String,
    disabled: bool,
    created: String,
}

pub struct TokenRow {
    id: i64,
    username: String,
    name: String,
    created: String,
    revoked: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    t: Tr,
    user: Option<UserBadge>,
    notice: Option<String>,
    error: Option<String>,
    accounts: Vec<AccountRow>,
    tokens: Vec<TokenRow>,
    roles: Vec<(&'static str, &'static str)>,
    form: AccountInput,
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    t: Tr,
    user: Option<UserBadge>,
    notice: Option<String>,
    error: Option<String>,
    account: AccountRow,
    roles: Vec<(&'static str, &'static str)>,
    form: AccountInput,
    tokens: Vec<TokenRow>,
    /// A token just made: its secret, shown this once.
    new_token: Option<String>,
    own: bool,
}

fn roles(t: Tr) -> Vec<(&'static str, &'static str)> {
    Role::ALL.iter().map(|r| (r.as_str(), t.get(&format!("role.{}", r.as_str())))).collect()
}

fn account_row(t: Tr, u: &User, places: &Places) -> AccountRow {
    AccountRow {
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        role: t.get(&format!("role.{}", u.role.as_str())).to_string(),
        areas: u.jurisdiction.areas().iter().map(|a| places.name(a.as_str())).collect::<Vec<_>>().join("、"),
        disabled: u.disabled,
        created: local(u.created_at),
    }
}

fn token_row(t: Tr, x: &ApiToken) -> TokenRow {
    TokenRow {
        id: x.id,
        username: x.username.clone(),
        name: x.name.clone(),
        created: local(x.created_at),
        revoked: x.revoked_at.map(|at| t.fill("users.revoked_at", &[("at", &local(at))])).unwrap_or_default(),
    }
}

/// Reads the role and the areas of a form, each area typed as its code or its registered name
/// (清源镇, 东关村); `Err` says which field and why, in the page's words — a name that several
/// areas carry is named with each of them, to be typed by code.
async fn role_and_areas(t: Tr, caller: &Caller, f: &AccountInput) -> Result<(Role, Vec<AreaCode>), String> {
    let role = f.role.parse::<Role>().map_err(|_| t.get("users.bad_role").to_string())?;
    let mut areas = Vec::new();
    for typed in f.areas.split(|c: char| c.is_whitespace() || matches!(c, ',' | '，' | '、' | ';' | '；')).filter(|c| !c.is_empty()) {
        if let Ok(code) = AreaCode::parse(typed) {
            areas.push(code);
            continue;
        }
        let named = caller.0.areas_named(typed).await.map_err(|e| said(t, &e))?;
        match named.as_slice() {
            [one] => areas.push(one.clone()),
            [] => return Err(t.fill("users.bad_area", &[("code", typed)])),
            several => {
                let places = Places::of(caller, several.iter().map(AreaCode::as_str)).await.map_err(|e| said(t, &e))?;
                let sep = if t.zh() { "；" } else { "; " };
                let which: Vec<String> = several.iter().map(|c| format!("{} {}", places.name(c.as_str()), c.as_str())).collect();
                return Err(t.fill("users.area_ambiguous", &[("name", typed), ("which", &which.join(sep))]));
            }
        }
    }
    if areas.is_empty() {
        return Err(t.get("refused.user_needs_area").to_string());
    }
    Ok((role, areas))
}

pub async fn list(t: Tr, caller: Caller, Query(q): Query<NoticeQuery>) -> Response {
    let notice = q.notice.as_deref().and_then(|k| t.try_get(&format!("users.done.{k}"))).map(str::to_string);
    list_view(t, &caller, notice, None, AccountInput::default()).await
}

async fn list_view(t: Tr, caller: &Caller, notice: Option<String>, error: Option<String>, form: AccountInput) -> Response {
    let (users, tokens) = match (caller.0.users().await, caller.0.api_tokens().await) {
        (Ok(u), Ok(x)) => (u, x),
        (Err(e), _) | (_, Err(e)) => return failure(t, caller, e),
    };
    let codes: Vec<String> = users.iter().flat_map(|u| u.jurisdiction.areas()).map(|a| a.as_str().to_string()).collect();
    let places = match Places::of(caller, codes.iter().map(String::as_str)).await {
        Ok(p) => p,
        Err(e) => return failure(t, caller, e),
    };
    render(&UsersPage {
        t,
        user: UserBadge::of(caller),
        notice,
        error,
        accounts: users.iter().map(|u| account_row(t, u, &places)).collect(),
        tokens: tokens.iter().map(|x| token_row(t, x)).collect(),
        roles: roles(t),
        form,
    })
}

/// Creates an account; refused input stays in the form.
pub async fn create(t: Tr, caller: Caller, Form(f): Form<AccountInput>) -> Response {
    let (role, areas) = match role_and_areas(t, &caller, &f).await {
        Ok(x) => x,
        Err(why) => return list_view(t, &caller, None, Some(why), f).await,
    };
    let display_name = if f.display_name.trim().is_empty() { f.username.trim().to_string() } else { f.display_name.trim().to_string() };
    let new = NewUser { username: f.username.trim().to_string(), display_name, role, areas, password: f.password.clone() };
    match caller.0.create_user(new).await {
        Ok(u) => Redirect::to(&format!("/admin/users/{}?notice=created", u.username)).into_response(),
        Err(e) if e.is_refusal() => {
            let why = said(t, &e);
            list_view(t, &caller, None, Some(why), AccountInput { password: String::new(), ..f }).await
        }
        Err(e) => failure(t, &caller, e),
    }
}

pub async fn show(t: Tr, caller: Caller, Path(name): Path<String>, Query(q): Query<NoticeQuery>) -> Response {
    let notice = q.notice.as_deref().and_then(|k| t.try_get(&format!("users.done.{k}"))).map(str::to_string);
    user_view(t, &caller, &name, notice, None, None, None).await
}

async fn user_view(
    t: Tr,
    caller: &Caller,
    name: &str,
    notice: Option<String>,
    error: Option<String>,
    form: Option<AccountInput>,
    new_token: Option<String>,
) -> Response {
    let (user, tokens) = match (caller.0.user(name).await, caller.0.api_tokens().await) {
        (Ok(u), Ok(x)) => (u, x),
        (Err(e), _) | (_, Err(e)) => return failure(t, caller, e),
    };
    let Some(u) = user else {
        return failure(t, caller, StoreError::from(cordon_domain::refusal::Refusal::missing("refused.no_user").with("username", name)));
    };
    let codes: Vec<String> = u.jurisdiction.areas().iter().map(|a| a.as_str().to_string()).collect();
    let places = match Places::of(caller, codes.iter().map(String::as_str)).await {
        Ok(p) => p,
        Err(e) => return failure(t, caller, e),
    };
    let form = form.unwrap_or_else(|| AccountInput {
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        role: u.role.as_str().to_string(),
        areas: u.jurisdiction.areas().iter().map(|a| a.as_str()).collect::<Vec<_>>().join(" "),
        password: String::new(),
    });
    render(&UserPage {
        t,
        user: UserBadge::of(caller),
        notice,
        error,
        own: caller.0.principal().user.username == u.username,
        account: account_row(t, &u, &places),
        roles: roles(t),
        form,
        tokens: tokens.iter().filter(|x| x.username == u.username).map(|x| token_row(t, x)).collect(),
        new_token,
    })
}

/// What an act on one account answers: back to its page with the notice, or the page again with
/// the refusal said (and the input kept when there is one).
async fn after(t: Tr, caller: &Caller, name: &str, done: Result<&str, StoreError>, form: Option<AccountInput>) -> Response {
    match done {
        Ok(key) => Redirect::to(&format!("/admin/users/{name}?notice={key}")).into_response(),
        Err(e) if e.is_refusal() => user_view(t, caller, name, None, Some(said(t, &e)), form, None).await,
        Err(e) => failure(t, caller, e),
    }
}

/// Changes the name as shown, the role and the areas.
pub async fn update(t: Tr, caller: Caller, Path(name): Path<String>, Form(f): Form<AccountInput>) -> Response {
    let (role, areas) = match role_and_areas(t, &caller, &f).await {
        Ok(x) => x,
        Err(why) => return user_view(t, &caller, &name, None, Some(why), Some(f), None).await,
    };
    let change = UserChange { display_name: f.display_name.clone(), role, areas };
    let done = caller.0.update_user(&name, change).await.map(|_| "updated");
    after(t, &caller, &name, done, Some(f)).await
}

#[derive(Deserialize)]
pub struct PasswordInput {
    #[serde(default)]
    password: String,
    #[serde(default)]
    again: String,
}

/// Sets a new password (typed twice); the account's sessions end.
pub async fn password(t: Tr, caller: Caller, Path(name): Path<String>, Form(f): Form<PasswordInput>) -> Response {
    if f.password != f.again {
        return user_view(t, &caller, &name, None, Some(t.get("users.passwords_differ").to_string()), None, None).await;
    }
    let done = caller.0.reset_password(&name, &f.password).await.map(|()| "password");
    after(t, &caller, &name, done, None).await
}

#[derive(Deserialize)]
pub struct DisableInput {
    /// "1" to disable, "0" to enable.
    #[serde(default)]
    disabled: String,
    /// The tick that confirms a disable.
    #[serde(default)]
    confirm: Option<String>,
}

/// Disables (confirmed by a tick) or enables an account.
pub async fn disable(t: Tr, caller: Caller, Path(name): Path<String>, Form(f): Form<DisableInput>) -> Response {
    let disabled = match f.disabled.as_str() {
        "1" => true,
        "0" => false,
        _ => return user_view(t, &caller, &name, None, Some(t.get("form.unreadable").to_string()), None, None).await,
    };
    if disabled && f.confirm.is_none() {
        return user_view(t, &caller, &name, None, Some(t.get("users.confirm_disable").to_string()), None, None).await;
    }
    let done = caller.0.set_user_disabled(&name, disabled).await.map(|_| if disabled { "disabled" } else { "enabled" });
    after(t, &caller, &name, done, None).await
}

#[derive(Deserialize)]
pub struct TokenInput {
    #[serde(default)]
    name: String,
}

/// Makes a token acting as the account; its secret is shown on the page this once.
pub async fn create_token(t: Tr, caller: Caller, Path(name): Path<String>, Form(f): Form<TokenInput>) -> Response {
    match caller.0.create_api_token(&name, &f.name).await {
        Ok((_, secret)) => user_view(t, &caller, &name, Some(t.get("users.done.token").to_string()), None, None, Some(secret)).await,
        Err(e) => after(t, &caller, &name, Err(e), None).await,
    }
}

#[derive(Deserialize)]
pub struct ConfirmInput {
    #[serde(default)]
    confirm: Option<String>,
}

/// Revokes a token (confirmed by a tick), back to the account it acted as.
pub async fn revoke_token(t: Tr, caller: Caller, Path((name, id)): Path<(String, i64)>, Form(f): Form<ConfirmInput>) -> Response {
    if f.confirm.is_none() {
        return user_view(t, &caller, &name, None, Some(t.get("users.confirm_revoke").to_string()), None, None).await;
    }
    let done = caller.0.revoke_api_token(&name, id).await.map(|live| if live { "revoked" } else { "not_live" });
    after(t, &caller, &name, done, None).await
}
