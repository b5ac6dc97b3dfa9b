//! Zones over the API and in a browser, on both backends.

use super::*;

#[tokio::test]
async fn the_commander_draws_a_zone_over_the_api_and_its_countdown_refuses_an_early_downgrade() {
    for w in worlds("api_zones", 20).await {
        let store = &w.store;
        // 东关村 holds people 0, 1, 8, 9, 16 and 17 of the sample, all born in 1940.
        let zone = serde_json::json!({"kind": "sealed", "areas": ["140121100201"], "reason": "清徐-1 住所"});
        let (status, _, drawn) = call(store, post_json(&w.commander, "/api/v1/zones", zone.clone())).await;
        assert_eq!(status, StatusCode::CREATED, "{drawn}");
        let id = drawn["zone"]["id"].as_i64().unwrap();
        assert_eq!((drawn["zone"]["label"].as_str(), drawn["zone"]["scheme"].as_str()), (Some("高风险区"), Some("risk_areas")), "{drawn}");
        assert_eq!((drawn["residents"]["total"].as_i64(), drawn["residents"]["elderly"].as_i64()), (Some(6), Some(6)), "{drawn}");
        assert_eq!(drawn["areas"][0]["name"], "东关村");
        assert_eq!(drawn["zone"]["countdown"]["to"], "controlled");
        assert_eq!(drawn["zone"]["countdown"]["conditions"][0]["code"], "quiet_days");
        // Its people's codes turn red, saying why; what a checkpoint scans by id number agrees.
        let person0 = store.person_ids_by_documents(&[sample_id(0)]).await.unwrap()[&sample_id(0)];
        let (status, _, code) = get(store, &w.commander, &format!("/api/v1/persons/{person0}/health-code")).await;
        assert_eq!((status, code["colour"].as_str()), (StatusCode::OK, Some("red")), "{code}");
        assert_eq!(
            (code["reasons"][0]["code"].as_str(), code["reasons"][0]["zh"].as_str()),
            (Some("sealed_zone"), Some("居住在高风险区东关村"))
        );
        let (_, _, scanned) = get(store, &w.commander, &format!("/api/v1/health-codes?id_number={}", sample_id(0))).await;
        assert_eq!((scanned["person_id"].as_i64(), scanned["colour"].as_str()), (Some(person0), Some("red")), "{scanned}");
        assert_eq!(get(store, &w.commander, "/api/v1/health-codes?id_number=110105194912310021").await.0, StatusCode::NOT_FOUND);
        // Counted by colour per village, and listed with the reasons, paged by key.
        let (status, _, counts) = get(store, &w.commander, "/api/v1/health-codes/counts?area=140121100").await;
        assert_eq!(status, StatusCode::OK, "{counts}");
        let east = counts.as_array().unwrap().iter().find(|c| c["area_code"] == "140121100201").cloned().unwrap();
        assert_eq!((east["name"].as_str(), east["red"].as_i64()), (Some("东关村"), Some(6)), "{counts}");
        let (_, _, page) = get(store, &w.commander, "/api/v1/health-codes/people?area=140121100&colour=red&limit=1").await;
        assert_eq!(page["items"][0]["reasons"][0]["code"], "sealed_zone", "{page}");
        let after = page["next"].as_str().unwrap().to_string();
        let (_, _, rest) = get(store, &w.commander, &format!("/api/v1/health-codes/people?area=140121100&colour=red&after={after}")).await;
        assert_eq!(rest["items"].as_array().unwrap().len(), 5, "{rest}");
        assert_eq!(get(store, &w.commander, "/api/v1/health-codes/people?colour=purple").await.0, StatusCode::BAD_REQUEST);
        assert_eq!(
            get(store, &w.township, "/api/v1/health-codes/counts?area=140121101").await.0,
            StatusCode::FORBIDDEN,
            "another township"
        );
        let (_, _, history) = get(store, &w.commander, &format!("/api/v1/persons/{person0}/health-code/history")).await;
        assert_eq!((history[0]["from"].as_str(), history[0]["to"].as_str()), (Some("green"), Some("red")), "{history}");
        let person2 = store.person_ids_by_documents(&[sample_id(2)]).await.unwrap()[&sample_id(2)];
        assert_eq!(get(store, &w.commander, &format!("/api/v1/persons/{person2}/health-code")).await.2["colour"], "green", "西关村");
        // Set by hand: a reason and an expiry, or nothing changes.
        let uri = format!("/api/v1/persons/{person2}/health-code/override");
        let until = chrono::Utc::now() + chrono::Duration::days(3);
        let (status, _, problem) =
            call(store, post_json(&w.commander, &uri, serde_json::json!({"colour": "yellow", "reason": " ", "until": until}))).await;
        assert_eq!((status, problem["kind"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("refused.code.no_reason")), "{problem}");
        let (status, _, set) =
            call(store, post_json(&w.commander, &uri, serde_json::json!({"colour": "yellow", "reason": "外地协查", "until": until}))).await;
        assert_eq!(
            (status, set["colour"].as_str(), set["reasons"][0]["code"].as_str()),
            (StatusCode::OK, Some("yellow"), Some("override")),
            "{set}"
        );
        assert_eq!(
            call(store, post_json(&w.township, &uri, serde_json::json!({"colour": "green", "reason": "x", "until": until}))).await.0,
            StatusCode::FORBIDDEN
        );

        // Bad input changes nothing and says why; an investigator may not draw zones.
        let (status, _, problem) = call(
            store,
            post_json(
                &w.commander,
                "/api/v1/zones",
                serde_json::json!({
                    "kind": "purple", "areas": ["140121100202"], "reason": "x"
                }),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
        assert!(problem["detail"].as_str().unwrap().contains("purple"), "{problem}");
        let (status, _, problem) = call(
            store,
            post_json(
                &w.commander,
                "/api/v1/zones",
                serde_json::json!({
                    "kind": "controlled", "areas": ["140121100202"], "reason": "  "
                }),
            ),
        )
        .await;
        assert_eq!((status, problem["kind"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("refused.zone.no_reason")), "{problem}");
        assert_eq!(call(store, post_json(&w.township, "/api/v1/zones", zone)).await.0, StatusCode::FORBIDDEN);
        let (_, _, listed) = get(store, &w.commander, "/api/v1/zones").await;
        assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");

        // Day 0: the downgrade waits for seven quiet days; a sealed zone cannot be tightened.
        let (status, _, problem) =
            call(store, post_json(&w.commander, &format!("/api/v1/zones/{id}/downgrade"), serde_json::json!({}))).await;
        assert_eq!((status, problem["kind"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("refused.zone.not_ready")), "{problem}");
        let tighten = serde_json::json!({"kind": "sealed"});
        let (status, _, problem) = call(store, post_json(&w.commander, &format!("/api/v1/zones/{id}/tighten"), tighten)).await;
        assert_eq!((status, problem["kind"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("refused.zone.not_stricter")), "{problem}");

        // Extended by 西关村; the people inside, the vulnerable first, through the township's eyes.
        let more = serde_json::json!({"areas": ["140121100202"], "note": "密接居住地"});
        let (status, _, extended) = call(store, post_json(&w.commander, &format!("/api/v1/zones/{id}/extend"), more)).await;
        assert_eq!((status, extended["residents"]["total"].as_i64()), (StatusCode::OK, Some(12)), "{extended}");
        assert_eq!(extended["history"][1]["act"], "extend");
        let (status, _, people) = get(store, &w.township, &format!("/api/v1/zones/{id}/people?vulnerable=true&limit=4")).await;
        assert_eq!((status, people["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(4)), "{people}");
        let next = people["next"].as_str().unwrap().to_string();
        let (_, _, rest) = get(store, &w.township, &format!("/api/v1/zones/{id}/people?vulnerable=true&limit=50&after={next}")).await;
        assert_eq!(rest["items"].as_array().map(Vec::len), Some(8), "{rest}");
        assert!(people["items"][0]["id_number_masked"].as_str().unwrap().contains('*'));
        assert_eq!(get(store, &w.commander, "/api/v1/zones/999999").await.0, StatusCode::NOT_FOUND);
        // The bulletin, as headquarters publishes it: the township's people read it too.
        let (status, _, bulletin) = get(store, &w.township, "/api/v1/zones/bulletin").await;
        assert_eq!(status, StatusCode::OK, "{bulletin}");
        let zones = bulletin["zones"].as_array().unwrap();
        assert_eq!(zones.len(), 1, "{bulletin}");
        let first = (zones[0]["label"].as_str(), zones[0]["name"].as_str(), zones[0]["place"].as_str());
        assert_eq!(first, (Some("高风险区"), Some("东关村"), Some("清源镇")), "drawn over 东关村, extended to 西关村: {bulletin}");
        w.finish().await;
    }
}

#[tokio::test]
#[ignore = "browser test: needs chromium and chromedriver (scripts/test.sh installs them and runs it)"]
async fn the_commander_draws_a_zone_on_a_page_sees_its_countdown_and_the_door_list_and_a_community_worker_reads_it() {
    let driver = chromedriver().await;
    for w in worlds("browser_zones", 20).await {
        let store = &w.store;
        account(store, "grid1", Role::CommunityWorker, "140121100").await;
        let addr = spawn_server(store.clone()).await;
        let client = browser(&driver).await;
        let kind = w.scratch.kind.as_str();

        sign_in(&client, addr, "commander1", PASSWORD).await;
        menu(&client, "/zones").await;
        assert_eq!(text(&client, "#zone-counts").await, "目前没有生效的风险区域");
        // A village that is not there: said with its name, and back to the form with the input kept.
        fill(&client, "#zone-form input[name=areas]", "东关村、不存在村").await;
        fill(&client, "#zone-form input[name=reason]", "清徐-1 住所").await;
        click_and_wait(&client, "#zone-form button").await;
        assert_eq!(text(&client, "p.message").await, "辖区内没有名为“不存在村”的区划");
        click_and_wait(&client, "#back-to-form").await;
        let kept = client.wait().for_element(fantoccini::Locator::Css("#zone-form input[name=reason]")).await.unwrap();
        assert_eq!(kept.prop("value").await.unwrap().as_deref(), Some("清徐-1 住所"), "the input is kept");
        fill(&client, "#zone-form input[name=areas]", "东关村").await;
        click_and_wait(&client, "#zone-form button").await;
        wait_for_url(&client, "the zone's page", |path, _| path.starts_with("/zones/")).await;
        assert_eq!(text(&client, "#zone-notice").await, "已划定“东关村”，居住6人");
        assert_eq!(text(&client, "#zone-kind").await, "高风险区", "protocol-9 names a sealed zone high risk");
        let conditions = text(&client, "table#conditions tbody").await;
        assert!(conditions.contains("连续7天无新增感染（已0天）") && conditions.contains("第7天全员核酸检测阴性"), "{conditions}");
        assert!(text(&client, "#zone-earliest").await.starts_with("最早可变更日期："));

        // Day 0: a confirmed downgrade is refused with why, and nothing changes.
        click(&client, "#downgrade-form input[name=confirm]").await;
        click_and_wait(&client, "#downgrade-form button").await;
        assert_eq!(text(&client, "#zone-error").await, "条件未满足：连续无新增感染天数（共2项未满足）");
        assert_eq!(text(&client, "#zone-kind").await, "高风险区");
        assert_eq!(client.find_all(fantoccini::Locator::Css("table#zone-history tbody tr")).await.unwrap().len(), 1);

        // The door-to-door list: everyone here is over 80.
        click_and_wait(&client, "#door-list").await;
        let people = client.find_all(fantoccini::Locator::Css("table#zone-people tbody tr")).await.unwrap();
        assert_eq!(people.len(), 6);
        assert!(text(&client, "table#zone-people tbody").await.contains("高龄"));
        // A resident's page shows the red code and why.
        click_and_wait(&client, "table#zone-people tbody tr:first-child a").await;
        assert_eq!(text(&client, "#health-code").await, "红码");
        assert_eq!(text(&client, "#code-reasons").await, "居住在高风险区东关村");
        // The commander sets it by hand, with a reason; the derived reason stays beneath.
        click(&client, "#override summary").await;
        client.find(fantoccini::Locator::Css("#override-form select[name=colour]")).await.unwrap().select_by_value("green").await.unwrap();
        fill(&client, "#override-form input[name=reason]", "核实为误判").await;
        click_and_wait(&client, "#override-form button").await;
        assert_eq!(text(&client, "#health-code").await, "绿码");
        let reasons = text(&client, "#code-reasons").await;
        assert!(reasons.starts_with("人工赋码：核实为误判") && reasons.contains("居住在高风险区东关村"), "{reasons}");

        // 西关村 drawn as medium risk, then a positive there: tightened to high.
        client.goto(&format!("http://{addr}/zones")).await.unwrap();
        client.find(fantoccini::Locator::Css("#zone-form select[name=kind]")).await.unwrap().select_by_value("controlled").await.unwrap();
        fill(&client, "#zone-form input[name=areas]", "西关村").await;
        fill(&client, "#zone-form input[name=reason]", "密接居住地").await;
        click_and_wait(&client, "#zone-form button").await;
        assert_eq!(text(&client, "#zone-kind").await, "中风险区");
        fill(&client, "#tighten-form input[name=note]", "新增阳性").await;
        click_and_wait(&client, "#tighten-form button").await;
        assert_eq!(text(&client, "#zone-notice").await, "“西关村”已升为高风险区");
        let history = text(&client, "table#zone-history tbody").await;
        assert!(history.contains("升级") && history.contains("新增阳性"), "{history}");

        // Health codes by area: the two villages' people red, each listed with why; the counts
        // agree with the list, and a resident's page keeps every change of colour.
        menu(&client, "/health-codes").await;
        let listed = client.find_all(fantoccini::Locator::Css("table#coded-people tbody tr")).await.unwrap().len();
        assert_eq!(text(&client, "#code-total td:nth-child(2)").await, listed.to_string());
        let reds = text(&client, "table#coded-people tbody").await;
        assert!(reds.contains("居住在高风险区西关村") && reds.contains("居住在高风险区东关村"), "{reds}");
        assert_eq!(listed, 11, "six in each village, less the one set green by hand");
        click_and_wait(&client, "table#code-counts tr[data-area='140121100'] td:first-child a").await;
        assert_eq!(text(&client, "h1").await, "健康码管理 · 清源镇");
        assert_eq!(client.find_all(fantoccini::Locator::Css("table#code-counts tbody tr[data-area]")).await.unwrap().len(), 2);
        click_and_wait(&client, "#code-tabs a:last-child").await;
        assert_eq!(text(&client, "#coded-none").await, "本地区暂无黄码人员", "tightened: nobody is yellow any more");
        client.goto(&format!("http://{addr}/health-codes?area=140121100202")).await.unwrap();
        click_and_wait(&client, "table#coded-people tbody tr:first-child a").await;
        click(&client, "#code-history summary").await;
        let changes = text(&client, "#code-history ul").await;
        assert!(changes.contains("黄码 → 红码") && changes.contains("绿码 → 黄码"), "{changes}");

        // The list: both high risk, each with the day it can step down.
        client.goto(&format!("http://{addr}/zones")).await.unwrap();
        assert_eq!(client.find_all(fantoccini::Locator::Css("table#zones tbody tr")).await.unwrap().len(), 2);
        assert!(text(&client, "table#zones tbody").await.contains("可降为中风险区"));
        std::fs::write(screenshot_path(&format!("zones-{kind}.png")), client.screenshot().await.unwrap()).unwrap();
        // The bulletin lists both under high risk, with the day each was drawn.
        click_and_wait(&client, "#bulletin-link").await;
        assert_eq!(text(&client, "h1").await, "中高风险地区名单");
        assert!(text(&client, "#bulletin-summary").await.ends_with("辖区内共有高风险区2个。"));
        let listed = text(&client, "ol.bulletin").await;
        assert!(listed.contains("清源镇东关村") && listed.contains("清源镇西关村"), "{listed}");

        // On a phone the list and a zone's page fit the screen.
        client.set_window_size(390, 844).await.unwrap();
        let fits = || async {
            let fits = client.execute("return document.documentElement.scrollWidth <= window.innerWidth", vec![]).await.unwrap();
            fits.as_bool().unwrap()
        };
        client.goto(&format!("http://{addr}/zones")).await.unwrap();
        assert!(fits().await, "nothing scrolls sideways on the zones list");
        click_and_wait(&client, "table#zones tbody tr:last-child a").await;
        assert!(fits().await, "nothing scrolls sideways on a zone's page");
        std::fs::write(screenshot_path(&format!("zone-phone-{kind}.png")), client.screenshot().await.unwrap()).unwrap();
        client.goto(&format!("http://{addr}/health-codes?area=140121100")).await.unwrap();
        assert!(fits().await, "nothing scrolls sideways on the health codes by area");
        std::fs::write(screenshot_path(&format!("codes-phone-{kind}.png")), client.screenshot().await.unwrap()).unwrap();
        client.set_window_size(1024, 900).await.unwrap();

        // A community worker reads the zones and the people inside, and is offered no act.
        sign_out(&client).await;
        sign_in(&client, addr, "grid1", PASSWORD).await;
        client.goto(&format!("http://{addr}/zones")).await.unwrap();
        assert!(client.find(fantoccini::Locator::Css("#zone-form")).await.is_err(), "no form to draw");
        click_and_wait(&client, "table#zones tbody tr:last-child a").await;
        assert!(client.find(fantoccini::Locator::Css("#downgrade-form")).await.is_err(), "no act");
        assert_eq!(client.find_all(fantoccini::Locator::Css("table#zone-people tbody tr")).await.unwrap().len(), 6);
        client.close().await.unwrap();
        w.finish().await;
    }
}

#[tokio::test]
#[ignore = "browser test: needs chromium and chromedriver (scripts/test.sh installs them and runs it)"]
async fn a_checkpoint_officer_turns_back_a_sealed_zone_resident_with_the_reason_on_a_phone() {
    let driver = chromedriver().await;
    for w in worlds("browser_checkpoints", 20).await {
        let store = &w.store;
        account(store, "gate1", Role::CheckpointOfficer, "140121100").await;
        let zone = serde_json::json!({"kind": "sealed", "areas": ["140121100201"], "reason": "清徐-1 住所"});
        let (status, _, drawn) = call(store, post_json(&w.commander, "/api/v1/zones", zone)).await;
        assert_eq!(status, StatusCode::CREATED, "{drawn}");
        let addr = spawn_server(store.clone()).await;
        let client = browser(&driver).await;
        let kind = w.scratch.kind.as_str();

        // The commander sets up the gate of the sealed village.
        sign_in(&client, addr, "commander1", PASSWORD).await;
        menu(&client, "/checkpoints").await;
        assert_eq!(text(&client, "p.empty").await, "辖区内还没有卡口");
        fill(&client, "#checkpoint-form input[name=name]", "东关村口").await;
        client
            .find(fantoccini::Locator::Css("#checkpoint-form select[name=kind]"))
            .await
            .unwrap()
            .select_by_value("zone_boundary")
            .await
            .unwrap();
        fill(&client, "#checkpoint-form input[name=area_code]", "东关村").await;
        let zone_id = drawn["zone"]["id"].as_i64().unwrap().to_string();
        client
            .find(fantoccini::Locator::Css("#checkpoint-form select[name=zone_id]"))
            .await
            .unwrap()
            .select_by_value(&zone_id)
            .await
            .unwrap();
        click_and_wait(&client, "#checkpoint-form button").await;
        assert_eq!(text(&client, "#checkpoints-notice").await, "已设立卡口“东关村口”");
        sign_out(&client).await;

        // The officer on duty, on a phone: the first page is the checkpoints.
        client.set_window_size(390, 844).await.unwrap();
        sign_in(&client, addr, "gate1", PASSWORD).await;
        click_and_wait(&client, "table#checkpoints tbody tr:first-child a").await;
        let gate = client.current_url().await.unwrap().to_string();
        let check = |number: String| {
            let (client, gate) = (&client, &gate);
            async move {
                // Each person is checked from the gate's page (the decision's page answers the post).
                if client.current_url().await.unwrap().as_str() != gate.as_str() {
                    client.goto(gate).await.unwrap();
                }
                fill(client, "#pass-form input[name=id_number]", &number).await;
                click_and_wait(client, "#pass-form button").await;
                text(client, "#verdict").await
            }
        };
        assert_eq!(check(sample_id(0)).await, "劝返", "a resident of the sealed village going out");
        let reasons = text(&client, "#decision-reasons").await;
        assert!(reasons.contains("红码禁止通行") && reasons.contains("封控区：居民足不出户"), "{reasons}");
        let fits = client.execute("return document.documentElement.scrollWidth <= window.innerWidth", vec![]).await.unwrap();
        assert_eq!(fits.as_bool(), Some(true), "nothing scrolls sideways on the officer's page");
        std::fs::write(screenshot_path(&format!("checkpoint-phone-{kind}.png")), client.screenshot().await.unwrap()).unwrap();
        assert_eq!(check(sample_id(2)).await, "登记后通行", "西关村 is green: registered passing the sealed gate");
        assert_eq!(check("11010519491231002X".into()).await, "登记后通行", "an arrival not in the register");
        // Reloading the decision logs nothing twice.
        client.refresh().await.unwrap();
        assert_eq!(text(&client, "#verdict").await, "登记后通行");
        assert_eq!(text(&client, "#refused-count").await, "1");
        assert_eq!(client.find_all(fantoccini::Locator::Css("table#passages tbody tr")).await.unwrap().len(), 3);
        // A digit typed wrong is said at once, not taken for a stranger to register;
        // nothing is logged.
        client.goto(&gate).await.unwrap();
        fill(&client, "#pass-form input[name=id_number]", "12345").await;
        click_and_wait(&client, "#pass-form button").await;
        assert!(text(&client, "#pass-error").await.starts_with("证件号码“12345”有误"), "{}", text(&client, "#pass-error").await);
        assert_eq!(client.find_all(fantoccini::Locator::Css("table#passages tbody tr")).await.unwrap().len(), 3);

        // An arrival coming in, not in the register, is registered on the spot: a place typed
        // wrong is said and nothing is registered; from a medium-risk area, observed at home.
        let visitor = cordon_domain::ResidentId::from_parts("110105", chrono::NaiveDate::from_ymd_opt(1985, 3, 2).unwrap(), 7).unwrap();
        client.goto(&gate).await.unwrap();
        fill(&client, "#pass-form input[name=id_number]", visitor.as_str()).await;
        click(&client, "#pass-form input[name=direction][value=in]").await;
        click_and_wait(&client, "#pass-form button").await;
        assert_eq!(text(&client, "#verdict").await, "登记后通行");
        let arrive = |place: &'static str| {
            let client = &client;
            async move {
                fill(client, "#arrival-form input[name=name]", "赵六").await;
                fill(client, "#arrival-form input[name=from_place]", "北京市朝阳区").await;
                client
                    .find(fantoccini::Locator::Css("#arrival-form select[name=from_risk]"))
                    .await
                    .unwrap()
                    .select_by_value("medium")
                    .await
                    .unwrap();
                fill(client, "#arrival-form input[name=area]", place).await;
                click_and_wait(client, "#arrival-form button").await;
            }
        };
        arrive("不存在村").await;
        assert_eq!(text(&client, "#pass-error").await, "辖区内没有名为“不存在村”的区划");
        assert_eq!(text(&client, "#arrivals-count").await, "0");
        arrive("东关村").await;
        assert_eq!(text(&client, "#gate-notice").await, "已登记来返人员赵六，按中风险区旅居管理：待居家隔离");
        let address = client.current_url().await.unwrap();
        assert!(address.query().is_some_and(|q| q.starts_with("arrived=") && !q.contains('%')), "no name in the address: {address}");
        assert_eq!(text(&client, "#arrivals-count").await, "1");
        assert!(client.find(fantoccini::Locator::Css("table#passage-hours tbody tr")).await.is_ok(), "today by the hour");

        // The post's lead puts a shift on the roster.
        click(&client, "#add-shift summary").await;
        let local = |h: i64| {
            (chrono::Utc::now() + chrono::Duration::hours(h))
                .with_timezone(&cordon_domain::local_offset())
                .format("%Y-%m-%dT%H:%M")
                .to_string()
        };
        let set = format!(
            "document.querySelector('#shift-form input[name=starts_at]').value = '{}'; document.querySelector('#shift-form input[name=ends_at]').value = '{}';",
            local(-1),
            local(7)
        );
        client.execute(&set, vec![]).await.unwrap();
        fill(&client, "#shift-form input[name=lead]", "王队长").await;
        fill(&client, "#shift-form input[name=staff]", "张三，李四").await;
        click_and_wait(&client, "#shift-form button").await;
        assert_eq!(text(&client, "#gate-notice").await, "已添加班次：王队长带班");
        let roster = text(&client, "table#shifts tbody").await;
        assert!(roster.contains("王队长") && roster.contains("在岗"), "{roster}");
        // A second team typed over the first is refused with whose shift it overlaps; one typed
        // wrong is taken off, once the tick confirms it.
        let times = |from: &str, to: &str| {
            format!(
                "document.querySelector('#shift-form input[name=starts_at]').value = '{from}'; document.querySelector('#shift-form input[name=ends_at]').value = '{to}';"
            )
        };
        let (h3, h6, h11, h14) = (local(3), local(6), local(11), local(14));
        click(&client, "#add-shift summary").await;
        client.execute(&times(&h3, &h11), vec![]).await.unwrap();
        fill(&client, "#shift-form input[name=lead]", "李队长").await;
        click_and_wait(&client, "#shift-form button").await;
        assert!(text(&client, "#pass-error").await.starts_with("与王队长带班的班次"), "{}", text(&client, "#pass-error").await);
        // The refused form stays open with what was typed: only the times are put right.
        let lead = client.find(fantoccini::Locator::Css("#shift-form input[name=lead]")).await.unwrap();
        assert!(lead.is_displayed().await.unwrap(), "the refused shift form is folded away");
        assert_eq!(lead.prop("value").await.unwrap().as_deref(), Some("李队长"));
        client.execute(&times(&h6, &h14), vec![]).await.unwrap();
        click_and_wait(&client, "#shift-form button").await;
        assert_eq!(client.find_all(fantoccini::Locator::Css("table#shifts tbody tr")).await.unwrap().len(), 2);
        click(&client, "table#shifts tbody tr:last-child form.remove-shift input[name=confirm]").await;
        click_and_wait(&client, "table#shifts tbody tr:last-child form.remove-shift button").await;
        assert_eq!(text(&client, "#gate-notice").await, "已删除李队长带班的班次");
        assert_eq!(client.find_all(fantoccini::Locator::Css("table#shifts tbody tr")).await.unwrap().len(), 1);

        // The signal drops while the last decision is on the screen: the passage is kept on the
        // phone and said so, the earlier person's decision taken off the screen; back online, it
        // is sent once.
        assert_eq!(check(sample_id(0)).await, "劝返");
        lose_signal(&client).await;
        fill(&client, "#pass-form input[name=id_number]", &sample_id(3)).await;
        click(&client, "#pass-form button").await;
        let said = |want: &'static str| {
            let client = &client;
            async move {
                let mut now = serde_json::Value::Null;
                for _ in 0..100 {
                    now = client
                        .execute("var n = document.getElementById('offline-note'); return n.hidden ? '' : n.textContent;", vec![])
                        .await
                        .unwrap();
                    if now.as_str().is_some_and(|t| t.starts_with(want)) {
                        return;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                panic!("the page never said {want}; it says {now}");
            }
        };
        said("网络中断：已在本机暂存1条通行记录").await;
        assert!(client.find_all(fantoccini::Locator::Css("#decision")).await.unwrap().is_empty(), "the last person's decision is gone");
        // The officer checks by hand and is asked what they did; the next person comes before
        // they answer, and waits their turn.
        let asked = text(&client, "#by-hand span").await;
        assert!(asked.contains(&sample_id(3)[14..]) && asked.contains("人工核验"), "{asked}");
        std::fs::write(screenshot_path(&format!("checkpoint-by-hand-phone-{kind}.png")), client.screenshot().await.unwrap()).unwrap();
        fill(&client, "#pass-form input[name=id_number]", &sample_id(5)).await;
        click(&client, "#pass-form button").await;
        said("网络中断：已在本机暂存2条通行记录").await;
        assert!(text(&client, "#by-hand span").await.contains(&sample_id(3)[14..]), "still the first one asked");
        click(&client, "#by-hand button[data-decision=refuse]").await;
        said("已记下：已劝返。").await;
        assert!(text(&client, "#by-hand span").await.contains(&sample_id(5)[14..]), "then the next");
        click(&client, "#by-hand button[data-decision=pass]").await;
        let handed = client
            .execute(
                "var k = Object.keys(localStorage).filter(function (k) { return k.indexOf('cordon-checkpoint-queue-') === 0; })[0]; \
                 return JSON.parse(localStorage.getItem(k)).map(function (b) { return b.by_hand; });",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(handed, serde_json::json!(["refuse", "pass"]));
        let shown = client.execute("return document.getElementById('by-hand').hidden;", vec![]).await.unwrap();
        assert_eq!(shown.as_bool(), Some(true), "nothing left to ask");
        // The phone kept the time each person passed; the signal comes back up to two hours
        // after the first (still today, for the day's figures: half the time since local
        // midnight when that is less) — and three days after the second, too late to be logged.
        let now = chrono::Utc::now();
        let midnight = cordon_domain::from_local(cordon_domain::local_date(now).and_time(chrono::NaiveTime::MIN));
        let back_ms = ((now - midnight) / 2).min(chrono::Duration::hours(2)).num_milliseconds().max(1);
        let kept = client
            .execute(
                &format!(
                    "var k = Object.keys(localStorage).filter(function (k) {{ return k.indexOf('cordon-checkpoint-queue-') === 0; }})[0]; \
                     var q = JSON.parse(localStorage.getItem(k)); var kept = q[0].passed_at; \
                     q[0].passed_at = new Date(Date.now() - {back_ms}).toISOString(); \
                     q[1].passed_at = new Date(Date.now() - 72 * 3600 * 1000).toISOString(); localStorage.setItem(k, JSON.stringify(q)); return kept;"
                ),
                vec![],
            )
            .await
            .unwrap();
        assert!(kept.as_str().is_some_and(|t| t.ends_with('Z')), "the time it passed is kept with it: {kept}");
        client.execute("window.fetch = window.__fetch; window.dispatchEvent(new Event('online'));", vec![]).await.unwrap();
        said("已补录1条离线通行记录").await;
        // The refused one stays on the phone with its number until the officer has checked it.
        let refused = text(&client, "#offline-refused").await;
        assert!(refused.starts_with("1条暂存记录被拒收") && refused.contains(&sample_id(5)), "{refused}");
        client.refresh().await.unwrap();
        assert!(text(&client, "#offline-refused").await.contains(&sample_id(5)), "kept over a reload");
        click(&client, "#offline-refused button").await;
        let shown = client.execute("return document.getElementById('offline-refused').hidden;", vec![]).await.unwrap();
        assert_eq!(shown.as_bool(), Some(true), "cleared once checked");
        client.execute("window.dispatchEvent(new Event('online'));", vec![]).await.unwrap();
        client.goto(&gate).await.unwrap();
        assert_eq!(client.find_all(fantoccini::Locator::Css("table#passages tbody tr")).await.unwrap().len(), 6, "sent once");
        let log = text(&client, "table#passages tbody").await;
        assert!(log.contains("离线暂存"), "logged at the time it passed, said to be kept offline: {log}");
        // The rules let them through (registered first); the officer turned them back: flagged.
        let kept_row = text(&client, "table#passages tbody tr:first-child").await;
        assert!(
            kept_row.contains("登记后通行") && kept_row.contains("人工判定：劝返") && kept_row.contains("与系统判定不符"),
            "{kept_row}"
        );
        assert_eq!(text(&client, "#differs-count").await, "1", "counted with the day's figures");
        client.execute("document.getElementById('passages').scrollIntoView();", vec![]).await.unwrap();
        std::fs::write(screenshot_path(&format!("checkpoint-log-phone-{kind}.png")), client.screenshot().await.unwrap()).unwrap();
        let fits = client.execute("return document.documentElement.scrollWidth <= window.innerWidth", vec![]).await.unwrap();
        assert_eq!(fits.as_bool(), Some(true), "nothing scrolls sideways with the roster and the hours");
        std::fs::write(screenshot_path(&format!("checkpoint-duty-phone-{kind}.png")), client.screenshot().await.unwrap()).unwrap();
        // A kept passage waits on the phone for the officer's answer (up to ten minutes), even
        // with the signal back; answered, it is sent.
        lose_signal(&client).await;
        fill(&client, "#pass-form input[name=id_number]", &sample_id(6)).await;
        click(&client, "#pass-form button").await;
        said("网络中断：已在本机暂存1条通行记录").await;
        client.execute("window.fetch = window.__fetch; window.dispatchEvent(new Event('online'));", vec![]).await.unwrap();
        let waiting = "var k = Object.keys(localStorage).filter(function (k) { return k.indexOf('cordon-checkpoint-queue-') === 0; })[0]; \
                       return JSON.parse(localStorage.getItem(k) || '[]').length;";
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(client.execute(waiting, vec![]).await.unwrap().as_u64(), Some(1), "not sent before the answer");
        click(&client, "#by-hand button[data-decision=pass]").await;
        client.execute("window.dispatchEvent(new Event('online'));", vec![]).await.unwrap();
        said("已补录1条离线通行记录").await;
        assert_eq!(client.execute(waiting, vec![]).await.unwrap().as_u64(), Some(0));
        client.close().await.unwrap();
        w.finish().await;
    }
}

/// The whole of 东关村 (people 0, 1, 8, 9, 16 and 17) sampled `days` ago in single tubes over
/// the API, each tube back negative: the area test of that day.
async fn area_test_of_dongguan(w: &World, days: i64) {
    let store = &w.store;
    let officer = account(store, "sampler9", Role::TestingOfficer, "140121100").await;
    let lab = account(store, "lab9", Role::Lab, "140121").await;
    let at = chrono::Utc::now() - chrono::Duration::days(days);
    let round = serde_json::json!({"name": "东关村区域核酸", "starts_at": at - chrono::Duration::hours(1), "areas": [{"area_code": "140121100201"}]});
    let (status, _, round) = call(store, post_json(&officer, "/api/v1/rounds", round)).await;
    assert_eq!(status, StatusCode::CREATED, "{round}");
    let id = round["id"].as_i64().unwrap();
    let site = serde_json::json!({"area_code": "140121100201", "name": "东关村1号点", "address": "村委会", "stations": 1});
    let (status, _, site) = call(store, post_json(&officer, &format!("/api/v1/rounds/{id}/sites"), site)).await;
    assert_eq!(status, StatusCode::CREATED, "{site}");
    let people = [0, 1, 8, 9, 16, 17];
    let tubes: Vec<Value> = people
        .iter()
        .map(|n| serde_json::json!({"barcode": format!("DG{n:08}"), "site_id": site["id"], "resident_ids": [sample_id(*n)], "seal": true, "sampled_at": at}))
        .collect();
    let (status, _, report) =
        call(store, post_json(&officer, &format!("/api/v1/rounds/{id}/registrations"), serde_json::json!({"tubes": tubes}))).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert!(report["tubes"].as_array().unwrap().iter().all(|t| t["added"] == 1), "{report}");
    let lab_row = serde_json::json!({"name": "清源镇卫生院实验室", "area_code": "140121100", "daily_capacity": 5000});
    let (status, _, lab_row) = call(store, post_json(&officer, "/api/v1/labs", lab_row)).await;
    assert_eq!(status, StatusCode::CREATED, "{lab_row}");
    let results: Vec<Value> = people
        .iter()
        .map(|n| serde_json::json!({"barcode": format!("DG{n:08}"), "result": "negative", "at": at + chrono::Duration::hours(6)}))
        .collect();
    let (status, _, lines) =
        call(store, post_json(&lab, "/api/v1/results", serde_json::json!({"lab_id": lab_row["id"], "results": results}))).await;
    assert_eq!(status, StatusCode::OK, "{lines}");
}

#[tokio::test]
#[ignore = "browser test: needs chromium and chromedriver (scripts/test.sh installs them and runs it)"]
async fn a_zone_whose_conditions_hold_steps_down_and_is_lifted_and_its_people_pass_green() {
    let driver = chromedriver().await;
    for w in worlds("browser_zone_lift", 20).await {
        let store = &w.store;
        account(store, "gate2", Role::CheckpointOfficer, "140121100").await;
        let road = serde_json::json!({"name": "清源镇南路口", "kind": "road", "area_code": "140121100"});
        let (status, _, gate) = call(store, post_json(&w.commander, "/api/v1/checkpoints", road)).await;
        assert_eq!(status, StatusCode::CREATED, "{gate}");
        let resident = store.person_ids_by_documents(&[sample_id(0)]).await.unwrap()[&sample_id(0)];
        let addr = spawn_server(store.clone()).await;
        let client = browser(&driver).await;
        let kind = w.scratch.kind.as_str();
        let local = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&cordon_domain::local_offset()).format("%Y-%m-%dT%H:%M").to_string();
        let set_drawn_at = |value: String| {
            let client = &client;
            async move {
                let js = format!("document.querySelector('#zone-form input[name=drawn_at]').value = '{value}';");
                client.execute(&js, vec![]).await.unwrap();
            }
        };

        // Headquarters announced 东关村 high risk ten days ago; the commander enters it now. A time
        // ahead of now is refused and nothing is drawn.
        sign_in(&client, addr, "commander1", PASSWORD).await;
        menu(&client, "/zones").await;
        fill(&client, "#zone-form input[name=areas]", "东关村").await;
        fill(&client, "#zone-form input[name=reason]", "清徐-1 住所").await;
        set_drawn_at(local(chrono::Utc::now() + chrono::Duration::days(1))).await;
        click_and_wait(&client, "#zone-form button").await;
        assert!(text(&client, "p.message").await.ends_with("晚于现在"), "{}", text(&client, "p.message").await);
        client.goto(&format!("http://{addr}/zones")).await.unwrap();
        assert_eq!(text(&client, "#zone-counts").await, "目前没有生效的风险区域");
        fill(&client, "#zone-form input[name=areas]", "东关村").await;
        fill(&client, "#zone-form input[name=reason]", "清徐-1 住所").await;
        set_drawn_at(local(chrono::Utc::now() - chrono::Duration::days(10))).await;
        click_and_wait(&client, "#zone-form button").await;
        wait_for_url(&client, "the zone's page", |path, _| path.starts_with("/zones/")).await;
        let zone_page = client.current_url().await.unwrap().to_string();
        assert_eq!(text(&client, "#zone-kind").await, "高风险区");
        let conditions = text(&client, "table#conditions tbody").await;
        assert!(conditions.contains("连续7天无新增感染（已10天）"), "counted from the day it was drawn: {conditions}");
        assert_eq!(client.find_all(fantoccini::Locator::Css("table#conditions tbody tr.unmet")).await.unwrap().len(), 1, "{conditions}");

        // Its people are red, and the road checkpoint turns one back.
        client.goto(&format!("http://{addr}/persons/{resident}")).await.unwrap();
        assert_eq!(text(&client, "#health-code").await, "红码");
        sign_out(&client).await;
        sign_in(&client, addr, "gate2", PASSWORD).await;
        let gate_page = format!("http://{addr}/checkpoints/{}", gate["id"]);
        let check = || async {
            client.goto(&gate_page).await.unwrap();
            fill(&client, "#pass-form input[name=id_number]", &sample_id(0)).await;
            click_and_wait(&client, "#pass-form button").await;
            text(&client, "#verdict").await
        };
        assert_eq!(check().await, "劝返");
        sign_out(&client).await;

        // The village was tested whole on day 7, all negative: the commander confirms the step to
        // medium risk, which counts from day 7; three quiet days later (today) it steps to low.
        area_test_of_dongguan(&w, 3).await;
        sign_in(&client, addr, "commander1", PASSWORD).await;
        client.goto(&zone_page).await.unwrap();
        assert_eq!(text(&client, "#zone-earliest").await, "全部条件已满足，请指挥长确认");
        assert!(client.find_all(fantoccini::Locator::Css("table#conditions tbody tr.unmet")).await.unwrap().is_empty());
        click(&client, "#downgrade-form input[name=confirm]").await;
        click_and_wait(&client, "#downgrade-form button").await;
        assert_eq!(text(&client, "#zone-notice").await, "“东关村”已降为中风险区");
        assert_eq!(text(&client, "#zone-kind").await, "中风险区");
        client.goto(&format!("http://{addr}/persons/{resident}")).await.unwrap();
        assert_eq!(text(&client, "#health-code").await, "黄码", "medium risk: yellow");
        client.goto(&zone_page).await.unwrap();
        assert_eq!(text(&client, "#zone-earliest").await, "全部条件已满足，请指挥长确认");
        click(&client, "#downgrade-form input[name=confirm]").await;
        click_and_wait(&client, "#downgrade-form button").await;
        assert_eq!(text(&client, "#zone-kind").await, "低风险区");
        // No sealed or controlled zone is left in the county: lifted, with confirmation.
        fill(&client, "#lift-form input[name=note]", "解封").await;
        click(&client, "#lift-form input[name=confirm]").await;
        click_and_wait(&client, "#lift-form button").await;
        assert_eq!(text(&client, "#zone-notice").await, "“东关村”已解除");
        assert!(text(&client, "#zone-lifted").await.starts_with("解除时间"));
        let history = text(&client, "table#zone-history tbody").await;
        assert!(history.contains("解封"), "{history}");
        assert_eq!(client.find_all(fantoccini::Locator::Css("table#zone-history tbody tr")).await.unwrap().len(), 4);
        client.goto(&format!("http://{addr}/zones")).await.unwrap();
        assert_eq!(text(&client, "#zone-counts").await, "目前没有生效的风险区域");
        std::fs::write(screenshot_path(&format!("zone-lifted-{kind}.png")), client.screenshot().await.unwrap()).unwrap();

        // Back to green, every change kept; and the checkpoint lets the resident through.
        client.goto(&format!("http://{addr}/persons/{resident}")).await.unwrap();
        assert_eq!(text(&client, "#health-code").await, "绿码");
        click(&client, "#code-history summary").await;
        let changes = text(&client, "#code-history ul").await;
        assert!(changes.contains("绿码 → 红码") && changes.contains("红码 → 黄码") && changes.contains("黄码 → 绿码"), "{changes}");
        sign_out(&client).await;
        client.set_window_size(390, 844).await.unwrap();
        sign_in(&client, addr, "gate2", PASSWORD).await;
        assert_eq!(check().await, "通行");
        std::fs::write(screenshot_path(&format!("checkpoint-green-phone-{kind}.png")), client.screenshot().await.unwrap()).unwrap();
        client.close().await.unwrap();
        w.finish().await;
    }
}

/// The sample county's outlines as a civil-affairs file keys them: the county, its two
/// townships (padded to 12 digits) and four villages, as squares side by side — without
/// 徐沟镇's villages unless `all` (outlines come in piecemeal).
fn sample_boundaries(all: bool) -> String {
    let square = |adcode: &str, lon: f64, lat: f64, side: f64| {
        let (e, n) = (lon + side, lat + side);
        format!(
            r#"{{"type":"Feature","properties":{{"adcode":"{adcode}"}},"geometry":{{"type":"Polygon","coordinates":[[[{lon},{lat}],[{e},{lat}],[{e},{n}],[{lon},{n}],[{lon},{lat}]]]}}}}"#
        )
    };
    let features = [
        square("140121", 112.0, 37.0, 0.4),
        square("140121100000", 112.0, 37.0, 0.2),
        square("140121100201", 112.0, 37.0, 0.1),
        square("140121100202", 112.1, 37.0, 0.1),
        square("140121101000", 112.2, 37.0, 0.2),
        square("140121101201", 112.2, 37.0, 0.1),
        square("140121101202", 112.3, 37.0, 0.1),
    ];
    let features = if all { &features[..] } else { &features[..5] };
    format!("{{\"type\":\"FeatureCollection\",\"features\":[\r\n{}\r\n]}}", features.join(",\r\n"))
}

/// Draws 东关村 sealed and 徐沟镇 controlled over the API; answers the sealed zone's id.
async fn sealed_and_controlled(w: &World) -> i64 {
    let drawn = serde_json::json!({"kind": "sealed", "areas": ["140121100201"], "reason": "清徐-1 住所"});
    let (status, _, sealed) = call(&w.store, post_json(&w.commander, "/api/v1/zones", drawn)).await;
    assert_eq!(status, StatusCode::CREATED, "{sealed}");
    let drawn = serde_json::json!({"kind": "controlled", "areas": ["140121101"], "reason": "河东片区"});
    assert_eq!(call(&w.store, post_json(&w.commander, "/api/v1/zones", drawn)).await.0, StatusCode::CREATED);
    sealed["zone"]["id"].as_i64().unwrap()
}

/// Posts a boundary file to the import API as `token`.
fn boundary_upload(token: &str, body: Vec<u8>) -> Request<Body> {
    Request::post("/api/v1/imports/boundaries")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/geo+json")
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn a_commander_uploads_outlines_over_the_api_and_only_their_jurisdictions_are_taken() {
    for w in worlds("api_boundaries", 4).await {
        let store = &w.store;
        // 清源镇's commander: 徐沟镇 and the county are not theirs; GBK with CRLF reads.
        let local = account(store, "qy_chief", Role::Commander, "140121100").await;
        let file = encoding_rs::GBK.encode(&sample_boundaries(true).replace("adcode", "区划代码")).0.into_owned();
        let (status, _, report) = call(store, boundary_upload(&local, file.clone())).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!((report["features"].as_u64(), report["imported"].as_u64()), (Some(7), Some(3)), "{report}");
        let refused: Vec<(u64, &str)> = report["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["feature"].as_u64().unwrap(), p["refusal"]["kind"].as_str().unwrap()))
            .collect();
        assert_eq!(refused, [(1, "boundary.outside"), (5, "boundary.outside"), (6, "boundary.outside"), (7, "boundary.outside")]);
        assert_eq!(report["problems"][0]["reason"], "Area 140121 is outside your jurisdiction: not imported");
        let (_, _, map) = get(store, &local, "/api/v1/zones/map?area=140121100").await;
        assert_eq!(map["features"].as_array().map(Vec::len), Some(3), "{map}");
        // The county's commander takes them all; a file that is not GeoJSON changes nothing; an
        // investigator may not upload.
        let (status, _, report) = call(store, boundary_upload(&w.commander, file)).await;
        assert_eq!((status, report["imported"].as_u64()), (StatusCode::OK, Some(7)), "{report}");
        let (status, _, problem) = call(store, boundary_upload(&w.commander, b"id_number,name\r\n".to_vec())).await;
        assert_eq!((status, problem["kind"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("refused.boundary.not_json")), "{problem}");
        assert_eq!(call(store, boundary_upload(&w.township, sample_boundaries(true).into_bytes())).await.0, StatusCode::FORBIDDEN);
        let (_, _, map) = get(store, &w.commander, "/api/v1/zones/map").await;
        assert_eq!(map["features"].as_array().map(Vec::len), Some(7), "{map}");
        let filter = cordon_store::audit::AuditFilter { entity: Some("boundaries".into()), ..Default::default() };
        assert_eq!(store.audit_events(&filter, 10).await.unwrap().len(), 2, "each upload audited");
        w.finish().await;
    }
}

#[tokio::test]
async fn the_zone_map_api_answers_geojson_with_each_areas_zone_inside_the_jurisdiction() {
    for w in worlds("api_zone_map", 8).await {
        let store = &w.store;
        let done = store.import_boundaries(std::io::Cursor::new(sample_boundaries(true).into_bytes()), "sample").await.unwrap();
        assert_eq!((done.imported, done.problems.len()), (7, 0));
        let sealed = sealed_and_controlled(&w).await;
        let (status, _, map) = get(store, &w.commander, "/api/v1/zones/map").await;
        assert_eq!(status, StatusCode::OK, "{map}");
        assert_eq!(
            (map["type"].as_str(), map["area"].as_str(), map["without_boundary"].as_i64()),
            (Some("FeatureCollection"), Some("140121"), Some(0))
        );
        let feature = |code: &str| map["features"].as_array().unwrap().iter().find(|f| f["properties"]["code"] == code).cloned().unwrap();
        let east = feature("140121100201");
        assert_eq!(
            (east["properties"]["zone_id"].as_i64(), east["properties"]["label"].as_str()),
            (Some(sealed), Some("高风险区")),
            "{east}"
        );
        assert_eq!((east["properties"]["name"].as_str(), east["geometry"]["type"].as_str()), (Some("东关村"), Some("Polygon")));
        assert_eq!(feature("140121101202")["properties"]["kind"], "controlled");
        assert_eq!(
            (feature("140121100202")["properties"]["kind"].as_str(), feature("140121100")["properties"]["partly"].as_bool()),
            (None, Some(true))
        );
        // The township investigator sees their township; elsewhere is refused; a bad code says so.
        let (_, _, theirs) = get(store, &w.township, "/api/v1/zones/map").await;
        assert_eq!(theirs["features"].as_array().unwrap().len(), 3, "{theirs}");
        assert_eq!(get(store, &w.township, "/api/v1/zones/map?area=140121101").await.0, StatusCode::FORBIDDEN);
        assert_eq!(get(store, &w.commander, "/api/v1/zones/map?area=14012x").await.0, StatusCode::BAD_REQUEST);
        w.scratch.finish(w.store).await.unwrap();
    }
}

/// Clicks the map where longitude `lon` and latitude `lat` are drawn, as a person's mouse would.
async fn click_map_at(client: &fantoccini::Client, lon: f64, lat: f64) {
    point_map_at(client, lon, lat, true).await;
}

/// Moves the mouse onto the map at a longitude and latitude, and clicks there if `click`.
async fn point_map_at(client: &fantoccini::Client, lon: f64, lat: f64, click: bool) {
    use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
    let at = client
        .execute(
            "const el = document.getElementById('zone-map'); el.scrollIntoView({block: 'center'}); \
             const p = echarts.getInstanceByDom(el).convertToPixel({geoIndex: 0}, [arguments[0], arguments[1]]); \
             const r = el.getBoundingClientRect(); return [r.left + p[0], r.top + p[1]];",
            vec![serde_json::json!(lon), serde_json::json!(lat)],
        )
        .await
        .unwrap();
    let (x, y) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
    let mouse = MouseActions::new("mouse".into()).then(PointerAction::MoveTo { duration: None, x, y });
    let mouse = if click {
        mouse.then(PointerAction::Down { button: MOUSE_BUTTON_LEFT }).then(PointerAction::Up { button: MOUSE_BUTTON_LEFT })
    } else {
        mouse
    };
    client.perform_actions(mouse).await.unwrap();
}

/// Waits until the map has drawn, and answers how many areas it filled.
async fn drawn(client: &fantoccini::Client) -> String {
    let el = client.wait().for_element(fantoccini::Locator::Css("#zone-map[data-drawn]")).await.unwrap();
    el.attr("data-drawn").await.unwrap().unwrap()
}

#[tokio::test]
#[ignore = "browser test: needs chromium and chromedriver (scripts/test.sh installs them and runs it)"]
async fn the_commander_sees_the_zones_on_the_map_clicks_a_sealed_village_and_a_township_reads_its_own() {
    let driver = chromedriver().await;
    for w in worlds("browser_zone_map", 8).await {
        let kind = format!("{:?}", w.scratch.kind).to_lowercase();
        let addr = spawn_server(w.store.clone()).await;
        let client = browser(&driver).await;
        sign_in(&client, addr, "commander1", PASSWORD).await;
        // Before any outline is imported the map says how to get them, and the list still answers.
        client.goto(&format!("http://{addr}/zones/map")).await.unwrap();
        assert!(text(&client, "#map-empty").await.contains("GeoJSON"));
        // The commander uploads the file as it came (with a BOM) on the imports page; a feature
        // naming no registered area is listed with why, the rest taken.
        click_and_wait(&client, "#import-boundaries-link").await;
        let mut file = b"\xEF\xBB\xBF".to_vec();
        file.extend(sample_boundaries(false).replacen("\"140121101000\"", "\"140121199000\"", 1).into_bytes());
        let said = super::upload(&client, "import-boundaries", "qingxu.geojson", &file).await;
        assert!(said.contains("区划 140121199 不在区划库中"), "{said}");
        assert_eq!(text(&client, "#import-boundaries [data-count=stored]").await, "4");
        assert_eq!(text(&client, "#import-boundaries [data-count=refused]").await, "1");
        let said = super::upload(&client, "import-boundaries", "qingxu.geojson", sample_boundaries(false).as_bytes()).await;
        assert!(said.contains("导入完成"), "{said}");
        assert_eq!(text(&client, "#import-boundaries [data-count=stored]").await, "5", "again: replaced, and the township taken");
        let sealed = sealed_and_controlled(&w).await;

        // From the zones page to the map: 清源镇's two villages filled, and 徐沟镇 whole (its
        // villages have no outlines yet); the list beside it.
        menu(&client, "/zones").await;
        click_and_wait(&client, "#map-link").await;
        assert_eq!(drawn(&client).await, "3");
        assert!(text(&client, "#map-missing").await.contains('2'), "two villages have no outline");
        let legend = text(&client, "#map-legend").await;
        assert!(legend.contains("高风险区") && legend.contains("中风险区") && legend.contains("部分划入"), "{legend}");
        let qingyuan = text(&client, "#map-parts tr[data-area='140121100']").await;
        assert!(qingyuan.contains("清源镇") && qingyuan.contains("高风险区") && qingyuan.contains("部分划入"), "{qingyuan}");
        assert!(text(&client, "#map-parts tr[data-area='140121101']").await.contains("中风险区"));
        std::fs::write(screenshot_path(&format!("zone-map-{kind}.png")), client.screenshot().await.unwrap()).unwrap();

        // Pointing at 东关村 names it and its zone; a click opens the zone.
        point_map_at(&client, 112.05, 37.05, false).await;
        let mut tip = String::new();
        for _ in 0..40 {
            tip = client
                .execute("return document.getElementById('zone-map').innerText;", vec![])
                .await
                .unwrap()
                .as_str()
                .unwrap_or("")
                .to_string();
            if tip.contains("东关村") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(tip.contains("东关村") && tip.contains("高风险区") && !tip.contains("140121100201"), "the tooltip: {tip}");
        click_map_at(&client, 112.05, 37.05).await;
        wait_for_path(&client, &format!("/zones/{sealed}")).await;
        assert!(text(&client, "h1").await.contains("东关村"));

        // Drilled into 清源镇: its two villages; the way up.
        client.goto(&format!("http://{addr}/zones/map")).await.unwrap();
        click_and_wait(&client, "#map-parts a[href='/zones/map?area=140121100']").await;
        assert_eq!(drawn(&client).await, "2");
        assert!(text(&client, "#map-up").await.contains("清徐县"));
        // A mistyped area in the address is answered, not drawn.
        client.goto(&format!("http://{addr}/zones/map?area=1401x")).await.unwrap();
        assert!(client.find(fantoccini::Locator::Css("#zone-map")).await.is_err());

        // On a phone the map fits the screen and nothing scrolls sideways.
        client.set_window_size(390, 844).await.unwrap();
        client.goto(&format!("http://{addr}/zones/map")).await.unwrap();
        assert_eq!(drawn(&client).await, "3");
        let wide = client.execute("return document.documentElement.scrollWidth", vec![]).await.unwrap();
        assert!(wide.as_i64().unwrap() <= 390, "the page is {wide} px wide");
        std::fs::write(screenshot_path(&format!("zone-map-phone-{kind}.png")), client.screenshot().await.unwrap()).unwrap();
        client.set_window_size(1024, 900).await.unwrap();
        sign_out(&client).await;

        // 清源镇's investigator opens on their township, and 徐沟镇 is not theirs.
        sign_in(&client, addr, "tracer1", PASSWORD).await;
        client.goto(&format!("http://{addr}/zones/map")).await.unwrap();
        assert_eq!(drawn(&client).await, "2");
        assert!(text(&client, "h1").await.contains("清源镇"));
        client.goto(&format!("http://{addr}/zones/map?area=140121101")).await.unwrap();
        assert!(client.find(fantoccini::Locator::Css("#zone-map")).await.is_err());
        client.close().await.unwrap();
        w.scratch.finish(w.store).await.unwrap();
    }
}

/// The phone loses its signal: every request the page makes fails as offline (the real `fetch`
/// kept as `window.__fetch`, to be put back).
async fn lose_signal(client: &fantoccini::Client) {
    client
        .execute("window.__fetch = window.fetch; window.fetch = function () { return Promise.reject(new TypeError('offline')); };", vec![])
        .await
        .unwrap();
}
