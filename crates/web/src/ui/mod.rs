//! Server-rendered pages (zh-CN): sign-in, and the area tree with populations inside the
//! caller's jurisdiction.

use askama::Template;
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use cordon_domain::AreaCode;
use cordon_store::{Area, StoreError};

use crate::AppState;
use crate::auth::Caller;

mod login;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/areas/{code}", get(area_page))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", axum::routing::post(login::logout))
}

/// Who is signed in, for the page header.
pub struct UserBadge {
    pub display_name: String,
    pub role: &'static str,
}

impl UserBadge {
    fn of(caller: &Caller) -> Option<UserBadge> {
        let u = &caller.0.principal().user;
        Some(UserBadge { display_name: u.display_name.clone(), role: u.role.label_zh() })
    }
}

struct ChildRow {
    code: String,
    name: String,
    /// With thousands separators.
    population: String,
}

#[derive(Template)]
#[template(path = "area.html")]
struct AreaPage {
    user: Option<UserBadge>,
    area: Area,
    population: String,
    level_label: &'static str,
    child_label: &'static str,
    ancestors: Vec<Area>,
    children: Vec<ChildRow>,
    /// Names and populations of the children for the chart script.
    chart_json: String,
}

#[derive(Template)]
#[template(path = "homes.html")]
struct HomesPage {
    user: Option<UserBadge>,
    areas: Vec<Area>,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    user: Option<UserBadge>,
    title: String,
    message: String,
}

pub(crate) fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("template failed: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "页面生成失败").into_response()
        }
    }
}

fn message(caller: Option<&Caller>, status: StatusCode, title: &str, message: &str) -> Response {
    let page = MessagePage { user: caller.and_then(UserBadge::of), title: title.into(), message: message.into() };
    (status, render(&page)).into_response()
}

/// A store failure as a page: forbidden with its reason, else a generic error (logged).
fn failure(caller: &Caller, e: StoreError) -> Response {
    match e {
        StoreError::Forbidden(reason) => message(Some(caller), StatusCode::FORBIDDEN, "无权访问", &format!("您无权查看此页面：{}", reason.zh())),
        other => {
            tracing::error!("{other}");
            message(Some(caller), StatusCode::INTERNAL_SERVER_ERROR, "出错了", "数据库暂时不可用，请稍后再试。")
        }
    }
}

/// The caller's home: their one area, or a list when the jurisdiction has several.
async fn index(caller: Caller) -> Response {
    match caller.0.home_areas().await {
        Ok(homes) if homes.len() == 1 => area_view(&caller, &homes[0].code).await,
        Ok(homes) if homes.is_empty() => {
            message(Some(&caller), StatusCode::OK, "尚无区划数据", "您的辖区还没有登记区划。运行 cordon demo 生成演示县，或导入区划。")
        }
        Ok(areas) => render(&HomesPage { user: UserBadge::of(&caller), areas }),
        Err(e) => failure(&caller, e),
    }
}

async fn area_page(caller: Caller, Path(code): Path<String>) -> Response {
    area_view(&caller, &code).await
}

async fn area_view(caller: &Caller, code: &str) -> Response {
    let Ok(code) = AreaCode::parse(code) else {
        return message(Some(caller), StatusCode::BAD_REQUEST, "区划代码有误", "区划代码应为 6、9 或 12 位数字。");
    };
    let scope = &caller.0;
    let loaded = async {
        let area = scope.area(&code).await?;
        let children = scope.area_children(&code).await?;
        let ancestors = scope.ancestors(&code).await?;
        Ok::<_, StoreError>((area, children, ancestors))
    };
    match loaded.await {
        Ok((Some(area), children, ancestors)) => {
            let level = code.level();
            let chart_json = serde_json::json!({
                "label": "登记人口",
                "names": children.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
                "values": children.iter().map(|c| c.population).collect::<Vec<_>>(),
            })
            .to_string();
            render(&AreaPage {
                user: UserBadge::of(caller),
                chart_json,
                level_label: level.label_zh(),
                child_label: level.child().map(|l| l.label_zh()).unwrap_or("区划"),
                children: children
                    .into_iter()
                    .map(|c| ChildRow { population: thousands(c.population), code: c.code, name: c.name })
                    .collect(),
                population: thousands(area.population),
                area,
                ancestors,
            })
        }
        Ok((None, _, _)) => message(Some(caller), StatusCode::NOT_FOUND, "没有这个区划", &format!("区划 {code} 未登记。")),
        Err(e) => failure(caller, e),
    }
}

/// `350123` → `350,123`.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_separated() {
        assert_eq!(super::thousands(350_123), "350,123");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1_000_000), "1,000,000");
        assert_eq!(super::thousands(-1200), "-1,200");
    }
}
