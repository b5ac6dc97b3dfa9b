//! The zones Qingxu drew on 13 April by 14:30: the villages where the cluster's cases live
//! sealed (high risk), the townships east of the Fen river controlled (medium risk), the whole
//! county in precaution (low risk) — drawn by the demo's commander, their countdowns running
//! from the replayed tests.

use anyhow::{Result, anyhow};
use cordon_domain::AreaCode;
use cordon_domain::zones::ZoneKind;
use cordon_store::Store;
use cordon_store::zones::{Extent, NewZone};

use super::county::COUNTY_CODE;
use super::replay::EAST;

/// What the demo drew.
pub struct Drawn {
    /// (zone id, name, kind, residents)
    pub zones: Vec<(i64, String, ZoneKind, i64)>,
    /// Health codes derived once the zones were drawn: everyone's in the county.
    pub codes: u64,
    /// Each zone's id, kind and area code.
    pub areas: Vec<(i64, ZoneKind, String)>,
}

/// A zone a checkpoint guards: its id and area code.
pub type Guarded = (i64, String);

impl Drawn {
    /// The sealed zones, and the controlled one.
    pub fn guarded(&self) -> (Vec<Guarded>, Option<Guarded>) {
        let of = |k: ZoneKind| self.areas.iter().filter(move |(_, kind, _)| *kind == k).map(|(id, _, a)| (*id, a.clone()));
        (of(ZoneKind::Sealed).collect(), of(ZoneKind::Controlled).next())
    }
}

/// Draws the zones as `commander`: the (at most two) villages holding most of the cluster's
/// cases sealed for them, the eastern townships controlled, the county in precaution; then
/// derives everyone's health code.
pub async fn draw(store: &Store, commander: &str, cluster_id: i64) -> Result<Drawn> {
    let p = store.principal_by_name(commander).await?.ok_or_else(|| anyhow!("the demo account {commander} is missing"))?;
    let actor = cordon_store::audit::Actor { user_id: Some(p.user.id), name: commander.to_string(), ..Default::default() };
    let scope = store.scoped(p, actor);
    let cluster = scope.cluster_detail(cluster_id).await?.ok_or_else(|| anyhow!("the cluster {cluster_id} is gone"))?;
    // The villages by how many of the cluster's cases live there, most first.
    let mut villages: Vec<(String, Vec<i64>)> = Vec::new();
    for case in &cluster.cases {
        let village: String = case.area_code.chars().take(12).collect();
        match villages.iter_mut().find(|(v, _)| *v == village) {
            Some((_, ids)) => ids.push(case.id),
            None => villages.push((village, vec![case.id])),
        }
    }
    villages.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    let zone = |kind, areas: Vec<AreaCode>, case_ids: Vec<i64>, reason: &str, name: &str| NewZone {
        kind,
        name: name.to_string(),
        reason: reason.to_string(),
        extent: Extent { areas, case_ids, ..Default::default() },
        drawn_at: None,
    };
    let mut asked = Vec::new();
    for (village, cases) in villages.iter().take(2) {
        let numbers = cluster.cases.iter().filter(|c| cases.contains(&c.id)).map(|c| c.external_id.clone()).collect::<Vec<_>>();
        let reason = format!("病例{}住所", numbers.join("、"));
        asked.push(zone(ZoneKind::Sealed, vec![AreaCode::parse(village)?], cases.clone(), &reason, ""));
    }
    asked.push(zone(
        ZoneKind::Controlled,
        EAST.iter().map(|c| AreaCode::parse(c)).collect::<Result<_, _>>()?,
        Vec::new(),
        "汾河以东，病例活动轨迹涉及区域",
        "汾河以东各乡镇",
    ));
    asked.push(zone(ZoneKind::Precaution, vec![AreaCode::parse(COUNTY_CODE)?], Vec::new(), "本县发生本土疫情", "清徐县全域"));
    let mut drawn = Drawn { zones: Vec::new(), codes: 0, areas: Vec::new() };
    for new in asked {
        let z = scope.designate_zone(&new).await?;
        drawn.areas.push((z.id, z.kind, z.area_code.clone()));
        drawn.zones.push((z.id, z.name, z.kind, z.residents));
    }
    // Every resident's code, derived from the records and the zones (the server keeps them
    // current from here on).
    loop {
        match store.refresh_codes(chrono::Utc::now()).await? {
            0 => break,
            n => drawn.codes += n,
        }
    }
    Ok(drawn)
}
