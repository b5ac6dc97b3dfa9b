//! The hotline over the API and on pages, on both backends: a call dispatched to its village,
//! a repeat call joined, each step, send-back, 加派, 督办, callback and reopen; an overdue ticket
//! red on both boards; a sealed household's call raising a supply request that is issued from
//! stock and delivered with proof, the stock and the ticket both showing it.

use cordon_domain::hotline::{Channel, TicketCategory, Urgency};
use cordon_store::audit::Actor;
use cordon_store::hotline::NewTicket;

use super::*;

/// An attribute of the first element `css` finds.
async fn attribute(client: &fantoccini::Client, css: &str, name: &str) -> String {
    let el = client.wait().for_element(fantoccini::Locator::Css(css)).await.unwrap();
    el.attr(name).await.unwrap().unwrap_or_default()
}

/// A call taken three hours ago for an urgent medical need: its 30 minutes to be signed for
/// long gone.
async fn overdue_call(store: &Store) -> i64 {
    let new = NewTicket {
        channel: Channel::Phone,
        category: TicketCategory::Medical,
        urgency: Urgency::Urgent,
        caller: "赵先生".into(),
        phone: "13700001111".into(),
        address: "东关村 2 排 8 号".into(),
        area_code: cordon_domain::AreaCode::parse("140121100201").unwrap(),
        content: "透析病人，周三需去县医院".into(),
        client_id: None,
    };
    let then = chrono::Utc::now() - chrono::Duration::hours(3);
    store.take_call(&Actor::system("op-earlier"), &new, then).await.unwrap().ticket.id
}

#[tokio::test]
async fn a_ticket_moves_through_every_step_over_the_api() {
    for w in worlds("api_hotline", 4).await {
        let store = &w.store;
        let op = account(store, "op1", Role::HotlineOperator, "140121").await;
        let worker = account(store, "worker1", Role::CommunityWorker, "140121100").await;
        let late = overdue_call(store).await;
        let ring = serde_json::json!({"channel": "phone", "category": "green_channel", "urgency": "urgent", "caller": "刘女士",
            "phone": "13912345678", "address": "东关村 5 排 3 号", "area_code": "140121100201", "content": "孕 38 周，需去县医院产检"});
        let (status, _, r) = call(store, post_json(&op, "/api/v1/tickets", ring.clone())).await;
        assert_eq!(
            (status, r["ticket"]["status"].as_str(), r["ticket"]["unit_area"].as_str()),
            (StatusCode::CREATED, Some("dispatched"), Some("140121100201")),
            "{r}"
        );
        let id = r["ticket"]["id"].as_i64().unwrap();
        let (status, _, r) = call(store, post_json(&op, "/api/v1/tickets", ring.clone())).await;
        assert_eq!((status, r["joined"].as_bool(), r["ticket"]["calls"].as_i64()), (StatusCode::OK, Some(true), Some(2)), "{r}");
        assert_eq!(call(store, post_json(&worker, "/api/v1/tickets", ring)).await.0, StatusCode::FORBIDDEN);
        let (status, _, p) = call(
            store,
            post_json(
                &op,
                "/api/v1/tickets",
                serde_json::json!({"channel": "fax", "category": "other", "urgency": "normal",
                "phone": "13912345678", "address": "x", "area_code": "140121100201", "content": "x"}),
            ),
        )
        .await;
        assert_eq!((status, p["field"].as_str()), (StatusCode::BAD_REQUEST, Some("channel")), "{p}");

        // The board: the overdue one first, said overdue; the worker's shows both too.
        for token in [&op, &worker] {
            let (_, _, board) = get(store, token, "/api/v1/tickets").await;
            assert_eq!((board[0]["id"].as_i64(), board[0]["overdue"].as_bool()), (Some(late), Some(true)), "{board}");
            assert_eq!((board[1]["id"].as_i64(), board[1]["overdue"].as_bool()), (Some(id), Some(false)), "{board}");
        }

        let act = |token: &str, path: &str, body: serde_json::Value| post_json(token, &format!("/api/v1/tickets/{id}/{path}"), body);
        let none = serde_json::json!({});
        assert_eq!(call(store, act(&op, "sign", none.clone())).await.0, StatusCode::FORBIDDEN, "the unit signs");
        let (status, _, p) = call(store, act(&worker, "handle", serde_json::json!({"result": "x"}))).await;
        assert_eq!((status, p["kind"].as_str()), (StatusCode::CONFLICT, Some("refused.hotline.cannot")), "{p}");
        let (status, _, t) = call(store, act(&worker, "sign", none.clone())).await;
        assert_eq!((status, t["status"].as_str()), (StatusCode::OK, Some("signed")), "{t}");
        let (status, _, t) = call(store, act(&op, "supervise", serde_json::json!({"note": "30 分钟内反馈"}))).await;
        assert_eq!((status, t["supervise_note"].as_str()), (StatusCode::OK, Some("30 分钟内反馈")), "{t}");
        let (status, _, t) = call(store, act(&op, "units", serde_json::json!({"unit_area": "140121100202", "note": "派车"}))).await;
        assert_eq!(status, StatusCode::OK, "{t}");
        let (status, _, d) = call(store, act(&worker, "units/140121100202", none.clone())).await;
        assert_eq!((status, d["units"][0]["signed_at"].is_string()), (StatusCode::OK, true), "{d}");
        let (status, _, d) = call(store, act(&worker, "units/140121100202", serde_json::json!({"result": "车已到"}))).await;
        assert_eq!((status, d["units"][0]["result"].as_str()), (StatusCode::OK, Some("车已到")), "{d}");
        call(store, act(&worker, "handle", serde_json::json!({"result": "已送县医院"}))).await;
        let (status, _, t) = call(store, act(&op, "callback", serde_json::json!({"satisfaction": "dissatisfied", "note": "等车久"}))).await;
        assert_eq!(
            (status, t["status"].as_str(), t["satisfaction"].as_str()),
            (StatusCode::OK, Some("called_back"), Some("dissatisfied")),
            "{t}"
        );
        let (status, _, t) = call(store, act(&op, "reopen", serde_json::json!({"reason": "回程无车"}))).await;
        assert_eq!((status, t["status"].as_str(), t["reopened"].as_i64()), (StatusCode::OK, Some("dispatched"), Some(1)), "{t}");
        call(store, act(&worker, "sign", none.clone())).await;
        call(store, act(&worker, "handle", serde_json::json!({"result": "回程已安排"}))).await;
        call(store, act(&op, "callback", serde_json::json!({"satisfaction": "satisfied"}))).await;
        let (status, _, t) = call(store, act(&op, "close", none.clone())).await;
        assert_eq!((status, t["status"].as_str(), t["due_at"].is_null()), (StatusCode::OK, Some("closed"), true), "{t}");
        let (_, _, d) = get(store, &op, &format!("/api/v1/tickets/{id}")).await;
        assert_eq!(d["events"].as_array().unwrap().len(), 15, "{d}");

        // The overdue one is sent back and dispatched to the township.
        let back = |path: &str, body| post_json(&worker, &format!("/api/v1/tickets/{late}/{path}"), body);
        let (status, _, t) = call(store, back("send-back", serde_json::json!({"reason": "镇里统一安排透析车"}))).await;
        assert_eq!((status, t["status"].as_str()), (StatusCode::OK, Some("returned")), "{t}");
        let (status, _, t) =
            call(store, post_json(&op, &format!("/api/v1/tickets/{late}/dispatch"), serde_json::json!({"unit_area": "140121100"}))).await;
        assert_eq!((status, t["unit_area"].as_str(), t["overdue"].as_bool()), (StatusCode::OK, Some("140121100"), Some(false)), "{t}");

        // The dialysis patient needs a car: planned on the dispatch board under the response.
        account(store, "disp1", Role::TransferDispatcher, "140121").await;
        let dispatcher = store.scoped(store.principal_by_name("disp1").await.unwrap().unwrap(), Actor::system("disp1"));
        let hospital = dispatcher
            .add_hospital(&cordon_store::transfers::NewHospital {
                name: "清徐县人民医院".into(),
                kind: cordon_domain::treatment::HospitalKind::Designated,
                area_code: cordon_domain::AreaCode::parse("140121").unwrap(),
                beds: 200,
            })
            .await
            .unwrap();
        let send =
            |token: &str| post_json(token, &format!("/api/v1/tickets/{late}/transfer"), serde_json::json!({"hospital_id": hospital}));
        let (status, _, p) = call(store, send(&op)).await;
        assert_eq!((status, p["kind"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("refused.hotline.no_response")), "{p}");
        let opened =
            call(store, post_json(&w.commander, "/api/v1/incidents", serde_json::json!({"name": "清徐县疫情处置", "area_code": "140121"})))
                .await;
        assert!(opened.0.is_success(), "{:?}", opened.2);
        let (status, _, t) = call(store, send(&op)).await;
        assert_eq!((status, t["transfer_id"].is_i64()), (StatusCode::OK, true), "{t}");
        let board = dispatcher.dispatch_board().await.unwrap();
        assert!(board.iter().any(|x| Some(x.id) == t["transfer_id"].as_i64() && x.kind.as_str() == "medical_trip"), "{board:?}");

        // The day's counts; the clocks.
        let (_, _, counts) = get(store, &w.commander, "/api/v1/hotline/counts").await;
        let total: i64 = counts.as_array().unwrap().iter().map(|c| c["n"].as_i64().unwrap()).sum();
        assert!(total >= 1, "{counts}");
        let (_, _, limits) = get(store, &op, "/api/v1/hotline/limits").await;
        assert_eq!(limits.as_array().unwrap().len(), 14, "{limits}");
        let set = serde_json::json!({"category": "complaint", "urgency": "normal", "sign_minutes": 120, "handle_minutes": 2880, "callback_minutes": 1440});
        let put = Request::put("/api/v1/hotline/limits")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {op}"))
            .body(Body::from(set.to_string()))
            .unwrap();
        assert_eq!(call(store, put).await.0, StatusCode::NO_CONTENT);
        w.finish().await;
    }
}

#[tokio::test]
#[ignore = "browser test: needs chromium and chromedriver (scripts/test.sh installs them and runs it)"]
async fn a_sealed_households_call_becomes_a_delivery_with_proof_and_a_late_ticket_goes_red_on_both_boards() {
    let driver = chromedriver().await;
    for w in worlds("browser_hotline", 4).await {
        let store = &w.store;
        let kind = w.scratch.kind.as_str();
        let logi = account(store, "logi3", Role::Logistics, "140121").await;
        account(store, "op3", Role::HotlineOperator, "140121").await;
        account(store, "worker3", Role::CommunityWorker, "140121100").await;
        // The county store holds 100 bags of rice.
        let (_, _, rice) =
            call(store, post_json(&logi, "/api/v1/supply-items", serde_json::json!({"name": "大米", "category": "food", "unit": "袋"})))
                .await;
        let (_, _, wh) = call(
            store,
            post_json(
                &logi,
                "/api/v1/warehouses",
                serde_json::json!({"name": "县体育馆物资仓库", "level": "county", "area_code": "140121"}),
            ),
        )
        .await;
        let receipt = serde_json::json!({"movements": [{"kind": "receipt", "item_id": rice["id"], "to_warehouse": wh["id"], "quantity": 100, "source": "donation"}]});
        call(store, post_json(&logi, "/api/v1/stock-movements", receipt)).await;
        let late = overdue_call(store).await;
        let addr = spawn_server(store.clone()).await;
        let client = browser(&driver).await;

        // The operator opens on the board: the late call is red, counted overdue.
        sign_in(&client, addr, "op3", PASSWORD).await;
        wait_for_url(&client, "the hotline's board", |path, _| path == "/hotline").await;
        let late_row = format!("#tickets tr[data-ticket='{late}']");
        assert!(attribute(&client, &late_row, "class").await.contains("overdue"));
        assert_eq!(text(&client, "#overdue-count").await, "1");
        // A sealed household calls for rice.
        click(&client, "#call-form option[value=supplies]").await;
        click(&client, "#call-form option[value=urgent]").await;
        fill(&client, "#call-form input[name=caller]", "王秀英").await;
        fill(&client, "#call-form input[name=phone]", "13812345678").await;
        fill(&client, "#call-form input[name=area]", "东关村").await;
        fill(&client, "#call-form input[name=address]", "东关村 3 排 12 号（封控）").await;
        fill(&client, "#call-form textarea[name=content]", "家里没米了，老人 80 岁").await;
        click_and_wait(&client, "#call-form button").await;
        assert!(text(&client, "#ticket-notice").await.contains("东关村"), "{}", text(&client, "main").await);
        assert_eq!(text(&client, "#ticket-status").await, "待签收");
        let ticket_url = {
            let mut u = client.current_url().await.unwrap();
            u.set_query(None);
            u
        };
        // The late one: supervised, and 西关村 added to it.
        client.goto(&format!("http://{addr}/hotline/tickets/{late}")).await.unwrap();
        click(&client, "#supervise summary").await;
        fill(&client, "#supervise-form input[name=text]", "30 分钟内反馈").await;
        click_and_wait(&client, "#supervise-form button").await;
        assert!(text(&client, "#ticket-supervised").await.contains("30 分钟内反馈"));
        client.goto(&format!("http://{addr}/hotline/tickets/{late}")).await.unwrap();
        click(&client, "#add-unit summary").await;
        fill(&client, "#add-unit-form input[name=unit]", "西关村").await;
        fill(&client, "#add-unit-form input[name=text]", "派车送医").await;
        click_and_wait(&client, "#add-unit-form button").await;
        assert!(text(&client, "#added-units").await.contains("西关村"));
        sign_out(&client).await;

        // The township's worker, on a phone: the late ticket red on their board too.
        client.set_window_size(390, 844).await.unwrap();
        sign_in(&client, addr, "worker3", PASSWORD).await;
        // Their desk says it first: two tickets, one overdue.
        wait_for_url(&client, "the community desk", |path, _| path == "/community").await;
        assert_eq!(text(&client, "#card-tickets .num").await, "2");
        assert!(attribute(&client, "#card-tickets", "class").await.contains("urgent"));
        client.goto(&format!("http://{addr}/hotline")).await.unwrap();
        assert!(attribute(&client, &late_row, "class").await.contains("overdue"), "red on the unit's board");
        std::fs::write(screenshot_path(&format!("hotline-board-phone-{kind}.png")), client.screenshot().await.unwrap()).unwrap();
        // The household's ticket: signed for, a supply request raised for 2 bags.
        client.goto(ticket_url.as_str()).await.unwrap();
        click_and_wait(&client, "#sign-form button").await;
        assert_eq!(text(&client, "#ticket-status").await, "处置中");
        client.goto(ticket_url.as_str()).await.unwrap();
        click(&client, "#raise-form select[name=item_1] option:nth-child(2)").await;
        fill(&client, "#raise-form input[name=quantity_1]", "2").await;
        click_and_wait(&client, "#raise-form button").await;
        assert!(text(&client, "#ticket-request").await.contains("待审批"), "{}", text(&client, "main").await);
        let request_href = attribute(&client, "#ticket-request a", "href").await;
        // The late ticket: 西关村's part signed and reported; the ticket itself sent back.
        client.goto(&format!("http://{addr}/hotline/tickets/{late}")).await.unwrap();
        click_and_wait(&client, "#added-units .part-sign button").await;
        fill(&client, "#added-units .part-handle input[name=result]", "车已到村口").await;
        click_and_wait(&client, "#added-units .part-handle button").await;
        assert!(text(&client, "#added-units").await.contains("车已到村口"));
        client.goto(&format!("http://{addr}/hotline/tickets/{late}")).await.unwrap();
        click(&client, "#send-back summary").await;
        fill(&client, "#send-back-form input[name=text]", "镇里统一安排透析车").await;
        click_and_wait(&client, "#send-back-form button").await;
        assert_eq!(text(&client, "#ticket-status").await, "被退回");
        let wide = client.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap();
        assert!(wide.as_i64().unwrap() <= 390, "the ticket page fits a phone: {wide}");
        std::fs::write(screenshot_path(&format!("ticket-phone-{kind}.png")), client.screenshot().await.unwrap()).unwrap();
        sign_out(&client).await;

        // Logistics approves and issues the request.
        client.set_window_size(1024, 900).await.unwrap();
        sign_in(&client, addr, "logi3", PASSWORD).await;
        client.goto(&format!("http://{addr}{request_href}")).await.unwrap();
        assert!(text(&client, "#request-facts").await.contains("热线工单"), "the request names its ticket");
        click_and_wait(&client, "#approve-form button").await;
        fill(&client, "#issue-form input[name=courier]", "志愿者 李强").await;
        click_and_wait(&client, "#issue-form button").await;
        let delivery_url = client.current_url().await.unwrap();
        sign_out(&client).await;

        // The worker leaves it at the sealed door with the proof, and reports the ticket handled.
        client.set_window_size(390, 844).await.unwrap();
        sign_in(&client, addr, "worker3", PASSWORD).await;
        client.goto(delivery_url.as_str()).await.unwrap();
        click_and_wait(&client, "#out-form button").await;
        click(&client, "#deliver-form input[name=contactless]").await;
        fill(&client, "#deliver-form input[name=proof]", "放门口，已拍照发户主微信").await;
        click_and_wait(&client, "#deliver-form button").await;
        assert_eq!(text(&client, "#delivery-status").await, "已送达");
        client.goto(ticket_url.as_str()).await.unwrap();
        assert!(text(&client, "#ticket-request").await.contains("已送达"), "the ticket shows the delivery");
        fill(&client, "#handle-form textarea[name=text]", "大米 2 袋已无接触送到门口").await;
        click_and_wait(&client, "#handle-form button").await;
        assert_eq!(text(&client, "#ticket-status").await, "待回访");
        sign_out(&client).await;

        // The operator calls back: not satisfied (one bag was wet); reopened, confirmed.
        client.set_window_size(1024, 900).await.unwrap();
        sign_in(&client, addr, "op3", PASSWORD).await;
        client.goto(ticket_url.as_str()).await.unwrap();
        click(&client, "#callback-form option[value=dissatisfied]").await;
        fill(&client, "#callback-form input[name=text]", "一袋受潮").await;
        click_and_wait(&client, "#callback-form button").await;
        assert_eq!(text(&client, "#ticket-satisfaction").await, "不满意 · 一袋受潮");
        client.goto(ticket_url.as_str()).await.unwrap();
        click(&client, "#reopen summary").await;
        fill(&client, "#reopen-form input[name=text]", "补送一袋").await;
        click(&client, "#reopen-form input[name=confirm]").await;
        click_and_wait(&client, "#reopen-form button").await;
        assert_eq!(text(&client, "#ticket-status").await, "待签收");
        assert!(text(&client, "#ticket-history").await.contains("重新办理"));
        // The sent-back ticket goes to the township.
        client.goto(&format!("http://{addr}/hotline/tickets/{late}")).await.unwrap();
        assert!(text(&client, "#ticket-returned").await.contains("镇里统一安排透析车"));
        fill(&client, "#dispatch-form input[name=unit]", "清源镇").await;
        click_and_wait(&client, "#dispatch-form button").await;
        assert_eq!(
            (text(&client, "#ticket-status").await, text(&client, "#ticket-unit").await),
            ("待签收".to_string(), "清源镇".to_string())
        );
        std::fs::write(screenshot_path(&format!("ticket-desk-{kind}.png")), client.screenshot().await.unwrap()).unwrap();
        sign_out(&client).await;
        // The stock shows the two bags gone.
        sign_in(&client, addr, "logi3", PASSWORD).await;
        assert_eq!(text(&client, ".stock .on-hand").await, "98 袋");
        client.close().await.unwrap();
        w.finish().await;
    }
}
