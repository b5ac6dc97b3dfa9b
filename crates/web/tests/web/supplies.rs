//! Supplies over the API, on both backends: a truck's manifest received, an issue past the
//! stock refused with what is on hand, a sealed household's request issued and delivered.

use super::*;

#[tokio::test]
async fn a_manifest_is_received_an_overdraw_is_refused_and_a_households_request_reaches_the_door() {
    for w in worlds("api_supplies", 4).await {
        let store = &w.store;
        let logi = account(store, "logi1", Role::Logistics, "140121").await;
        let worker = account(store, "worker1", Role::CommunityWorker, "140121100").await;
        let body = serde_json::json!({"name": "N95口罩", "category": "protective", "unit": "只"});
        let (status, _, mask) = call(store, post_json(&logi, "/api/v1/supply-items", body.clone())).await;
        assert_eq!(status, StatusCode::CREATED, "{mask}");
        assert_eq!(call(store, post_json(&logi, "/api/v1/supply-items", body)).await.0, StatusCode::CONFLICT);
        let (status, _, p) =
            call(store, post_json(&logi, "/api/v1/supply-items", serde_json::json!({"name": "x", "category": "toys", "unit": "个"}))).await;
        assert_eq!((status, p["field"].as_str()), (StatusCode::BAD_REQUEST, Some("category")), "{p}");
        let body = serde_json::json!({"name": "县体育馆物资仓库", "level": "county", "area_code": "140121"});
        let (status, _, wh) = call(store, post_json(&logi, "/api/v1/warehouses", body)).await;
        assert_eq!(status, StatusCode::CREATED, "{wh}");
        let wh = wh["id"].as_i64().unwrap();
        assert_eq!(
            call(
                store,
                post_json(&worker, "/api/v1/warehouses", serde_json::json!({"name": "x", "level": "community", "area_code": "140121100"}))
            )
            .await
            .0,
            StatusCode::FORBIDDEN
        );

        // The manifest as Excel saves it (GBK, CRLF): one good row, one unknown item.
        let csv = "物资名称,数量,单位\r\nN95口罩,500,只\r\n防护面屏,20,个\r\n";
        let post = |reference: &str| {
            Request::post(format!("/api/v1/warehouses/{wh}/manifest?source=transfer_in&reference={reference}"))
                .header("content-type", "text/csv")
                .header("authorization", format!("Bearer {logi}"))
                .body(Body::from(encoding_rs::GBK.encode(csv).0.into_owned()))
                .unwrap()
        };
        let (status, _, r) = call(store, post("0413-22")).await;
        assert_eq!((status, r["rows"].as_u64(), r["stored"].as_u64()), (StatusCode::OK, Some(2), Some(1)), "{r}");
        assert_eq!((r["problems"][0]["line"].as_u64(), r["problems"][0]["field"].as_str()), (Some(3), Some("item")), "{r}");
        // Sent again: the row received already is not received twice.
        let (status, _, r) = call(store, post("0413-22")).await;
        assert_eq!((status, r["stored"].as_u64(), r["unchanged"].as_u64()), (StatusCode::OK, Some(0), Some(1)), "{r}");
        let (status, _, r) = call(store, post("")).await;
        assert_eq!((status, r["kind"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("refused.manifest.reference")), "{r}");

        // 501 out of 500: refused, naming what is there; nothing moved.
        let mask = mask["id"].as_i64().unwrap();
        let out = |q: i64| serde_json::json!({"movements": [{"kind": "issue", "item_id": mask, "from_warehouse": wh, "quantity": q}]});
        let (status, _, r) = call(store, post_json(&logi, "/api/v1/stock-movements", out(501))).await;
        assert_eq!(status, StatusCode::OK, "{r}");
        assert_eq!(r["refused"][0]["refusal"]["args"]["on_hand"].as_str(), Some("500"), "{r}");
        assert!(r["refused"][0]["detail"].as_str().unwrap().contains("500"), "{r}");
        let (_, _, b) = get(store, &w.commander, &format!("/api/v1/warehouses/{wh}/balances")).await;
        assert_eq!(b[0]["quantity"].as_i64(), Some(500), "{b}");

        // A sealed household asks through its community worker; approved, issued, delivered.
        let needed_by = chrono::Utc::now() + chrono::Duration::hours(3);
        let ask = serde_json::json!({"area_code": "140121100201", "requester_kind": "household", "place": "东关村 3 排 12 号",
            "contact": "王秀英", "priority": "urgent", "needed_by": needed_by, "lines": [{"item_id": mask, "quantity": 20}]});
        let (status, _, req) = call(store, post_json(&worker, "/api/v1/supply-requests", ask.clone())).await;
        assert_eq!((status, req["status"].as_str()), (StatusCode::CREATED, Some("submitted")), "{req}");
        let id = req["id"].as_i64().unwrap();
        let approve = serde_json::json!({"warehouse_id": wh, "lines": [{"item_id": mask, "quantity": 15}]});
        assert_eq!(
            call(store, post_json(&worker, &format!("/api/v1/supply-requests/{id}/approve"), approve.clone())).await.0,
            StatusCode::FORBIDDEN
        );
        let (status, _, a) = call(store, post_json(&logi, &format!("/api/v1/supply-requests/{id}/approve"), approve)).await;
        assert_eq!((status, a["status"].as_str()), (StatusCode::OK, Some("approved")), "{a}");
        let (status, _, issued) =
            call(store, post_json(&logi, &format!("/api/v1/supply-requests/{id}/issue"), serde_json::json!({"courier": "志愿者 李强"})))
                .await;
        assert_eq!((status, issued["lines"][0]["issued"].as_i64()), (StatusCode::CREATED, Some(15)), "{issued}");
        let delivery = issued["delivery"]["id"].as_i64().unwrap();
        let done = serde_json::json!({"status": "delivered", "contactless": true, "proof": ""});
        let (status, _, p) = call(store, post_json(&worker, &format!("/api/v1/deliveries/{delivery}/status"), done)).await;
        assert_eq!((status, p["kind"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("refused.delivery.no_proof")), "{p}");
        let done = serde_json::json!({"status": "delivered", "contactless": true, "proof": "放门口，拍照发户主微信"});
        let (status, _, d) = call(store, post_json(&worker, &format!("/api/v1/deliveries/{delivery}/status"), done)).await;
        assert_eq!((status, d["status"].as_str()), (StatusCode::OK, Some("delivered")), "{d}");
        let (_, _, detail) = get(store, &w.township, &format!("/api/v1/supply-requests/{id}")).await;
        assert_eq!(detail["request"]["status"].as_str(), Some("delivered"), "{detail}");
        let (_, _, b) = get(store, &logi, &format!("/api/v1/warehouses/{wh}/balances")).await;
        assert_eq!(b[0]["quantity"].as_i64(), Some(485), "{b}");
        // Asked twice: the second is rejected with its reason, which the requester reads.
        let (_, _, twice) = call(store, post_json(&worker, "/api/v1/supply-requests", ask)).await;
        let twice = twice["id"].as_i64().unwrap();
        let reject =
            |reason: &str| post_json(&logi, &format!("/api/v1/supply-requests/{twice}/reject"), serde_json::json!({"reason": reason}));
        let (status, _, p) = call(store, reject(" ")).await;
        assert_eq!((status, p["kind"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("refused.supply.reason_needed")), "{p}");
        let (status, _, r) = call(store, reject("重复申请")).await;
        assert_eq!(
            (status, r["status"].as_str(), r["decision_note"].as_str()),
            (StatusCode::OK, Some("rejected"), Some("重复申请")),
            "{r}"
        );
        w.finish().await;
    }
}

#[tokio::test]
#[ignore = "browser test: needs chromium and chromedriver (scripts/test.sh installs them and runs it)"]
async fn logistics_receives_a_manifest_and_a_community_worker_brings_a_sealed_households_request_to_the_door_on_a_phone() {
    let driver = chromedriver().await;
    for w in worlds("browser_supplies", 4).await {
        let store = &w.store;
        let kind = w.scratch.kind.as_str();
        account(store, "logi2", Role::Logistics, "140121").await;
        account(store, "worker2", Role::CommunityWorker, "140121100").await;
        let addr = spawn_server(store.clone()).await;
        let client = browser(&driver).await;
        // Logistics opens on the stock; sets up the county store and the catalogue's rice.
        sign_in(&client, addr, "logi2", PASSWORD).await;
        wait_for_url(&client, "the stock page", |path, _| path == "/supplies").await;
        fill(&client, "#warehouse-form input[name=name]", "县体育馆物资仓库").await;
        fill(&client, "#warehouse-form input[name=place]", "140121").await;
        click_and_wait(&client, "#warehouse-form button").await;
        assert!(text(&client, "#supplies-notice").await.contains("县体育馆物资仓库"));
        fill(&client, "#item-form input[name=name]", "大米").await;
        click(&client, "#item-form option[value=food]").await;
        fill(&client, "#item-form input[name=unit]", "袋").await;
        click_and_wait(&client, "#item-form button").await;
        // The evening's truck: its manifest as Excel saves it, one row mistyped.
        menu(&client, "/imports").await;
        let csv = encoding_rs::GBK.encode("物资名称,数量,单位\r\n大米,200,袋\r\n大米,十袋,袋\r\n").0.into_owned();
        fill(&client, "#import-manifest input[name=reference]", "晋运 0413-22").await;
        let said = upload(&client, "import-manifest", "manifest.csv", &csv).await;
        assert!(said.contains("数量“十袋”不是整数"), "{said}");
        // The refused row names its line and column.
        assert_eq!(text(&client, "#import-manifest table.import-rows tbody tr td:nth-child(1)").await, "3");
        assert_eq!(text(&client, "#import-manifest table.import-rows tbody tr td:nth-child(3)").await, "数量");
        // Uploaded again by a clerk not sure it went: the 200 bags are not received twice.
        client.refresh().await.unwrap();
        fill(&client, "#import-manifest input[name=reference]", "晋运 0413-22").await;
        upload(&client, "import-manifest", "manifest.csv", &csv).await;
        assert_eq!(text(&client, "#import-manifest [data-count=stored]").await, "0");
        assert_eq!(text(&client, "#import-manifest [data-count=unchanged]").await, "1");
        menu(&client, "/supplies").await;
        assert_eq!(text(&client, ".stock .on-hand").await, "200 袋");
        // Issuing more than is there is refused, saying what is there; nothing changes.
        click(&client, "#movement-form option[value=issue]").await;
        fill(&client, "#movement-form input[name=quantity]", "201").await;
        click_and_wait(&client, "#movement-form button").await;
        assert!(text(&client, "main").await.contains("现有 200 袋"), "{}", text(&client, "main").await);
        client.goto(&format!("http://{addr}/supplies")).await.unwrap();
        assert_eq!(text(&client, ".stock .on-hand").await, "200 袋");
        sign_out(&client).await;

        // The community worker asks for a sealed household, on a phone.
        client.set_window_size(390, 844).await.unwrap();
        sign_in(&client, addr, "worker2", PASSWORD).await;
        client.goto(&format!("http://{addr}/supplies/requests")).await.unwrap();
        click(&client, "#request-form option[value=household]").await;
        fill(&client, "#request-form input[name=area]", "东关树村").await;
        fill(&client, "#request-form input[name=place]", "东关村 3 排 12 号").await;
        fill(&client, "#request-form input[name=contact]", "王秀英").await;
        click(&client, "#request-form option[value=urgent]").await;
        click(&client, "#request-form select[name=item_1] option:nth-child(2)").await;
        fill(&client, "#request-form input[name=quantity_1]", "2").await;
        // A mistyped village is refused, saying why; back at the form what was typed is there.
        // (The refusal answers at the form's own address.)
        click(&client, "#request-form button").await;
        client.wait().for_element(fantoccini::Locator::Css("p.message")).await.unwrap();
        assert!(text(&client, "p.message").await.contains("东关树村"), "{}", text(&client, "main").await);
        click(&client, "#back-to-form").await;
        client.wait().for_element(fantoccini::Locator::Css("#request-form")).await.unwrap();
        let value = |css: &'static str| {
            let client = client.clone();
            async move { client.find(fantoccini::Locator::Css(css)).await.unwrap().prop("value").await.unwrap().unwrap_or_default() }
        };
        assert_eq!(
            (value("#request-form input[name=place]").await, value("#request-form input[name=contact]").await),
            ("东关村 3 排 12 号".to_string(), "王秀英".to_string()),
            "what was typed is kept"
        );
        assert_eq!(value("#request-form input[name=quantity_1]").await, "2");
        fill(&client, "#request-form input[name=area]", "东关村").await;
        click_and_wait(&client, "#request-form button").await;
        assert_eq!(text(&client, "#request-status").await, "待审批");
        // The request's own address, without the notice the form left on it.
        let mut request_url = client.current_url().await.unwrap();
        request_url.set_query(None);
        sign_out(&client).await;

        // Logistics approves it and issues it from the county store.
        client.set_window_size(1024, 900).await.unwrap();
        sign_in(&client, addr, "logi2", PASSWORD).await;
        menu(&client, "/supplies").await;
        client.goto(&format!("http://{addr}/supplies/requests")).await.unwrap();
        assert!(text(&client, "#requests").await.contains("东关村 3 排 12 号"));
        client.goto(request_url.as_str()).await.unwrap();
        click_and_wait(&client, "#approve-form button").await;
        assert_eq!(text(&client, "#request-status").await, "已审批待发放");
        // Approved again while nothing is issued: the form offers what is approved now.
        client.goto(request_url.as_str()).await.unwrap();
        assert_eq!(text(&client, "#approve-form button").await, "重新审批");
        click_and_wait(&client, "#approve-form button").await;
        assert_eq!(text(&client, "#request-status").await, "已审批待发放");
        fill(&client, "#issue-form input[name=courier]", "志愿者 李强").await;
        click_and_wait(&client, "#issue-form button").await;
        let delivery_url = client.current_url().await.unwrap();
        assert!(delivery_url.path().starts_with("/supplies/deliveries/"), "{delivery_url}");
        assert!(text(&client, "#delivery-items").await.contains("2 袋"));
        sign_out(&client).await;

        // The worker takes it to the sealed door: a contactless drop needs its proof.
        client.set_window_size(390, 844).await.unwrap();
        sign_in(&client, addr, "worker2", PASSWORD).await;
        client.goto(delivery_url.as_str()).await.unwrap();
        click_and_wait(&client, "#out-form button").await;
        assert_eq!(text(&client, "#delivery-status").await, "配送中");
        click(&client, "#deliver-form input[name=contactless]").await;
        click_and_wait(&client, "#deliver-form button").await;
        assert!(text(&client, "main").await.contains("无接触投放须填写凭证"));
        client.goto(delivery_url.as_str()).await.unwrap();
        click(&client, "#deliver-form input[name=contactless]").await;
        fill(&client, "#deliver-form input[name=proof]", "放门口，已拍照发户主微信").await;
        click_and_wait(&client, "#deliver-form button").await;
        assert_eq!(text(&client, "#delivery-status").await, "已送达");
        assert!(text(&client, "#delivery-handed").await.contains("放门口，已拍照发户主微信"));
        let wide = client.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap();
        assert!(wide.as_i64().unwrap() <= 390, "the delivery page fits a phone: {wide}");
        std::fs::write(screenshot_path(&format!("delivery-phone-{kind}.png")), client.screenshot().await.unwrap()).unwrap();
        client.goto(request_url.as_str()).await.unwrap();
        assert_eq!(text(&client, "#request-status").await, "已送达");
        std::fs::write(screenshot_path(&format!("supply-request-phone-{kind}.png")), client.screenshot().await.unwrap()).unwrap();
        // Met, it leaves the open board and stays on the board of every request; the delivery
        // is on the deliveries list.
        client.goto(&format!("http://{addr}/supplies/requests")).await.unwrap();
        assert!(!text(&client, "main").await.contains("东关村 3 排 12 号"), "a met request left the open board");
        click_and_wait(&client, "#request-views a[href='/supplies/requests?all=1']").await;
        assert!(text(&client, "#requests").await.contains("东关村 3 排 12 号"));
        click_and_wait(&client, "#request-views a[href='/supplies/deliveries']").await;
        assert!(text(&client, "#delivery-list").await.contains("已送达"), "{}", text(&client, "main").await);
        // The same household asks again by mistake.
        client.goto(&format!("http://{addr}/supplies/requests")).await.unwrap();
        fill(&client, "#request-form input[name=area]", "东关村").await;
        fill(&client, "#request-form input[name=place]", "东关村 3 排 12 号（重复）").await;
        click(&client, "#request-form select[name=item_1] option:nth-child(2)").await;
        fill(&client, "#request-form input[name=quantity_1]", "2").await;
        click_and_wait(&client, "#request-form button").await;
        let mut twice_url = client.current_url().await.unwrap();
        twice_url.set_query(None);
        // The county store is not the worker's: logistics sees what went out.
        sign_out(&client).await;
        client.set_window_size(1024, 900).await.unwrap();
        sign_in(&client, addr, "logi2", PASSWORD).await;
        assert_eq!(text(&client, ".stock .on-hand").await, "198 袋");
        // Logistics rejects the second one, saying why, once the tick confirms it.
        client.goto(twice_url.as_str()).await.unwrap();
        click(&client, "#reject summary").await;
        fill(&client, "#reject-form input[name=reason]", "重复申请：已送达").await;
        click(&client, "#reject-form input[name=confirm]").await;
        click_and_wait(&client, "#reject-form button").await;
        assert_eq!(text(&client, "#request-status").await, "已驳回");
        assert_eq!(text(&client, "#request-reason").await, "重复申请：已送达");
        assert!(client.find(fantoccini::Locator::Id("issue-form")).await.is_err(), "nothing to issue on a rejected request");
        client.close().await.unwrap();
        w.finish().await;
    }
}
