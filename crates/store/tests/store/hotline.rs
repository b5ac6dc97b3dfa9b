//! The hotline: a call dispatched to its village at once with a clock, a repeat call joining
//! its ticket, every step with its guard, send-back, 加派, 督办, callback and reopen, the boards
//! and the kept counts — on both backends.

use chrono::{Duration, Utc};
use cordon_domain::access::Role;
use cordon_domain::hotline::{Channel, Satisfaction, TicketCategory, TicketStatus, Urgency};
use cordon_domain::supplies::{ItemCategory, Priority};
use cordon_store::StoreError;
use cordon_store::hotline::{Act, Board, LimitRow, NewTicket};
use cordon_store::supplies::NewItem;

use super::testing_rounds::as_user;
use super::*;

fn call(category: TicketCategory, urgency: Urgency, phone: &str, area: &str, content: &str) -> NewTicket {
    NewTicket {
        channel: Channel::Phone,
        category,
        urgency,
        caller: "刘女士".into(),
        phone: phone.into(),
        address: "东关村 5 排 3 号".into(),
        area_code: code(area),
        content: content.into(),
        client_id: None,
    }
}

#[tokio::test]
async fn a_call_reaches_its_village_on_a_clock_and_moves_step_by_step_to_closed() {
    for (s, store) in each_backend("hotline").await {
        let k = s.kind;
        seed_areas(&store).await;
        let centre = as_user(&store, "op", Role::HotlineOperator, "140121").await;
        let village = as_user(&store, "dongguan", Role::CommunityWorker, "140121100201").await;
        let town = as_user(&store, "qingyuan", Role::CommunityWorker, "140121100").await;
        let elsewhere = as_user(&store, "xugou", Role::CommunityWorker, "140121101").await;
        let viewer = as_user(&store, "viewer", Role::Viewer, "140121").await;

        // A pregnant woman near term in a sealed village: urgent, green channel.
        let before = Utc::now();
        let urgent = call(TicketCategory::GreenChannel, Urgency::Urgent, "13912345678", "140121100201", "孕 38 周，需去县医院产检");
        let taken = centre.take_call(&urgent).await.unwrap();
        let t = taken.ticket;
        assert!(!taken.joined);
        assert_eq!((t.status, t.unit_area.as_deref()), (TicketStatus::Dispatched, Some("140121100201")), "{k:?}");
        let due = t.due_at.unwrap();
        assert!(due >= before + Duration::minutes(30) && due <= Utc::now() + Duration::minutes(30), "{k:?} due {due}");
        // She calls again an hour later: the call joins her ticket.
        let again = centre.take_call(&urgent).await.unwrap();
        assert!(again.joined, "{k:?}");
        assert_eq!((again.ticket.id, again.ticket.calls), (t.id, 2));
        // A retry of the operator's form (same client id) makes no second ticket.
        let mut travel = call(TicketCategory::Travel, Urgency::Normal, "13912345678", "140121100201", "能否出村取药");
        travel.client_id = Some("op-desk-1:17".into());
        let t2 = centre.take_call(&travel).await.unwrap().ticket;
        assert_ne!(t2.id, t.id, "another category is another ticket");
        assert_eq!(centre.take_call(&travel).await.unwrap().ticket.id, t2.id);
        // Bad calls are refused, saying why.
        let mut bad = urgent.clone();
        bad.phone = "12345".into();
        assert_eq!(centre.take_call(&bad).await.refused().kind, "refused.phone");
        let mut bad = urgent.clone();
        bad.content = " ".into();
        assert_eq!(centre.take_call(&bad).await.refused().kind, "refused.hotline.text_needed");
        assert!(matches!(village.take_call(&urgent).await, Err(StoreError::Forbidden(_))), "a unit does not take calls");
        // An address known only to the county: the centre dispatches it by hand.
        let county =
            centre.take_call(&call(TicketCategory::Complaint, Urgency::Normal, "0351-5123456", "140121", "卡口态度差")).await.unwrap();
        assert_eq!((county.ticket.status, county.ticket.unit_area), (TicketStatus::Accepted, None), "{k:?}");
        assert_eq!(
            centre.act_on_ticket(county.ticket.id, &Act::Dispatch { unit: code("140121") }).await.refused().kind,
            "refused.hotline.unit_level"
        );
        let sent = centre.act_on_ticket(county.ticket.id, &Act::Dispatch { unit: code("140121101") }).await.unwrap();
        assert_eq!((sent.status, sent.unit_area.as_deref()), (TicketStatus::Dispatched, Some("140121101")));

        // The boards: the village's has its two, the urgent one first; 徐沟镇's has the complaint.
        let (board, mine) = village.ticket_board(100).await.unwrap();
        assert_eq!((board, mine.iter().map(|x| x.id).collect::<Vec<_>>()), (Board::Unit, vec![t.id, t2.id]), "{k:?}");
        let (_, theirs) = elsewhere.ticket_board(100).await.unwrap();
        assert_eq!(theirs.iter().map(|x| x.id).collect::<Vec<_>>(), vec![county.ticket.id]);
        let (board, all) = centre.ticket_board(100).await.unwrap();
        assert_eq!((board, all.len(), all[0].id), (Board::Centre, 3, t.id));
        // The viewer reads the board with the phones masked; the village sees them.
        let (_, seen) = viewer.ticket_board(100).await.unwrap();
        assert_eq!(seen[0].phone, "139****5678");
        assert_eq!(village.ticket(t.id).await.unwrap().ticket.phone, "13912345678");
        assert!(matches!(elsewhere.ticket(t.id).await, Err(StoreError::Forbidden(_))), "{k:?}");

        // The village signs for it; another township cannot, nor can the centre.
        assert!(matches!(elsewhere.act_on_ticket(t.id, &Act::Sign).await, Err(StoreError::Forbidden(_))));
        assert!(matches!(centre.act_on_ticket(t.id, &Act::Sign).await, Err(StoreError::Forbidden(_))));
        let handle = |r: &str| Act::Handle { result: r.into() };
        assert_eq!(village.act_on_ticket(t.id, &handle("x")).await.refused().kind, "refused.hotline.cannot");
        let signed = village.act_on_ticket(t.id, &Act::Sign).await.unwrap();
        assert_eq!((signed.status, signed.signed_by.as_deref()), (TicketStatus::Signed, Some("dongguan")));
        assert!(signed.due_at.unwrap() > due, "the handling clock starts");
        // The centre adds 西关村 (the car comes from there) and supervises it.
        let add = Act::AddUnit { unit: code("140121100202"), note: "派车".into() };
        centre.act_on_ticket(t.id, &add).await.unwrap();
        assert_eq!(centre.act_on_ticket(t.id, &add).await.refused().kind, "refused.hotline.unit_twice");
        let watched = centre.act_on_ticket(t.id, &Act::Supervise { note: "30 分钟内反馈".into() }).await.unwrap();
        assert_eq!((watched.status, watched.supervised_by.as_deref()), (TicketStatus::Signed, Some("op")));
        // The added unit's part: on its board; signed, then handled, by 清源镇's worker.
        let (_, towns) = town.ticket_board(100).await.unwrap();
        assert!(towns.iter().any(|x| x.id == t.id));
        let xiguan = code("140121100202");
        assert_eq!(town.act_as_added_unit(t.id, &xiguan, Some("x")).await.refused().kind, "refused.hotline.part_done");
        town.act_as_added_unit(t.id, &xiguan, None).await.unwrap();
        town.act_as_added_unit(t.id, &xiguan, Some("车已到东关村口")).await.unwrap();
        assert!(matches!(elsewhere.act_as_added_unit(t.id, &xiguan, None).await, Err(StoreError::Forbidden(_))));
        let detail = centre.ticket(t.id).await.unwrap();
        assert_eq!(detail.units[0].result, "车已到东关村口");

        // Handled; called back dissatisfied; reopened; handled again; called back; closed.
        assert_eq!(village.act_on_ticket(t.id, &handle(" ")).await.refused().kind, "refused.hotline.text_needed");
        village.act_on_ticket(t.id, &handle("已送县医院产科，家属陪同")).await.unwrap();
        let back = Act::CallBack { satisfaction: Satisfaction::Dissatisfied, note: "等车 40 分钟".into() };
        assert!(matches!(village.act_on_ticket(t.id, &back).await, Err(StoreError::Forbidden(_))), "the centre calls back");
        centre.act_on_ticket(t.id, &back).await.unwrap();
        let again = centre.act_on_ticket(t.id, &Act::Reopen { reason: "回程无车".into() }).await.unwrap();
        assert_eq!((again.status, again.reopened, again.signed_at), (TicketStatus::Dispatched, 1, None), "{k:?}");
        village.act_on_ticket(t.id, &Act::Sign).await.unwrap();
        village.act_on_ticket(t.id, &handle("回程已安排专车")).await.unwrap();
        centre.act_on_ticket(t.id, &Act::CallBack { satisfaction: Satisfaction::Satisfied, note: String::new() }).await.unwrap();
        let closed = centre.act_on_ticket(t.id, &Act::Close).await.unwrap();
        assert_eq!((closed.status, closed.due_at, closed.satisfaction()), (TicketStatus::Closed, None, Some(Satisfaction::Satisfied)));
        assert_eq!(centre.act_on_ticket(t.id, &Act::Supervise { note: "x".into() }).await.refused().kind, "refused.hotline.cannot");
        let acts: Vec<&str> = centre.ticket(t.id).await.unwrap().events.iter().map(|e| e.act.as_str()).collect();
        assert_eq!(
            acts,
            vec![
                "accept",
                "dispatch",
                "repeat",
                "sign",
                "add_unit",
                "supervise",
                "sign",
                "handle",
                "handle",
                "call_back",
                "reopen",
                "sign",
                "handle",
                "call_back",
                "close"
            ],
            "{k:?}"
        );
        // A new call from her now is a new ticket: the old one is closed.
        assert!(!centre.take_call(&urgent).await.unwrap().joined);

        // The second ticket is sent back (not theirs to solve) and dispatched to the township.
        assert_eq!(village.act_on_ticket(t2.id, &Act::SendBack { reason: "".into() }).await.refused().kind, "refused.hotline.text_needed");
        let returned = village.act_on_ticket(t2.id, &Act::SendBack { reason: "出村需镇里开证明".into() }).await.unwrap();
        assert_eq!((returned.status, returned.return_reason.as_str()), (TicketStatus::Returned, "出村需镇里开证明"));
        let to_town = centre.act_on_ticket(t2.id, &Act::Dispatch { unit: code("140121100") }).await.unwrap();
        assert_eq!(
            (to_town.status, to_town.unit_area.as_deref(), to_town.return_reason.as_str()),
            (TicketStatus::Dispatched, Some("140121100"), "")
        );

        // The day's counts, kept by every act: one closed and one new green-channel ticket, one
        // travel ticket dispatched, one complaint dispatched.
        let today = cordon_domain::local_date(Utc::now());
        let counts = centre.ticket_counts(today).await.unwrap();
        let n = |c: TicketCategory, s: TicketStatus| counts.iter().find(|x| x.category == c && x.status == s).map_or(0, |x| x.n);
        assert_eq!(
            (
                n(TicketCategory::GreenChannel, TicketStatus::Closed),
                n(TicketCategory::GreenChannel, TicketStatus::Dispatched),
                n(TicketCategory::Travel, TicketStatus::Dispatched),
                n(TicketCategory::Complaint, TicketStatus::Dispatched),
                counts.iter().map(|x| x.n).sum::<i64>()
            ),
            (1, 1, 1, 1, 4),
            "{k:?} {counts:?}"
        );
        // 徐沟镇's worker reads 徐沟镇's counts only.
        let theirs = elsewhere.ticket_counts(today).await.unwrap();
        assert_eq!(theirs.iter().map(|x| x.n).sum::<i64>(), 0, "the complaint's area is the county's");

        // The headquarters sets the clocks of a normal complaint; a clock under 5 minutes is refused.
        let mut row = centre.hotline_limits().await.unwrap().into_iter().find(|r| r.category == TicketCategory::Complaint).unwrap();
        assert!(!row.configured);
        row.sign_minutes = 3;
        assert_eq!(centre.set_hotline_limits(&row).await.refused().kind, "refused.hotline.limit_range");
        let row = LimitRow { sign_minutes: 45, ..row };
        centre.set_hotline_limits(&row).await.unwrap();
        let set =
            centre.hotline_limits().await.unwrap().into_iter().find(|r| r.category == row.category && r.urgency == row.urgency).unwrap();
        assert_eq!((set.sign_minutes, set.configured), (45, true));
        assert!(matches!(village.set_hotline_limits(&row).await, Err(StoreError::Forbidden(_))));
    }
}

#[tokio::test]
async fn a_supplies_ticket_raises_a_supply_request_at_the_callers_door() {
    for (s, store) in each_backend("hotline_supplies").await {
        let k = s.kind;
        seed_areas(&store).await;
        let centre = as_user(&store, "op", Role::HotlineOperator, "140121").await;
        let logi = as_user(&store, "logi", Role::Logistics, "140121").await;
        let rice = logi
            .create_supply_item(&NewItem { name: "大米".into(), category: ItemCategory::Food, unit: "袋".into(), tracks_batches: false })
            .await
            .unwrap();
        let t =
            centre.take_call(&call(TicketCategory::Supplies, Urgency::Normal, "13812345678", "140121100201", "家里没米了")).await.unwrap();
        let needed_by = Utc::now() + Duration::hours(6);
        let request = centre.raise_supply_request(t.ticket.id, vec![(rice.id, 1)], needed_by, Priority::High).await.unwrap();
        assert_eq!((request.place.as_str(), request.area_code.as_str()), ("东关村 5 排 3 号", "140121100201"), "{k:?}");
        assert!(request.contact.contains("13812345678") && request.note.contains("家里没米了"), "{k:?}");
        let again = centre.raise_supply_request(t.ticket.id, vec![(rice.id, 1)], needed_by, Priority::High).await.refused();
        assert_eq!(again.kind, "refused.hotline.request_raised");
        assert_eq!(centre.ticket(t.ticket.id).await.unwrap().ticket.supply_request_id, Some(request.id));
        let other = centre.take_call(&call(TicketCategory::Travel, Urgency::Normal, "13812345678", "140121100201", "出村")).await.unwrap();
        assert_eq!(
            centre.raise_supply_request(other.ticket.id, vec![(rice.id, 1)], needed_by, Priority::High).await.refused().kind,
            "refused.hotline.not_supplies"
        );
    }
}
