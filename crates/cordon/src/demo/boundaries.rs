//! Plausible boundaries for the demo county, as a civil-affairs GeoJSON file has them (features
//! keyed by `adcode` in the national 12-digit form, `name` beside it): the county where Qingxu
//! lies, its townships in three columns with the eastern ones (east of the Fen) on the east, and
//! each township's villages as strips of a jittered lattice, so neighbours share their borders
//! exactly. Deterministic for a seed.

use cordon_domain::AreaCode;
use cordon_store::NewArea;
use serde_json::{Value, json};

use super::replay::EAST;
use super::rng::Rng;

/// The county's north-west corner and one lattice cell, in degrees.
const WEST: f64 = 112.16;
const NORTH: f64 = 37.74;
const CELL_LON: f64 = 0.032;
const CELL_LAT: f64 = 0.024;
/// Lattice columns of the west, middle and east groups of townships.
const WIDTHS: [usize; 3] = [4, 5, 5];
/// Lattice rows each group starts below the north edge (a ragged outline).
const OFFSETS: [usize; 3] = [1, 0, 1];

/// A township's place in the lattice: its column group, first row, rows.
struct Block {
    code: AreaCode,
    name: String,
    group: usize,
    row: usize,
    rows: usize,
    villages: Vec<(AreaCode, String)>,
}

/// The demo county's boundaries as GeoJSON text (a FeatureCollection).
pub fn geojson(areas: &[NewArea], seed: u64) -> String {
    let county = areas.iter().find(|a| a.code.level() == cordon_domain::area::AreaLevel::County).expect("the demo has its county");
    let mut blocks: Vec<Block> = areas
        .iter()
        .filter(|a| a.code.parent().as_ref() == Some(&county.code))
        .map(|t| Block {
            code: t.code.clone(),
            name: t.name.clone(),
            group: usize::from(EAST.contains(&t.code.as_str())) * 2,
            row: 0,
            rows: 0,
            villages: areas
                .iter()
                .filter(|v| v.code.parent().as_ref() == Some(&t.code))
                .map(|v| (v.code.clone(), v.name.clone()))
                .collect(),
        })
        .collect();
    // The others go west or to the middle, whichever is shorter so far.
    let mut height = OFFSETS;
    for b in blocks.iter_mut() {
        if b.group != 2 {
            b.group = if height[0] <= height[1] { 0 } else { 1 };
        }
        b.rows = b.villages.len().div_ceil(WIDTHS[b.group]).max(1);
        b.row = height[b.group];
        height[b.group] += b.rows;
    }
    let rows = height.iter().copied().max().unwrap_or(1);
    let cols: usize = WIDTHS.iter().sum();
    let mut rng = Rng::new(seed ^ 0x6d_61_70);
    let lattice: Vec<Vec<[f64; 2]>> = (0..=rows)
        .map(|r| {
            (0..=cols)
                .map(|c| {
                    let jitter = |rng: &mut Rng, cell: f64| (f64::from(rng.range(0, 600)) / 1000.0 - 0.3) * cell;
                    let lon = WEST + c as f64 * CELL_LON + jitter(&mut rng, CELL_LON);
                    let lat = NORTH - r as f64 * CELL_LAT + jitter(&mut rng, CELL_LAT);
                    [round5(lon), round5(lat)]
                })
                .collect()
        })
        .collect();
    let first_col = |group: usize| WIDTHS[..group].iter().sum::<usize>();
    let rect = |r0: usize, r1: usize, c0: usize, c1: usize| ring(&lattice, r0, r1, c0, c1);

    let mut features = Vec::new();
    let groups: Vec<Value> = (0..3)
        .filter(|g| height[*g] > OFFSETS[*g])
        .map(|g| json!([rect(OFFSETS[g], height[g], first_col(g), first_col(g) + WIDTHS[g])]))
        .collect();
    features.push(feature(&county.code, &county.name, json!({ "type": "MultiPolygon", "coordinates": groups })));
    for b in &blocks {
        let (c0, width) = (first_col(b.group), WIDTHS[b.group]);
        features.push(feature(
            &b.code,
            &b.name,
            json!({ "type": "Polygon", "coordinates": [rect(b.row, b.row + b.rows, c0, c0 + width)] }),
        ));
        // Each row of the block holds some of its villages, each a run of cells.
        let mut villages = b.villages.iter();
        let (per_row, extra) = (b.villages.len() / b.rows, b.villages.len() % b.rows);
        for r in 0..b.rows {
            let n = per_row + usize::from(r < extra);
            for i in 0..n {
                let Some((code, name)) = villages.next() else { break };
                let (from, to) = (c0 + i * width / n, c0 + (i + 1) * width / n);
                let row = b.row + r;
                features.push(feature(code, name, json!({ "type": "Polygon", "coordinates": [rect(row, row + 1, from, to)] })));
            }
        }
    }
    json!({ "type": "FeatureCollection", "features": features }).to_string()
}

fn round5(x: f64) -> f64 {
    (x * 100_000.0).round() / 100_000.0
}

/// The closed ring around lattice rows `r0..r1` and columns `c0..c1`, anticlockwise (GeoJSON's
/// outer rings): down the west side, east along the south, up the east side, west along the north.
fn ring(lattice: &[Vec<[f64; 2]>], r0: usize, r1: usize, c0: usize, c1: usize) -> Vec<[f64; 2]> {
    let mut ring = Vec::new();
    ring.extend((r0..r1).map(|r| lattice[r][c0]));
    ring.extend((c0..c1).map(|c| lattice[r1][c]));
    ring.extend((r0 + 1..=r1).rev().map(|r| lattice[r][c1]));
    ring.extend((c0 + 1..=c1).rev().map(|c| lattice[r0][c]));
    ring.push(lattice[r0][c0]);
    ring
}

/// A feature as civil-affairs files write it: the national code (townships padded to 12 digits).
fn feature(code: &AreaCode, name: &str, geometry: Value) -> Value {
    let national = match code.as_str().len() {
        9 => format!("{code}000"),
        _ => code.to_string(),
    };
    let adcode: u64 = national.parse().expect("area codes are digits");
    json!({ "type": "Feature", "properties": { "adcode": adcode, "name": name }, "geometry": geometry })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_area_of_the_county_gets_a_closed_outline_and_the_east_lies_east() {
        let areas = super::super::county::areas(7);
        let text = geojson(&areas, 7);
        let doc: Value = serde_json::from_str(&text).unwrap();
        let features = doc["features"].as_array().unwrap();
        assert_eq!(features.len(), areas.len(), "one feature per area");
        let mut west_of = std::collections::HashMap::new();
        for f in features {
            let polygons: Vec<Vec<Vec<[f64; 2]>>> = match f["geometry"]["type"].as_str().unwrap() {
                "Polygon" => vec![serde_json::from_value(f["geometry"]["coordinates"].clone()).unwrap()],
                _ => serde_json::from_value(f["geometry"]["coordinates"].clone()).unwrap(),
            };
            let bounds = cordon_domain::boundary::check_shape(&polygons).unwrap();
            assert!(bounds.min_lon > 112.0 && bounds.max_lon < 112.8 && bounds.min_lat > 37.2 && bounds.max_lat < 37.9, "{bounds:?}");
            let code = cordon_domain::boundary::national_code(&f["properties"]["adcode"].to_string()).unwrap();
            west_of.insert(code.to_string(), bounds.min_lon);
        }
        // The townships east of the Fen lie east of every other township.
        let east = EAST.iter().map(|c| west_of[*c]).fold(f64::MAX, f64::min);
        let towns = areas.iter().filter(|a| a.code.as_str().len() == 9 && !EAST.contains(&a.code.as_str()));
        assert!(towns.map(|t| west_of[t.code.as_str()]).all(|w| w < east));
        assert_eq!(text, geojson(&areas, 7), "the same seed gives the same map");
    }
}
