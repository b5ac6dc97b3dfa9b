//! The daily report: a day built of known events on both backends, every figure of the county
//! and of each township checked, each figure's list adding up to it; signed, frozen, corrected.

use chrono::{NaiveDate, Utc};
use cordon_domain::access::Role;
use cordon_domain::report::{Field, figure};
use cordon_store::StoreError;
use cordon_store::scoped::ReportAsk;

use super::testing_rounds::as_user;
use super::*;

/// 13 April 2022 (local), 0–24 h: 12 April 16:00 to 13 April 16:00 UTC.
fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2022, 4, 13).unwrap()
}

fn t(s: &str) -> String {
    // As the product writes an instant on either backend (RFC 3339, whole seconds, UTC).
    format!("'2022-04-{s}+00:00'")
}

fn person(n: u32) -> String {
    format!("(SELECT id FROM persons WHERE id_number = '{}')", id(n))
}

/// The day's events, written by hand with their times (inside the window, before it, after it).
async fn build_day(s: &Scratch, incident: i64) {
    let case = |n: u32, area: &str, class: &str, found: &str, origin: &str, created: &str, converted: Option<&str>| {
        format!(
            "INSERT INTO cases (id, incident_id, external_id, area_code, classification, how_found, origin, place, created_at, created_by, converted_at) \
             VALUES ({n}, {incident}, '清徐-{n}', '{area}', '{class}', '{found}', '{origin}', 'home', {created}, 'test', {})",
            converted.map_or("NULL".to_string(), t)
        )
    };
    let stmts = vec![
        case(1, "140121100201", "confirmed", "in_quarantine", "local", &t("13T02:00:00"), None),
        case(2, "140121101201", "confirmed", "mass_testing", "local", &t("13T03:00:00"), None),
        case(3, "140121100202", "asymptomatic", "in_control_area", "local", &t("13T04:00:00"), None),
        case(4, "140121100201", "confirmed", "mass_testing", "local", &t("10T04:00:00"), Some("13T05:00:00")),
        case(5, "140121100201", "confirmed", "imported", "imported", &t("13T06:00:00"), None),
        case(6, "140121100201", "confirmed", "mass_testing", "local", &t("11T06:00:00"), None),
        case(7, "140121100202", "confirmed", "fever_clinic", "local", &t("11T06:00:00"), None),
        case(8, "140121100201", "confirmed", "mass_testing", "local", &t("13T17:00:00"), None),
        case(9, "140121100201", "suspected", "mass_testing", "local", &t("13T09:00:00"), None),
        case(10, "140121100202", "asymptomatic", "imported", "imported", &t("13T10:00:00"), None),
        // Entered late: 12 on the 15th with its report date the 13th counts on the 13th; 13 in
        // the window, reported the 12th, does not count as new.
        case(12, "140121100201", "confirmed", "mass_testing", "local", &t("15T02:00:00"), None),
        case(13, "140121100201", "confirmed", "in_quarantine", "local", &t("13T05:00:00"), None),
        "UPDATE cases SET report_date = '2022-04-13' WHERE id = 12".into(),
        "UPDATE cases SET report_date = '2022-04-12' WHERE id = 13".into(),
        "INSERT INTO hospitals (id, name, kind, area_code, beds) VALUES (1, '清徐县人民医院', 'designated', '140121', 100)".into(),
        format!(
            "INSERT INTO hospital_stays (case_id, hospital_id, area_code, admitted_at, severity, status) VALUES (1, 1, '140121100201', {}, 'severe', 'admitted')",
            t("13T03:00:00")
        ),
        format!(
            "INSERT INTO hospital_stays (case_id, hospital_id, area_code, admitted_at, severity, status) VALUES (2, 1, '140121101201', {}, 'moderate', 'admitted')",
            t("13T04:00:00")
        ),
        format!(
            "INSERT INTO hospital_stays (case_id, hospital_id, area_code, admitted_at, severity, status, discharged_at) VALUES (6, 1, '140121100201', {}, 'mild', 'discharged', {})",
            t("11T08:00:00"),
            t("13T07:00:00")
        ),
        format!(
            "INSERT INTO hospital_stays (case_id, hospital_id, area_code, admitted_at, severity, status, died_at) VALUES (7, 1, '140121100202', {}, 'critical', 'died', {})",
            t("11T08:00:00"),
            t("13T08:00:00")
        ),
    ];
    let order = |n: u32, category: &str, status: &str, created: &str, released: Option<&str>| {
        format!(
            "INSERT INTO observation_orders (incident_id, person_id, category, last_exposure_at, rule_set, status, area_code, created_at, created_by, released_at) \
             VALUES ({incident}, {}, '{category}', {created}, 'ninth', '{status}', '140121100201', {created}, 'test', {})",
            person(n),
            released.map_or("NULL".to_string(), t)
        )
    };
    let orders = vec![
        order(1, "close_contact", "centralized", &t("12T10:00:00"), None),
        order(2, "close_contact", "released", &t("13T02:00:00"), Some("13T09:00:00")),
        order(3, "close_contact", "released", &t("11T02:00:00"), Some("12T10:00:00")),
        order(4, "secondary_contact", "home_quarantine", &t("13T03:00:00"), None),
        order(5, "close_contact", "case", &t("12T03:00:00"), None),
        order(6, "close_contact", "awaiting_transfer", &t("13T18:00:00"), None),
        order(7, "secondary_contact", "released", &t("12T03:00:00"), Some("14T01:00:00")),
    ];
    let testing = vec![
        format!("INSERT INTO testing_rounds (id, incident_id, name, starts_at, target_end_at, pool_policy, created_at) VALUES (1, {incident}, '第一轮', {}, {}, '{{}}', {})", t("12T00:00:00"), t("14T00:00:00"), t("12T00:00:00")),
        "INSERT INTO sampling_sites (id, round_id, area_code, name, address, stations) VALUES (1, 1, '140121100', '清源镇采样点', '广场', 4)".into(),
        "INSERT INTO sampling_sites (id, round_id, area_code, name, address, stations) VALUES (2, 1, '140121101', '徐沟镇采样点', '广场', 4)".into(),
        format!("INSERT INTO tubes (round_id, barcode, site_id, area_code, pool_kind, pool_size, opened_at) VALUES (1, 'QX0001', 1, '140121100', 'people', 10, {})", t("13T01:00:00")),
        format!("INSERT INTO tubes (round_id, barcode, site_id, area_code, pool_kind, pool_size, opened_at) VALUES (1, 'QX0002', 2, '140121101', 'people', 10, {})", t("13T10:00:00")),
        format!("INSERT INTO tubes (round_id, barcode, site_id, area_code, pool_kind, pool_size, opened_at) VALUES (1, 'QX0003', 1, '140121100', 'people', 10, {})", t("12T15:00:00")),
        format!("INSERT INTO round_hour_counts (round_id, area_code, hour, sampled) VALUES (1, '140121100201', {}, 10)", t("13T01:00:00")),
        format!("INSERT INTO round_hour_counts (round_id, area_code, hour, sampled) VALUES (1, '140121101201', {}, 7)", t("13T10:00:00")),
        format!("INSERT INTO round_hour_counts (round_id, area_code, hour, sampled) VALUES (1, '140121100201', {}, 5)", t("12T15:00:00")),
        format!("INSERT INTO quarantine_sites (id, name, kind, area_code, address, head_name, staff, created_at) VALUES (1, '清源宾馆', 'hotel', '140121100201', '清源路1号', '王', 5, {})", t("12T00:00:00")),
        "INSERT INTO rooms (site_id, building, floor, number, beds, occupants, status) VALUES (1, 'A', 1, '101', 2, 1, 'occupied')".into(),
        "INSERT INTO rooms (site_id, building, floor, number, beds, occupants, status) VALUES (1, 'A', 1, '102', 2, 0, 'free')".into(),
        "INSERT INTO rooms (site_id, building, floor, number, beds, occupants, status) VALUES (1, 'A', 1, '103', 1, 0, 'out_of_use')".into(),
    ];
    let zone = |n: u32, kind: &str, designated: &str, lifted: Option<&str>| {
        format!(
            "INSERT INTO zones (id, incident_id, area_code, name, kind, since, reason, designated_at, designated_by, changed_at, lifted_at) \
             VALUES ({n}, {incident}, '140121100201', '区域{n}', '{kind}', '2022-04-12', '阳性', {designated}, 'test', {designated}, {})",
            lifted.map_or("NULL".to_string(), t)
        )
    };
    let zones = vec![
        zone(1, "sealed", &t("12T10:00:00"), None),
        zone(2, "controlled", &t("12T10:00:00"), Some("13T10:00:00")),
        zone(3, "precaution", &t("13T20:00:00"), None),
        zone(4, "controlled", &t("11T10:00:00"), Some("14T10:00:00")),
    ];
    for sql in stmts.iter().chain(&orders).chain(&testing).chain(&zones) {
        raw(s, sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

#[tokio::test]
async fn the_daily_report_counts_the_days_records_and_a_signed_version_stays_as_signed() {
    for (s, store) in each_backend("daily").await {
        seed_areas(&store).await;
        let mut errors = Collect::default();
        import_persons(&store, Cursor::new(people_csv(10)), &mut errors).await.unwrap();
        let chief = as_user(&store, "chief", Role::Commander, "140121").await;
        let viewer = as_user(&store, "viewer", Role::Viewer, "140121").await;
        let worker = as_user(&store, "worker", Role::CommunityWorker, "140121100201").await;
        let other = as_user(&store, "other", Role::Commander, "140121101").await;
        let incident =
            chief.open_incident("清徐县疫情处置", &code("140121"), Some(Utc::now() - chrono::Duration::days(1)), None).await.unwrap();
        build_day(&s, incident.incident.id).await;

        let ask = ReportAsk { area: Some(code("140121")), day: Some(day()), cutoff: None };
        let r = chief.daily_report(&ask).await.unwrap();
        assert_eq!((r.status, r.version, r.closed, r.cutoff), ("live", None, true, 24), "{:?}", s.kind);
        let names: Vec<(&str, &str)> = r.rows.iter().map(|r| (r.area_code.as_str(), r.name.as_str())).collect();
        assert_eq!(names, vec![("140121", "清徐县"), ("140121100", "清源镇"), ("140121101", "徐沟镇")]);
        use Field::*;
        let county = [
            (NewConfirmedLocal, 4),
            (NewConfirmedImported, 1),
            (NewAsymptomaticLocal, 1),
            (NewAsymptomaticImported, 1),
            (NewLocalInQuarantine, 1),
            (NewLocalInControl, 1),
            (NewLocalCommunity, 2),
            (Converted, 1),
            (Discharged, 1),
            (Deaths, 1),
            (SevereNow, 1),
            (CurrentConfirmed, 6),
            (CumulativeConfirmed, 8),
            (CurrentAsymptomatic, 2),
            (CumulativeAsymptomatic, 3),
            (CloseTraced, 4),
            (SecondaryTraced, 2),
            (CloseObserved, 1),
            (SecondaryObserved, 2),
            (ReleasedToday, 1),
            (TestedPeople, 17),
            (TestedTubes, 2),
            (BedsUsed, 1),
            (BedsFree, 3),
            (ZonesSealed, 1),
            (ZonesControlled, 1),
            (ZonesPrecaution, 0),
        ];
        assert_eq!(county.len(), Field::ALL.len());
        for (f, n) in county {
            assert_eq!(figure(&r.rows[0].figures, f), n, "{f} in the county on {:?}", s.kind);
            // What the figure links to adds up to it.
            let (_, listed) = chief.daily_list(&ask, f, None).await.unwrap();
            assert_eq!(listed.iter().map(|l| l.n).sum::<i64>(), n, "the list of {f} on {:?}: {listed:?}", s.kind);
        }
        // 徐沟镇 has case 2 (moderate), its tube and its 7 sampled; 清源镇 the rest.
        let xugou = [
            (NewConfirmedLocal, 1),
            (NewLocalCommunity, 1),
            (CurrentConfirmed, 1),
            (CumulativeConfirmed, 1),
            (TestedPeople, 7),
            (TestedTubes, 1),
        ];
        for f in Field::ALL {
            let want = xugou.iter().find(|(x, _)| x == f).map_or(0, |(_, n)| *n);
            assert_eq!(figure(&r.rows[2].figures, *f), want, "{f} in 徐沟镇");
            let total = figure(&r.rows[0].figures, *f);
            assert_eq!(figure(&r.rows[1].figures, *f), total - want, "{f} in 清源镇");
        }
        // A list names its records and leads to them.
        let (_, listed) = chief.daily_list(&ask, NewConfirmedLocal, None).await.unwrap();
        let labels: Vec<(&str, Option<&str>)> = listed.iter().map(|l| (l.label.as_str(), l.link.as_deref())).collect();
        assert_eq!(
            labels,
            vec![("清徐-1", Some("/cases/1")), ("清徐-2", Some("/cases/2")), ("清徐-4", Some("/cases/4")), ("清徐-12", Some("/cases/12"))]
        );
        let (_, listed) = chief.daily_list(&ask, Deaths, None).await.unwrap();
        assert_eq!(listed[0].link.as_deref(), Some("/cases/7"));
        let (_, listed) = chief.daily_list(&ask, ReleasedToday, None).await.unwrap();
        assert!(listed[0].link.as_deref().is_some_and(|l| l.starts_with("/persons/")), "{listed:?}");
        // A township's report: its own figures, no rows below.
        let xugou_ask = ReportAsk { area: Some(code("140121101")), ..ask.clone() };
        let r2 = chief.daily_report(&xugou_ask).await.unwrap();
        assert_eq!(r2.rows.len(), 3, "徐沟镇 and its two villages");
        assert_eq!(figure(&r2.rows[0].figures, TestedPeople), 7);
        // A cut-off at 15:00: the window ends at 07:00 UTC on the 13th.
        let r15 = chief.daily_report(&ReportAsk { cutoff: Some(15), ..ask.clone() }).await.unwrap();
        assert_eq!(figure(&r15.rows[0].figures, NewConfirmedLocal), 4, "12 by its report date, the rest before 15:00");
        assert_eq!(figure(&r15.rows[0].figures, TestedTubes), 2, "QX0003 at 23:00 local on the 12th falls inside");
        assert_eq!(figure(&r15.rows[0].figures, Deaths), 0, "died at 16:00 local, after the cut-off");

        // Who reads, who signs.
        assert_eq!(viewer.daily_report(&ask).await.unwrap().rows[0].figures, r.rows[0].figures);
        assert!(matches!(viewer.sign_daily(&ask, "").await, Err(StoreError::Forbidden(_))));
        assert!(matches!(worker.daily_report(&ask).await, Err(StoreError::Forbidden(_))));
        assert!(matches!(other.daily_report(&ask).await, Err(StoreError::Forbidden(_))), "the county is outside 徐沟镇's commander");
        let today = ReportAsk { day: Some(cordon_domain::local_date(Utc::now())), ..ask.clone() };
        assert_eq!(chief.sign_daily(&today, "").await.refused().kind, "refused.report.open");

        // Signed: version 1, frozen.
        let v1 = chief.sign_daily(&ask, "").await.unwrap();
        assert_eq!((v1.version, v1.differences.len()), (1, 0));
        raw(&s, &format!(
            "INSERT INTO cases (id, incident_id, external_id, area_code, classification, how_found, origin, place, created_at, created_by) \
             VALUES (11, {}, '清徐-11', '140121101202', 'confirmed', 'mass_testing', 'local', 'home', {}, 'test')", incident.incident.id, t("13T12:00:00"))).await.unwrap();
        let r = chief.daily_report(&ask).await.unwrap();
        assert_eq!((r.status, r.version, r.versions), ("signed", Some(1), 1));
        assert_eq!(figure(&r.rows[0].figures, NewConfirmedLocal), 4, "a signed report does not change with the records");
        let moved: Vec<(&str, Field, i64, i64)> =
            r.live_differences.iter().map(|d| (d.area_code.as_str(), d.field, d.before, d.after)).collect();
        assert!(
            moved.contains(&("140121", NewConfirmedLocal, 4, 5)) && moved.contains(&("140121101", NewConfirmedLocal, 1, 2)),
            "{moved:?}"
        );

        // A correction needs a reason, makes version 2 and says what changed.
        assert_eq!(chief.sign_daily(&ask, " ").await.refused().kind, "refused.report.reason");
        let v2 = chief.sign_daily(&ask, "补报徐沟镇病例1例").await.unwrap();
        assert_eq!(v2.version, 2);
        assert!(v2.differences.iter().any(|d| d.area_code == "140121" && d.field == NewConfirmedLocal && d.before == 4 && d.after == 5));
        // Beds taken since are no correction: the version keeps those first signed.
        assert!(v2.differences.iter().all(|d| d.field != BedsUsed));
        assert_eq!(chief.sign_daily(&ask, "再签一次").await.refused().kind, "refused.report.unchanged");
        let versions = viewer.daily_versions(Some(&code("140121")), day()).await.unwrap();
        assert_eq!(
            versions.iter().map(|v| (v.version, v.reason.as_deref())).collect::<Vec<_>>(),
            vec![(1, None), (2, Some("补报徐沟镇病例1例"))]
        );
        assert_eq!(versions[1].differences, v2.differences);
        let r = chief.daily_report(&ask).await.unwrap();
        assert_eq!((r.version, figure(&r.rows[0].figures, NewConfirmedLocal), r.live_differences.len()), (Some(2), 5, 0));
        // The beds filling later change neither the signed version nor what it differs in.
        raw(&s, "UPDATE rooms SET occupants = 2 WHERE number = '102'").await.unwrap();
        let r = chief.daily_report(&ask).await.unwrap();
        assert_eq!((figure(&r.rows[0].figures, BedsUsed), r.live_differences.len()), (1, 0));
        assert_eq!(chief.sign_daily(&ask, "床位").await.refused().kind, "refused.report.unchanged");
        // A correction keeps the day's cut-off.
        let at15 = ReportAsk { cutoff: Some(15), ..ask.clone() };
        assert_eq!(chief.sign_daily(&at15, "改为15时").await.refused().kind, "refused.report.cutoff_differs");
        assert_eq!(raw_count(&s, "SELECT COUNT(*) FROM audit_events WHERE action = 'sign' AND entity = 'daily_report'").await, 2);
        s.finish(store).await.unwrap();
    }
}
