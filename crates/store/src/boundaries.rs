//! Area boundaries for the zone map: a civil-affairs GeoJSON file read (UTF-8 with or without
//! BOM, GBK), each feature matched to a registered area by its code and kept if its outline can
//! be drawn ([`cordon_domain::boundary`] decides), the others reported one by one; and the
//! outlines under an area read back with the zone that colours each.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use chrono::Utc;
use cordon_domain::AreaCode;
use cordon_domain::boundary::{Bounds, Polygon, ShapeError, ZonePlace, check_shape, national_code};
use cordon_domain::refusal::Refusal;
use cordon_domain::zones::ZoneKind;
use serde::Serialize;
use serde_json::Value;

use crate::decode::{TextEncoding, utf8_reader};
use crate::{Param, Result, Store, StoreError, with_read_pool};

/// Where a feature keeps its area code, in the order looked at: DataV and most web maps
/// (`adcode`), plain files (`code`, `区划代码`), land-survey layers (`XZQDM`, `ZLDWDM`), then the
/// feature's own `id`.
const CODE_KEYS: &[&str] = &["adcode", "code", "area_code", "区划代码", "行政区划代码", "XZQDM", "xzqdm", "ZLDWDM", "zldwdm"];

/// The largest boundary file taken over HTTP (a county's villages are a few MiB; reading one
/// takes several times its size in memory); a larger one is refused whole, unread. The CLI
/// takes any size (a province's villages run to tens of MiB).
pub const UPLOAD_BOUNDARY_BYTES: u64 = 32 << 20;

/// Which areas an import may take outlines for.
pub(crate) type Inside = dyn Fn(&AreaCode) -> bool + Sync;

/// One feature of a file that was not taken, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeatureProblem {
    /// 1-based position of the feature in the file.
    pub feature: u64,
    /// The code it gave, as written, when it gave one.
    pub code: Option<String>,
    pub reason: Refusal,
}

/// What an import of boundaries did.
#[derive(Debug, Clone, Serialize)]
pub struct BoundaryImport {
    pub encoding: TextEncoding,
    pub features: u64,
    /// Outlines stored (new or replacing the area's earlier one).
    pub imported: u64,
    pub problems: Vec<FeatureProblem>,
}

/// One area's outline, ready to store.
#[derive(Debug, Clone)]
struct Outline {
    code: AreaCode,
    geometry: String,
    bounds: Bounds,
}

/// An area's outline as the map draws it.
#[derive(Debug, Clone, Serialize)]
pub struct AreaShape {
    pub code: String,
    pub name: String,
    pub level: String,
    /// The GeoJSON geometry.
    pub geometry: Box<serde_json::value::RawValue>,
}

/// The longest code a map of `root` draws: two levels down (a city's counties and townships, a
/// county's townships and villages), so that a big area's map stays a few hundred outlines.
fn drawn_depth(root: &AreaCode) -> i64 {
    let levels = cordon_domain::area::AreaLevel::ALL;
    let at = levels.iter().position(|l| *l == root.level()).unwrap_or(0);
    levels[(at + 2).min(levels.len() - 1)].code_len() as i64
}

/// The text of a whole file that is not a GeoJSON FeatureCollection; nothing is imported.
fn file_refused(kind: &'static str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::from(Refusal::new(kind).with("detail", detail.to_string()))
}

/// The code a feature gives, as written.
fn code_of(feature: &Value) -> Option<String> {
    let props = feature.get("properties").and_then(Value::as_object);
    // A key present but null or blank is passed over; a shapefile's export writes whole numbers
    // as floats (140121.0).
    let written = |v: &Value| match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => match (n.as_u64(), n.as_f64()) {
            (Some(u), _) => Some(u.to_string()),
            (None, Some(f)) if f.fract() == 0.0 && f > 0.0 && f < 1e19 => Some(format!("{f:.0}")),
            _ => Some(n.to_string()),
        },
        _ => None,
    };
    CODE_KEYS.iter().find_map(|k| props.and_then(|p| p.get(*k)).and_then(written)).or_else(|| feature.get("id").and_then(written))
}

/// The polygons of a feature's geometry, or why it has none to draw.
fn polygons_of(feature: Value) -> std::result::Result<(geojson::Geometry, Vec<Polygon>), Refusal> {
    let feature: geojson::Feature =
        serde_json::from_value(feature).map_err(|e| Refusal::new("boundary.not_geojson").with("detail", e.to_string()))?;
    let geometry = feature.geometry.ok_or_else(|| Refusal::new("boundary.no_geometry"))?;
    // A position needs a longitude and a latitude (an altitude after them is ignored).
    let ring = |r: &Vec<geojson::Position>| {
        r.iter()
            .map(|p| match p.as_slice() {
                [lon, lat, ..] => Ok([*lon, *lat]),
                short => Err(Refusal::new("boundary.short_position").with("numbers", short.len())),
            })
            .collect::<std::result::Result<Vec<[f64; 2]>, Refusal>>()
    };
    let polygon = |p: &Vec<Vec<geojson::Position>>| p.iter().map(ring).collect::<std::result::Result<Polygon, Refusal>>();
    let polygons = match &geometry.value {
        geojson::GeometryValue::Polygon { coordinates } => vec![polygon(coordinates)?],
        geojson::GeometryValue::MultiPolygon { coordinates } => coordinates.iter().map(polygon).collect::<std::result::Result<_, _>>()?,
        other => return Err(Refusal::new("boundary.not_polygon").with("kind", other.type_name().to_string())),
    };
    Ok((geometry, polygons))
}

fn shape_refusal(e: ShapeError) -> Refusal {
    match e {
        ShapeError::Empty => Refusal::new("boundary.empty"),
        ShapeError::TooShort { polygon, ring, positions } => {
            Refusal::new("boundary.too_short").with("polygon", polygon).with("ring", ring).with("positions", positions)
        }
        ShapeError::NotClosed { polygon, ring } => Refusal::new("boundary.not_closed").with("polygon", polygon).with("ring", ring),
        ShapeError::OutOfRange { lon, lat } => Refusal::new("boundary.out_of_range").with("lon", lon).with("lat", lat),
    }
}

/// Reads a GeoJSON file's features: the outlines fit to store, keyed by the registered area
/// each names, and every feature refused with its reason.
/// Only features of areas `inside` are taken (an upload keeps to the uploader's jurisdiction).
fn read_features(text: &str, known: &HashSet<String>, inside: &Inside) -> Result<(u64, Vec<Outline>, Vec<FeatureProblem>)> {
    if text.trim().is_empty() {
        return Err(StoreError::from(Refusal::new("refused.boundary.empty_file")));
    }
    // Said by where it breaks, in the reader's words (serde's own message is English).
    let doc: Value = serde_json::from_str(text).map_err(|e| {
        let kind = if e.is_eof() { "refused.boundary.cut_short" } else { "refused.boundary.not_json" };
        StoreError::from(Refusal::new(kind).with("line", e.line()).with("column", e.column()))
    })?;
    if doc.get("UTF8Encoding").and_then(Value::as_bool) == Some(true) {
        return Err(file_refused("refused.boundary.echarts_encoded", ""));
    }
    let kind = doc.get("type").and_then(Value::as_str).unwrap_or("?").to_string();
    let features = match (kind.as_str(), doc) {
        ("FeatureCollection", Value::Object(mut o)) => match o.remove("features") {
            Some(Value::Array(f)) => f,
            _ => return Err(file_refused("refused.boundary.not_collection", "features")),
        },
        ("Feature", doc) => vec![doc],
        (t, _) => return Err(file_refused("refused.boundary.not_collection", t)),
    };
    let total = features.len() as u64;
    let mut seen: HashMap<String, u64> = HashMap::new();
    let (mut outlines, mut problems) = (Vec::new(), Vec::new());
    for (i, feature) in features.into_iter().enumerate() {
        let n = i as u64 + 1;
        let written = code_of(&feature);
        let mut refuse = |reason: Refusal| problems.push(FeatureProblem { feature: n, code: written.clone(), reason });
        let Some(raw) = written.as_deref() else {
            refuse(Refusal::new("boundary.no_code"));
            continue;
        };
        let code = match national_code(raw) {
            Ok(c) => c,
            Err(e) => {
                refuse(Refusal::new("boundary.bad_code").with("code", raw).with("detail", e.to_string()));
                continue;
            }
        };
        if !known.contains(code.as_str()) {
            refuse(Refusal::new("boundary.unknown_area").with("code", &code));
            continue;
        }
        if !inside(&code) {
            refuse(Refusal::new("boundary.outside").with("code", &code));
            continue;
        }
        if let Some(first) = seen.get(code.as_str()) {
            refuse(Refusal::new("boundary.duplicate").with("code", &code).with("first", first));
            continue;
        }
        match polygons_of(feature).and_then(|(g, p)| check_shape(&p).map(|b| (g, b)).map_err(shape_refusal)) {
            Ok((geometry, bounds)) => {
                seen.insert(code.to_string(), n);
                let geometry = serde_json::to_string(&geometry).map_err(StoreError::corrupt)?;
                outlines.push(Outline { code, geometry, bounds });
            }
            Err(r) => refuse(r),
        }
    }
    Ok((total, outlines, problems))
}

impl Store {
    /// Imports the outlines of a GeoJSON file (a FeatureCollection, or one Feature) of areas in
    /// the register; an area's outline replaces its earlier one. Features that are not taken
    /// are reported, the others stored; a file that is not GeoJSON changes nothing.
    pub async fn import_boundaries<R: Read + Send + 'static>(&self, input: R, source: &str) -> Result<BoundaryImport> {
        self.import_boundaries_inside(input, source, &|_| true, u64::MAX).await
    }

    /// [`Store::import_boundaries`], taking only the areas `inside` says; the others are
    /// reported (`boundary.outside`). A file over `limit` bytes changes nothing.
    pub(crate) async fn import_boundaries_inside<R: Read + Send + 'static>(
        &self,
        input: R,
        source: &str,
        inside: &Inside,
        limit: u64,
    ) -> Result<BoundaryImport> {
        let read = tokio::task::spawn_blocking(move || -> std::io::Result<Option<(TextEncoding, String)>> {
            let mut raw = Vec::new();
            input.take(limit.saturating_add(1)).read_to_end(&mut raw)?;
            if raw.len() as u64 > limit {
                return Ok(None);
            }
            let (encoding, mut reader) = utf8_reader(std::io::Cursor::new(raw))?;
            let mut text = String::new();
            reader.read_to_string(&mut text)?;
            Ok(Some((encoding, text)))
        });
        let read = read.await.map_err(|e| StoreError::Task(e.to_string()))?.map_err(|e| file_refused("refused.boundary.not_text", e))?;
        let Some((encoding, text)) = read else {
            return Err(StoreError::from(Refusal::new("refused.boundary.too_large").with("mib", limit >> 20)));
        };
        let known = self.area_codes().await?;
        let (features, outlines, problems) = read_features(&text, &known, inside)?;
        let now = Utc::now();
        let rows = outlines
            .iter()
            .map(|o| {
                vec![
                    Param::Text(o.code.to_string()),
                    Param::Text(o.geometry.clone()),
                    Param::Real(o.bounds.min_lon),
                    Param::Real(o.bounds.min_lat),
                    Param::Real(o.bounds.max_lon),
                    Param::Real(o.bounds.max_lat),
                    Param::Text(source.to_string()),
                    Param::Time(now),
                ]
            })
            .collect();
        self.insert_rows(
            "area_boundaries",
            &["area_code", "geometry", "min_lon", "min_lat", "max_lon", "max_lat", "source", "imported_at"],
            rows,
            " ON CONFLICT (area_code) DO UPDATE SET geometry = excluded.geometry, min_lon = excluded.min_lon, \
             min_lat = excluded.min_lat, max_lon = excluded.max_lon, max_lat = excluded.max_lat, source = excluded.source, \
             imported_at = excluded.imported_at",
        )
        .await?;
        Ok(BoundaryImport { encoding, features, imported: outlines.len() as u64, problems })
    }

    /// The outlines of `root` and of the areas up to two levels under it (a county's townships
    /// and villages), by code.
    pub(crate) async fn boundaries_under(&self, root: &AreaCode) -> Result<Vec<AreaShape>> {
        let (lo, hi) = root.subtree_range();
        let rows: Vec<(String, String, String, String)> = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT a.code, a.name, a.level, b.geometry FROM area_boundaries b JOIN areas a ON a.code = b.area_code \
             WHERE b.area_code >= $1 AND b.area_code < $2 AND length(b.area_code) <= $3 ORDER BY a.code")
            .bind(lo).bind(hi).bind(drawn_depth(root)).fetch_all(pool).await?);
        rows.into_iter()
            .map(|(code, name, level, geometry)| {
                let geometry = serde_json::value::RawValue::from_string(geometry).map_err(StoreError::corrupt)?;
                Ok(AreaShape { code, name, level, geometry })
            })
            .collect()
    }

    /// Of `root` and the areas up to two levels under it: how many have an outline, and how
    /// many have none.
    pub(crate) async fn boundary_counts(&self, root: &AreaCode) -> Result<(i64, i64)> {
        let (lo, hi) = root.subtree_range();
        let (with, without): (i64, i64) = with_read_pool!(self, pool => sqlx::query_as(
            "SELECT COUNT(b.area_code), COUNT(*) - COUNT(b.area_code) FROM areas a \
             LEFT JOIN area_boundaries b ON b.area_code = a.code \
             WHERE a.code >= $1 AND a.code < $2 AND length(a.code) <= $3")
            .bind(lo).bind(hi).bind(drawn_depth(root)).fetch_one(pool).await?);
        Ok((with, without))
    }

    /// The places of zones `ids` (in force): their areas whole, and the areas their buildings and
    /// households lie in.
    pub(crate) async fn zone_places(&self, ids: &[i64]) -> Result<Vec<ZonePlace>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let sql = format!(
            "SELECT z.id, z.kind, za.area_code, 1 FROM zone_areas za JOIN zones z ON z.id = za.zone_id WHERE z.id IN ({list}) \
             UNION SELECT z.id, z.kind, b.area_code, 0 FROM zone_buildings zb JOIN zones z ON z.id = zb.zone_id \
             JOIN buildings b ON b.id = zb.building_id WHERE z.id IN ({list}) \
             UNION SELECT z.id, z.kind, h.area_code, 0 FROM zone_households zh JOIN zones z ON z.id = zh.zone_id \
             JOIN households h ON h.id = zh.household_id WHERE z.id IN ({list})"
        );
        let rows: Vec<(i64, String, String, i32)> =
            with_read_pool!(self, pool => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await?);
        rows.into_iter()
            .map(|(zone_id, kind, area, whole)| {
                Ok(ZonePlace {
                    zone_id,
                    kind: ZoneKind::try_from(kind).map_err(StoreError::corrupt)?,
                    area: AreaCode::parse(&area).map_err(StoreError::corrupt)?,
                    whole: whole == 1,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> HashSet<String> {
        ["140121", "140121100", "140121100001"].iter().map(|s| s.to_string()).collect()
    }

    const SQUARE: &str = "[[[112.3,37.5],[112.4,37.5],[112.4,37.6],[112.3,37.6],[112.3,37.5]]]";

    fn feature(props: &str, geometry: &str) -> String {
        format!(r#"{{"type":"Feature","properties":{props},"geometry":{geometry}}}"#)
    }

    #[test]
    fn each_feature_is_taken_or_refused_with_its_reason() {
        let poly = format!(r#"{{"type":"Polygon","coordinates":{SQUARE}}}"#);
        let features = [
            feature(r#"{"adcode":140121,"name":"清徐县"}"#, &format!(r#"{{"type":"MultiPolygon","coordinates":[{SQUARE}]}}"#)),
            feature(r#"{"adcode":"140121100000","name":"清源镇"}"#, &poly),
            feature(r#"{"name":"无代码"}"#, &poly),
            feature(r#"{"code":"1401219"}"#, &poly),
            feature(r#"{"adcode":140122}"#, &poly),
            feature(r#"{"adcode":"140121100000"}"#, &poly),
            feature(r#"{"区划代码":"140121100001"}"#, r#"{"type":"Point","coordinates":[112.3,37.5]}"#),
            feature(
                r#"{"区划代码":"140121100001"}"#,
                r#"{"type":"Polygon","coordinates":[[[13000000,4500000],[13000010,4500000],[13000010,4500010],[13000000,4500000]]]}"#,
            ),
            feature(
                r#"{"区划代码":"140121100001"}"#,
                r#"{"type":"Polygon","coordinates":[[[112.3,37.5],[112.4],[112.4,37.6],[112.3,37.5]]]}"#,
            ),
            // A null code is passed over for the next key; a float code from a shapefile is read whole.
            feature(r#"{"adcode":null,"XZQDM":140121100001.0}"#, &poly),
        ];
        let text = format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","));
        let (total, outlines, problems) = read_features(&text, &known(), &|_| true).unwrap();
        assert_eq!(total, 10);
        assert_eq!(outlines.iter().map(|o| o.code.as_str()).collect::<Vec<_>>(), ["140121", "140121100", "140121100001"]);
        let reasons: Vec<(u64, &str)> = problems.iter().map(|p| (p.feature, p.reason.kind)).collect();
        assert_eq!(
            reasons,
            [
                (3, "boundary.no_code"),
                (4, "boundary.bad_code"),
                (5, "boundary.unknown_area"),
                (6, "boundary.duplicate"),
                (7, "boundary.not_polygon"),
                (8, "boundary.out_of_range"),
                (9, "boundary.short_position"),
            ]
        );
        assert_eq!(problems[2].code.as_deref(), Some("140122"));
        // The stored geometry is GeoJSON again.
        let back: Value = serde_json::from_str(&outlines[0].geometry).unwrap();
        assert_eq!(back["type"], "MultiPolygon");
    }

    #[test]
    fn a_file_that_is_not_a_feature_collection_changes_nothing() {
        for (text, kind) in [
            ("{\"type\":\"FeatureCollection\",", "refused.boundary.cut_short"),
            ("地区,代码\n清源镇,140121100\n", "refused.boundary.not_json"),
            (" \r\n", "refused.boundary.empty_file"),
            ("[1,2]", "refused.boundary.not_collection"),
            (r#"{"type":"FeatureCollection","features":{}}"#, "refused.boundary.not_collection"),
            (r#"{"type":"FeatureCollection","UTF8Encoding":true,"features":[]}"#, "refused.boundary.echarts_encoded"),
        ] {
            match read_features(text, &known(), &|_| true) {
                Err(StoreError::Refused(r)) => assert_eq!(r.kind, kind, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
