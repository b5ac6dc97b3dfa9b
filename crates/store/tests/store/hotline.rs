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
        // Typed another way, it is the same phone; from another village it is another ticket.
        let mut typed = urgent.clone();
        typed.phone = "+86 139 1234 5678".into();
        typed.client_id = Some("op-desk-1:3".into());
        let third = centre.take_call(&typed).await.unwrap();
        assert_eq!((third.joined, third.ticket.id, third.ticket.calls), (true, t.id, 3), "{k:?}");
        // The same press sent twice joins once.
        assert_eq!(centre.take_call(&typed).await.unwrap().ticket.calls, 3, "{k:?}");
        let mut other_village = urgent.clone();
        other_village.area_code = code("140121100202");
        let neighbour = centre.take_call(&other_village).await.unwrap();
        assert!(!neighbour.joined, "{k:?}");
        // A township's operator cannot read a county ticket back through its client id.
        let xugou_op = as_user(&store, "xugou_op", Role::HotlineOperator, "140121101").await;
        let mut theirs = call(TicketCategory::Travel, Urgency::Normal, "13600001111", "140121101201", "x");
        theirs.client_id = Some("op-desk-1:3".into());
        assert!(matches!(xugou_op.take_call(&theirs).await, Err(StoreError::Forbidden(_))), "{k:?}");
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
        // The neighbour's ticket is closed out of the way (called back unreachable).
        let xiguan_worker = as_user(&store, "xiguan", Role::CommunityWorker, "140121100202").await;
        let n = neighbour.ticket.id;
        xiguan_worker.act_on_ticket(n, &Act::Sign).await.unwrap();
        xiguan_worker.act_on_ticket(n, &Act::Handle { result: "同一户，已并入东关村工单办理".into() }).await.unwrap();
        centre.act_on_ticket(n, &Act::CallBack { satisfaction: Satisfaction::Unreachable, note: String::new() }).await.unwrap();
        centre.act_on_ticket(n, &Act::Close).await.unwrap();
        let (_, theirs) = elsewhere.ticket_board(100).await.unwrap();
        assert_eq!(theirs.iter().map(|x| x.id).collect::<Vec<_>>(), vec![county.ticket.id]);
        let (board, all) = centre.ticket_board(100).await.unwrap();
        assert_eq!((board, all.len(), all[0].id), (Board::Centre, 3, t.id));
        // The viewer reads the board with the phones masked; the village sees them.
        let (_, seen) = viewer.ticket_board(100).await.unwrap();
        assert_eq!(seen[0].phone, "139****5678");
        assert_eq!(village.ticket(t.id).await.unwrap().ticket.phone, "13912345678");
        assert!(matches!(elsewhere.ticket(t.id).await, Err(StoreError::Forbidden(_))), "{k:?}");

        // Read by the village, then dispatched elsewhere and back: the village's stale read is
        // not acted on (its step began again).
        let stale = village.ticket(t2.id).await.unwrap().ticket;
        centre.act_on_ticket(t2.id, &Act::Dispatch { unit: code("140121100201") }).await.unwrap();
        let moved = store.act_on_ticket(&cordon_store::audit::Actor::system("dongguan"), &stale, &Act::Sign, Utc::now()).await;
        assert_eq!(moved.refused().kind, "refused.hotline.moved", "{k:?}");
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

        // The day's counts, kept by every act: two green-channel tickets closed (hers and her
        // neighbour's) and her new one, one travel ticket dispatched, one complaint dispatched.
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
            (2, 1, 1, 1, 5),
            "{k:?} {counts:?}"
        );
        // 徐沟镇's worker reads 徐沟镇's counts only.
        let theirs = elsewhere.ticket_counts(today).await.unwrap();
        assert_eq!(theirs.iter().map(|x| x.n).sum::<i64>(), 0, "the complaint's area is the county's");

        // A township's operator does not set the county's clocks.
        let any = centre.hotline_limits().await.unwrap().remove(0);
        assert_eq!(xugou_op.set_hotline_limits(&any).await.refused().kind, "refused.hotline.limits_county");
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
        assert!(
            matches!(
                logi.raise_supply_request(t.ticket.id, vec![(rice.id, 1)], needed_by, Priority::High).await,
                Err(StoreError::Forbidden(_))
            ),
            "logistics does not read tickets"
        );
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

#[tokio::test]
async fn a_medical_need_sends_a_car_planned_on_the_dispatch_board() {
    for (s, store) in each_backend("hotline_transfer").await {
        let k = s.kind;
        seed_areas(&store).await;
        let centre = as_user(&store, "op", Role::HotlineOperator, "140121").await;
        let chief = as_user(&store, "chief", Role::Commander, "140121").await;
        let dispatcher = as_user(&store, "disp", Role::TransferDispatcher, "140121").await;
        let dialysis = centre
            .take_call(&call(TicketCategory::GreenChannel, Urgency::Urgent, "13712345678", "140121100201", "透析病人，明早需去县医院"))
            .await
            .unwrap()
            .ticket;
        let hospital = dispatcher
            .add_hospital(&cordon_store::transfers::NewHospital {
                name: "清徐县人民医院".into(),
                kind: cordon_domain::treatment::HospitalKind::Designated,
                area_code: code("140121"),
                beds: 200,
            })
            .await
            .unwrap();
        // No response open yet: nothing to plan it under, said.
        assert_eq!(centre.raise_ticket_transfer(dialysis.id, hospital).await.refused().kind, "refused.hotline.no_response", "{k:?}");
        chief.open_incident("清徐县疫情处置", &code("140121"), None, None).await.unwrap();
        let transfer = centre.raise_ticket_transfer(dialysis.id, hospital).await.unwrap();
        assert_eq!(centre.ticket(dialysis.id).await.unwrap().ticket.transfer_id, Some(transfer));
        assert_eq!(centre.raise_ticket_transfer(dialysis.id, hospital).await.refused().kind, "refused.hotline.transfer_raised");
        // On the dispatcher's board: planned, no vehicle yet, from the caller's door.
        let board = dispatcher.dispatch_board().await.unwrap();
        let planned = board.iter().find(|x| x.id == transfer).expect("on the board");
        assert_eq!(
            (planned.kind, planned.status, planned.vehicle_id, planned.from_place.as_str(), planned.to_place.as_str()),
            (
                cordon_domain::transfer::TransferKind::MedicalTrip,
                cordon_domain::transfer::TransferStatus::Planned,
                None,
                "东关村 5 排 3 号",
                "清徐县人民医院"
            ),
            "{k:?}"
        );
        // A travel question sends no car.
        let travel = centre.take_call(&call(TicketCategory::Travel, Urgency::Normal, "13712345678", "140121100201", "出村")).await.unwrap();
        assert_eq!(centre.raise_ticket_transfer(travel.ticket.id, hospital).await.refused().kind, "refused.hotline.not_care");
    }
}
