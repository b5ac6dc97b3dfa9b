//! Supplies: stock that never goes below zero, a truck's manifest, requests issued partly and
//! delivered with proof — on both backends.

use std::sync::Arc;

use chrono::{Duration, Utc};
use cordon_domain::access::Role;
use cordon_domain::supplies::{
    DeliveryStatus, Handover, ItemCategory, MovementKind, Priority, ReceiptSource, RequestStatus, RequesterKind, WarehouseLevel,
};
use cordon_store::StoreError;
use cordon_store::supplies::{NewItem, NewMovement, NewRequest, NewWarehouse};

use super::testing_rounds::as_user;
use super::*;

fn movement(kind: MovementKind, item: i64, from: Option<i64>, to: Option<i64>, quantity: i64) -> NewMovement {
    NewMovement {
        kind,
        item_id: item,
        batch: String::new(),
        expires_on: None,
        from,
        to,
        quantity,
        source: (kind == MovementKind::Receipt).then_some(ReceiptSource::Donation),
        reference: String::new(),
        note: String::new(),
        client_id: None,
    }
}

#[tokio::test]
async fn stock_never_goes_below_zero_a_manifest_stores_its_good_rows_and_a_request_is_issued_partly_and_delivered_with_proof() {
    for (s, store) in each_backend("supplies").await {
        let k = s.kind;
        seed_areas(&store).await;
        let logi = Arc::new(as_user(&store, "logi", Role::Logistics, "140121").await);
        let town_logi = as_user(&store, "town_logi", Role::Logistics, "140121101").await;
        let qingyuan_logi = as_user(&store, "qingyuan_logi", Role::Logistics, "140121100").await;
        let worker = as_user(&store, "worker", Role::CommunityWorker, "140121100").await;
        let item =
            |name: &str, category, unit: &str, tracks_batches| NewItem { name: name.into(), category, unit: unit.into(), tracks_batches };
        let mask = logi.create_supply_item(&item("N95口罩", ItemCategory::Protective, "只", false)).await.unwrap();
        let kit = logi.create_supply_item(&item("抗原检测试剂", ItemCategory::Testing, "盒", true)).await.unwrap();
        let rice = logi.create_supply_item(&item("大米", ItemCategory::Food, "袋", false)).await.unwrap();
        assert!(matches!(
            logi.create_supply_item(&item("N95口罩", ItemCategory::Protective, "只", false)).await,
            Err(StoreError::Refused(_))
        ));
        assert!(matches!(
            worker.create_supply_item(&item("口罩", ItemCategory::Protective, "只", false)).await,
            Err(StoreError::Forbidden(_))
        ));
        let wh = |name: &str, level, area: &str| NewWarehouse { name: name.into(), level, area_code: code(area) };
        let stadium = logi.create_warehouse(&wh("县体育馆物资仓库", WarehouseLevel::County, "140121")).await.unwrap();
        let town = logi.create_warehouse(&wh("清源镇物资站", WarehouseLevel::Township, "140121100")).await.unwrap();

        // The truck's manifest, saved from Excel as GBK with CRLF: four good rows and four bad.
        let later = cordon_domain::local_date(Utc::now()) + Duration::days(365);
        let csv = format!(
            "物资名称,数量,单位,批号,有效期至\r\n\
             N95口罩,\"12,000\",只,,\r\n\
             抗原检测试剂,500,盒,B2204,{}\r\n\
             抗原检测试剂,300,盒,B2203,{}\r\n\
             大米,200,袋,,\r\n\
             防护服,100,套,,\r\n\
             N95口罩,十箱,只,,\r\n\
             抗原检测试剂,50,盒,,{}\r\n\
             大米,20,箱,,\r\n",
            later.format("%F"),
            later.format("%Y/%-m/%-d"),
            later.format("%F")
        );
        let gbk = encoding_rs::GBK.encode(&csv).0.into_owned();
        let report = logi.import_manifest(stadium.id, ReceiptSource::TransferIn, "省指挥部调拨单 0413-22", gbk.clone()).await.unwrap();
        assert_eq!((report.rows, report.stored, report.unchanged), (8, 4, 0), "{k:?} {:?}", report.problems);
        let problems: Vec<(u64, &str)> = report.problems.iter().map(|p| (p.line, p.reason.kind)).collect();
        assert_eq!(
            problems,
            vec![
                (6, "refused.manifest.unknown_item"),
                (7, "refused.manifest.quantity"),
                (8, "refused.stock.batch_needed"),
                (9, "refused.manifest.unit")
            ],
            "{k:?}"
        );
        // The same as UTF-8 with a BOM and LF, missing its quantity column: said, nothing stored.
        let bad = "\u{feff}物资名称,单位\nN95口罩,只\n".as_bytes().to_vec();
        assert_eq!(
            logi.import_manifest(stadium.id, ReceiptSource::Donation, "捐赠 7", bad).await.refused().kind,
            "refused.manifest.columns"
        );
        // The same manifest uploaded again (the clerk was not sure it went): nothing twice.
        let again = logi.import_manifest(stadium.id, ReceiptSource::TransferIn, "省指挥部调拨单 0413-22", gbk.clone()).await.unwrap();
        assert_eq!((again.rows, again.stored, again.unchanged, again.problems.len()), (8, 0, 4, 4), "{k:?}");
        // Sent again with a row added on top (the sender's corrected sheet): only that row is new.
        let top = format!("物资名称,数量,单位,批号,有效期至\r\n抗原检测试剂,10,盒,B2205,{}\r\n", later.format("%F"));
        let added = csv.replacen("物资名称,数量,单位,批号,有效期至\r\n", &top, 1);
        assert!(added != csv);
        let gbk_added = encoding_rs::GBK.encode(&added).0.into_owned();
        let more = logi.import_manifest(stadium.id, ReceiptSource::TransferIn, "省指挥部调拨单 0413-22", gbk_added).await.unwrap();
        assert_eq!((more.stored, more.unchanged, more.problems.len()), (1, 4, 4), "{k:?} {:?}", more.problems);
        // Without its number a second upload could not be told from the next truck's: refused.
        let none = logi.import_manifest(stadium.id, ReceiptSource::TransferIn, " ", gbk).await.refused();
        assert_eq!(none.kind, "refused.manifest.reference", "{k:?}");

        let on_hand = |item: i64, w: i64| {
            let logi = &logi;
            async move { logi.stock_balances(Some(w)).await.unwrap().iter().find(|b| b.item_id == item).map_or(0, |b| b.quantity) }
        };
        assert_eq!(
            (on_hand(mask.id, stadium.id).await, on_hand(kit.id, stadium.id).await, on_hand(rice.id, stadium.id).await),
            (12_000, 810, 200)
        );

        // Issuing more than is there is refused with what is there, and nothing changes.
        let before = logi.stock_movements(stadium.id, None, 100).await.unwrap().len();
        let over = logi.record_movements(&[movement(MovementKind::Issue, rice.id, Some(stadium.id), None, 201)]).await.unwrap();
        assert!(over.stored.is_empty(), "{k:?}");
        let (_, why) = &over.refused[0];
        assert_eq!((why.kind, why.arg("on_hand"), why.arg("wanted")), ("refused.stock.short", Some("200"), Some("201")), "{k:?}");
        assert_eq!(on_hand(rice.id, stadium.id).await, 200);
        assert_eq!(logi.stock_movements(stadium.id, None, 100).await.unwrap().len(), before);
        // A batch item moves by its batch; a batch short of stock refuses alone, the rest stand.
        let mut kit_out = movement(MovementKind::Transfer, kit.id, Some(stadium.id), Some(town.id), 100);
        kit_out.batch = "B2203".into();
        let mut kit_short = kit_out.clone();
        kit_short.quantity = 301;
        let mut take_count = movement(MovementKind::Stocktake, mask.id, Some(stadium.id), None, 11_990);
        take_count.note = "盘点：破损 10 只".into();
        let mut sent = movement(MovementKind::Issue, rice.id, Some(stadium.id), None, 60);
        sent.client_id = Some("phone-7:1".into());
        let batch = logi.record_movements(&[kit_out, kit_short, take_count, sent.clone()]).await.unwrap();
        assert_eq!((batch.stored.len(), batch.refused.len(), batch.refused[0].0), (3, 1, 1), "{k:?}");
        // Sent again under its client id: answered as stored, not moved twice.
        let again = logi.record_movements(&[sent]).await.unwrap();
        assert!(again.stored[0].repeated, "{k:?}");
        assert_eq!((on_hand(kit.id, stadium.id).await, on_hand(kit.id, town.id).await), (710, 100));
        assert_eq!((on_hand(mask.id, stadium.id).await, on_hand(rice.id, stadium.id).await), (11_990, 140));
        let counted = logi.stock_movements(stadium.id, None, 100).await.unwrap();
        let take = counted.iter().find(|m| m.kind == MovementKind::Stocktake).unwrap();
        assert_eq!((take.quantity, take.counted), (-10, Some(11_990)));
        // Days of cover: 60 bags issued over the last three days is 20 a day; 140 last 7 days.
        let rice_row = logi.stock_balances(Some(stadium.id)).await.unwrap().into_iter().find(|b| b.item_id == rice.id).unwrap();
        assert_eq!((rice_row.used, rice_row.days_of_cover, rice_row.short), (60, Some(7.0), false));
        // A batch on an item not kept by batch is refused (it would sit where a plain issue
        // cannot find it).
        let mut stray = movement(MovementKind::Receipt, rice.id, None, Some(stadium.id), 5);
        stray.batch = "B1".into();
        let r = logi.record_movements(&[stray]).await.unwrap();
        assert_eq!(r.refused[0].1.kind, "refused.stock.no_batches", "{k:?}");
        // A township's logistics officer does not have the county's store.
        let theirs = town_logi.record_movements(&[movement(MovementKind::Issue, rice.id, Some(stadium.id), None, 1)]).await.unwrap();
        assert_eq!(theirs.refused[0].1.kind, "refused.stock.no_warehouse");
        assert!(matches!(town_logi.stock_balances(Some(stadium.id)).await, Err(StoreError::Forbidden(_))), "{k:?}");

        // Twenty issues of one bag at once against 140 - 130 = 10 left: exactly ten go through.
        logi.record_movements(&[movement(MovementKind::Issue, rice.id, Some(stadium.id), None, 130)]).await.unwrap();
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let l = Arc::clone(&logi);
            let m = movement(MovementKind::Issue, rice.id, Some(stadium.id), None, 1);
            tasks.push(tokio::spawn(async move { l.record_movements(&[m]).await.unwrap().stored.len() }));
        }
        let mut through = 0;
        for t in tasks {
            through += t.await.unwrap();
        }
        assert_eq!((through, on_hand(rice.id, stadium.id).await), (10, 0), "{k:?}");

        // A sealed household asks through its community worker: 2 bags of rice, 10 masks.
        let now = Utc::now();
        let ask = NewRequest {
            area_code: code("140121100201"),
            requester_kind: RequesterKind::Household,
            requester_id: None,
            place: "东关村 3 排 12 号（封控户）".into(),
            contact: "王秀英 13812345678".into(),
            priority: Priority::Urgent,
            needed_by: now + Duration::hours(4),
            note: "家中有 80 岁老人".into(),
            lines: vec![(rice.id, 2), (mask.id, 10)],
        };
        let mut past = ask.clone();
        past.needed_by = now - Duration::minutes(1);
        assert_eq!(worker.create_supply_request(&past).await.refused().kind, "refused.supply.needed_by_past");
        let mut elsewhere = ask.clone();
        elsewhere.area_code = code("140121101201");
        assert!(matches!(worker.create_supply_request(&elsewhere).await, Err(StoreError::Forbidden(_))));
        let req = worker.create_supply_request(&ask).await.unwrap();
        assert_eq!(req.status, RequestStatus::Submitted);
        assert!(matches!(worker.approve_supply_request(req.id, stadium.id, &[]).await, Err(StoreError::Forbidden(_))));
        assert_eq!(logi.approve_supply_request(req.id, stadium.id, &[(rice.id, 3)]).await.refused().kind, "refused.supply.approved_range");
        // Approved from a store without the rice: approved again from another while nothing of
        // it is issued, then back.
        let moved = logi.approve_supply_request(req.id, town.id, &[]).await.unwrap();
        assert_eq!((moved.status, moved.warehouse_id), (RequestStatus::Approved, Some(town.id)), "{k:?}");
        let approved = logi.approve_supply_request(req.id, stadium.id, &[]).await.unwrap();
        assert_eq!((approved.status, approved.warehouse_id), (RequestStatus::Approved, Some(stadium.id)));
        // 清源镇's own logistics officer sees the request but may not draw on the county's store.
        assert!(matches!(qingyuan_logi.issue_supply_request(req.id, "").await, Err(StoreError::Forbidden(_))), "{k:?}");
        // No rice is left: the masks go now, the rice stays owed.
        let (first, lines) = logi.issue_supply_request(req.id, "志愿者 李强").await.unwrap();
        let owed: Vec<(i64, i64, i64)> = lines.iter().map(|l| (l.item_id, l.issued, l.owed())).collect();
        assert!(owed.contains(&(rice.id, 0, 2)) && owed.contains(&(mask.id, 10, 0)), "{k:?} {owed:?}");
        assert_eq!(worker.supply_request(req.id).await.unwrap().request.status, RequestStatus::PartlyIssued);
        // Something is out: neither approved again nor rejected.
        assert_eq!(logi.approve_supply_request(req.id, town.id, &[]).await.refused().kind, "refused.supply.not_submitted");
        assert_eq!(logi.reject_supply_request(req.id, "x").await.refused().kind, "refused.supply.not_rejectable");
        assert_eq!(on_hand(mask.id, stadium.id).await, 11_980);
        logi.record_movements(&[movement(MovementKind::Receipt, rice.id, None, Some(stadium.id), 50)]).await.unwrap();
        let (second, _) = logi.issue_supply_request(req.id, "志愿者 李强").await.unwrap();
        assert_eq!(worker.supply_request(req.id).await.unwrap().request.status, RequestStatus::Issued);
        assert_eq!(logi.issue_supply_request(req.id, "").await.refused().kind, "refused.supply.not_issuable");
        assert_eq!(on_hand(rice.id, stadium.id).await, 48);
        let (_, carried) = worker.delivery(second.id).await.unwrap();
        assert_eq!(carried.iter().map(|m| (m.item_id, m.quantity)).collect::<Vec<_>>(), vec![(rice.id, 2)]);

        // To the door: out, then left at the sealed door with its proof.
        worker.advance_delivery(first.id, DeliveryStatus::OnTheWay, None).await.unwrap();
        let no_proof = Handover { received_by: String::new(), contactless: true, proof: " ".into() };
        assert_eq!(
            worker.advance_delivery(first.id, DeliveryStatus::Delivered, Some(&no_proof)).await.refused().kind,
            "refused.delivery.no_proof"
        );
        let proof = Handover { received_by: String::new(), contactless: true, proof: "放门口，拍照发户主微信".into() };
        let done = worker.advance_delivery(first.id, DeliveryStatus::Delivered, Some(&proof)).await.unwrap();
        assert_eq!((done.status, done.contactless, done.delivered_by.as_deref()), (DeliveryStatus::Delivered, true, Some("worker")));
        assert_eq!(worker.supply_request(req.id).await.unwrap().request.status, RequestStatus::Issued, "one delivery still out");
        let handed = Handover { received_by: "王秀英".into(), contactless: false, proof: String::new() };
        worker.advance_delivery(second.id, DeliveryStatus::Delivered, Some(&handed)).await.unwrap();
        assert_eq!(worker.supply_request(req.id).await.unwrap().request.status, RequestStatus::Delivered, "{k:?}");
        assert_eq!(
            worker.advance_delivery(second.id, DeliveryStatus::OnTheWay, None).await.refused().kind,
            "refused.delivery.cannot_become"
        );

        // The same household asks again: nothing approved is not an approval; it is rejected,
        // saying why, and nothing can be issued on it.
        let other = worker.create_supply_request(&ask).await.unwrap();
        let none = [(rice.id, 0), (mask.id, 0)];
        assert_eq!(logi.approve_supply_request(other.id, stadium.id, &none).await.refused().kind, "refused.supply.approve_nothing");
        assert_eq!(logi.reject_supply_request(other.id, " ").await.refused().kind, "refused.supply.reason_needed");
        assert!(matches!(worker.reject_supply_request(other.id, "x").await, Err(StoreError::Forbidden(_))), "{k:?}");
        let no = logi.reject_supply_request(other.id, "重复申请：已随 3 排统一配送").await.unwrap();
        assert_eq!(
            (no.status, no.warehouse_id, no.decision_note.as_str(), no.decided_by.as_deref()),
            (RequestStatus::Rejected, None, "重复申请：已随 3 排统一配送", Some("logi")),
            "{k:?}"
        );
        assert_eq!(logi.issue_supply_request(other.id, "").await.refused().kind, "refused.supply.not_issuable");
    }
}
