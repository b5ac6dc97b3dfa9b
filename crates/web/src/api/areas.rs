use axum::Json;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{parse_area, scope_or_root};
use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem};

/// An area with the number of people registered in it and, in a tree, its sub-areas.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaNode {
    /// Division code: 6 digits county, 9 township or street, 12 village or community.
    pub code: String,
    pub name: String,
    /// province, city, county, township or village.
    pub level: String,
    pub parent_code: Option<String>,
    /// People registered in this area and every area under it.
    pub population: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub children: Vec<AreaNode>,
}

impl From<cordon_store::Area> for AreaNode {
    fn from(a: cordon_store::Area) -> Self {
        AreaNode { code: a.code, name: a.name, level: a.level, parent_code: a.parent_code, population: a.population, children: vec![] }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TreeQuery {
    /// The root of the tree (default: the register's top area).
    root: Option<String>,
    /// How many levels below the root to include (default: all).
    depth: Option<u32>,
}

/// The area tree under a root, with populations.
#[utoipa::path(get, path = "/api/v1/areas", tag = "areas", params(TreeQuery),
    responses((status = 200, body = AreaNode), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn area_tree(State(state): State<AppState>, Query(q): Query<TreeQuery>) -> ApiResult<Json<AreaNode>> {
    let root = scope_or_root(&state, q.root.as_deref()).await?;
    let mut flat = state.store.area_subtree(&root).await?;
    if flat.is_empty() {
        return Err(ApiError::not_found(format!("area {root} is not registered")));
    }
    let max_len = q.depth.map(|d| root.as_str().len() + 3 * d as usize + if root.as_str().len() < 6 { 2 } else { 0 });
    flat.retain(|a| max_len.is_none_or(|m| a.code.len() <= m));
    // Codes sort parents before children, so a stack of open ancestors builds the tree in one pass.
    let mut stack: Vec<AreaNode> = Vec::new();
    for area in flat {
        let node = AreaNode::from(area);
        while stack.len() > 1 && !node.code.starts_with(&stack.last().expect("non-empty").code) {
            let done = stack.pop().expect("non-empty");
            stack.last_mut().expect("root stays").children.push(done);
        }
        stack.push(node);
    }
    while stack.len() > 1 {
        let done = stack.pop().expect("non-empty");
        stack.last_mut().expect("root stays").children.push(done);
    }
    Ok(Json(stack.pop().expect("root present")))
}

/// One area with its direct sub-areas.
#[utoipa::path(get, path = "/api/v1/areas/{code}", tag = "areas",
    params(("code" = String, Path, description = "Division code")),
    responses((status = 200, body = AreaNode), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn area_detail(State(state): State<AppState>, Path(code): Path<String>) -> ApiResult<Json<AreaNode>> {
    let code = parse_area("code", &code)?;
    let area = state.store.area(&code).await?.ok_or_else(|| ApiError::not_found(format!("area {code} is not registered")))?;
    let mut node = AreaNode::from(area);
    node.children = state.store.area_children(&code).await?.into_iter().map(AreaNode::from).collect();
    Ok(Json(node))
}
