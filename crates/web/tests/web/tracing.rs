//! Investigation over HTTP: line lists, clusters, cases and the investigation queue.

use super::*;

fn post_csv(token: &str, uri: &str, body: Vec<u8>) -> Request<Body> {
    Request::post(uri.to_string()).header("authorization", format!("Bearer {token}")).header("content-type", "text/csv").body(Body::from(body)).unwrap()
}

#[tokio::test]
async fn a_line_list_in_gbk_builds_clusters_that_the_api_lists_with_their_chains() {
    for w in worlds("api_linelist", 4).await {
        let csv = "病例编号,传染源,发病日期,聚集性疫情,本土或输入\n\
                   清徐-1,,2022-04-09,物流园,本土\n\
                   清徐-2,清徐-1,2022-04-11,物流园,本土\n\
                   清徐-3,清徐-2、清徐-1,2022-04-12,物流园,本土\n\
                   清徐-4,,2022-04-12,,输入\n\
                   清徐-5,清徐-99,后天,,本土\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(csv);
        let uri = "/api/v1/imports/linelist?area=140121100&incident=%E6%B8%85%E5%BE%90%E7%96%AB%E6%83%85";
        let (status, _, report) = call(&w.store, post_csv(&w.township, uri, gbk.to_vec())).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["encoding"], "GB18030");
        assert_eq!((report["inserted"].as_u64(), report["invalid_rows"].as_u64(), report["links"].as_u64()), (Some(4), Some(1), Some(3)));
        assert_eq!(report["errors"][0]["line"], 6);
        assert_eq!(report["errors"][0]["field"], "onset");

        let (status, _, clusters) = get(&w.store, &w.township, "/api/v1/clusters").await;
        assert_eq!(status, StatusCode::OK);
        let list = clusters.as_array().unwrap();
        assert_eq!(list.len(), 1, "a lone imported case is no cluster: {clusters}");
        let c = &list[0];
        assert_eq!((c["size"].as_i64(), c["generations"].as_i64(), c["index_case"].as_str(), c["label"].as_str()), (Some(3), Some(2), Some("清徐-1"), Some("物流园")), "清徐-3 is one step from 清徐-1 as well");
        assert_eq!(c["active"], false, "its last case was in 2022");
        let (_, _, detail) = get(&w.store, &w.township, &format!("/api/v1/clusters/{}", c["id"])).await;
        let numbers: Vec<&str> = detail["cases"].as_array().unwrap().iter().map(|c| c["number"].as_str().unwrap()).collect();
        assert_eq!(numbers, vec!["清徐-1", "清徐-2", "清徐-3"]);
        assert_eq!(detail["links"].as_array().unwrap().len(), 3);
        let (_, _, all) = get(&w.store, &w.township, "/api/v1/clusters?min_size=1").await;
        assert_eq!(all.as_array().unwrap().len(), 2);

        // A tester may not import line lists; a bad area is a 400 naming the field.
        let tester = account(&w.store, "tester", Role::TestingOfficer, "140121").await;
        let (status, _, _) = call(&w.store, post_csv(&tester, uri, b"case_id\n1\n".to_vec())).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _, problem) = call(&w.store, post_csv(&w.township, "/api/v1/imports/linelist?area=14x", b"case_id\n1\n".to_vec())).await;
        assert_eq!((status, problem["field"].as_str()), (StatusCode::BAD_REQUEST, Some("area")));
        let (status, _, problem) = call(&w.store, post_csv(&w.township, uri, b"name\nx\n".to_vec())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        w.finish().await;
    }
}

#[tokio::test]
async fn a_case_by_hand_opens_an_investigation_that_is_taken_split_and_reported() {
    for w in worlds("api_cases", 4).await {
        let (status, _, case) = call(&w.store, post_json(&w.township, "/api/v1/cases", serde_json::json!({
            "area_code": "140121100201", "how_found": "fever_clinic", "classification": "confirmed", "onset_date": "2022-04-12"
        }))).await;
        assert_eq!(status, StatusCode::CREATED, "{case}");
        assert_eq!((case["number"].as_str(), case["how_found"].as_str(), case["generation"].as_i64()), (Some("1"), Some("fever_clinic"), Some(0)));
        let (status, _, second) = call(&w.store, post_json(&w.township, "/api/v1/cases", serde_json::json!({
            "area_code": "140121100202", "number": "清徐-2", "infectors": [case["id"]]
        }))).await;
        assert_eq!(status, StatusCode::CREATED, "{second}");
        assert_eq!((second["generation"].as_i64(), &second["cluster_id"]), (Some(1), &case["cluster_id"]));
        let (status, _, problem) = call(&w.store, post_json(&w.township, "/api/v1/cases", serde_json::json!({"area_code": "140121100201", "how_found": "by magic"}))).await;
        assert_eq!((status, problem["field"].as_str()), (StatusCode::BAD_REQUEST, Some("how_found")));

        // tracer1 was free and got the first at once; the second waits for someone to take it.
        let (_, _, queue) = get(&w.store, &w.township, "/api/v1/investigations").await;
        let queue = queue.as_array().unwrap().clone();
        assert_eq!(queue.len(), 2);
        let first = queue.iter().find(|i| i["case_id"] == case["id"]).unwrap();
        assert_eq!(first["assignments"][0]["name"], "tracer1同志");
        assert_eq!(first["core"]["state"], "running");
        let waiting = queue.iter().find(|i| i["case_id"] == second["id"]).unwrap();
        assert_eq!(waiting["assignments"].as_array().unwrap().len(), 0);

        let other = account(&w.store, "tracer2", Role::Investigator, "140121").await;
        let uri = format!("/api/v1/investigations/{}/assignments", waiting["id"]);
        let (status, _, taken) = call(&w.store, post_json(&other, &uri, serde_json::json!({}))).await;
        assert_eq!(status, StatusCode::OK, "{taken}");
        assert_eq!((taken["assignments"][0]["name"].as_str(), taken["assignments"][0]["part"].as_str()), (Some("tracer2同志"), Some("phone")));
        let (status, _, refused) = call(&w.store, post_json(&w.township, &uri, serde_json::json!({"part": "phone"}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused["detail"].as_str().unwrap().contains("tracer2"), "{refused}");
        let (status, _, split) = call(&w.store, post_json(&w.township, &uri, serde_json::json!({"part": "site"}))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(split["assignments"].as_array().unwrap().len(), 2);

        let progress = format!("/api/v1/investigations/{}/progress", first["id"]);
        let (status, _, core) = call(&w.store, post_json(&w.township, &progress, serde_json::json!({"step": "core_done"}))).await;
        assert_eq!((status, core["core"]["state"].as_str(), core["core"]["late"].as_bool()), (StatusCode::OK, Some("done"), Some(false)));
        let (status, _, _) = call(&w.store, post_json(&w.township, &progress, serde_json::json!({"step": "reported"}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a report needs its source hypothesis");
        let (status, _, _) = call(&w.store, post_json(&w.township, &progress, serde_json::json!({"step": "reported", "source_hypothesis": "发热门诊就诊前曾到太原市某农贸市场"}))).await;
        assert_eq!(status, StatusCode::OK);
        let (_, _, queue) = get(&w.store, &w.township, "/api/v1/investigations").await;
        assert_eq!(queue.as_array().unwrap().len(), 1);

        // Linking the other way round changes nothing more than a second link would.
        let (status, _, _) = call(&w.store, post_json(&w.township, &format!("/api/v1/cases/{}/infectors", case["id"]), serde_json::json!({"infector_id": second["id"]}))).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, _, c) = get(&w.store, &w.township, &format!("/api/v1/cases/{}", case["id"])).await;
        assert_eq!(c["generation"], 0, "a loop of two is entered from its earliest case");
        w.finish().await;
    }
}
