use axum::Json;
use axum::extract::{Path, Query};
use cordon_domain::access::Permission;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::parse_area;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

/// An area with the number of people registered in it and, in a tree, its sub-areas.
#[derive(Debug, Serialize, ToSchema)]
pub struct AreaNode {
    /// Division code: 6 digits county, 9 township or street, 12 village or community.
    pub code: String,
    pub name: String,
    /// province, city, county, township or village.
    #[schema(schema_with = crate::api::enums::area_level)]
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
    /// The root of the tree (default: the caller's first jurisdiction area).
    root: Option<String>,
    /// How many levels below the root to include (default: all).
    depth: Option<u32>,
}

/// The area tree under a root, with populations. Requires `areas.read`; the root must be inside
/// the caller's jurisdiction.
#[utoipa::path(get, path = "/api/v1/areas", tag = "areas", params(TreeQuery),
    responses((status = 200, body = AreaNode), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::AreasRead.as_str()))))]
pub async fn area_tree(Caller(scope): Caller, Query(q): Query<TreeQuery>) -> ApiResult<Json<AreaNode>> {
    let root = match q.root.as_deref() {
        Some(r) => parse_area("root", r)?,
        None => {
            let homes = scope.home_areas().await?;
            let home = homes.first().ok_or_else(|| ApiError::not_found("your jurisdiction has no registered area"))?;
            parse_area("root", &home.code)?
        }
    };
    let mut flat = scope.area_subtree(&root).await?;
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

/// One area with its direct sub-areas. Requires `areas.read` inside the jurisdiction.
#[utoipa::path(get, path = "/api/v1/areas/{code}", tag = "areas",
    params(("code" = String, Path, description = "Division code", pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")),
    responses((status = 200, body = AreaNode), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::AreasRead.as_str()))))]
pub async fn area_detail(Caller(scope): Caller, Path(code): Path<String>) -> ApiResult<Json<AreaNode>> {
    let code = parse_area("code", &code)?;
    let area = scope.area(&code).await?.ok_or_else(|| ApiError::not_found(format!("area {code} is not registered")))?;
    let mut node = AreaNode::from(area);
    node.children = scope.area_children(&code).await?.into_iter().map(AreaNode::from).collect();
    Ok(Json(node))
}
