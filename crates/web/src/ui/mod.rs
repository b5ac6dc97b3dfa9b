//! Server-rendered pages (zh-CN): the area tree with populations.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use cordon_domain::AreaCode;
use cordon_store::Area;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(index)).route("/areas/{code}", get(area_page))
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
#[template(path = "empty.html")]
struct EmptyPage;

fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("template failed: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "页面生成失败").into_response()
        }
    }
}

fn error_page(status: StatusCode, message: &str) -> Response {
    (status, Html(format!("<!doctype html><meta charset=utf-8><title>{status}</title><p>{message}</p><p><a href=\"/\">返回首页</a></p>"))).into_response()
}

/// The top area of the register (usually the county), or a hint to load data.
async fn index(State(state): State<AppState>) -> Response {
    match state.store.area_roots().await {
        Ok(roots) if roots.is_empty() => render(&EmptyPage),
        Ok(roots) if roots.len() == 1 => area_view(&state, &roots[0].code).await,
        Ok(roots) => Redirect::to(&format!("/areas/{}", roots[0].code)).into_response(),
        Err(e) => {
            tracing::error!("{e}");
            error_page(StatusCode::INTERNAL_SERVER_ERROR, "数据库暂时不可用")
        }
    }
}

async fn area_page(State(state): State<AppState>, Path(code): Path<String>) -> Response {
    area_view(&state, &code).await
}

async fn area_view(state: &AppState, code: &str) -> Response {
    let Ok(code) = AreaCode::parse(code) else {
        return error_page(StatusCode::BAD_REQUEST, "区划代码格式不正确");
    };
    let loaded = async {
        let area = state.store.area(&code).await?;
        let children = state.store.area_children(&code).await?;
        let mut ancestors = Vec::new();
        let mut cur = area.as_ref().and_then(|a| a.parent_code.clone());
        while let Some(p) = cur.and_then(|p| AreaCode::parse(&p).ok()) {
            match state.store.area(&p).await? {
                Some(a) => {
                    cur = a.parent_code.clone();
                    ancestors.push(a);
                }
                None => break,
            }
        }
        ancestors.reverse();
        Ok::<_, cordon_store::StoreError>((area, children, ancestors))
    };
    match loaded.await {
        Ok((Some(area), children, ancestors)) => {
            let level = code.level();
            let child_level = level.child();
            let chart_json = serde_json::json!({
                "label": "登记人口",
                "names": children.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
                "values": children.iter().map(|c| c.population).collect::<Vec<_>>(),
            })
            .to_string();
            render(&AreaPage {
                chart_json,
                level_label: level.label_zh(),
                child_label: child_level.map(|l| l.label_zh()).unwrap_or("区划"),
                children: children
                    .into_iter()
                    .map(|c| ChildRow { population: thousands(c.population), code: c.code, name: c.name })
                    .collect(),
                population: thousands(area.population),
                area,
                ancestors,
            })
        }
        Ok((None, _, _)) => error_page(StatusCode::NOT_FOUND, "没有这个区划"),
        Err(e) => {
            tracing::error!("{e}");
            error_page(StatusCode::INTERNAL_SERVER_ERROR, "数据库暂时不可用")
        }
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
