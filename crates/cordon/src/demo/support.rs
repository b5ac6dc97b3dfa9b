//! The support behind the sealed buildings on the first day: the evening's 30 trucks received at
//! the county stadium store from their manifests (one row mistyped and reported), stock sent on
//! to the township stores, requests from the quarantine hotel and the sealed villages' vulnerable
//! households approved and issued, deliveries under way and some left at the door with their
//! proof; and the hotline's first day — a few hundred calls across the categories, dispatched to
//! their villages, most signed for and handled, many called back and closed, some sent back,
//! supervised or reopened, some overdue, a few raising supply requests.

use anyhow::{Result, anyhow};
use chrono::{DateTime, Duration, Utc};
use cordon_domain::AreaCode;
use cordon_domain::hotline::{Channel, Satisfaction, TicketCategory, TicketStatus, Urgency};
use cordon_domain::supplies::{Handover, ItemCategory, MovementKind, Priority, ReceiptSource, RequesterKind, WarehouseLevel};
use cordon_store::Store;
use cordon_store::audit::Actor;
use cordon_store::hotline::{Act, NewTicket};
use cordon_store::scoped::Scoped;
use cordon_store::supplies::{NewItem, NewMovement, NewRequest, NewWarehouse};

use super::county::COUNTY_CODE;
use super::rng::Rng;
use super::zones::Guarded;

/// The county's store, where the trucks unload.
pub const STORE: &str = "县体育馆物资仓库";
/// Trucks in the evening's convoy.
pub const TRUCKS: usize = 30;
/// Calls on the hotline's first day.
pub const CALLS: usize = 300;

/// What the day left.
#[derive(Debug, Default)]
pub struct Support {
    pub items: usize,
    pub received_rows: u64,
    pub refused_rows: usize,
    pub requests: usize,
    pub deliveries: usize,
    pub delivered: usize,
    pub tickets: usize,
    pub joined: usize,
    pub overdue: usize,
    pub called_back: usize,
    pub closed: usize,
    pub raised: usize,
}

/// The catalogue: name, category, unit, kept by batch.
const ITEMS: &[(&str, ItemCategory, &str, bool)] = &[
    ("N95口罩", ItemCategory::Protective, "只", false),
    ("医用外科口罩", ItemCategory::Protective, "只", false),
    ("医用防护服", ItemCategory::Protective, "套", false),
    ("护目镜", ItemCategory::Protective, "副", false),
    ("核酸采样管", ItemCategory::Testing, "支", true),
    ("抗原检测试剂", ItemCategory::Testing, "盒", true),
    ("降压药（硝苯地平）", ItemCategory::Medicine, "盒", true),
    ("连花清瘟胶囊", ItemCategory::Medicine, "盒", true),
    ("大米", ItemCategory::Food, "袋", false),
    ("食用油", ItemCategory::Food, "桶", false),
    ("蔬菜包", ItemCategory::Food, "份", false),
    ("方便面", ItemCategory::Food, "箱", false),
];

async fn as_user(store: &Store, name: &str) -> Result<Scoped> {
    let p = store.principal_by_name(name).await?.ok_or_else(|| anyhow!("the demo account {name} is missing"))?;
    let actor = Actor { user_id: Some(p.user.id), name: name.to_string(), ..Default::default() };
    Ok(store.scoped(p, actor))
}

fn movement(kind: MovementKind, item: i64, from: Option<i64>, to: Option<i64>, quantity: i64) -> NewMovement {
    NewMovement {
        kind,
        item_id: item,
        batch: String::new(),
        expires_on: None,
        from,
        to,
        quantity,
        source: None,
        reference: String::new(),
        note: String::new(),
        client_id: None,
    }
}

/// Plays the day as the logistics officer, the hotline operator and the units; `sealed` are the
/// sealed zones (id, village), `site` the quarantine hotel (id, area).
pub async fn day(store: &Store, sealed: &[Guarded], site: (i64, &str), seed: u64, now: DateTime<Utc>) -> Result<Support> {
    let mut out = Support::default();
    let mut rng = Rng::new(seed ^ 0x5u64.rotate_left(40));
    let logi = as_user(store, "demo_logistics").await?;
    let county = AreaCode::parse(COUNTY_CODE)?;
    let town = |n: u32| county.child(n).ok_or_else(|| anyhow!("no township {n}"));

    // The catalogue and the stores.
    let mut items = Vec::new();
    for (name, category, unit, batches) in ITEMS {
        let i = logi
            .create_supply_item(&NewItem { name: (*name).into(), category: *category, unit: (*unit).into(), tracks_batches: *batches })
            .await?;
        items.push(i);
    }
    out.items = items.len();
    let id_of = |name: &str| items.iter().find(|i| i.name == name).map(|i| i.id).ok_or_else(|| anyhow!("no item {name}"));
    let wh = |name: &str, level, area: AreaCode| NewWarehouse { name: name.into(), level, area_code: area };
    let stadium = logi.create_warehouse(&wh(STORE, WarehouseLevel::County, county.clone())).await?;
    let qingyuan = logi.create_warehouse(&wh("清源镇物资站", WarehouseLevel::Township, town(100)?)).await?;
    let xugou = logi.create_warehouse(&wh("徐沟镇物资站", WarehouseLevel::Township, town(101)?)).await?;
    let hotel = logi.create_warehouse(&wh("迎宾隔离酒店物资间", WarehouseLevel::Site, AreaCode::parse(site.1)?)).await?;

    // The evening's convoy: 30 trucks, each with its manifest as the sender's Excel saved it.
    let expiry = cordon_domain::local_date(now) + Duration::days(540);
    for truck in 1..=TRUCKS {
        let mut csv = String::from("物资名称,数量,单位,批号,有效期至\r\n");
        let loads = rng.range(4, 6) as usize;
        let mut taken: Vec<usize> = Vec::new();
        while taken.len() < loads {
            let k = rng.range(0, ITEMS.len() as u32 - 1) as usize;
            if !taken.contains(&k) {
                taken.push(k);
            }
        }
        for k in taken {
            let (name, category, unit, batches) = ITEMS[k];
            let quantity = match category {
                ItemCategory::Protective => rng.range(20, 120) * 100,
                ItemCategory::Testing => rng.range(50, 200) * 10,
                ItemCategory::Medicine => rng.range(20, 80) * 10,
                ItemCategory::Food => rng.range(100, 400),
            };
            let (batch, until) = if batches { (format!("B2204{:02}", truck), expiry.to_string()) } else { (String::new(), String::new()) };
            csv.push_str(&format!("{name},\"{}\",{unit},{batch},{until}\r\n", thousands(quantity)));
        }
        if truck == 17 {
            // Typed by hand on the road: counted in boxes, not a number.
            csv.push_str("N95口罩,十箱,只,,\r\n");
        }
        let (source, reference) = if truck <= 20 {
            (ReceiptSource::TransferIn, format!("省指挥部调拨单 0413-{truck:02}"))
        } else {
            (ReceiptSource::Donation, format!("爱心捐赠 0413-{truck:02}"))
        };
        let bytes = encoding_rs::GBK.encode(&csv).0.into_owned();
        let r = logi.import_manifest(stadium.id, source, &reference, bytes).await?;
        out.received_rows += r.stored;
        out.refused_rows += r.problems.len();
    }
    // Sent on to the township stores and the hotel.
    let mut sent = Vec::new();
    for (to, share) in [(qingyuan.id, 4), (xugou.id, 4), (hotel.id, 8)] {
        for name in ["N95口罩", "医用防护服", "大米", "蔬菜包"] {
            let item = id_of(name)?;
            let on_hand: i64 = logi.stock_balances(Some(stadium.id)).await?.iter().filter(|b| b.item_id == item).map(|b| b.quantity).sum();
            if on_hand >= share * 2 {
                let mut m = movement(MovementKind::Transfer, item, Some(stadium.id), Some(to), on_hand / share / 2);
                m.reference = "调拨 0414-早".into();
                sent.push(m);
            }
        }
    }
    logi.record_movements(&sent).await?;

    // The hotel asks for its week; it is approved and issued, and handed to the site head.
    let ask = |requester_kind, area: AreaCode, place: String, contact: String, priority, hours: i64, lines: Vec<(i64, i64)>| NewRequest {
        area_code: area,
        requester_kind,
        requester_id: None,
        place,
        contact,
        priority,
        needed_by: now + Duration::hours(hours),
        note: String::new(),
        lines,
    };
    let mut hotel_ask = ask(
        RequesterKind::QuarantineSite,
        AreaCode::parse(site.1)?,
        super::quarantine::SITE.to_string(),
        "王建国 13903510818".into(),
        Priority::High,
        6,
        vec![(id_of("N95口罩")?, 2000), (id_of("医用防护服")?, 300), (id_of("抗原检测试剂")?, 200), (id_of("方便面")?, 40)],
    );
    hotel_ask.requester_id = Some(site.0);
    let r = logi.create_supply_request(&hotel_ask).await?;
    logi.approve_supply_request(r.id, stadium.id, &[]).await?;
    out.requests += 1;
    if let Some((d, _)) = issued(logi.issue_supply_request(r.id, "物资保障组 张强 晋A·D2201").await)? {
        logi.advance_delivery(d.id, cordon_domain::supplies::DeliveryStatus::OnTheWay, None).await?;
        let handed = Handover { received_by: "王建国".into(), contactless: false, proof: String::new() };
        logi.advance_delivery(d.id, cordon_domain::supplies::DeliveryStatus::Delivered, Some(&handed)).await?;
        out.deliveries += 1;
        out.delivered += 1;
    }

    // The sealed villages' vulnerable households first: food for each, medicine for some.
    let chief = as_user(store, "demo_commander").await?;
    for (v, (zone, village)) in sealed.iter().enumerate() {
        let mut people = chief.zone_people(*zone, true, None, 8).await?;
        if people.items.is_empty() {
            people = chief.zone_people(*zone, false, None, 8).await?;
        }
        let mut seen = std::collections::HashSet::new();
        for p in people.items.iter().filter(|p| p.household_id.is_some_and(|h| seen.insert(h))).take(6) {
            let place = p.address.clone().unwrap_or_else(|| format!("{village} 封控户"));
            let mut lines = vec![(id_of("大米")?, 1), (id_of("食用油")?, 1), (id_of("蔬菜包")?, 2)];
            if rng.chance(0.5) {
                lines.push((id_of("降压药（硝苯地平）")?, 2));
            }
            let contact = format!("{} {}", p.name, p.phone.clone().unwrap_or_default());
            let r = logi
                .create_supply_request(&ask(
                    RequesterKind::Household,
                    AreaCode::parse(village)?,
                    place,
                    contact.trim().to_string(),
                    Priority::Urgent,
                    4,
                    lines,
                ))
                .await?;
            out.requests += 1;
            // The first village's are approved and issued; the second's wait for approval.
            if v > 0 {
                continue;
            }
            logi.approve_supply_request(r.id, stadium.id, &[]).await?;
            let Some((d, _)) = issued(logi.issue_supply_request(r.id, "志愿者 李强 13900001111").await)? else { continue };
            out.deliveries += 1;
            match out.deliveries % 3 {
                0 => {}
                1 => {
                    logi.advance_delivery(d.id, cordon_domain::supplies::DeliveryStatus::OnTheWay, None).await?;
                }
                _ => {
                    logi.advance_delivery(d.id, cordon_domain::supplies::DeliveryStatus::OnTheWay, None).await?;
                    let proof =
                        Handover { received_by: String::new(), contactless: true, proof: "放门口，已拍照发户主微信".into() };
                    logi.advance_delivery(d.id, cordon_domain::supplies::DeliveryStatus::Delivered, Some(&proof)).await?;
                    out.delivered += 1;
                }
            }
        }
    }

    hotline(store, sealed, &mut rng, now, &mut out).await?;
    Ok(out)
}

/// An issue's delivery, or none when nothing owed is on hand (the request stays owed).
fn issued<T>(r: cordon_store::Result<T>) -> Result<Option<T>> {
    match r {
        Ok(x) => Ok(Some(x)),
        Err(e) if e.refusal().is_some() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A whole number as a spreadsheet writes it, with commas every three digits.
pub(crate) fn thousands(n: u32) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The hotline's first day, played at the times the calls came and were worked.
async fn hotline(store: &Store, sealed: &[Guarded], rng: &mut Rng, now: DateTime<Utc>, out: &mut Support) -> Result<()> {
    let operator = as_user(store, "demo_hotline_operator").await?;
    let centre = operator.actor().clone();
    let unit = Actor { name: "demo_community_worker".into(), ..Default::default() };
    let county = AreaCode::parse(COUNTY_CODE)?;
    let mut villages: Vec<AreaCode> = Vec::new();
    for town in store.area_children(&county).await? {
        let town = AreaCode::parse(&town.code)?;
        for v in store.area_children(&town).await? {
            villages.push(AreaCode::parse(&v.code)?);
        }
    }
    let sealed: Vec<AreaCode> = sealed.iter().filter_map(|(_, a)| AreaCode::parse(a).ok()).collect();
    anyhow::ensure!(!villages.is_empty(), "the county has no villages");
    use TicketCategory as C;
    let categories = [C::Supplies, C::Medical, C::GreenChannel, C::Travel, C::Quarantine, C::Complaint, C::Other];
    let weights = [40, 12, 6, 18, 14, 6, 4];
    let says = |c: TicketCategory| match c {
        C::Supplies => "封控在家，家里米面快吃完了，能否代购送上门",
        C::Medical => "老人血压高，降压药快吃完，需要取药",
        C::GreenChannel => "透析病人，明天上午需去县医院透析",
        C::Travel => "在外地务工，想知道返乡需要什么手续",
        C::Quarantine => "密接的家属是否需要隔离、隔离几天",
        C::Complaint => "小区门口核酸排队太久，没有分区",
        C::Other => "想报名当志愿者",
    };
    let surnames = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
    let mut calls: Vec<(DateTime<Utc>, String, TicketCategory)> = Vec::new();
    for _ in 0..CALLS {
        let minutes_ago = rng.range(10, 20 * 60) as i64;
        let category = categories[rng.weighted(&weights)];
        // One call in twenty is someone calling again about the same thing.
        let phone = match calls.iter().rev().find(|(_, _, c)| *c == category) {
            Some((_, p, _)) if rng.chance(0.05) => p.clone(),
            _ => format!("13{}{:08}", rng.range(0, 9), rng.range(0, 99_999_999)),
        };
        calls.push((now - Duration::minutes(minutes_ago), phone, category));
    }
    calls.sort_by_key(|c| c.0);
    let mut supervised = 0;
    let rice = operator.supply_items().await?.into_iter().find(|i| i.name == "大米").map(|i| i.id);
    for (at, phone, category) in calls {
        let area = if rng.chance(0.3) && !sealed.is_empty() { rng.pick(&sealed).clone() } else { rng.pick(&villages).clone() };
        let care = matches!(category, C::Medical | C::GreenChannel);
        let urgency = if rng.chance(if care { 0.4 } else { 0.1 }) { Urgency::Urgent } else { Urgency::Normal };
        let new = NewTicket {
            channel: *rng.pick(&[Channel::Phone, Channel::Phone, Channel::Phone, Channel::Wechat, Channel::Web]),
            category,
            urgency,
            caller: format!("{}{}", rng.pick(&surnames), if rng.chance(0.5) { "女士" } else { "先生" }),
            phone,
            address: format!("{}号院{}单元", rng.range(1, 60), rng.range(1, 6)),
            area_code: area,
            content: says(category).to_string(),
            client_id: None,
        };
        let taken = store.take_call(&centre, &new, at).await?;
        if taken.joined {
            out.joined += 1;
            continue;
        }
        out.tickets += 1;
        let mut t = taken.ticket;
        let mut clock = at;
        // Worked through the day, each step at its own time, none after now.
        let mut step = |minutes: (u32, u32), rng: &mut Rng| {
            clock += Duration::minutes(i64::from(rng.range(minutes.0, minutes.1)));
            (clock < now - Duration::minutes(2)).then_some(clock)
        };
        if rng.chance(0.03) {
            if let Some(when) = step((5, 30), rng) {
                t = store.act_on_ticket(&unit, &t, &Act::SendBack { reason: "不属本村，需镇里统一协调".into() }, when).await?;
                if let Some(when) = step((5, 30), rng) {
                    let township = AreaCode::parse(&t.area_code[..9])?;
                    store.act_on_ticket(&centre, &t, &Act::Dispatch { unit: township }, when).await?;
                }
            }
            continue;
        }
        let Some(signed) = step(if care { (3, 25) } else { (5, 90) }, rng).filter(|_| rng.chance(0.9)) else { continue };
        t = store.act_on_ticket(&unit, &t, &Act::Sign, signed).await?;
        // A few supplies tickets raise their request as soon as they are signed for.
        if let Some(rice) = rice.filter(|_| category == C::Supplies && out.raised < 6) {
            operator.raise_supply_request(t.id, vec![(rice, 1)], now + Duration::hours(6), Priority::High).await?;
            out.raised += 1;
        }
        if care && urgency == Urgency::Urgent && rng.chance(0.3) {
            let township = AreaCode::parse(&t.area_code[..9])?;
            t = store.act_on_ticket(&centre, &t, &Act::AddUnit { unit: township, note: "派车送医".into() }, signed).await?;
        }
        let Some(handled) = step((20, 300), rng).filter(|_| rng.chance(0.8)) else { continue };
        t = store.act_on_ticket(&unit, &t, &Act::Handle { result: "已联系来电人，按需办理完毕".into() }, handled).await?;
        let Some(called) = step((30, 240), rng).filter(|_| rng.chance(0.7)) else { continue };
        let satisfaction = match rng.range(0, 99) {
            0..=79 => Satisfaction::Satisfied,
            80..=89 => Satisfaction::Basic,
            90..=95 => Satisfaction::Dissatisfied,
            _ => Satisfaction::Unreachable,
        };
        t = store.act_on_ticket(&centre, &t, &Act::CallBack { satisfaction, note: String::new() }, called).await?;
        out.called_back += 1;
        if satisfaction == Satisfaction::Dissatisfied {
            if let Some(when) = step((5, 20), rng) {
                store.act_on_ticket(&centre, &t, &Act::Reopen { reason: "回访不满意，重新办理".into() }, when).await?;
            }
            continue;
        }
        if let Some(when) = step((5, 60), rng).filter(|_| rng.chance(0.85)) {
            store.act_on_ticket(&centre, &t, &Act::Close, when).await?;
            out.closed += 1;
        }
    }
    // The centre supervises the longest overdue.
    let (_, board) = operator.ticket_board(500).await?;
    for t in board.iter().filter(|t| t.overdue(now)) {
        out.overdue += 1;
        if supervised < 5 && t.status == TicketStatus::Dispatched {
            store
                .act_on_ticket(
                    &centre,
                    t,
                    &Act::Supervise { note: "超时未签收，请 30 分钟内签收并反馈".into() },
                    now - Duration::minutes(5),
                )
                .await?;
            supervised += 1;
        }
    }
    Ok(())
}
