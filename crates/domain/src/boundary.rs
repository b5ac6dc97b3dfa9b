//! Area boundaries for the zone map: the codes civil-affairs files key their features by, what a
//! drawable outline is, and which zone colours an area on the map. The store reads the files
//! and keeps the shapes; these rules decide what is taken.

use serde::Serialize;

use crate::area::{AreaCode, AreaCodeError};
#[cfg(test)]
use crate::zones::rank;
use crate::zones::{ZoneKind, precedence};

/// A national code as civil-affairs and statistics files write it, as an [`AreaCode`]: the
/// 6-digit form pads a province or city with zeros (140000 is Shanxi, 140100 Taiyuan), the
/// 12-digit statistical form a county or township (140121000000, 140121100000), and land-survey
/// files add seven zeros to a village's 12 digits (坐落单位代码). Codes already in the short form
/// are taken as they are.
pub fn national_code(raw: &str) -> Result<AreaCode, AreaCodeError> {
    let s = raw.trim();
    let short = match s.len() {
        6 if s.ends_with("0000") => &s[..2],
        6 if s.ends_with("00") => &s[..4],
        12 if s.ends_with("000000") => return national_code(&s[..6]),
        12 if s.ends_with("000") => &s[..9],
        19 if s.ends_with("0000000") => return national_code(&s[..12]),
        _ => s,
    };
    AreaCode::parse(short)
}

/// A longitude and latitude, in degrees (WGS 84, as GeoJSON has them).
pub type Position = [f64; 2];
/// A closed ring of positions: the first and the last are the same.
pub type Ring = Vec<Position>;
/// An outline and its holes.
pub type Polygon = Vec<Ring>;

/// The box a shape lies in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bounds {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

impl Bounds {
    fn of(p: Position) -> Bounds {
        Bounds { min_lon: p[0], min_lat: p[1], max_lon: p[0], max_lat: p[1] }
    }

    /// The box holding both.
    pub fn union(self, o: Bounds) -> Bounds {
        Bounds {
            min_lon: self.min_lon.min(o.min_lon),
            min_lat: self.min_lat.min(o.min_lat),
            max_lon: self.max_lon.max(o.max_lon),
            max_lat: self.max_lat.max(o.max_lat),
        }
    }
}

/// Why a shape cannot be drawn; the feature is refused.
#[derive(Debug, Clone, PartialEq)]
pub enum ShapeError {
    /// No polygon at all.
    Empty,
    /// A ring of fewer than four positions (a triangle needs its first position again).
    TooShort { polygon: usize, ring: usize, positions: usize },
    /// A ring whose last position is not its first.
    NotClosed { polygon: usize, ring: usize },
    /// A position outside longitude ±180 and latitude ±90: most often projected metres (Web
    /// Mercator, Gauss–Krüger) or latitude written first.
    OutOfRange { lon: f64, lat: f64 },
}

/// The box of polygons fit to draw, or the first reason they are not: each ring closed and of at
/// least four positions, every position a finite longitude and latitude.
pub fn check_shape(polygons: &[Polygon]) -> Result<Bounds, ShapeError> {
    let mut bounds: Option<Bounds> = None;
    for (pi, polygon) in polygons.iter().enumerate() {
        if polygon.is_empty() {
            return Err(ShapeError::TooShort { polygon: pi + 1, ring: 1, positions: 0 });
        }
        for (ri, ring) in polygon.iter().enumerate() {
            if ring.len() < 4 {
                return Err(ShapeError::TooShort { polygon: pi + 1, ring: ri + 1, positions: ring.len() });
            }
            for &p in ring {
                let [lon, lat] = p;
                if !(lon.is_finite() && lat.is_finite() && (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)) {
                    return Err(ShapeError::OutOfRange { lon, lat });
                }
                bounds = Some(bounds.map_or(Bounds::of(p), |b| b.union(Bounds::of(p))));
            }
            if ring.first() != ring.last() {
                return Err(ShapeError::NotClosed { polygon: pi + 1, ring: ri + 1 });
            }
        }
    }
    bounds.ok_or(ShapeError::Empty)
}

/// A zone in force as the map sees it: its kind and one place it covers — a whole area (a
/// village, a township, the county), or a building or household lying in an area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZonePlace {
    pub zone_id: i64,
    pub kind: ZoneKind,
    pub area: AreaCode,
    /// The whole area is in the zone; otherwise a building or household in it is.
    pub whole: bool,
}

/// What colours an area on the map: the strictest zone over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cover {
    pub zone_id: i64,
    pub kind: ZoneKind,
    /// Only part of the area is in the zone (a village of which a building is sealed, a
    /// township of which a village is).
    pub partly: bool,
}

/// The strictest zone over `area`: a zone drawn over it or over an area holding it covers it
/// whole; one drawn over a place inside it covers part of it. Between zones as strict, whole
/// beats part, then the older (smaller id) wins.
pub fn cover(area: &AreaCode, places: &[ZonePlace]) -> Option<Cover> {
    places
        .iter()
        .filter_map(|p| {
            let whole = p.whole && p.area.contains(area);
            (whole || area.contains(&p.area)).then_some(Cover { zone_id: p.zone_id, kind: p.kind, partly: !whole })
        })
        .min_by_key(|c| {
            let (strict, older) = precedence(c.kind, c.zone_id);
            (strict, c.partly, older)
        })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn code(s: &str) -> AreaCode {
        AreaCode::parse(s).unwrap()
    }

    #[test]
    fn national_codes_lose_their_padding() {
        for (raw, short) in [
            ("140000", "14"),
            ("140100", "1401"),
            ("140121", "140121"),
            ("140121000000", "140121"),
            ("140100000000", "1401"),
            ("140000000000", "14"),
            ("1401000000000000000", "1401"),
            ("140121100000", "140121100"),
            ("140121100201", "140121100201"),
            ("1401211002010000000", "140121100201"),
            ("140121100", "140121100"),
            ("1401", "1401"),
            (" 140121 ", "140121"),
        ] {
            assert_eq!(national_code(raw).unwrap().as_str(), short, "{raw}");
        }
        assert!(national_code("14012").is_err());
        assert!(national_code("adcode").is_err());
        assert!(national_code("000000").is_err());
    }

    fn square(lon: f64, lat: f64, side: f64) -> Ring {
        vec![[lon, lat], [lon + side, lat], [lon + side, lat + side], [lon, lat + side], [lon, lat]]
    }

    #[test]
    fn a_shape_is_drawn_only_with_closed_rings_of_degrees() {
        let b = check_shape(&[vec![square(112.3, 37.5, 0.1)], vec![square(112.0, 37.4, 0.05)]]).unwrap();
        assert_eq!((b.min_lon, b.min_lat), (112.0, 37.4));
        assert!((b.max_lon - 112.4).abs() < 1e-9 && (b.max_lat - 37.6).abs() < 1e-9);

        assert_eq!(check_shape(&[]), Err(ShapeError::Empty));
        let mut open = square(112.3, 37.5, 0.1);
        open.pop();
        assert_eq!(check_shape(&[vec![open]]), Err(ShapeError::NotClosed { polygon: 1, ring: 1 }));
        let short = vec![[112.0, 37.0], [112.1, 37.0], [112.0, 37.0]];
        assert_eq!(
            check_shape(&[vec![square(112.3, 37.5, 0.1)], vec![square(112.3, 37.5, 0.1), short]]),
            Err(ShapeError::TooShort { polygon: 2, ring: 2, positions: 3 })
        );
        // Web Mercator metres and latitude first are refused, not drawn off the map.
        assert!(matches!(check_shape(&[vec![square(12_500_000.0, 4_500_000.0, 10.0)]]), Err(ShapeError::OutOfRange { .. })));
        assert!(matches!(check_shape(&[vec![square(37.5, 112.3, 0.1)]]), Err(ShapeError::OutOfRange { lat, .. }) if lat > 90.0));
        assert!(matches!(check_shape(&[vec![square(f64::NAN, 37.0, 0.1)]]), Err(ShapeError::OutOfRange { .. })));
    }

    fn place(zone_id: i64, kind: ZoneKind, area: &str, whole: bool) -> ZonePlace {
        ZonePlace { zone_id, kind, area: code(area), whole }
    }

    #[test]
    fn the_strictest_zone_over_an_area_colours_it() {
        let places = [
            place(1, ZoneKind::Precaution, "140121", true),
            place(2, ZoneKind::Controlled, "140121101", true),
            place(3, ZoneKind::Sealed, "140121101003", true),
            place(4, ZoneKind::Sealed, "140121102007", false),
        ];
        let c = |a: &str| cover(&code(a), &places).map(|c| (c.zone_id, c.kind, c.partly));
        assert_eq!(c("140121100001"), Some((1, ZoneKind::Precaution, false)));
        assert_eq!(c("140121101002"), Some((2, ZoneKind::Controlled, false)));
        assert_eq!(c("140121101003"), Some((3, ZoneKind::Sealed, false)));
        // A sealed building in a village: the village is partly sealed, its township too.
        assert_eq!(c("140121102007"), Some((4, ZoneKind::Sealed, true)));
        assert_eq!(c("140121102"), Some((4, ZoneKind::Sealed, true)));
        // A township holding a sealed village is partly sealed, though it is all controlled.
        assert_eq!(c("140121101"), Some((3, ZoneKind::Sealed, true)));
        assert_eq!(c("140122001001"), None);
        assert_eq!(cover(&code("140121100001"), &[]), None);
    }

    proptest! {
        /// Whatever zones there are, the cover is one of them, as strict as any touching the
        /// area, and covers it whole whenever an as-strict zone covers it whole.
        #[test]
        fn the_cover_is_the_strictest_touching_zone(
            raw in proptest::collection::vec((0u8..3, 0usize..4, any::<bool>()), 0..8),
            target in 0usize..4,
        ) {
            let areas = ["140121", "140121101", "140121101003", "140121102007"];
            let kinds = [ZoneKind::Precaution, ZoneKind::Controlled, ZoneKind::Sealed];
            let places: Vec<ZonePlace> = raw
                .iter()
                .enumerate()
                .map(|(i, &(k, a, whole))| place(i as i64, kinds[k as usize], areas[a], whole))
                .collect();
            let area = code(areas[target]);
            let touching: Vec<&ZonePlace> =
                places.iter().filter(|p| (p.whole && p.area.contains(&area)) || area.contains(&p.area)).collect();
            match cover(&area, &places) {
                None => prop_assert!(touching.is_empty()),
                Some(c) => {
                    prop_assert!(touching.iter().any(|p| p.zone_id == c.zone_id));
                    prop_assert!(touching.iter().all(|p| rank(p.kind) <= rank(c.kind)));
                    let whole_as_strict = touching.iter().any(|p| p.kind == c.kind && p.whole && p.area.contains(&area));
                    prop_assert_eq!(c.partly, !whole_as_strict);
                }
            }
        }
    }
}
