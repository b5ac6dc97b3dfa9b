//! The command over the API and in a browser, on both backends: the incident's level, task
//! forces, and instructions with a clock per recipient.

use super::*;

#[tokio::test]
async fn an_instruction_goes_out_over_the_api_and_each_recipient_signs_reports_and_is_verified() {
    for w in worlds("api_command", 12).await {
        let store = &w.store;
        // Opening the incident, at level II; a level that is not one is said.
        let body = serde_json::json!({"name": "清徐县疫情处置", "area_code": "140121", "level": "II"});
        let (status, _, c) = call(store, post_json(&w.commander, "/api/v1/incidents", body)).await;
        assert_eq!((status, c["level"].as_str()), (StatusCode::CREATED, Some("II")), "{c}");
        let incident = c["incident_id"].as_i64().unwrap();
        let body = serde_json::json!({"level": "V", "reason": "x"});
        let (status, _, p) = call(store, post_json(&w.commander, &format!("/api/v1/incidents/{incident}/level"), body)).await;
        assert_eq!((status, p["field"].as_str()), (StatusCode::BAD_REQUEST, Some("level")), "{p}");
        let body = serde_json::json!({"level": "I", "reason": "新增本土阳性"});
        let (status, _, c) = call(store, post_json(&w.commander, &format!("/api/v1/incidents/{incident}/level"), body)).await;
        assert_eq!((status, c["levels"].as_array().map(Vec::len)), (StatusCode::OK, Some(2)), "{c}");
        // The township's investigator may not change it.
        let body = serde_json::json!({"level": "II", "reason": "x"});
        assert_eq!(
            call(store, post_json(&w.township, &format!("/api/v1/incidents/{incident}/level"), body)).await.0,
            StatusCode::FORBIDDEN
        );

        // A tracing task force led by the township's investigator.
        let tracer = store.user_by_name("tracer1").await.unwrap().unwrap().id;
        let body = serde_json::json!({"kind": "tracing", "lead_user_id": tracer});
        let (status, _, tf) = call(store, post_json(&w.commander, &format!("/api/v1/incidents/{incident}/task-forces"), body)).await;
        assert_eq!(
            (status, tf["name"].as_str(), tf["lead"]["username"].as_str()),
            (StatusCode::CREATED, Some("流调溯源专班"), Some("tracer1")),
            "{tf}"
        );
        let tf_id = tf["id"].as_i64().unwrap();

        // To 清源镇 and the task force, two hours; a deadline past and a recipient that is not one
        // are refused and nothing is stored.
        let deadline = chrono::Utc::now() + chrono::Duration::hours(2);
        let instruction = |deadline: chrono::DateTime<chrono::Utc>, recipients: Value| serde_json::json!({"title": "清源镇全员核酸", "body": "18时前完成", "deadline": deadline, "recipients": recipients});
        let to = serde_json::json!([{"kind": "area", "area_code": "140121100"}, {"kind": "task_force", "id": tf_id}]);
        let (status, _, p) =
            call(store, post_json(&w.commander, "/api/v1/instructions", instruction(deadline - chrono::Duration::hours(3), to.clone())))
                .await;
        assert_eq!((status, p["kind"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("refused.instr.deadline_past")), "{p}");
        let (status, _, p) =
            call(store, post_json(&w.commander, "/api/v1/instructions", instruction(deadline, serde_json::json!([{"kind": "group"}]))))
                .await;
        assert_eq!((status, p["field"].as_str()), (StatusCode::BAD_REQUEST, Some("recipients")), "{p}");
        let (_, _, list) = get(store, &w.commander, "/api/v1/instructions").await;
        assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "{list}");
        let (status, _, issued) = call(store, post_json(&w.commander, "/api/v1/instructions", instruction(deadline, to))).await;
        assert_eq!((status, issued["recipient_count"].as_i64()), (StatusCode::CREATED, Some(2)), "{issued}");
        let id = issued["id"].as_i64().unwrap();

        // On the clocks board: two instructions' recipients open, none due yet.
        let (status, _, clocks) = get(store, &w.commander, "/api/v1/clocks").await;
        let open: i64 =
            clocks.as_array().unwrap().iter().filter(|c| c["clock"] == "instruction").map(|c| c["open"].as_i64().unwrap()).sum();
        assert_eq!((status, open), (StatusCode::OK, 2), "{clocks}");
        assert_eq!(get(store, &w.township, "/api/v1/clocks").await.0, StatusCode::FORBIDDEN);
        // The investigator is told once, and acts for both (the township, the task force).
        let (_, _, notices) = get(store, &w.township, "/api/v1/notices").await;
        assert_eq!(notices.as_array().map(Vec::len), Some(1), "{notices}");
        assert_eq!(notices[0]["kind"], "assigned");
        let (_, _, detail) = get(store, &w.township, &format!("/api/v1/instructions/{id}")).await;
        assert_eq!(detail["recipient_count"].as_i64(), Some(2), "the count and the list apart: {detail}");
        let recipients = detail["recipients"].as_array().unwrap().clone();
        assert!(recipients.iter().all(|r| r["yours"] == true && r["state"] == "issued" && r["clock"] == "running"), "{detail}");
        assert_eq!(detail["may_verify"], false);
        let rid = recipients.iter().find(|r| r["kind"] == "area").unwrap()["id"].as_i64().unwrap();
        let act = |a: &str| format!("/api/v1/instructions/{id}/recipients/{rid}/{a}");
        // Done before signing is refused; signing needs no body.
        let (status, _, p) = call(store, post_json(&w.township, &act("done"), serde_json::json!({"note": "完成"}))).await;
        assert_eq!((status, p["kind"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("refused.instr.receive_first")), "{p}");
        let req = Request::post(act("receive")).header("authorization", format!("Bearer {}", w.township)).body(Body::empty()).unwrap();
        let (status, _, after) = call(store, req).await;
        assert_eq!(status, StatusCode::OK, "{after}");
        let (status, _, after) =
            call(store, post_json(&w.township, &act("done"), serde_json::json!({"note": "已采 4 个村 11,931 人"}))).await;
        let r = after["recipients"].as_array().unwrap().iter().find(|r| r["id"] == rid).cloned().unwrap();
        assert_eq!((status, r["state"].as_str(), r["clock"].as_str()), (StatusCode::OK, Some("done"), Some("done_on_time")), "{after}");
        // The recipient cannot verify; the commander can, once.
        let (status, _, p) = call(store, post_json(&w.township, &act("verify"), serde_json::json!({}))).await;
        assert_eq!((status, p["kind"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("refused.instr.not_issuer")), "{p}");
        let (status, _, after) = call(store, post_json(&w.commander, &act("verify"), serde_json::json!({}))).await;
        assert_eq!(status, StatusCode::OK, "{after}");
        let (status, _, p) = call(store, post_json(&w.commander, &act("verify"), serde_json::json!({}))).await;
        assert_eq!((status, p["kind"].as_str()), (StatusCode::CONFLICT, Some("refused.instr.bad_act")), "{p}");

        // The board counts by state; the task force's filter finds it; limit is bounded.
        let (_, _, list) = get(store, &w.commander, &format!("/api/v1/instructions?task_force_id={tf_id}")).await;
        let by_state: Vec<(String, i64)> = list["items"][0]["by_state"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["count"].as_i64() > Some(0))
            .map(|s| (s["state"].as_str().unwrap().to_string(), s["count"].as_i64().unwrap()))
            .collect();
        assert_eq!(by_state, vec![("issued".to_string(), 1), ("verified".to_string(), 1)], "{list}");
        assert_eq!(get(store, &w.commander, "/api/v1/instructions?limit=500").await.0, StatusCode::BAD_REQUEST);
        let (_, _, read) = call(store, post_json(&w.township, "/api/v1/notices/read", serde_json::json!({}))).await;
        assert_eq!(read["read"].as_u64(), Some(1), "{read}");

        // The timeline: what was recorded, with an entry typed in, said in Chinese beside.
        let uri = format!("/api/v1/incidents/{incident}/timeline");
        let at = chrono::Utc::now() - chrono::Duration::minutes(10);
        let (status, _, entry) =
            call(store, post_json(&w.commander, &uri, serde_json::json!({"at": at, "text": "指挥部召开调度会"}))).await;
        assert_eq!((status, entry["zh"].as_str()), (StatusCode::CREATED, Some("指挥部召开调度会（commander1同志 记）")), "{entry}");
        let (status, _, p) = call(store, post_json(&w.commander, &uri, serde_json::json!({"text": ""}))).await;
        assert_eq!((status, p["kind"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("refused.timeline.empty")), "{p}");
        let (status, _, lines) = get(store, &w.commander, &uri).await;
        let kinds: Vec<&str> = lines.as_array().unwrap().iter().map(|l| l["kind"].as_str().unwrap()).collect();
        assert_eq!(status, StatusCode::OK, "{lines}");
        assert_eq!(
            kinds,
            vec!["entry", "incident_opened", "level_changed", "level_changed", "task_forces", "instruction_issued"],
            "typed as having happened before the response opened: {lines}"
        );
        assert_eq!(lines[3]["zh"], "响应级别调整为一级：新增本土阳性", "{lines}");
        let (_, _, only) = get(store, &w.commander, &format!("{uri}?kind=task_forces")).await;
        assert_eq!(only[0]["zh"], "成立 1 个工作专班：流调溯源专班", "{only}");
        assert_eq!(get(store, &w.commander, &format!("{uri}?date=13/04/2022")).await.0, StatusCode::BAD_REQUEST);
        assert_eq!(get(store, &w.township, &uri).await.0, StatusCode::FORBIDDEN, "the headquarters' timeline");
        w.finish().await;
    }
}

#[tokio::test]
#[ignore = "browser test: needs chromium and chromedriver (scripts/test.sh installs them and runs it)"]
async fn the_commander_forms_task_forces_and_fans_an_instruction_out_to_every_village_which_signs_on_a_phone() {
    let driver = chromedriver().await;
    for w in worlds("browser_command", 12).await {
        let kind = format!("{:?}", w.scratch.kind).to_lowercase();
        let addr = spawn_server(w.store.clone()).await;
        let client = browser(&driver).await;
        sign_in(&client, addr, "commander1", PASSWORD).await;

        // No incident yet: the commander opens one, at level II.
        menu(&client, "/command").await;
        fill(&client, "#open-form input[name=name]", "清徐县4·13疫情处置").await;
        client.find(fantoccini::Locator::Css("#open-form select[name=level] option[value=II]")).await.unwrap().click().await.unwrap();
        click_and_wait(&client, "#open-form button[type=submit]").await;
        assert!(text(&client, "#command-notice").await.contains("已启动清徐县4·13疫情处置"));
        assert_eq!(text(&client, "#level").await, "二级");
        // The usual task forces in one click; the township's investigator leads tracing.
        click_and_wait(&client, "#defaults-form button").await;
        assert!(text(&client, "#command-notice").await.contains("已成立 8 个专班"));
        let tracing = "#task-force-list tr:nth-child(2)";
        assert!(text(&client, &format!("{tracing} td:first-child")).await.contains("流调溯源专班"));
        click(&client, &format!("{tracing} details.fold summary")).await;
        client
            .find(fantoccini::Locator::Css(&format!("{tracing} select[name=user_id] option:nth-child(2)")))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        click(&client, &format!("{tracing} input[name=lead]")).await;
        click_and_wait(&client, &format!("{tracing} .add-member button")).await;
        assert!(text(&client, &format!("{tracing} td:nth-child(2)")).await.contains("tracer1同志"));
        // Raising the level asks for the confirmation box; with it, the level and its history.
        client.find(fantoccini::Locator::Css("#level-form select[name=level] option[value=I]")).await.unwrap().click().await.unwrap();
        fill(&client, "#level-form input[name=reason]", "新增本土阳性3例").await;
        click(&client, "#level-form button[type=submit]").await;
        assert!(client.current_url().await.unwrap().path() == "/command", "the browser keeps the form until it is confirmed");
        click(&client, "#level-form input[name=confirm]").await;
        click_and_wait(&client, "#level-form button[type=submit]").await;
        assert_eq!(text(&client, "#level").await, "一级");
        assert!(text(&client, "#levels").await.contains("新增本土阳性3例"));
        std::fs::write(screenshot_path(&format!("command-{kind}.png")), client.screenshot().await.unwrap()).unwrap();

        // An instruction to nobody is refused, saying why; then to every village of 清源镇.
        menu(&client, "/instructions").await;
        fill(&client, "#issue-form input[name=title]", "清源镇各村今日全员核酸").await;
        click(&client, "#issue-form button[type=submit]").await;
        assert!(text(&client, "p.message").await.contains("请至少选择一个承办单位"));
        click(&client, "#back-to-form").await;
        fill(&client, "#issue-form input[name=title]", "清源镇各村今日全员核酸").await;
        fill(&client, "#issue-form input[name=areas]", "清源镇").await;
        click(&client, "#issue-form input[name=children]").await;
        click_and_wait(&client, "#issue-form button[type=submit]").await;
        let villages = w.store.area_children(&AreaCode::parse("140121100").unwrap()).await.unwrap().len();
        assert!(villages >= 2);
        assert!(text(&client, "#instr-notice").await.contains(&format!("共 {villages} 个承办单位")));
        assert!(text(&client, "#summary").await.contains(&format!("待签收 {villages}")));
        let instruction_path = client.current_url().await.unwrap().path().to_string();
        sign_out(&client).await;

        // The township's investigator, on a phone: told, signs for the first village and
        // reports it done.
        client.set_window_size(390, 844).await.unwrap();
        sign_in(&client, addr, "tracer1", PASSWORD).await;
        menu(&client, "/instructions").await;
        assert_eq!(text(&client, "#unread").await, "1", "told once of the instruction, not once per village");
        assert!(text(&client, "#notices").await.contains("清源镇各村今日全员核酸"));
        click_and_wait(&client, "#notices li:first-child a").await;
        wait_for_path(&client, &instruction_path).await;
        // Every village at once.
        assert!(text(&client, "#receive-all").await.contains(&format!("全部签收（{villages} 个）")));
        click_and_wait(&client, "#receive-all button").await;
        assert!(text(&client, "#instr-notice").await.contains(&format!("已签收 {villages} 个")));
        assert_eq!(text(&client, "#recipients tbody tr:first-child .state").await, "已签收");
        assert!(text(&client, "#summary").await.contains(&format!("已签收 {villages}")));
        fill(&client, "#recipients tbody tr:first-child form.done input[name=note]", "全村 1,204 人已采样").await;
        click_and_wait(&client, "#recipients tbody tr:first-child form.done button").await;
        assert_eq!(text(&client, "#recipients tbody tr:first-child .state").await, "已办结待核验");
        assert_eq!(text(&client, "#recipients tbody tr:first-child .acted").await, "已办结", "said where the officer looks");
        assert!(text(&client, "#recipients tbody tr:first-child").await.contains("按时办结"));
        std::fs::write(screenshot_path(&format!("instruction-phone-{kind}.png")), client.screenshot().await.unwrap()).unwrap();
        sign_out(&client).await;
        client.set_window_size(1024, 900).await.unwrap();

        // The commander is told and verifies; the board shows the count by state.
        sign_in(&client, addr, "commander1", PASSWORD).await;
        menu(&client, "/instructions").await;
        assert!(text(&client, "#notices").await.contains("待核验"));
        assert!(text(&client, "#instructions").await.contains(&format!("已签收 {}", villages - 1)));
        client.goto(&format!("http://{addr}{instruction_path}")).await.unwrap();
        click_and_wait(&client, "#recipients tbody tr:first-child form.verify button").await;
        assert_eq!(text(&client, "#recipients tbody tr:first-child .state").await, "已核验");
        std::fs::write(screenshot_path(&format!("instruction-{kind}.png")), client.screenshot().await.unwrap()).unwrap();

        // The clocks board: the instruction's open villages, counted under 清源镇.
        menu(&client, "/clocks").await;
        let row = text(&client, "#clocks tr[data-clock=instruction]").await;
        assert!(row.contains(&format!("指令办理 {}", villages - 1)), "{row}");
        assert!(text(&client, "#clocks-by-area").await.contains("清源镇"));
        // Each clock opens a board the commander may open: the lab's clock the round's coverage
        // (the lab's own page is the lab's), the round's clock the latest round.
        for (clock, board) in [("lab_turnaround", "/coverage"), ("round_deadline", "/coverage"), ("positive_to_hospital", "/dispatch")] {
            let a = client.find(fantoccini::Locator::Css(&format!("#clocks tr[data-clock={clock}] a"))).await.unwrap();
            assert_eq!(a.attr("href").await.unwrap().as_deref(), Some(board), "{clock}");
        }
        // On a phone each township's figure carries its clock's name.
        let cell = client.find(fantoccini::Locator::Css("#clocks-by-area tbody td:nth-child(2)")).await.unwrap();
        assert_eq!(cell.attr("data-label").await.unwrap().as_deref(), Some("阳性转运（2小时）"));
        std::fs::write(screenshot_path(&format!("clocks-{kind}.png")), client.screenshot().await.unwrap()).unwrap();

        // The day on the timeline; an entry typed in; filtered to the task forces.
        menu(&client, "/timeline").await;
        let day = text(&client, "#timeline").await;
        for said in [
            "启动应急响应：清徐县4·13疫情处置",
            "响应级别调整为一级：新增本土阳性3例",
            "成立 8 个工作专班",
            "下达指令：清源镇各村今日全员核酸",
        ] {
            assert!(day.contains(said), "{said} in {day}");
        }
        fill(&client, "#entry-form input[name=text]", "指挥部召开第一次调度会").await;
        click_and_wait(&client, "#entry-form button[type=submit]").await;
        assert!(text(&client, "#timeline").await.contains("指挥部召开第一次调度会（commander1同志 记）"));
        client
            .find(fantoccini::Locator::Css("#timeline-filter select[name=kind] option[value=task_forces]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        click_and_wait(&client, "#timeline-filter button[type=submit]").await;
        assert_eq!(client.find_all(fantoccini::Locator::Css("#timeline tbody tr")).await.unwrap().len(), 1);
        client.set_window_size(390, 844).await.unwrap();
        client.goto(&format!("http://{addr}/timeline")).await.unwrap();
        std::fs::write(screenshot_path(&format!("timeline-phone-{kind}.png")), client.screenshot().await.unwrap()).unwrap();
        client.close().await.unwrap();
        w.finish().await;
    }
}
