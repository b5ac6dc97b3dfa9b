//! Area boundaries, on both backends: a real boundary file imported as it is and as people's
//! files come (GBK, UTF-8 with BOM, CRLF), features that cannot be drawn reported one by one, and
//! the zone map's colours from the zones in force.

use std::path::PathBuf;

use cordon_domain::access::Role;
use cordon_domain::zones::ZoneKind;
use cordon_store::NewArea;
use cordon_store::zones::{Extent, NewZone};

use super::testing_rounds::as_user;
use super::*;

/// Shanxi's eleven cities, as the file names them.
const CITIES: &[(&str, &str)] = &[
    ("14", "山西省"),
    ("1401", "太原市"),
    ("1402", "大同市"),
    ("1403", "阳泉市"),
    ("1404", "长治市"),
    ("1405", "晋城市"),
    ("1406", "朔州市"),
    ("1407", "晋中市"),
    ("1408", "运城市"),
    ("1409", "忻州市"),
    ("1410", "临汾市"),
    ("1411", "吕梁市"),
];

fn shanxi() -> Vec<u8> {
    std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/boundaries-shanxi/shanxi-cities.geojson")).unwrap()
}

/// Every stored outline under `root`, as (code, geometry) read back.
async fn outlines(s: &Scratch, root: &str) -> Vec<(String, String)> {
    use sqlx::Connection;
    let sql = format!("SELECT area_code, geometry FROM area_boundaries WHERE area_code LIKE '{root}%' ORDER BY area_code");
    let q = sqlx::AssertSqlSafe(sql);
    match s.kind {
        BackendKind::Sqlite => sqlx::query_as(q).fetch_all(&mut sqlx::SqliteConnection::connect(&s.url).await.unwrap()).await.unwrap(),
        BackendKind::Postgres => sqlx::query_as(q).fetch_all(&mut sqlx::PgConnection::connect(&s.url).await.unwrap()).await.unwrap(),
    }
}

#[tokio::test]
async fn a_real_boundary_file_imports_the_same_however_it_is_encoded() {
    for (s, store) in each_backend("boundaries").await {
        let areas: Vec<NewArea> = CITIES.iter().map(|(c, n)| NewArea { code: code(c), name: n.to_string() }).collect();
        store.upsert_areas(&areas).await.unwrap();

        let real = shanxi();
        let done = store.import_boundaries(std::io::Cursor::new(real.clone()), "shanxi-cities.geojson").await.unwrap();
        assert_eq!((done.features, done.imported, done.problems.len()), (11, 11, 0), "{:?}: {:?}", s.kind, done.problems);
        let first = outlines(&s, "14").await;
        assert_eq!(first.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(), CITIES[1..].iter().map(|(c, _)| *c).collect::<Vec<_>>());
        // 太原市 is stored as the file draws it: the same ring, position by position.
        let file: serde_json::Value = serde_json::from_slice(&real).unwrap();
        let taiyuan = file["features"].as_array().unwrap().iter().find(|f| f["id"] == "1401").unwrap();
        let stored: serde_json::Value = serde_json::from_str(&first[0].1).unwrap();
        assert_eq!(stored["coordinates"], taiyuan["geometry"]["coordinates"]);

        // The same file as Excel-era tools save it: pretty-printed with CRLF, GBK, UTF-8 with BOM.
        let pretty = serde_json::to_string_pretty(&file).unwrap().replace('\n', "\r\n");
        let (gbk, _, lossy) = encoding_rs::GBK.encode(&pretty);
        assert!(!lossy);
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(String::from_utf8(real.clone()).unwrap().as_bytes());
        for (bytes, encoding) in [(pretty.clone().into_bytes(), "UTF-8"), (gbk.into_owned(), "GB18030"), (bom, "UTF-8")] {
            let again = store.import_boundaries(std::io::Cursor::new(bytes), "again").await.unwrap();
            assert_eq!((again.imported, again.encoding.as_str()), (11, encoding), "{:?}", again.problems);
            assert_eq!(outlines(&s, "14").await, first, "{encoding}: the same outlines, replaced");
        }

        // A file cut short changes nothing and says where it ends.
        let broken = &real[..real.len() / 2];
        let refused = store.import_boundaries(std::io::Cursor::new(broken.to_vec()), "half").await.refused();
        assert_eq!(refused.kind, "refused.boundary.cut_short");
        assert!(refused.args.iter().any(|(k, _)| *k == "line"), "{refused:?}");
        assert_eq!(outlines(&s, "14").await, first);
        s.finish(store).await.unwrap();
    }
}

/// A square of `side` degrees at (`lon`, `lat`) as a feature keyed by `adcode`.
fn square(adcode: &str, lon: f64, lat: f64, side: f64) -> String {
    format!(
        r#"{{"type":"Feature","properties":{{"adcode":"{adcode}"}},"geometry":{{"type":"Polygon","coordinates":[[[{lon},{lat}],[{e},{lat}],[{e},{n}],[{lon},{n}],[{lon},{lat}]]]}}}}"#,
        e = lon + side,
        n = lat + side
    )
}

#[tokio::test]
async fn the_zone_map_colours_each_area_by_the_strictest_zone_over_it() {
    for (s, store) in each_backend("zone_map").await {
        seed_areas(&store).await;
        // The sample county in national codes: the county, 清源镇 padded to 12 digits, its two
        // villages, 徐沟镇 and one of its villages; one village has no outline, one feature is of
        // an area not in the register and one is not closed.
        let features = [
            square("140121", 112.0, 37.0, 1.0),
            square("140121100000", 112.0, 37.0, 0.5),
            square("140121100201", 112.0, 37.0, 0.25),
            square("140121100202", 112.25, 37.0, 0.25),
            square("140121101000", 112.5, 37.0, 0.5),
            square("140121101201", 112.5, 37.0, 0.25),
            square("140122", 113.0, 37.0, 1.0),
            r#"{"type":"Feature","properties":{"adcode":"140121101202"},"geometry":{"type":"Polygon","coordinates":[[[112.75,37.0],[113.0,37.0],[113.0,37.25]]]}}"#.to_string(),
        ];
        let text = format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(",\n"));
        let done = store.import_boundaries(std::io::Cursor::new(text.into_bytes()), "county.geojson").await.unwrap();
        assert_eq!(done.imported, 6);
        let refused: Vec<(u64, &str)> = done.problems.iter().map(|p| (p.feature, p.reason.kind)).collect();
        assert_eq!(refused, [(7, "boundary.unknown_area"), (8, "boundary.too_short")]);

        // 东关村 sealed, 徐沟镇 controlled, the county in precaution; one household of 北关村's
        // neighbour 南关村 is not drawn. A household of 西关村 sealed on its own.
        import_persons(&store, Cursor::new(people_csv(12).into_bytes()), &mut Collect::default()).await.unwrap();
        let ids = store.person_ids_by_documents(&[id(1)]).await.unwrap();
        let chief = as_user(&store, "chief", Role::Commander, "140121").await;
        let household = store.person_in(&code("140121"), ids[&id(1)]).await.unwrap().unwrap().household_id.unwrap();
        let draw = |kind: ZoneKind, areas: &[&str], households: Vec<i64>| NewZone {
            kind,
            name: String::new(),
            reason: "测试".into(),
            extent: Extent { areas: areas.iter().map(|a| code(a)).collect(), households, ..Default::default() },
            drawn_at: None,
        };
        let precaution = chief.designate_zone(&draw(ZoneKind::Precaution, &["140121"], vec![])).await.unwrap();
        let controlled = chief.designate_zone(&draw(ZoneKind::Controlled, &["140121101"], vec![])).await.unwrap();
        let sealed = chief.designate_zone(&draw(ZoneKind::Sealed, &["140121100201"], vec![])).await.unwrap();
        let house = chief.designate_zone(&draw(ZoneKind::Sealed, &[], vec![household])).await.unwrap();
        let household_village = store.person_in(&code("140121"), ids[&id(1)]).await.unwrap().unwrap().area_code;

        let map = chief.zone_map(None, true).await.unwrap();
        assert_eq!(map.area.as_str(), "140121");
        let colour = |code: &str| {
            let a = map.areas.iter().find(|a| a.shape.code == code).unwrap_or_else(|| panic!("{code} drawn"));
            a.cover.map(|c| (c.zone_id, c.kind, c.partly))
        };
        assert_eq!(colour("140121100201"), Some((sealed.id, ZoneKind::Sealed, false)));
        assert_eq!(colour("140121101201"), Some((controlled.id, ZoneKind::Controlled, false)));
        assert_eq!(colour("140121100"), Some((sealed.id, ZoneKind::Sealed, true)), "清源镇 holds a sealed village");
        assert_eq!(colour("140121"), Some((sealed.id, ZoneKind::Sealed, true)));
        let expected_house = if household_village == "140121100201" { sealed.id } else { house.id };
        let village = map.areas.iter().find(|a| a.shape.code == household_village).and_then(|a| a.cover);
        assert_eq!(village.map(|c| (c.zone_id, c.kind)), Some((expected_house, ZoneKind::Sealed)));
        assert_eq!(map.areas.len(), 6);
        assert_eq!((map.with_boundary, map.without_boundary), (6, 1), "南关村 has no outline");
        let parts: Vec<(&str, Option<ZoneKind>)> = map.parts.iter().map(|(a, c)| (a.code.as_str(), c.map(|c| c.kind))).collect();
        assert_eq!(parts, [("140121100", Some(ZoneKind::Sealed)), ("140121101", Some(ZoneKind::Controlled))]);
        // The geometry is the GeoJSON as imported.
        let g: serde_json::Value = serde_json::from_str(map.areas[0].shape.geometry.get()).unwrap();
        assert_eq!(g["type"], "Polygon");

        // 徐沟镇's own map: its village controlled; 清源镇's zones are not its.
        let xugou = as_user(&store, "xugou", Role::Investigator, "140121101").await;
        let theirs = xugou.zone_map(None, true).await.unwrap();
        assert_eq!(theirs.areas.iter().map(|a| a.shape.code.as_str()).collect::<Vec<_>>(), ["140121101", "140121101201"]);
        assert!(theirs.areas.iter().all(|a| a.cover.map(|c| c.zone_id) == Some(controlled.id)));
        assert!(!theirs.zones.iter().any(|(z, _)| z.id == sealed.id));
        assert!(theirs.zones.iter().any(|(z, _)| z.id == precaution.id));
        assert!(matches!(xugou.zone_map(Some(&code("140121100")), true).await, Err(cordon_store::StoreError::Forbidden(_))));

        // A map leaves out what lies more than two levels down: the province's map stops at counties.
        let shanxi = [NewArea { code: code("14"), name: "山西省".into() }, NewArea { code: code("1401"), name: "太原市".into() }];
        store.upsert_areas(&shanxi).await.unwrap();
        let province = as_user(&store, "province", Role::Commander, "14").await;
        let codes: Vec<String> = province.zone_map(None, true).await.unwrap().areas.into_iter().map(|a| a.shape.code).collect();
        assert_eq!(codes, ["140121"]);
        s.finish(store).await.unwrap();
    }
}
