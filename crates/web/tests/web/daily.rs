//! The daily report over the API and in a browser, on both backends: the day's figures from
//! the records, each figure's records, signing, a correction with its differences, the xlsx.

use super::*;

/// Runs one statement on a direct connection, outside the product (moves a record's time).
async fn raw(s: &Scratch, sql: &str) {
    use sqlx::Connection;
    let q = sqlx::AssertSqlSafe(sql);
    match s.kind {
        cordon_store::BackendKind::Sqlite => {
            sqlx::query(q).execute(&mut sqlx::SqliteConnection::connect(&s.url).await.unwrap()).await.unwrap();
        }
        cordon_store::BackendKind::Postgres => {
            sqlx::query(q).execute(&mut sqlx::PgConnection::connect(&s.url).await.unwrap()).await.unwrap();
        }
    }
}

/// Yesterday (local), the day a morning's report is of.
fn yesterday() -> chrono::NaiveDate {
    cordon_domain::local_date(chrono::Utc::now()).pred_opt().unwrap()
}

/// A case reported yesterday at 10:00 local: made through the API, its report time moved back
/// (as a case entered late would stand).
async fn case_yesterday(w: &World, number: &str, area: &str, class: &str) -> i64 {
    case_on(w, number, area, class, 1).await
}

/// A case reported `days_ago` days ago at 10:00 local.
async fn case_on(w: &World, number: &str, area: &str, class: &str, days_ago: i64) -> i64 {
    // The county's epidemiologist enters it.
    let token = match w.store.user_by_name("epi1").await.unwrap() {
        Some(_) => w.store.create_api_token(&Actor::system("test"), "epi1", "again").await.unwrap().1,
        None => account(&w.store, "epi1", Role::Investigator, "140121").await,
    };
    let body = serde_json::json!({"number": number, "area_code": area, "classification": class, "how_found": "mass_testing"});
    let (status, _, c) = call(&w.store, post_json(&token, "/api/v1/cases", body)).await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    let id = c["id"].as_i64().unwrap();
    let day = cordon_domain::local_date(chrono::Utc::now()) - chrono::Duration::days(days_ago);
    let at = cordon_domain::from_local(day.and_hms_opt(10, 0, 0).unwrap());
    let at = at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false);
    raw(&w.scratch, &format!("UPDATE cases SET created_at = '{at}' WHERE id = {id}")).await;
    id
}

fn figure(report: &Value, row: usize, field: &str) -> i64 {
    report["rows"][row]["figures"][field].as_i64().unwrap_or_else(|| panic!("{field} in {report}"))
}

#[tokio::test]
async fn the_daily_report_over_the_api_counts_signs_freezes_and_corrects() {
    for w in worlds("api_daily", 8).await {
        let store = &w.store;
        let viewer = account(store, "viewer1", Role::Viewer, "140121").await;
        let body = serde_json::json!({"name": "清徐县疫情处置", "area_code": "140121", "level": "I"});
        let (status, _, c) = call(store, post_json(&w.commander, "/api/v1/incidents", body)).await;
        assert_eq!(status, StatusCode::CREATED, "{c}");
        let incident = c["incident_id"].as_i64().unwrap();
        let first = case_yesterday(&w, "清徐-1", "140121100201", "confirmed").await;
        case_yesterday(&w, "清徐-2", "140121101201", "asymptomatic").await;
        let day = yesterday().to_string();

        // Live: the county, then 清源镇 and 徐沟镇.
        let (status, _, r) = get(store, &w.commander, &format!("/api/v1/reports/daily?date={day}")).await;
        assert_eq!((status, r["status"].as_str(), r["closed"].as_bool()), (StatusCode::OK, Some("live"), Some(true)), "{r}");
        let names: Vec<&str> = r["rows"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap()).collect();
        assert_eq!(names, vec!["清徐县", "清源镇", "徐沟镇"]);
        assert_eq!(
            (figure(&r, 0, "new_confirmed_local"), figure(&r, 1, "new_confirmed_local"), figure(&r, 2, "new_confirmed_local")),
            (1, 1, 0)
        );
        assert_eq!((figure(&r, 0, "new_asymptomatic_local"), figure(&r, 2, "new_asymptomatic_local")), (1, 1));
        assert_eq!(figure(&r, 0, "new_local_community"), 2);
        // The figure's records: the case, leading to it.
        let (status, _, list) =
            get(store, &viewer, &format!("/api/v1/reports/daily/records?date={day}&area=140121100&field=new_confirmed_local")).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(list[0]["label"].as_str(), Some("清徐-1"));
        assert_eq!(list[0]["link"].as_str(), Some(format!("/cases/{first}").as_str()));
        // Mistyped asks are said and change nothing.
        for (uri, status) in [
            ("/api/v1/reports/daily?date=2022-13-45".to_string(), StatusCode::BAD_REQUEST),
            (format!("/api/v1/reports/daily?date={day}&cutoff=0"), StatusCode::UNPROCESSABLE_ENTITY),
            (format!("/api/v1/reports/daily?date={day}&area=14"), StatusCode::FORBIDDEN),
            (format!("/api/v1/reports/daily/records?date={day}&field=nope"), StatusCode::BAD_REQUEST),
        ] {
            assert_eq!(get(store, &w.commander, &uri).await.0, status, "{uri}");
        }
        // The township's investigator reads no report; the observer reads but does not sign;
        // today is not over.
        assert_eq!(get(store, &w.township, &format!("/api/v1/reports/daily?date={day}")).await.0, StatusCode::FORBIDDEN);
        let sign = |date: &str, reason: &str| serde_json::json!({"date": date, "area": "140121", "reason": reason});
        assert_eq!(call(store, post_json(&viewer, "/api/v1/reports/daily/sign", sign(&day, ""))).await.0, StatusCode::FORBIDDEN);
        let today = cordon_domain::local_date(chrono::Utc::now()).to_string();
        let (status, _, p) = call(store, post_json(&w.commander, "/api/v1/reports/daily/sign", sign(&today, ""))).await;
        assert_eq!((status, p["kind"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("refused.report.open")), "{p}");

        // Signed, frozen; a case entered late shows as a difference, not in the signed figures.
        let (status, _, v1) = call(store, post_json(&w.commander, "/api/v1/reports/daily/sign", sign(&day, ""))).await;
        assert_eq!((status, v1["version"].as_i64()), (StatusCode::CREATED, Some(1)), "{v1}");
        case_yesterday(&w, "清徐-3", "140121100202", "confirmed").await;
        let (_, _, r) = get(store, &viewer, &format!("/api/v1/reports/daily?date={day}&area=140121")).await;
        assert_eq!(
            (r["status"].as_str(), r["version"].as_i64(), figure(&r, 0, "new_confirmed_local")),
            (Some("signed"), Some(1), 1),
            "{r}"
        );
        let moved = r["live_differences"].as_array().unwrap();
        assert!(
            moved
                .iter()
                .any(|d| d["area_code"] == "140121100" && d["field"] == "new_confirmed_local" && d["before"] == 1 && d["after"] == 2),
            "{r}"
        );
        let (status, _, p) = call(store, post_json(&w.commander, "/api/v1/reports/daily/sign", sign(&day, ""))).await;
        assert_eq!((status, p["kind"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("refused.report.reason")), "{p}");
        let (status, _, v2) = call(store, post_json(&w.commander, "/api/v1/reports/daily/sign", sign(&day, "补报清源镇病例1例"))).await;
        assert_eq!((status, v2["version"].as_i64()), (StatusCode::CREATED, Some(2)), "{v2}");
        let (_, _, versions) = get(store, &viewer, &format!("/api/v1/reports/daily/versions?date={day}")).await;
        assert_eq!(versions.as_array().map(Vec::len), Some(2), "{versions}");
        assert_eq!(versions[0]["differences"].as_array().map(Vec::len), Some(0));
        assert!(
            versions[1]["differences"].as_array().unwrap().iter().any(|d| d["field"] == "cumulative_confirmed" && d["after"] == 2),
            "{versions}"
        );
        // The signatures on the incident's timeline.
        let (_, _, timeline) = get(store, &w.commander, &format!("/api/v1/incidents/{incident}/timeline?kind=report_signed")).await;
        assert_eq!(timeline.as_array().map(Vec::len), Some(2), "{timeline}");
        assert!(
            timeline[1]["zh"].as_str().unwrap().contains("签发清徐县") && timeline[1]["zh"].as_str().unwrap().contains("第 2 版"),
            "{timeline}"
        );

        // The workbook: the figures in their cells, read back.
        let req = Request::get(format!("/reports/daily.xlsx?date={day}&area=140121"))
            .header("authorization", format!("Bearer {}", w.commander))
            .body(Body::empty())
            .unwrap();
        let res = cordon_web::app(store.clone()).oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        use calamine::Reader as _;
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("an xlsx");
        let sheet = book.worksheet_range("日报").expect("the sheet");
        let cell = |r: u32, c: u32| sheet.get_value((r, c)).map(|v| v.to_string()).unwrap_or_default();
        assert_eq!(cell(0, 0), format!("清徐县新冠肺炎疫情日报（{day}）"));
        assert!(cell(1, 0).contains("第 2 版"), "{}", cell(1, 0));
        assert_eq!((cell(3, 1), cell(3, 2), cell(3, 3)), ("清徐县".into(), "清源镇".into(), "徐沟镇".into()));
        let row = (0..60).find(|r| cell(*r, 0) == "新增本土确诊病例").expect("the row of new local confirmed");
        assert_eq!(sheet.get_value((row, 1)), Some(&calamine::Data::Float(2.0)));
        assert_eq!(sheet.get_value((row, 2)), Some(&calamine::Data::Float(2.0)));
        assert_eq!(sheet.get_value((row, 3)), Some(&calamine::Data::Float(0.0)));
        // The observer's page has no signing form.
        let (status, html) = page_html(store, &viewer, &format!("/reports/daily?date={day}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("已签发") && !html.contains("sign-form"), "the observer reads only");
        w.finish().await;
    }
}

#[tokio::test]
async fn the_big_screen_draws_the_curve_and_rt_once_twelve_cases_have_accumulated() {
    for w in worlds("api_screen", 4).await {
        let store = &w.store;
        let body = serde_json::json!({"name": "清徐县疫情处置", "area_code": "140121", "level": "I"});
        assert_eq!(call(store, post_json(&w.commander, "/api/v1/incidents", body)).await.0, StatusCode::CREATED);
        // Eleven cases over eight days to the day before yesterday, two today: no Rt yet (a 7-day
        // window needs 8 days and 12 cases, to yesterday — today is only partly over).
        let per_day = [(9, 1), (8, 1), (7, 1), (6, 1), (5, 1), (4, 1), (3, 2), (2, 3), (0, 2)];
        let mut n = 0;
        for (ago, count) in per_day {
            for _ in 0..count {
                n += 1;
                case_on(&w, &format!("清徐-{n}"), "140121100201", "confirmed", ago).await;
            }
        }
        let (status, _, s) = get(store, &w.commander, "/api/v1/screen").await;
        assert_eq!(status, StatusCode::OK, "{s}");
        assert_eq!(s["area_name"].as_str(), Some("清徐县"));
        let days = s["curve_by_report"]["days"].as_array().unwrap();
        assert_eq!(days.len(), 10, "nine days ago to today: {s}");
        let community: Vec<i64> =
            s["curve_by_report"]["series"]["community"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
        assert_eq!(community, vec![1, 1, 1, 1, 1, 1, 2, 3, 0, 2]);
        assert_eq!(s["rt"].as_array().map(Vec::len), Some(0), "eleven cases: no Rt");
        assert!(s["growth"]["rate"].as_f64().unwrap() > 0.0, "{s}");
        // Two more yesterday: twelve reached, Rt with its interval for the window ending yesterday.
        for _ in 0..2 {
            n += 1;
            case_on(&w, &format!("清徐-{n}"), "140121100202", "confirmed", 1).await;
        }
        let (_, _, s) = get(store, &w.commander, "/api/v1/screen").await;
        let rt = s["rt"].as_array().unwrap();
        assert_eq!(rt.len(), 1, "{s}");
        let last = rt.last().unwrap();
        assert!(last["lower"].as_f64() < last["mean"].as_f64() && last["mean"].as_f64() < last["upper"].as_f64(), "{last}");
        assert_eq!(last["date"].as_str(), days[days.len() - 2].as_str());
        // The township's investigator has no screen.
        assert_eq!(get(store, &w.township, "/api/v1/screen").await.0, StatusCode::FORBIDDEN);
        w.finish().await;
    }
}

#[tokio::test]
#[ignore = "browser test: needs chromium and chromedriver (scripts/test.sh installs them and runs it)"]
async fn the_commander_opens_yesterdays_report_follows_a_figure_signs_it_and_signs_a_correction() {
    let driver = chromedriver().await;
    for w in worlds("browser_daily", 8).await {
        let kind = format!("{:?}", w.scratch.kind).to_lowercase();
        let body = serde_json::json!({"name": "清徐县疫情处置", "area_code": "140121", "level": "I"});
        assert_eq!(call(&w.store, post_json(&w.commander, "/api/v1/incidents", body)).await.0, StatusCode::CREATED);
        case_yesterday(&w, "清徐-1", "140121100201", "confirmed").await;
        let addr = spawn_server(w.store.clone()).await;
        let client = browser(&driver).await;
        sign_in(&client, addr, "commander1", PASSWORD).await;

        // From the menu: yesterday's report, live, one new local case in 清源镇.
        menu(&client, "/reports/daily").await;
        assert!(text(&client, "#daily-title").await.contains(&format!("清徐县新冠肺炎疫情日报（{}）", yesterday())));
        assert_eq!(text(&client, "#daily-status").await, "未签发");
        let cell = "#daily-figures tr[data-field=new_confirmed_local] td:nth-child(3) a";
        assert_eq!(text(&client, cell).await, "1");
        std::fs::write(screenshot_path(&format!("daily-live-{kind}.png")), client.screenshot().await.unwrap()).unwrap();
        // The figure opens the case it counts.
        click_and_wait(&client, cell).await;
        assert!(text(&client, "#daily-records").await.contains("清徐-1"));
        assert_eq!(text(&client, "#records-total").await, "1");
        click_and_wait(&client, "#records-back").await;

        // Signing asks for the confirmation; then version 1, frozen.
        click(&client, "#sign-form button[type=submit]").await;
        assert_eq!(client.current_url().await.unwrap().path(), "/reports/daily", "the browser keeps the form until it is confirmed");
        click(&client, "#sign-form input[name=confirm]").await;
        click_and_wait(&client, "#sign-form button[type=submit]").await;
        assert!(text(&client, "#daily-notice").await.contains("已签发第 1 版"));
        assert_eq!(text(&client, "#daily-status").await, "已签发");
        assert!(text(&client, "#daily-standing").await.contains("commander1同志"));

        // A case entered late: the page says what changed; a correction with its reason.
        case_yesterday(&w, "清徐-2", "140121100202", "confirmed").await;
        client.refresh().await.unwrap();
        assert_eq!(text(&client, cell).await, "1", "the signed figure stays");
        assert!(text(&client, "#daily-live-changes").await.contains("新增本土确诊病例"));
        fill(&client, "#sign-form input[name=reason]", "补报清源镇病例1例").await;
        click(&client, "#sign-form input[name=confirm]").await;
        click_and_wait(&client, "#sign-form button[type=submit]").await;
        assert!(text(&client, "#daily-notice").await.contains("已签发第 2 版"));
        assert_eq!(text(&client, cell).await, "2");
        let versions = text(&client, "#daily-versions").await;
        assert!(versions.contains("补报清源镇病例1例") && versions.contains("清源镇 新增本土确诊病例：1 → 2"), "{versions}");
        std::fs::write(screenshot_path(&format!("daily-{kind}.png")), client.screenshot().await.unwrap()).unwrap();

        // Today's report so far, to the last hour passed, closed and so signable (past the
        // day's first hour).
        let link = client.find(fantoccini::Locator::Css("#daily-today")).await.is_ok();
        // None in the day's first hour (now, or a moment ago when the page was drawn).
        let now = chrono::Utc::now();
        let first_hour =
            [now, now - chrono::Duration::minutes(10)].iter().any(|t| cordon_domain::report::passed_cutoff_today(*t).is_none());
        assert!(link || first_hour, "a link to today's report so far");
        if link {
            click_and_wait(&client, "#daily-today").await;
            // The day and hour as the link gave them (the clock may have moved on since).
            let url = client.current_url().await.unwrap();
            let asked = |key: &str| url.query_pairs().find(|(k, _)| k == key).unwrap().1.to_string();
            let (today, hour): (String, u32) = (asked("date"), asked("cutoff").parse().unwrap());
            assert!(text(&client, "#daily-title").await.contains(&today.to_string()));
            assert!(text(&client, "#daily-standing").await.contains(&format!("{today} {hour:02}:00")));
            assert!(client.find(fantoccini::Locator::Css("#sign-form")).await.is_ok(), "today to {hour}:00 can be signed");
            assert!(client.find(fantoccini::Locator::Css("#daily-today")).await.is_err(), "no link to itself");
        }
        // A mistyped day in the address is said, not guessed.
        client.goto(&format!("http://{addr}/reports/daily?date=2022-02-30")).await.unwrap();
        assert!(text(&client, "p.message").await.contains("无法识别"));
        // The big screen, at its size: alive, with the case on the curve.
        client.set_window_size(1920, 1080).await.unwrap();
        menu(&client, "/screen").await;
        assert_eq!(text(&client, "#screen-title").await, "清徐县疫情防控指挥大屏");
        assert!(text(&client, "#tiles").await.contains("新增本土确诊病例"));
        assert!(text(&client, "#rt-now").await.contains("不足12例"));
        assert!(client.find(fantoccini::Locator::Css("#chart-curve canvas")).await.is_ok(), "the curve is drawn");
        assert!(text(&client, "#screen-updated").await.starts_with("更新于"));
        // It is the window: nothing below it to scroll to.
        let fits = client.execute("return document.documentElement.scrollHeight <= window.innerHeight + 1", vec![]).await.unwrap();
        let tall = client.execute("return [document.documentElement.scrollHeight, window.innerHeight]", vec![]).await.unwrap();
        assert_eq!(fits, serde_json::json!(true), "page and window heights {tall}");
        std::fs::write(screenshot_path(&format!("screen-{kind}.png")), client.screenshot().await.unwrap()).unwrap();
        // On a phone.
        client.set_window_size(390, 844).await.unwrap();
        client.goto(&format!("http://{addr}/reports/daily")).await.unwrap();
        assert_eq!(text(&client, "#daily-status").await, "已签发");
        std::fs::write(screenshot_path(&format!("daily-phone-{kind}.png")), client.screenshot().await.unwrap()).unwrap();
        client.close().await.unwrap();
        w.finish().await;
    }
}
