//! Zones over HTTP: drawn, listed with their countdowns, and each act on one (extend, tighten,
//! downgrade, lift) as its own operation.

use axum::Json;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use cordon_domain::access::Permission;
use cordon_domain::zones::{Ask, Countdown, ZoneKind};
use cordon_store::PersonCursor;
use cordon_store::zones::{Extent, NewZone, Place, Zone, ZoneDetail, ZoneSummary};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::parse_area;
use super::persons::{PersonPage, PersonSummary};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct ConditionView {
    /// quiet_days, area_test, last_contact, county_clear, no_step
    #[schema(schema_with = crate::api::enums::zone_condition)]
    pub code: String,
    pub met: bool,
    /// The day it falls due, when a date can tell.
    pub due: Option<NaiveDate>,
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountdownView {
    /// The kind the zone steps down to next; null for a precaution zone (it is lifted).
    #[schema(schema_with = crate::api::enums::zone_kind_or_null)]
    pub to: Option<String>,
    /// Every condition holds today: the commander may confirm.
    pub ready: bool,
    /// The earliest day it can change if nothing new happens; null when that waits on other
    /// zones.
    pub earliest: Option<NaiveDate>,
    pub conditions: Vec<ConditionView>,
}

impl From<Countdown> for CountdownView {
    fn from(c: Countdown) -> Self {
        CountdownView {
            to: c.to.map(|k| k.to_string()),
            ready: c.ready,
            earliest: c.earliest,
            conditions: c
                .conditions
                .into_iter()
                .map(|c| ConditionView { code: c.code.to_string(), met: c.met, due: c.due, zh: c.zh, en: c.en })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ZoneView {
    pub id: i64,
    pub incident_id: i64,
    pub name: String,
    /// sealed, controlled, precaution
    #[schema(schema_with = crate::api::enums::zone_kind)]
    pub kind: String,
    /// zones_2021 (封控区 / 管控区 / 防范区) or risk_areas (高 / 中 / 低风险区), from the incident's rule set
    #[schema(schema_with = crate::api::enums::zone_scheme)]
    pub scheme: String,
    /// The kind as the scheme names it, in Chinese (e.g. 高风险区).
    pub label: String,
    /// Whether it came to its kind by a downgrade.
    pub downgraded: bool,
    /// The smallest area holding the whole zone.
    pub area_code: String,
    /// The day its count started.
    pub since: NaiveDate,
    pub reason: String,
    /// People living inside when it was drawn or last extended.
    pub residents: i64,
    pub designated_at: DateTime<Utc>,
    pub designated_by: String,
    /// When it last changed: pass it back with an act to have the act refused if the zone
    /// changed meanwhile.
    pub changed_at: DateTime<Utc>,
    pub lifted_at: Option<DateTime<Utc>>,
    pub lifted_by: Option<String>,
    /// Null once lifted.
    pub countdown: Option<CountdownView>,
}

impl ZoneView {
    fn new(zone: Zone, scheme: cordon_domain::zones::Scheme, countdown: Option<Countdown>) -> Self {
        ZoneView {
            label: scheme.kind_label(zone.kind).0.to_string(),
            scheme: scheme.to_string(),
            id: zone.id,
            incident_id: zone.incident_id,
            name: zone.name,
            kind: zone.kind.to_string(),
            downgraded: zone.downgraded,
            area_code: zone.area_code,
            since: zone.since,
            reason: zone.reason,
            residents: zone.residents,
            designated_at: zone.designated_at,
            designated_by: zone.designated_by,
            changed_at: zone.changed_at,
            lifted_at: zone.lifted_at,
            lifted_by: zone.lifted_by,
            countdown: countdown.map(CountdownView::from),
        }
    }
}

impl From<ZoneSummary> for ZoneView {
    fn from(s: ZoneSummary) -> Self {
        ZoneView::new(s.zone, s.scheme, s.countdown)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlaceView {
    /// The area code, or the building's or household's id.
    pub key: String,
    pub area_code: String,
    pub name: String,
}

impl From<Place> for PlaceView {
    fn from(p: Place) -> Self {
        PlaceView { key: p.key, area_code: p.area_code, name: p.name }
    }
}

/// The people living inside, with those who need services at the door.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResidentsView {
    pub total: i64,
    /// 80 and over
    pub elderly: i64,
    pub bedridden: i64,
    pub disabled: i64,
    pub pregnant: i64,
    /// under 3
    pub infant: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ZoneChangeView {
    /// designate, extend, tighten, downgrade, lift
    #[schema(schema_with = crate::api::enums::zone_act)]
    pub act: String,
    /// The kind after the act.
    #[schema(schema_with = crate::api::enums::zone_kind)]
    pub kind: String,
    pub note: Option<String>,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ZoneCaseView {
    pub id: i64,
    pub number: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ZoneDetailView {
    pub zone: ZoneView,
    pub areas: Vec<PlaceView>,
    pub buildings: Vec<PlaceView>,
    pub households: Vec<PlaceView>,
    pub cases: Vec<ZoneCaseView>,
    pub residents: ResidentsView,
    pub history: Vec<ZoneChangeView>,
    /// A stricter kind a new infection inside proposes (a controlled zone to be sealed).
    #[schema(schema_with = crate::api::enums::zone_kind_or_null)]
    pub proposed: Option<String>,
}

impl From<ZoneDetail> for ZoneDetailView {
    fn from(d: ZoneDetail) -> Self {
        let r = d.residents;
        ZoneDetailView {
            zone: ZoneView::new(d.zone, d.scheme, d.countdown),
            areas: d.places.areas.into_iter().map(PlaceView::from).collect(),
            buildings: d.places.buildings.into_iter().map(PlaceView::from).collect(),
            households: d.places.households.into_iter().map(PlaceView::from).collect(),
            cases: d.cases.into_iter().map(|(id, number)| ZoneCaseView { id, number }).collect(),
            residents: ResidentsView {
                total: r.total,
                elderly: r.elderly,
                bedridden: r.bedridden,
                disabled: r.disabled,
                pregnant: r.pregnant,
                infant: r.infant,
            },
            history: d
                .history
                .into_iter()
                .map(|h| ZoneChangeView {
                    act: h.act.to_string(),
                    kind: h.kind.to_string(),
                    note: h.note,
                    changed_at: h.changed_at,
                    changed_by: h.changed_by,
                })
                .collect(),
            proposed: d.proposed.map(|k| k.to_string()),
        }
    }
}

/// The places a zone covers (or adds), at most 2,000 in one request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ExtentInput {
    /// Area codes: villages or communities, or larger areas whole.
    #[serde(default)]
    pub areas: Vec<String>,
    /// Building ids from the place register.
    #[serde(default)]
    pub buildings: Vec<i64>,
    /// Household ids from the place register.
    #[serde(default)]
    pub households: Vec<i64>,
    /// The cases behind it.
    #[serde(default)]
    pub case_ids: Vec<i64>,
}

const MOST_PLACES: usize = 2000;

impl ExtentInput {
    fn parse(self) -> ApiResult<Extent> {
        let n = self.areas.len() + self.buildings.len() + self.households.len() + self.case_ids.len();
        if n > MOST_PLACES {
            return Err(ApiError::bad_field("areas", cordon_domain::refusal!("refused.zone.too_many", most = MOST_PLACES)));
        }
        Ok(Extent {
            areas: self.areas.iter().map(|a| parse_area("areas", a)).collect::<ApiResult<_>>()?,
            buildings: self.buildings,
            households: self.households,
            case_ids: self.case_ids,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewZoneInput {
    /// sealed, controlled or precaution (high, medium or low risk under the risk-area scheme)
    #[schema(schema_with = crate::api::enums::zone_kind)]
    pub kind: String,
    /// Shown on the bulletin; made from the first places when absent.
    #[serde(default)]
    pub name: Option<String>,
    pub reason: String,
    #[serde(flatten)]
    pub extent: ExtentInput,
    /// When headquarters drew it, for a zone entered later (补录): up to 30 days back, not in
    /// the future; its count starts on that day. Now when absent.
    #[serde(default)]
    pub drawn_at: Option<DateTime<Utc>>,
}

fn parse_kind(s: &str) -> ApiResult<ZoneKind> {
    s.parse().map_err(|_| ApiError::bad_field("kind", cordon_domain::refusal!("refused.zone.unknown_kind", kind = s)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ZonesQuery {
    /// Lifted zones too (default: only those in force).
    lifted: Option<bool>,
    /// The last id of the previous page: zones come newest first.
    before: Option<i64>,
    /// Page size, 1–500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// The zones over the caller's jurisdiction, newest first, each with its countdown. Requires
/// `areas.read`.
#[utoipa::path(get, path = "/api/v1/zones", tag = "zones", params(ZonesQuery),
    responses((status = 200, body = [ZoneView]), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::AreasRead.as_str()))))]
pub async fn list_zones(caller: Caller, Query(q): Query<ZonesQuery>) -> ApiResult<Json<Vec<ZoneView>>> {
    let limit = super::page_limit(q.limit, 100, 500)?;
    Ok(Json(caller.0.zones(q.lifted.unwrap_or(false), q.before, limit).await?.into_iter().map(ZoneView::from).collect()))
}

/// Draws a zone over areas, buildings or households of the jurisdiction, under the rules of the
/// incident holding them. Requires `command.write`.
#[utoipa::path(post, path = "/api/v1/zones", tag = "zones", request_body = NewZoneInput,
    responses((status = 201, body = ZoneDetailView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::CommandWrite.as_str()))))]
pub async fn designate(caller: Caller, Json(input): Json<NewZoneInput>) -> ApiResult<(StatusCode, Json<ZoneDetailView>)> {
    let new = NewZone {
        kind: parse_kind(&input.kind)?,
        name: input.name.unwrap_or_default(),
        reason: input.reason,
        extent: input.extent.parse()?,
        drawn_at: input.drawn_at,
    };
    let zone = caller.0.designate_zone(&new).await?;
    Ok((StatusCode::CREATED, Json(caller.0.zone(zone.id).await?.into())))
}

/// One zone: its places, cases, the people inside counted, its history and countdown. Requires
/// `areas.read`.
#[utoipa::path(get, path = "/api/v1/zones/{id}", tag = "zones", params(("id" = i64, Path, description = "Zone id")),
    responses((status = 200, body = ZoneDetailView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::AreasRead.as_str()))))]
pub async fn zone_detail(caller: Caller, Path(id): Path<i64>) -> ApiResult<Json<ZoneDetailView>> {
    Ok(Json(caller.0.zone(id).await?.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PeopleQuery {
    /// Only those who need services at the door: 80 and over, under 3, bedridden, disabled,
    /// pregnant.
    vulnerable: Option<bool>,
    /// The `next` value of the previous page.
    after: Option<String>,
    /// Page size, 1–1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

/// The people of the jurisdiction living in a zone, paged by key; identity numbers and phones
/// masked. Requires `persons.read`.
#[utoipa::path(get, path = "/api/v1/zones/{id}/people", tag = "zones", params(("id" = i64, Path, description = "Zone id"), PeopleQuery),
    responses((status = 200, body = PersonPage), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem)),
    extensions(("x-permission" = json!(Permission::PersonsRead.as_str()))))]
pub async fn zone_people(caller: Caller, Path(id): Path<i64>, Query(q): Query<PeopleQuery>) -> ApiResult<Json<PersonPage>> {
    let after = match q.after.as_deref() {
        Some(a) => Some(PersonCursor::decode(a).ok_or_else(|| ApiError::bad_request("after", format!("{a:?} is not a page cursor")))?),
        None => None,
    };
    let limit = super::page_limit(q.limit, 50, 1000)?;
    let page = caller.0.zone_people(id, q.vulnerable.unwrap_or(false), after.as_ref(), limit).await?;
    let today = crate::format::today();
    Ok(Json(PersonPage { items: page.items.iter().map(|p| PersonSummary::new(p, today)).collect(), next: page.next.map(|c| c.encode()) }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ExtendInput {
    #[serde(flatten)]
    pub extent: ExtentInput,
    pub note: Option<String>,
}

/// Adds places (and cases) to a zone in force. Requires `command.write`, the zone drawn inside
/// the jurisdiction.
#[utoipa::path(post, path = "/api/v1/zones/{id}/extend", tag = "zones", params(("id" = i64, Path, description = "Zone id")),
    request_body = ExtendInput,
    responses((status = 200, body = ZoneDetailView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::CommandWrite.as_str()))))]
pub async fn extend(caller: Caller, Path(id): Path<i64>, Json(input): Json<ExtendInput>) -> ApiResult<Json<ZoneDetailView>> {
    let extent = input.extent.parse()?;
    caller.0.extend_zone(id, &extent, input.note.as_deref().unwrap_or("")).await?;
    Ok(Json(caller.0.zone(id).await?.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TightenInput {
    /// The stricter kind: sealed (or controlled, from precaution).
    #[schema(schema_with = crate::api::enums::zone_kind)]
    pub kind: String,
    pub note: Option<String>,
    /// The zone's `changed_at` as read: the act is refused (409) if the zone changed since.
    pub changed_at: Option<DateTime<Utc>>,
}

/// Makes a zone stricter from today (a positive inside a controlled zone seals it). Requires
/// `command.write`.
#[utoipa::path(post, path = "/api/v1/zones/{id}/tighten", tag = "zones", params(("id" = i64, Path, description = "Zone id")),
    request_body = TightenInput,
    responses((status = 200, body = ZoneDetailView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::CommandWrite.as_str()))))]
pub async fn tighten(caller: Caller, Path(id): Path<i64>, Json(input): Json<TightenInput>) -> ApiResult<Json<ZoneDetailView>> {
    let kind = parse_kind(&input.kind)?;
    act(caller, id, Ask::Tighten(kind), input.note, input.changed_at).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NoteInput {
    pub note: Option<String>,
    /// The zone's `changed_at` as read: the act is refused (409) if the zone changed since, so
    /// that a retried downgrade never steps twice.
    pub changed_at: Option<DateTime<Utc>>,
}

/// Steps a zone down to its next kind once every condition of its countdown holds (the product
/// proposes, the commander confirms). Requires `command.write`.
#[utoipa::path(post, path = "/api/v1/zones/{id}/downgrade", tag = "zones", params(("id" = i64, Path, description = "Zone id")),
    request_body = NoteInput,
    responses((status = 200, body = ZoneDetailView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::CommandWrite.as_str()))))]
pub async fn downgrade(caller: Caller, Path(id): Path<i64>, Json(input): Json<NoteInput>) -> ApiResult<Json<ZoneDetailView>> {
    act(caller, id, Ask::Downgrade, input.note, input.changed_at).await
}

/// Lifts a precaution zone once no sealed or controlled zone is left in the county. Requires
/// `command.write`.
#[utoipa::path(post, path = "/api/v1/zones/{id}/lift", tag = "zones", params(("id" = i64, Path, description = "Zone id")),
    request_body = NoteInput,
    responses((status = 200, body = ZoneDetailView), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    extensions(("x-permission" = json!(Permission::CommandWrite.as_str()))))]
pub async fn lift(caller: Caller, Path(id): Path<i64>, Json(input): Json<NoteInput>) -> ApiResult<Json<ZoneDetailView>> {
    act(caller, id, Ask::Lift, input.note, input.changed_at).await
}

async fn act(caller: Caller, id: i64, ask: Ask, note: Option<String>, seen: Option<DateTime<Utc>>) -> ApiResult<Json<ZoneDetailView>> {
    caller.0.act_on_zone(id, ask, note.as_deref().unwrap_or(""), seen).await?;
    Ok(Json(caller.0.zone(id).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulletinEntry {
    pub id: i64,
    pub name: String,
    /// sealed, controlled, precaution
    #[schema(schema_with = crate::api::enums::zone_kind)]
    pub kind: String,
    /// The kind as its incident's scheme names it, in Chinese (高风险区, 封控区, …).
    pub label: String,
    pub area_code: String,
    /// How people name the area: a village with its township (清源镇东关村).
    pub place: String,
    /// The day it took its kind.
    pub since: NaiveDate,
    pub residents: i64,
}

/// The risk-area bulletin (中高风险地区名单).
#[derive(Debug, Serialize, ToSchema)]
pub struct BulletinView {
    pub as_of: DateTime<Utc>,
    /// Every zone in force over the jurisdiction, strictest first, then by place.
    pub zones: Vec<BulletinEntry>,
}

/// The risk-area bulletin: every zone in force over the caller's jurisdiction, strictest kind
/// first, as headquarters publishes it. Requires `areas.read`.
#[utoipa::path(get, path = "/api/v1/zones/bulletin", tag = "zones",
    responses((status = 200, body = BulletinView), (status = 401, body = Problem), (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::AreasRead.as_str()))))]
pub async fn bulletin(caller: Caller) -> ApiResult<Json<BulletinView>> {
    let zones = caller.0.zones_in_force().await?;
    let places = caller.0.place_names(zones.iter().map(|(z, _)| z.area_code.as_str())).await?;
    let mut entries: Vec<BulletinEntry> = zones
        .into_iter()
        .map(|(z, scheme)| BulletinEntry {
            label: scheme.kind_label(z.kind).0.to_string(),
            kind: z.kind.to_string(),
            place: places.get(&z.area_code).cloned().unwrap_or_else(|| z.area_code.clone()),
            id: z.id,
            name: z.name,
            area_code: z.area_code,
            since: z.since,
            residents: z.residents,
        })
        .collect();
    let strictness = |k: &str| std::cmp::Reverse(k.parse::<ZoneKind>().map_or(0, cordon_domain::zones::rank));
    entries.sort_by(|a, b| strictness(&a.kind).cmp(&strictness(&b.kind)).then_with(|| a.area_code.cmp(&b.area_code)).then(a.id.cmp(&b.id)));
    Ok(Json(BulletinView { as_of: Utc::now(), zones: entries }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct MapQuery {
    /// The area to draw (default: the caller's first area).
    #[param(pattern = r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$")]
    area: Option<String>,
}

/// What colours an area on the map.
#[derive(Debug, Serialize, ToSchema)]
pub struct MapAreaProperties {
    pub code: String,
    pub name: String,
    /// county, township, village, …
    pub level: String,
    /// The strictest zone in force over the area, if any.
    pub zone_id: Option<i64>,
    /// sealed, controlled, precaution
    #[schema(schema_with = crate::api::enums::zone_kind_or_null)]
    pub kind: Option<String>,
    /// The kind as the zone's scheme names it, in Chinese (高风险区, 封控区, …).
    pub label: Option<String>,
    /// Only part of the area is in that zone (a village with a sealed building).
    pub partly: bool,
}

/// One area's outline.
#[derive(Debug, Serialize, ToSchema)]
pub struct MapFeature {
    /// Always `Feature`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub properties: MapAreaProperties,
    /// A GeoJSON Polygon or MultiPolygon, longitude and latitude in degrees.
    #[schema(value_type = Object)]
    pub geometry: Box<serde_json::value::RawValue>,
}

/// The zone map of an area, as a GeoJSON FeatureCollection.
#[derive(Debug, Serialize, ToSchema)]
pub struct ZoneMapView {
    /// Always `FeatureCollection`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The area drawn.
    pub area: String,
    /// The outlines of the area and of the areas up to two levels under it that have one, by code.
    pub features: Vec<MapFeature>,
    /// Of the area and the two levels under it, those with no outline imported.
    pub without_boundary: i64,
}

/// The zone map of an area: the outline of it and of the areas up to two levels under it, each with the
/// strictest zone in force over it, as GeoJSON. Outlines come from `cordon import boundaries`.
/// Requires `areas.read` inside the jurisdiction.
#[utoipa::path(get, path = "/api/v1/zones/map", tag = "zones", params(MapQuery),
    responses((status = 200, body = ZoneMapView), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem)),
    extensions(("x-permission" = json!(Permission::AreasRead.as_str()))))]
pub async fn zone_map(caller: Caller, Query(q): Query<MapQuery>) -> ApiResult<Json<ZoneMapView>> {
    caller.0.require(Permission::AreasRead)?;
    let area = q.area.as_deref().filter(|a| !a.is_empty()).map(|a| parse_area("area", a)).transpose()?;
    let map = caller.0.zone_map(area.as_ref(), true).await?;
    let schemes: std::collections::HashMap<i64, cordon_domain::zones::Scheme> = map.zones.iter().map(|(z, s)| (z.id, *s)).collect();
    let features = map
        .areas
        .into_iter()
        .map(|a| MapFeature {
            kind: "Feature",
            properties: MapAreaProperties {
                code: a.shape.code,
                name: a.shape.name,
                level: a.shape.level,
                zone_id: a.cover.map(|c| c.zone_id),
                kind: a.cover.map(|c| c.kind.to_string()),
                label: a.cover.and_then(|c| schemes.get(&c.zone_id).map(|s| s.kind_label(c.kind).0.to_string())),
                partly: a.cover.is_some_and(|c| c.partly),
            },
            geometry: a.shape.geometry,
        })
        .collect();
    Ok(Json(ZoneMapView { kind: "FeatureCollection", area: map.area.to_string(), features, without_boundary: map.without_boundary }))
}
