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
        w.finish().await;
    }
}
