//! The scoped door to zones. Whoever reads areas sees the zones over their jurisdiction (a
//! county's precaution zone reaches every village in it); the people inside need
//! `persons.read` and are only those living in the jurisdiction; drawing a zone and every act on
//! one are the commander's (`command.write`), on places inside the jurisdiction.

use chrono::Utc;
use cordon_domain::access::Permission;
use cordon_domain::zones::Ask;
use cordon_domain::{AreaCode, local_date};

use super::Scoped;
use crate::boundaries::AreaShape;
use crate::zones::{Extent, NewZone, Zone, ZoneDetail, ZoneSummary};
use crate::{PersonCursor, PersonPage, Result, StoreError};

/// One area drawn on the zone map, with the zone that colours it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MapArea {
    pub shape: AreaShape,
    pub cover: Option<cordon_domain::boundary::Cover>,
}

/// The zone map of an area: the outlines under it, each with the strictest zone over it, and
/// the zones in force there.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ZoneMap {
    pub area: cordon_domain::AreaCode,
    /// Empty unless the outlines were asked for.
    pub areas: Vec<MapArea>,
    /// Of the area and the two levels under it: how many have an outline, and how many have none.
    pub with_boundary: i64,
    pub without_boundary: i64,
    pub zones: Vec<(Zone, cordon_domain::zones::Scheme)>,
    /// The areas one level below, each with the zone that colours it (the list beside the map).
    pub parts: Vec<(crate::Area, Option<cordon_domain::boundary::Cover>)>,
}

impl Scoped {
    /// Whether a zone lies in the jurisdiction or over part of it.
    fn sees_zone(&self, zone: &Zone) -> bool {
        let j = &self.principal.user.jurisdiction;
        AreaCode::parse(&zone.area_code).is_ok_and(|a| j.contains(&a) || j.areas().iter().any(|mine| a.contains(mine)))
    }

    /// The areas above the jurisdiction's (its township, county, city…): a zone drawn over one
    /// reaches the caller.
    fn areas_above(&self) -> Vec<String> {
        let mut above: Vec<String> = self
            .principal
            .user
            .jurisdiction
            .areas()
            .iter()
            .flat_map(|a| std::iter::successors(a.parent(), |p| p.parent()))
            .map(|a| a.to_string())
            .collect();
        above.sort();
        above.dedup();
        above
    }

    /// A zone the caller sees, or why not.
    pub(super) async fn visible_zone(&self, id: i64) -> Result<Zone> {
        match self.store.zone(id).await? {
            Some(z) if self.sees_zone(&z) => Ok(z),
            _ => Err(missing!("refused.zone.none", id = id)),
        }
    }

    /// A zone the caller may act on: one drawn inside the jurisdiction.
    async fn own_zone(&self, id: i64) -> Result<Zone> {
        self.require(Permission::CommandWrite)?;
        let zone = self.visible_zone(id).await?;
        self.inside(&AreaCode::parse(&zone.area_code).map_err(StoreError::corrupt)?)?;
        Ok(zone)
    }

    /// The zones over the jurisdiction, newest first, `limit` after id `before`, each with its
    /// countdown; lifted ones too when asked.
    pub async fn zones(&self, lifted: bool, before: Option<i64>, limit: u32) -> Result<Vec<ZoneSummary>> {
        self.require(Permission::AreasRead)?;
        let (mine, above) = (self.principal.user.jurisdiction.areas(), self.areas_above());
        let today = local_date(Utc::now());
        let mut out = Vec::new();
        for zone in self.store.zones_in(&above, mine, lifted, before, limit).await? {
            let (scheme, countdown, _) = self.store.zone_countdown(&zone, today).await?;
            out.push(ZoneSummary { zone, scheme, countdown });
        }
        Ok(out)
    }

    /// Every zone in force over the jurisdiction, newest first, with the scheme its incident
    /// names it in: the risk-area bulletin (中高风险地区名单).
    pub async fn zones_in_force(&self) -> Result<Vec<(Zone, cordon_domain::zones::Scheme)>> {
        self.require(Permission::AreasRead)?;
        let (mine, above) = (self.principal.user.jurisdiction.areas(), self.areas_above());
        let mut schemes = std::collections::HashMap::new();
        let mut out = Vec::new();
        let mut before = None;
        loop {
            let page = self.store.zones_in(&above, mine, false, before, 500).await?;
            let done = page.len() < 500;
            before = page.last().map(|z| z.id);
            for zone in page {
                let scheme = match schemes.get(&zone.rule_set) {
                    Some(s) => *s,
                    None => {
                        let s = self.store.rule_set(&zone.rule_set).await?.zones.scheme;
                        schemes.insert(zone.rule_set.clone(), s);
                        s
                    }
                };
                out.push((zone, scheme));
            }
            if done {
                return Ok(out);
            }
        }
    }

    /// Imports the outlines of a GeoJSON file for the map, taking only the areas of the
    /// jurisdiction (the others are reported, `boundary.outside`). Requires `command.write`.
    pub async fn import_boundaries<R: std::io::Read + Send + 'static>(&self, input: R) -> Result<crate::boundaries::BoundaryImport> {
        self.require(Permission::CommandWrite)?;
        let jurisdiction = self.principal.user.jurisdiction.clone();
        let source = format!("upload by {}", self.actor.name);
        let limit = crate::boundaries::UPLOAD_BOUNDARY_BYTES;
        let done = self.store.import_boundaries_inside(input, &source, &move |code| jurisdiction.contains(code), limit).await?;
        let change = crate::audit::Change::new("import", "boundaries", format!("{} features", done.features)).after(serde_json::json!({
            "features": done.features, "imported": done.imported, "refused": done.problems.len(),
        }));
        self.store.record(&self.actor, &change).await?;
        Ok(done)
    }

    /// The zone map of `area` (default: the jurisdiction's first area), inside the jurisdiction:
    /// the outlines of it and of two levels under it when `outlines`, the zones colouring each,
    /// and its parts with theirs.
    pub async fn zone_map(&self, area: Option<&AreaCode>, outlines: bool) -> Result<ZoneMap> {
        self.require(Permission::AreasRead)?;
        let area = match area {
            Some(a) => {
                self.inside(a)?;
                a.clone()
            }
            None => self
                .principal
                .user
                .jurisdiction
                .areas()
                .first()
                .cloned()
                .ok_or_else(|| refused!("refused.area_unregistered", area = "-"))?,
        };
        let zones: Vec<_> = self
            .zones_in_force()
            .await?
            .into_iter()
            .filter(|(z, _)| AreaCode::parse(&z.area_code).is_ok_and(|a| a.contains(&area) || area.contains(&a)))
            .collect();
        let ids: Vec<i64> = zones.iter().map(|(z, _)| z.id).collect();
        let places = self.store.zone_places(&ids).await?;
        let cover = |code: &str| AreaCode::parse(code).ok().and_then(|c| cordon_domain::boundary::cover(&c, &places));
        let shapes = if outlines { self.store.boundaries_under(&area).await? } else { Vec::new() };
        let areas = shapes.into_iter().map(|shape| MapArea { cover: cover(&shape.code), shape }).collect();
        let (with_boundary, without_boundary) = self.store.boundary_counts(&area).await?;
        let parts = self
            .store
            .area_children(&area)
            .await?
            .into_iter()
            .map(|a| {
                let c = cover(&a.code);
                (a, c)
            })
            .collect();
        Ok(ZoneMap { area, areas, with_boundary, without_boundary, zones, parts })
    }

    /// One zone with its places, cases, residents, history and countdown.
    pub async fn zone(&self, id: i64) -> Result<ZoneDetail> {
        self.require(Permission::AreasRead)?;
        let zone = self.visible_zone(id).await?;
        let today = local_date(Utc::now());
        let (mut places, mut cases, history) = self.store.zone_record(id).await?;
        // A zone reaching past the jurisdiction shows its households and buildings inside it only;
        // its cases to those who read cases.
        let j = &self.principal.user.jurisdiction;
        let mine = |p: &crate::zones::Place| AreaCode::parse(&p.area_code).is_ok_and(|a| j.contains(&a));
        places.households.retain(mine);
        places.buildings.retain(mine);
        if !self.principal.can(Permission::TracingRead) {
            cases.clear();
        }
        let residents = self.store.zone_residents(id, today).await?;
        let (scheme, countdown, proposed) = self.store.zone_countdown(&zone, today).await?;
        Ok(ZoneDetail { zone, scheme, places, cases, residents, history, countdown, proposed })
    }

    /// The people of the jurisdiction living in a zone, a page at a time; with `vulnerable`, those
    /// who need services at the door.
    pub async fn zone_people(&self, id: i64, vulnerable: bool, after: Option<&PersonCursor>, limit: u32) -> Result<PersonPage> {
        self.require(Permission::PersonsRead)?;
        self.visible_zone(id).await?;
        let today = local_date(Utc::now());
        self.store.zone_people(id, self.principal.user.jurisdiction.areas(), vulnerable, after, limit, today).await
    }

    /// Draws a zone over places of the jurisdiction.
    pub async fn designate_zone(&self, new: &NewZone) -> Result<Zone> {
        self.require(Permission::CommandWrite)?;
        self.check_extent(&new.extent).await?;
        self.store.designate_zone(&self.actor, new, Utc::now()).await
    }

    /// Adds places of the jurisdiction (and cases) to a zone in force.
    pub async fn extend_zone(&self, id: i64, extent: &Extent, note: &str) -> Result<Zone> {
        let zone = self.own_zone(id).await?;
        self.check_extent(extent).await?;
        self.store.extend_zone(&self.actor, &zone, extent, note, Utc::now()).await
    }

    /// Tightens, downgrades or lifts a zone drawn inside the jurisdiction, as its rules allow.
    /// `seen`: the zone's `changed_at` as the caller read it, if they say; a zone changed since is
    /// refused.
    pub async fn act_on_zone(&self, id: i64, ask: Ask, note: &str, seen: Option<chrono::DateTime<Utc>>) -> Result<Zone> {
        let zone = self.own_zone(id).await?;
        self.store.act_on_zone(&self.actor, &zone, ask, note, seen, Utc::now()).await
    }

    /// Every place of an extent lies in the jurisdiction, and the caller may read each case it
    /// names.
    async fn check_extent(&self, extent: &Extent) -> Result<()> {
        let (places, _) = self.store.resolve_extent(extent).await?;
        for p in places.areas.iter().chain(&places.buildings).chain(&places.households) {
            self.inside(&AreaCode::parse(&p.area_code).map_err(StoreError::corrupt)?)?;
        }
        for id in &extent.case_ids {
            self.case(*id).await?.ok_or_else(|| missing!("refused.zone.no_case", id = id))?;
        }
        Ok(())
    }
}
