//! Cases, clusters and line lists, on both backends.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::PathBuf;

use cordon_domain::access::Role;
use cordon_domain::cases::case::{CaseClass, CasePlace, HowFound, Origin};
use cordon_store::cases::{ClusterFilter, NewCase};
use cordon_store::linelist::LinelistTarget;
use cordon_store::scoped::Scoped;

use super::testing_rounds::as_user;
use super::*;

fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata").join(path)
}

fn read_csv(path: &str) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(data(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    let headers: Vec<String> = r.headers().unwrap().iter().map(|h| h.trim().trim_start_matches('\u{feff}').to_string()).collect();
    r.records().map(|rec| headers.iter().cloned().zip(rec.unwrap().iter().map(str::to_string)).collect()).collect()
}

/// Connected parts of the authors' edges, found by breadth-first search (not the union-find the
/// store uses), as sets of case numbers.
fn published_clusters(cases: &[String], edges: &[(String, String)]) -> BTreeSet<BTreeSet<String>> {
    let mut adj: HashMap<&str, Vec<&str>> = HashMap::new();
    for (a, b) in edges {
        adj.entry(a).or_default().push(b);
        adj.entry(b).or_default().push(a);
    }
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut out = BTreeSet::new();
    for c in cases {
        if !seen.insert(c) {
            continue;
        }
        let mut part = BTreeSet::from([c.clone()]);
        let mut queue = VecDeque::from([c.as_str()]);
        while let Some(x) = queue.pop_front() {
            for y in adj.get(x).into_iter().flatten() {
                if seen.insert(y) {
                    part.insert(y.to_string());
                    queue.push_back(y);
                }
            }
        }
        out.insert(part);
    }
    out
}

async fn stored_clusters(scope: &Scoped, incident_id: i64) -> BTreeSet<BTreeSet<String>> {
    let filter = ClusterFilter { incident_id: Some(incident_id), min_size: Some(1), limit: Some(5000) };
    let mut out = BTreeSet::new();
    for c in scope.clusters(&filter).await.unwrap() {
        let detail = scope.cluster_detail(c.id).await.unwrap().unwrap();
        assert_eq!(detail.cases.len() as i64, c.size, "cluster {} size", c.id);
        out.insert(detail.cases.into_iter().map(|c| c.external_id).collect());
    }
    out
}

/// The Tianjin list as a Cordon line list: the case list's dates, the authors' cleaned edges as
/// infectors and their named source as the label.
fn tianjin() -> (String, Vec<String>, Vec<(String, String)>) {
    let cases = read_csv("clusters-tianjin-singapore/Tianjin135cases_revised.csv");
    let edges = read_csv("clusters-tianjin-singapore/tianjin_edges_clean.csv");
    let by_case: HashMap<&str, &HashMap<String, String>> = edges.iter().map(|e| (e["case_id"].as_str(), e)).collect();
    let mut csv = String::from("病例编号,传染源,发病日期,确诊日期,聚集性疫情\n");
    let (mut ids, mut links) = (Vec::new(), Vec::new());
    for c in &cases {
        let id = c["case_id"].trim().to_string();
        let e = by_case[id.as_str()];
        let infectors: Vec<String> =
            ["edge1", "edge2", "edge3", "edge4"].iter().map(|k| e[*k].trim().to_string()).filter(|s| !s.is_empty()).collect();
        links.extend(infectors.iter().map(|i| (i.clone(), id.clone())));
        csv.push_str(&format!(
            "{id},\"{}\",{},{},\"{}\"\n",
            infectors.join("; "),
            c["symptom_onset"].trim(),
            c["confirm_date"].trim(),
            e["infection_source_named"].trim()
        ));
        ids.push(id);
    }
    (csv, ids, links)
}

/// The Singapore list: related cases and cluster links of the authors' edge file as infectors,
/// MOH's cluster as the label.
fn singapore() -> (String, Vec<String>, Vec<(String, String)>) {
    let edges = read_csv("clusters-tianjin-singapore/COVID-19_Singapore_eg_update_edges.csv");
    let mut csv = String::from("case_id,infector_ids,cluster_label,origin\n");
    let (mut ids, mut links) = (Vec::new(), Vec::new());
    for e in &edges {
        let id = e["CaseID"].trim().to_string();
        let mut infectors = cordon_domain::cases::linelist::split_case_ids(&e["Related cases"]);
        infectors.extend(cordon_domain::cases::linelist::split_case_ids(&e["Cluster links"]));
        infectors.retain(|i| *i != id && i != "NA");
        links.extend(infectors.iter().map(|i| (i.clone(), id.clone())));
        let imported = if e["cluster"].contains("Wuhan") { "imported" } else { "local" };
        csv.push_str(&format!("{id},\"{}\",\"{}\",{imported}\n", infectors.join(","), e["cluster"].trim()));
        ids.push(id);
    }
    (csv, ids, links)
}

#[tokio::test]
async fn tianjin_and_singapore_line_lists_reproduce_the_published_clusters() {
    for (s, store) in each_backend("linelist").await {
        seed_areas(&store).await;
        let tracer = as_user(&store, "tracer", Role::Investigator, "140121").await;
        for (name, (csv, ids, links)) in [("天津 2020（Tindale 等）", tianjin()), ("新加坡 2020（Tindale 等）", singapore())] {
            let target = LinelistTarget { area: code("140121"), incident: Some(name.into()) };
            let mut errors = Collect::default();
            let summary = tracer.import_linelist(Cursor::new(csv.clone().into_bytes()), &target, &mut errors).await.unwrap();
            assert_eq!(errors.0, vec![], "{name}");
            assert_eq!((summary.rows, summary.inserted), (ids.len() as u64, ids.len() as u64), "{name}");
            let published = published_clusters(&ids, &links);
            assert_eq!(stored_clusters(&tracer, summary.incident_id).await, published, "{name}: cluster membership");
            assert_eq!(summary.clusters, published.len() as u64);

            // The same file again changes nothing.
            let again = tracer.import_linelist(Cursor::new(csv.into_bytes()), &target, &mut Collect::default()).await.unwrap();
            assert_eq!((again.incident_id, again.inserted, again.links, again.unchanged), (summary.incident_id, 0, 0, ids.len() as u64));
            assert_eq!(stored_clusters(&tracer, summary.incident_id).await, published);
        }

        // Tianjin: TJ5 came by train; family and a co-worker, then the co-worker's family.
        let tj = store
            .audit_events(&cordon_store::audit::AuditFilter { entity: Some("linelist".into()), ..Default::default() }, 10)
            .await
            .unwrap();
        assert_eq!(tj.len(), 4, "one audit event per import");
        let incident: i64 = tj.last().unwrap().entity_id.as_deref().unwrap().parse().unwrap();
        let tj33 = tracer.case_by_number(incident, "TJ33").await.unwrap().unwrap();
        let detail = tracer.cluster_detail(tj33.cluster_id.unwrap()).await.unwrap().unwrap();
        assert_eq!(detail.cluster.index_case.as_deref(), Some("TJ5"));
        assert_eq!(tj33.generation, 2, "TJ5 → TJ17 → TJ33");
        assert_eq!(detail.cluster.label.as_deref(), Some("close contact"), "the label most members carry");
        let by_id: BTreeMap<i64, &str> = detail.cases.iter().map(|c| (c.id, c.external_id.as_str())).collect();
        assert!(detail.links.iter().any(|(a, b)| by_id[a] == "TJ17" && by_id[b] == "TJ33"));
        assert_eq!(tj33.onset_date, NaiveDate::from_ymd_opt(2020, 1, 30), "dates read day first");

        // Membership follows the links, not the label: the Baodi mall shoppers the authors could
        // not link stay apart, and the biggest linked chain (ten cases around TJ93) leads.
        let biggest = &tracer.clusters(&ClusterFilter { incident_id: Some(incident), ..Default::default() }).await.unwrap()[0];
        assert_eq!(biggest.size, 10);
        let members = tracer.cluster_detail(biggest.id).await.unwrap().unwrap().cases;
        assert!(members.iter().any(|c| c.external_id == "TJ93"));
        s.finish(store).await.unwrap();
    }
}

/// The infectors of case `number` of an incident, by number, from its cluster's links.
async fn infectors_of(scope: &Scoped, incident: i64, number: &str) -> BTreeSet<String> {
    let case = scope.case_by_number(incident, number).await.unwrap().unwrap_or_else(|| panic!("case {number}"));
    let Some(cluster) = case.cluster_id else { return BTreeSet::new() };
    let detail = scope.cluster_detail(cluster).await.unwrap().unwrap();
    let by_id: BTreeMap<i64, &str> = detail.cases.iter().map(|c| (c.id, c.external_id.as_str())).collect();
    detail.links.iter().filter(|(_, b)| *b == case.id).map(|(a, _)| by_id[a].to_string()).collect()
}

/// Taiwan CDC's published list of confirmed cases (READr's compilation, kept in testdata with
/// its README), imported as it is: every case with a number kept, infectors resolved the ways
/// the list writes them, unreadable dates stored empty with a warning.
#[tokio::test]
async fn the_taiwan_cdc_list_imports_as_it_is_with_its_infectors_resolved() {
    for (s, store) in each_backend("linelist_taiwan").await {
        seed_areas(&store).await;
        let tracer = as_user(&store, "tracer", Role::Investigator, "140121").await;
        let target = LinelistTarget { area: code("140121"), incident: Some("臺灣 2020–2022（疾管署）".into()) };
        let file = std::fs::read(data("taiwan-cases/covid19_confirmed_case_taiwan.csv")).unwrap();
        let rows = read_csv("taiwan-cases/covid19_confirmed_case_taiwan.csv");
        let numbered: BTreeSet<&str> = rows.iter().map(|r| r["patient_id"].trim()).filter(|id| !id.is_empty()).collect();
        let mut report = Collect::default();
        let summary = tracer.import_linelist(Cursor::new(file), &target, &mut report).await.unwrap();
        assert_eq!(summary.rows, rows.len() as u64, "{:?}", s.kind);
        assert_eq!(summary.inserted, numbered.len() as u64, "every case with a number is kept");
        // Refused: the row with no number, and the second row of each number written twice.
        let refused: Vec<&str> = report.0.iter().map(|e| e.field.unwrap_or("")).collect();
        assert_eq!(refused, ["case_id"; 3], "{:?}", report.0);
        assert_eq!(summary.unknown_infectors, 0, "{:?}", report.1.iter().filter(|w| w.field == Some("infector_ids")).collect::<Vec<_>>());
        assert!(summary.links > 2500, "{}", summary.links);
        // Warned: dates written "2020-11-09 or 2020-11-10", "2020-06", "5/15", left empty.
        assert!(report.1.iter().all(|w| matches!(w.field, Some("onset" | "report_date"))), "{:?}", report.1);
        assert!(report.1.iter().any(|w| w.reason.arg("value") == Some("2020-11-09 or 2020-11-10")));
        assert!(report.1.iter().all(|w| w.then.as_ref().is_some_and(|t| t.kind == "row.then.left_empty")), "each says it was left empty");
        assert_eq!(summary.warned_rows, report.1.len() as u64);

        let incident = summary.incident_id;
        let set = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(infectors_of(&tracer, incident, "21604").await, set(&["20483", "20485", "20910", "20911"]), "案N、案N-N(…)相關接觸");
        assert_eq!(infectors_of(&tracer, incident, "6212").await, set(&["6207"]), "patient 6207");
        assert_eq!(infectors_of(&tracer, incident, "16055").await, set(&["16006"]), "patient #16006");
        assert_eq!(infectors_of(&tracer, incident, "1113").await, set(&[]), "antibodies positive pilot #3 names no case");
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn line_list_rows_are_checked_and_unknown_infectors_reported() {
    for (s, store) in each_backend("linelist_rows").await {
        seed_areas(&store).await;
        let tracer = as_user(&store, "tracer", Role::Investigator, "140121100").await;
        let target = LinelistTarget { area: code("140121100"), incident: None };
        let csv = "病例编号,传染源,发病日期,本土或输入,区划代码\n\
                   Q1,,2022-04-09,本土,140121100201\n\
                   Q2,Q1,2022-04-11,火星,140121100202\n\
                   Q3,Q9,明天,本土,\n\
                   Q4,Q1、Q9,,境外,\n\
                   Q5,Q2,,本土,140121101201\n\
                   Q1,,,本土,\n";
        let mut errors = Collect::default();
        let summary = tracer.import_linelist(Cursor::new(csv.as_bytes().to_vec()), &target, &mut errors).await.unwrap();
        // Refused: only rows that cannot be records here (outside the jurisdiction, a repeat).
        let got: Vec<(u64, Option<&str>)> = errors.0.iter().map(|e| (e.line, e.field)).collect();
        assert_eq!(got, vec![(6, Some("area_code")), (7, Some("case_id"))], "{:?}", errors.0);
        assert_eq!(errors.0[0].reason.kind, "row.outside", "{}", errors.0[0].reason);
        // Stored with a warning: an unreadable origin (taken as local) or onset (left empty), an
        // infector that is no case (its link left out).
        let warned: Vec<(u64, Option<&str>)> = errors.1.iter().map(|e| (e.line, e.field)).collect();
        assert_eq!(
            warned,
            vec![(3, Some("origin")), (4, Some("onset")), (4, Some("infector_ids")), (5, Some("infector_ids"))],
            "{:?}",
            errors.1
        );
        assert_eq!((summary.inserted, summary.invalid_rows, summary.warned_rows, summary.links), (4, 2, 3, 2));
        let q4 = tracer.case_by_number(summary.incident_id, "Q4").await.unwrap().unwrap();
        assert_eq!(q4.origin, Origin::Imported, "境外 is imported");
        let q3 = tracer.case_by_number(summary.incident_id, "Q3").await.unwrap().unwrap();
        assert_eq!(q3.onset_date, None, "明天 is no date: left empty");

        // A later file names Q9 before Q9's own row, and a case already stored.
        let more = "case_id,infector_ids,onset\nQ6,Q9,2022-04-12\nQ9,Q2,2022-04-10\nQ7,Q404,2022-04-13\n";
        let mut errors = Collect::default();
        let summary = tracer.import_linelist(Cursor::new(more.as_bytes().to_vec()), &target, &mut errors).await.unwrap();
        assert_eq!((summary.inserted, summary.links, summary.unknown_infectors), (3, 2, 1));
        assert_eq!((errors.0.len(), errors.1.len()), (0, 1));
        assert_eq!((errors.1[0].line, errors.1[0].field), (4, Some("infector_ids")));
        assert!(errors.1[0].reason.arg("cases").is_some_and(|c| c.contains("Q404")), "{}", errors.1[0].reason);
        let q6 = tracer.case_by_number(summary.incident_id, "Q6").await.unwrap().unwrap();
        assert_eq!(q6.generation, 3, "Q1 → Q2 → Q9 → Q6");
        let cluster = tracer.cluster_detail(q6.cluster_id.unwrap()).await.unwrap().unwrap();
        assert_eq!(cluster.cluster.size, 5, "Q4, stored with its warnings, joins through Q1");
        assert_eq!(cluster.cluster.generations, 4);
        assert_eq!(cluster.cluster.area_code, "140121100", "the smallest area holding every member");
        assert!(cluster.cluster.active_on(NaiveDate::from_ymd_opt(2022, 4, 20).unwrap()));
        assert!(!cluster.cluster.active_on(NaiveDate::from_ymd_opt(2022, 5, 20).unwrap()));

        let bad = tracer
            .import_linelist(Cursor::new(b"name,onset\nx,2022-01-01\n".to_vec()), &target, &mut Collect::default())
            .await
            .unwrap_err();
        assert!(bad.to_string().contains("case_id"), "{bad}");
        s.finish(store).await.unwrap();
    }
}

pub(super) fn new_case(area: &str, number: &str, infectors: Vec<i64>, onset_day: u32) -> NewCase {
    NewCase {
        external_id: Some(number.into()),
        person_id: None,
        positive_id: None,
        area_code: code(area),
        classification: CaseClass::Asymptomatic,
        severity: None,
        how_found: HowFound::MassTesting,
        origin: Origin::Local,
        onset_date: None,
        sample_date: NaiveDate::from_ymd_opt(2022, 4, onset_day),
        report_date: NaiveDate::from_ymd_opt(2022, 4, onset_day),
        place: CasePlace::Home,
        label: None,
        infectors,
    }
}

#[tokio::test]
async fn a_link_between_two_chains_merges_their_clusters_and_renumbers_generations() {
    for (s, store) in each_backend("clusters").await {
        seed_areas(&store).await;
        let tracer = as_user(&store, "tracer", Role::Investigator, "140121").await;
        let a = tracer.create_case(new_case("140121100201", "清徐-1", vec![], 10)).await.unwrap();
        let b = tracer.create_case(new_case("140121100201", "清徐-2", vec![a.id], 11)).await.unwrap();
        let c = tracer.create_case(new_case("140121101201", "清徐-3", vec![], 9)).await.unwrap();
        let d = tracer.create_case(new_case("140121101201", "清徐-4", vec![c.id], 12)).await.unwrap();
        assert_eq!((b.generation, b.cluster_id), (1, a.cluster_id));
        assert_ne!(a.cluster_id, c.cluster_id);
        assert_eq!(tracer.clusters(&ClusterFilter::default()).await.unwrap().len(), 2);

        // 清徐-3 turns out to have infected 清徐-1: one chain of four, three generations deep
        // below 清徐-3.
        tracer.link_cases(c.id, a.id).await.unwrap();
        tracer.link_cases(c.id, a.id).await.unwrap();
        let clusters = tracer.clusters(&ClusterFilter::default()).await.unwrap();
        assert_eq!(clusters.len(), 1);
        let merged = &clusters[0];
        assert_eq!((merged.size, merged.generations, merged.index_case.as_deref()), (4, 3, Some("清徐-3")));
        assert_eq!(merged.area_code, "140121");
        let gens: Vec<(String, i32)> =
            tracer.cluster_detail(merged.id).await.unwrap().unwrap().cases.into_iter().map(|c| (c.external_id, c.generation)).collect();
        assert_eq!(gens, vec![("清徐-3".into(), 0), ("清徐-1".into(), 1), ("清徐-4".into(), 1), ("清徐-2".into(), 2)]);
        let _ = d;

        // Numbers are unique in the incident; a township investigator sees only their part.
        let dup = tracer.create_case(new_case("140121100201", "清徐-1", vec![], 10)).await.unwrap_err();
        assert_eq!(dup.refusal().map(|r| r.kind), Some("refused.case_number_taken"), "{dup}");
        let local = as_user(&store, "local", Role::Investigator, "140121100").await;
        assert!(local.clusters(&ClusterFilter::default()).await.unwrap().is_empty(), "the merged cluster spans two townships");
        assert!(matches!(local.case(c.id).await, Err(cordon_store::StoreError::Forbidden(_))));
        assert_eq!(local.case(a.id).await.unwrap().unwrap().external_id, "清徐-1");
        let tester = as_user(&store, "tester", Role::TestingOfficer, "140121").await;
        assert!(matches!(tester.create_case(new_case("140121100201", "x", vec![], 1)).await, Err(cordon_store::StoreError::Forbidden(_))));
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn a_case_with_neither_a_person_nor_a_number_is_refused_and_leaves_nothing() {
    for (s, store) in each_backend("case-identity").await {
        seed_areas(&store).await;
        let tracer = as_user(&store, "tracer", Role::Investigator, "140121").await;
        let mut nobody = new_case("140121100201", "", vec![], 10);
        nobody.external_id = None;
        let refused = tracer.create_case(nobody).await.unwrap_err();
        assert_eq!(refused.refusal().map(|r| r.kind), Some("refused.case_unidentified"), "{:?}: {refused}", s.kind);
        assert!(tracer.clusters(&ClusterFilter::default()).await.unwrap().is_empty(), "{:?}: no cluster", s.kind);
        assert!(tracer.investigation_queue().await.unwrap().is_empty(), "{:?}: no clock", s.kind);
        // A person registered on the spot for a case lives in a village, not just a county.
        let rid = cordon_domain::ResidentId::parse(&id(900)).unwrap();
        let name = cordon_domain::PersonName::parse("赵新").unwrap();
        let county = cordon_domain::NewPerson::from_resident_id(rid.clone(), name.clone(), None, code("140121"), None);
        let refused = tracer.case_person(&rid, Some(county)).await.unwrap_err();
        assert_eq!(refused.refusal().map(|r| r.kind), Some("refused.register_needs_village"), "{:?}", s.kind);
        assert!(tracer.case_person(&rid, None).await.is_err(), "{:?}: nobody was registered", s.kind);
        let village = cordon_domain::NewPerson::from_resident_id(rid.clone(), name, None, code("140121100201"), None);
        assert_eq!(tracer.case_person(&rid, Some(village)).await.unwrap().area_code, "140121100201");
        // A line list's case, without a person, is its number.
        assert!(tracer.create_case(new_case("140121100201", "清徐-1", vec![], 10)).await.is_ok(), "{:?}", s.kind);
        s.finish(store).await.unwrap();
    }
}

/// A positive person from mass testing: a pool of five, positive; its first member re-tested
/// alone, positive.
pub(super) async fn positive_from_testing(store: &Store) -> (super::station::Testing, i64) {
    use super::station::{bc, testing};
    use cordon_domain::testing::pooling::SamplingGroup;
    use cordon_domain::testing::result::{CtValues, TubeResult};
    use cordon_store::batch::BatchTube;
    use cordon_store::results::{NewLab, ResultInput};

    let t = testing(store).await;
    let pool = BatchTube {
        barcode: bc("EA00000001"),
        site_id: t.east.id,
        group: SamplingGroup::Resident,
        members: t.people[0..5].to_vec(),
        seal: true,
        sampled_at: None,
    };
    t.officer.register_batch(t.round.id, vec![pool], None).await.unwrap();
    let lab =
        t.officer.create_lab(NewLab { name: "县疾控实验室".into(), area_code: code("140121100"), daily_capacity: 20000 }).await.unwrap();
    let result = |code: &str| ResultInput {
        barcode: bc(code),
        round_id: Some(t.round.id),
        result: Some(TubeResult::Positive),
        ct: CtValues::default(),
        at: None,
    };
    t.lab_user.record_result(lab.id, &result("EA00000001")).await.unwrap();
    t.officer.open_tube(t.round.id, t.east.id, &bc("RT00000001"), SamplingGroup::Retest, None).await.unwrap();
    t.officer.scan(t.round.id, &bc("RT00000001"), t.people[0], None).await.unwrap();
    t.lab_user.record_result(lab.id, &result("RT00000001")).await.unwrap();
    let person = t.people[0];
    (t, person)
}

#[tokio::test]
async fn a_positive_becomes_a_case_in_one_action_and_its_investigation_goes_round_the_team() {
    use cordon_domain::cases::investigation::{Clock, Part};
    for (s, store) in each_backend("investigations").await {
        let (_t, person) = positive_from_testing(&store).await;
        let first = as_user(&store, "tracer1", Role::Investigator, "140121100").await;
        let second = as_user(&store, "tracer2", Role::Investigator, "140121").await;
        let elsewhere = as_user(&store, "tracer3", Role::Investigator, "140121101").await;

        let waiting = first.positives(true).await.unwrap();
        assert_eq!(waiting.iter().map(|p| p.person_id).collect::<Vec<_>>(), vec![person]);
        assert_eq!(waiting[0].barcode, "RT00000001");
        let case = first.case_from_positive(waiting[0].id, CaseClass::Asymptomatic, None).await.unwrap();
        assert_eq!((case.person_id, case.how_found.as_str(), case.external_id.as_str()), (Some(person), "mass_testing", "1"));
        assert_eq!(case.sample_date, Some(cordon_domain::local_date(chrono::Utc::now())));
        let again = first.case_from_positive(waiting[0].id, CaseClass::Asymptomatic, None).await.unwrap();
        assert_eq!(again.id, case.id, "one action, once");
        assert!(first.positives(true).await.unwrap().is_empty());
        assert_eq!(first.positives(false).await.unwrap()[0].case_number.as_deref(), Some("1"));

        // The case opened an investigation, given at once to a free investigator of its area in
        // turn (never assigned yet: the first created); the other township's is not on the team.
        let queue = first.investigation_queue().await.unwrap();
        assert_eq!(queue.len(), 1);
        let inv = &queue[0];
        assert_eq!(inv.case_id, case.id);
        assert!(matches!(inv.core_clock(chrono::Utc::now()), Clock::Running { minutes_left: 239 | 240 }));
        assert_eq!(inv.holder(Part::Phone).map(|a| a.display_name.as_str()), Some("tracer1"));
        assert!(elsewhere.investigation_queue().await.unwrap().is_empty());

        // The site visit goes to a second investigator beside the call; the call is taken.
        let busy = second.take_investigation(inv.id, Part::Phone).await.unwrap_err();
        assert_eq!(busy.refusal().and_then(|r| r.arg("who")), Some("tracer1"), "{busy}");
        let split = second.take_investigation(inv.id, Part::Site).await.unwrap();
        assert_eq!(
            split.assignments.iter().map(|a| (a.part.as_str(), a.display_name.as_str())).collect::<Vec<_>>(),
            vec![("phone", "tracer1"), ("site", "tracer2")]
        );

        // A second case: tracer1 is busy, tracer2 too, so it waits… until the lead assigns the
        // next in turn, the one with fewer open tasks (the 县 investigator's split counts).
        let c2 = first.create_case(new_case("140121100202", "清徐-2", vec![case.id], 14)).await.unwrap();
        let inv2 = first.investigation_of_case(c2.id).await.unwrap().unwrap();
        assert!(inv2.assignments.is_empty(), "nobody free");
        assert_eq!(c2.cluster_id, case.cluster_id);
        let given = second.assign_investigation(inv2.id, Part::Phone, None).await.unwrap();
        assert_eq!(given.holder(Part::Phone).unwrap().display_name, "tracer1", "tracer1 waited longer");

        let core = first.core_done(inv.id).await.unwrap();
        assert!(matches!(core.core_clock(chrono::Utc::now()), Clock::Done { late: false }));
        let empty = first.file_report(inv.id, " ").await.unwrap_err();
        assert_eq!(empty.refusal().map(|r| r.kind), Some("refused.report_needs_source"), "{empty}");
        let filed = first.file_report(inv.id, "与东关村某物流园区工人同一工作场所，疑为园区内传播").await.unwrap();
        assert!(filed.report_done_at.is_some());
        assert_eq!(
            first.investigation_queue().await.unwrap().iter().map(|i| i.id).collect::<Vec<_>>(),
            vec![inv2.id],
            "reported ones leave the queue"
        );
        let events = store
            .audit_events(&cordon_store::audit::AuditFilter { entity: Some("investigation".into()), ..Default::default() }, 20)
            .await
            .unwrap();
        let actions: Vec<&str> = events.iter().rev().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, vec!["assign", "assign", "core_done", "reported"]);
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn checkins_load_once_and_a_case_gets_everyone_who_overlapped_at_its_venues_ranked() {
    use cordon_domain::cases::exposure::Lookback;
    use cordon_store::checkins::NewVenue;
    for (s, store) in each_backend("checkins").await {
        seed_areas(&store).await;
        import_persons(&store, Cursor::new(people_csv(12).into_bytes()), &mut Collect::default()).await.unwrap();
        let tracer = as_user(&store, "tracer", Role::Investigator, "140121").await;
        let venue = |c: &str, name: &str| NewVenue { code: c.into(), name: name.into(), area_code: code("140121100201"), address: None };
        assert_eq!(tracer.register_venues(&[venue("V001", "东关物流园"), venue("V002", "东关超市")]).await.unwrap(), 2);
        assert_eq!(tracer.register_venues(&[venue("V001", "改名")]).await.unwrap(), 0);

        // The case (person 0) was at the park 08:00–12:00 on the 11th and at the shop at 18:00
        // (no exit scan: an hour). Person 1 overlapped 3 h, person 2 at both places (1 h + 30
        // min), person 3 came after the case left the shop, person 4 was there before the
        // look-back window (the 8th).
        let csv = format!(
            "身份证号,场所码,扫码时间,离开时间\n\
             {p0},V001,2022-04-11 08:00:00,2022-04-11 12:00:00\n\
             {p0},V002,2022-04-11 18:00:00,\n\
             {p1},V001,2022-04-11 09:00:00,2022-04-11 14:00:00\n\
             {p2},V001,2022-04-11 11:00:00,\n\
             {p2},V002,2022-04-11 18:30:00,2022-04-11 19:30:00\n\
             {p3},V002,2022-04-11 19:00:00,\n\
             {p4},V001,2022-04-08 09:00:00,2022-04-08 10:00:00\n\
             {p1},V404,2022-04-11 09:00:00,\n\
             140121199001011234,V001,2022-04-11 09:00:00,\n\
             {p1},V001,昨天,\n",
            p0 = id(0),
            p1 = id(1),
            p2 = id(2),
            p3 = id(3),
            p4 = id(4)
        );
        let mut errors = Collect::default();
        let summary = tracer.import_checkins(Cursor::new(csv.clone().into_bytes()), &mut errors).await.unwrap();
        assert_eq!((summary.rows, summary.inserted, summary.invalid_rows), (10, 7, 3));
        let fields: Vec<(u64, Option<&str>)> = errors.0.iter().map(|e| (e.line, e.field)).collect();
        assert_eq!(fields, vec![(9, Some("venue_code")), (10, Some("id_number")), (11, Some("at"))]);
        let again = tracer.import_checkins(Cursor::new(csv.into_bytes()), &mut Collect::default()).await.unwrap();
        assert_eq!(again.inserted, 0, "loading the same scans again changes nothing");
        // A file mixing a stored scan with a new one, the new one twice: only the new one is stored.
        let mixed = format!(
            "身份证号,场所码,扫码时间,离开时间\n{p0},V001,2022-04-11 08:00:00,2022-04-11 12:00:00\n{p4},V002,2022-04-01 09:00:00,\n{p4},V002,2022-04-01 09:00:00,\n",
            p0 = id(0),
            p4 = id(4)
        );
        let mixed = tracer.import_checkins(Cursor::new(mixed.into_bytes()), &mut Collect::default()).await.unwrap();
        assert_eq!((mixed.rows, mixed.inserted), (3, 1));

        let people: HashMap<String, i64> = store.person_ids_by_documents(&(0..5).map(id).collect::<Vec<_>>()).await.unwrap();
        let mut new = new_case("140121100201", "清徐-1", vec![], 12);
        new.person_id = Some(people[&id(0)]);
        let case = tracer.create_case(new).await.unwrap();
        let got = tracer.venue_candidates(case.id, &Lookback::default()).await.unwrap();
        let ranked: Vec<(i64, i64, usize)> = got.iter().map(|c| (c.person_id, c.overlap_minutes, c.venues.len())).collect();
        assert_eq!(ranked, vec![(people[&id(1)], 180, 1), (people[&id(2)], 90, 2)]);
        assert_eq!(got[1].venues, vec!["东关物流园", "东关超市"]);

        // The first look-up went to SQL and started the contact graph; it answers the same.
        store.build_contact_graph().await.unwrap();
        assert_eq!(
            store.contact_graph_status().await.unwrap(),
            cordon_store::contacts::GraphStatus::Ready { scans: 8 },
            "the seven, and the one new scan of the mixed file"
        );
        assert_eq!(tracer.venue_candidates(case.id, &Lookback::default()).await.unwrap(), got);

        // A look-back of five days reaches the 8th, but person 4 left before the case came.
        let wide = tracer.venue_candidates(case.id, &Lookback::new(5, 60).unwrap()).await.unwrap();
        assert_eq!(wide.len(), 2);
        let other = as_user(&store, "other", Role::Investigator, "140121101").await;
        assert!(matches!(other.venue_candidates(case.id, &Lookback::default()).await, Err(cordon_store::StoreError::Forbidden(_))));
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn the_contact_graph_answers_what_the_sql_self_join_answers_and_sees_scans_another_process_stored() {
    use chrono::{Duration, TimeZone, Utc};
    use cordon_store::checkins::CheckIn;
    use cordon_store::contacts::GraphStatus;
    for (s, store) in each_backend("rings").await {
        // 2,000 people over 200 venues for three days from 13 April (local midnight), three
        // scans a day between 08:00 and 22:00, one in five with an exit scan 10 min to 4 h later.
        let day0: i64 = 1_649_779_200;
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            ((seed >> 33) % n) as i64
        };
        let mut scans = vec![];
        for person_id in 1..=2000 {
            for d in 0..3 {
                for _ in 0..3 {
                    let at = day0 + d * 86_400 + 8 * 3600 + next(14 * 3600);
                    let left = (next(5) == 0).then(|| at + 600 + next(4 * 3600));
                    scans.push(CheckIn { person_id, venue_id: 1 + next(200), at, left });
                }
            }
        }
        assert_eq!(store.contact_graph_status().await.unwrap(), GraphStatus::Unbuilt);
        let half = scans.len() / 2;
        let first = store.write_checkins(scans[..half].to_vec()).await.unwrap();
        assert_eq!(store.build_contact_graph().await.unwrap(), first);
        // The rest arrive after the graph is built; it takes them as they commit.
        let rest = store.write_checkins(scans[half..].to_vec()).await.unwrap();
        assert_eq!(store.contact_graph_status().await.unwrap(), GraphStatus::Ready { scans: first + rest });

        let at = |s: i64| Utc.timestamp_opt(s, 0).unwrap();
        let window = (at(day0 + 86_400 + 12 * 3600), at(day0 + 2 * 86_400 + 14 * 3600));
        let stay = Duration::minutes(60);
        let mut second = 0;
        for person in [1, 57, 123, 250, 399, 1024, 1999] {
            let graph = store.contact_rings(person, window, stay).await.unwrap();
            assert_eq!(graph, store.contact_rings_sql(person, window, stay).await.unwrap(), "person {person}");
            assert!(!graph.first.is_empty() && !graph.first.contains(&person));
            assert!(graph.second.iter().all(|p| *p != person && graph.first.binary_search(p).is_err()));
            second += graph.second.len();
        }
        assert!(second > 0 && second < 7 * 1000, "the second ring reaches some, not all: {second}");
        // A shorter default stay shares less.
        let short = store.contact_rings(1, window, Duration::minutes(5)).await.unwrap();
        assert_eq!(short, store.contact_rings_sql(1, window, Duration::minutes(5)).await.unwrap());
        assert!(short.first.len() < store.contact_rings(1, window, stay).await.unwrap().first.len());

        // Another process (a command-line import) stores a scan: person 1000 at person 1's
        // first venue of the window, at the same minute. The graph is stale; the answer is not.
        let other = cordon_store::Store::open(&s.url).await.unwrap();
        let met = *scans.iter().filter(|c| c.person_id == 1 && c.at >= window.0.timestamp()).min_by_key(|c| c.at).unwrap();
        other.write_checkins(vec![CheckIn { person_id: 1000, venue_id: met.venue_id, at: met.at, left: None }]).await.unwrap();
        assert!(matches!(store.contact_graph_status().await.unwrap(), GraphStatus::Stale { .. }));
        assert!(store.contact_rings(1, window, stay).await.unwrap().first.contains(&1000));
        assert_eq!(store.build_contact_graph().await.unwrap(), first + rest + 1);
        assert_eq!(store.contact_graph_status().await.unwrap(), GraphStatus::Ready { scans: first + rest + 1 });
        assert!(store.contact_rings(1, window, stay).await.unwrap().first.contains(&1000));
        other.close().await;
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn contacts_bring_their_households_as_secondaries_are_handed_over_in_a_batch_and_a_positive_contact_becomes_a_case() {
    use cordon_domain::cases::exposure::ExposureKind;
    use cordon_store::exposures::NewExposure;
    for (s, store) in each_backend("exposures").await {
        seed_areas(&store).await;
        import_persons(&store, Cursor::new(people_csv(12).into_bytes()), &mut Collect::default()).await.unwrap();
        let tracer = as_user(&store, "tracer", Role::Investigator, "140121100").await;
        let ids = store.person_ids_by_documents(&(0..12).map(id).collect::<Vec<_>>()).await.unwrap();
        let p = |n: u32| ids[&id(n)];
        // Two per household: 0–1 and 2–3 in 清源镇, 4–5 in 徐沟镇 (another township).
        let mut new = new_case("140121100201", "清徐-1", vec![], 12);
        new.person_id = Some(p(0));
        let case = tracer.create_case(new).await.unwrap();
        let met = |person: i64, kind: ExposureKind| NewExposure {
            contact_person_id: person,
            kind,
            degree: None,
            first_at: Some(chrono::Utc::now() - chrono::Duration::days(2)),
            last_at: Some(chrono::Utc::now() - chrono::Duration::days(1)),
            note: None,
        };
        let done = tracer
            .record_exposures(case.id, &[met(p(2), ExposureKind::Meal), met(p(4), ExposureKind::Work), met(p(3), ExposureKind::Work)])
            .await
            .unwrap();
        assert_eq!((done.exposures, done.secondaries_proposed, done.assist_requests), (3, 3, 1), "{done:?}");
        assert!(tracer.record_exposures(case.id, &[met(p(0), ExposureKind::Household)]).await.is_err(), "a case is not its own contact");
        // A batch naming one contact twice for one kind (a form sent with a row repeated): the
        // last word is kept, nothing new is proposed.
        let repeated = [met(p(2), ExposureKind::Meal), NewExposure { note: Some("同桌".into()), ..met(p(2), ExposureKind::Meal) }];
        let again = tracer.record_exposures(case.id, &repeated).await.unwrap();
        assert_eq!((again.exposures, again.secondaries_proposed), (2, 0), "{:?}: {again:?}", s.kind);

        let contacts = tracer.contacts(case.id).await.unwrap();
        let view: Vec<(i64, &str, usize, &str)> =
            contacts.iter().map(|c| (c.person_id, c.degree.as_str(), c.paths, c.status.as_str())).collect();
        assert_eq!(
            view,
            vec![
                (p(2), "close", 2, "confirmed"),
                (p(3), "close", 2, "confirmed"),
                (p(4), "close", 1, "confirmed"),
                (p(5), "secondary", 1, "proposed"),
            ],
            "2 and 3 share a home: each is a close contact and the other's secondary; the graver degree counts"
        );
        let requests = tracer.assist_requests().await.unwrap();
        assert_eq!(requests.len(), 1);
        assert_eq!((requests[0].to_area.as_str(), requests[0].status.as_str()), ("140121101", "open"));
        assert!(requests[0].facts.contains("清徐-1"));

        // The proposed secondary must be confirmed before hand-over; then one batch.
        let refused = tracer.hand_over(case.id, &[p(5)]).await.unwrap();
        assert_eq!(refused.refused.len(), 1);
        let secondary = contacts.iter().find(|c| c.person_id == p(5)).unwrap();
        assert_eq!(tracer.decide_exposures(case.id, &secondary.exposure_ids, true).await.unwrap(), 1);
        let batch = tracer.hand_over(case.id, &[p(2), p(3), p(4), p(5), p(9)]).await.unwrap();
        assert_eq!(batch.ordered, vec![p(2), p(3), p(4), p(5)]);
        assert_eq!(batch.refused, vec![(p(9), cordon_store::Refusal::new("refused.not_a_contact"))]);
        assert_eq!(tracer.hand_over(case.id, &[p(2)]).await.unwrap().already, vec![p(2)], "handing over again changes nothing");
        assert!(tracer.contacts(case.id).await.unwrap().iter().all(|c| c.status.as_str() == "handed_over"));

        // Person 4 (in the other township) turns positive: a case infected by 清徐-1, in its
        // cluster; 5, 4's household secondary, becomes a close contact; 4's order ends as a case.
        let county = as_user(&store, "county", Role::Investigator, "140121").await;
        let p5 =
            |contacts: Vec<cordon_store::exposures::Contact>| contacts.into_iter().find(|c| c.person_id == p(5)).unwrap().degree.as_str();
        assert_eq!(p5(tracer.contacts(case.id).await.unwrap()), "secondary");
        let mut second = new_case("140121101201", "徐沟-1", vec![], 13);
        second.person_id = Some(p(4));
        let c2 = county.create_case(second).await.unwrap();
        assert_eq!((c2.cluster_id, c2.generation), (case.cluster_id, 1));
        assert_eq!(p5(tracer.contacts(case.id).await.unwrap()), "close");
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn a_team_shared_by_two_close_contacts_of_one_batch_is_proposed_once() {
    use cordon_domain::cases::exposure::ExposureKind;
    use cordon_store::exposures::NewExposure;
    for (s, store) in each_backend("team_once").await {
        seed_areas(&store).await;
        import_persons(&store, Cursor::new(people_csv(12).into_bytes()), &mut Collect::default()).await.unwrap();
        let tracer = as_user(&store, "tracer", Role::Investigator, "140121").await;
        let ids = store.person_ids_by_documents(&(0..12).map(id).collect::<Vec<_>>()).await.unwrap();
        let p = |n: u32| ids[&id(n)];
        // 1, 3 and 5 sort parcels in one team; households 0–1, 2–3, 4–5.
        let csv = format!("单位,身份证号,班组\n快递站,{},分拣C组\n快递站,{},分拣C组\n快递站,{},分拣C组\n", id(1), id(3), id(5));
        tracer.import_roster(Cursor::new(csv.into_bytes()), &code("140121100"), &mut Collect::default()).await.unwrap();
        let mut new = new_case("140121100201", "清徐-1", vec![], 12);
        new.person_id = Some(p(0));
        let case = tracer.create_case(new).await.unwrap();
        let met = |person: i64| NewExposure {
            contact_person_id: person,
            kind: ExposureKind::Work,
            degree: None,
            first_at: Some(chrono::Utc::now() - chrono::Duration::days(1)),
            last_at: Some(chrono::Utc::now() - chrono::Duration::days(1)),
            note: None,
        };
        let done = tracer.record_exposures(case.id, &[met(p(1)), met(p(3))]).await.unwrap();
        let contacts = tracer.contacts(case.id).await.unwrap();
        let view: Vec<(i64, &str, usize)> = contacts.iter().map(|c| (c.person_id, c.degree.as_str(), c.paths)).collect();
        assert_eq!(
            view,
            vec![(p(1), "close", 1), (p(3), "close", 1), (p(2), "secondary", 1), (p(5), "secondary", 1)],
            "{:?}: 5 through one of the two, 2 as 3's household",
            s.kind
        );
        assert_eq!(done.secondaries_proposed, 2, "{:?}: {done:?}", s.kind);
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn a_batch_naming_household_members_and_team_mates_stores_the_same_paths_on_both_backends() {
    use cordon_domain::cases::exposure::{Degree, ExposureKind};
    use cordon_store::exposures::NewExposure;
    for (s, store) in each_backend("batch_paths").await {
        seed_areas(&store).await;
        import_persons(&store, Cursor::new(people_csv(12).into_bytes()), &mut Collect::default()).await.unwrap();
        let tracer = as_user(&store, "tracer", Role::Investigator, "140121").await;
        let ids = store.person_ids_by_documents(&(0..12).map(id).collect::<Vec<_>>()).await.unwrap();
        let p = |n: u32| ids[&id(n)];
        // Households 0–1, 2–3, …; 1, 3, 4, 5, 7 and 9 sort parcels in one team.
        let team: String = [1, 3, 4, 5, 7, 9].iter().map(|n| format!("快递站,{},分拣C组\n", id(*n))).collect();
        tracer
            .import_roster(Cursor::new(format!("单位,身份证号,班组\n{team}").into_bytes()), &code("140121100"), &mut Collect::default())
            .await
            .unwrap();
        let mut new = new_case("140121100201", "清徐-1", vec![], 12);
        new.person_id = Some(p(0));
        let case = tracer.create_case(new).await.unwrap();
        let met = |person: u32, kind: ExposureKind, degree: Option<Degree>| NewExposure {
            contact_person_id: p(person),
            kind,
            degree,
            first_at: Some(chrono::Utc::now() - chrono::Duration::days(1)),
            last_at: Some(chrono::Utc::now() - chrono::Duration::days(1)),
            note: None,
        };
        // 2 and 3 are each other's household: each gets a second path through the other. 4
        // comes as 5's household member, so not again as a team-mate; 7 is named, so not
        // proposed; 1 and 9 are the team-mates proposed.
        let first = [
            met(3, ExposureKind::Work, None),
            met(2, ExposureKind::Household, None),
            met(5, ExposureKind::Meal, None),
            met(7, ExposureKind::Meal, Some(Degree::Secondary)),
        ];
        let done = tracer.record_exposures(case.id, &first).await.unwrap();
        assert_eq!(done.secondaries_proposed, 5, "{:?}: {done:?}", s.kind);
        // 9, proposed as a team-mate, turns out to have shared the meal: a close contact now,
        // whose household brings 8; 5 again changes nothing; the team is all on record.
        let second = [met(9, ExposureKind::Meal, None), met(5, ExposureKind::Meal, None)];
        let done = tracer.record_exposures(case.id, &second).await.unwrap();
        assert_eq!(done.secondaries_proposed, 1, "{:?}: {done:?}", s.kind);
        let index: HashMap<i64, u32> = (0..12).map(|n| (p(n), n)).collect();
        let mut view: Vec<(u32, &str, usize, Vec<String>, &str)> = Vec::new();
        let contacts = tracer.contacts(case.id).await.unwrap();
        for c in &contacts {
            let mut kinds = c.kinds.clone();
            kinds.sort();
            view.push((index[&c.person_id], c.degree.as_str(), c.paths, kinds, c.status.as_str()));
        }
        view.sort_by_key(|v| v.0);
        let k = |kinds: &[&str]| kinds.iter().map(|k| k.to_string()).collect::<Vec<_>>();
        assert_eq!(
            view,
            vec![
                (1, "secondary", 1, k(&["work"]), "proposed"),
                (2, "close", 2, k(&["household"]), "confirmed"),
                (3, "close", 2, k(&["household", "work"]), "confirmed"),
                (4, "secondary", 1, k(&["household"]), "proposed"),
                (5, "close", 1, k(&["meal"]), "confirmed"),
                (7, "secondary", 1, k(&["meal"]), "confirmed"),
                (8, "secondary", 1, k(&["household"]), "proposed"),
                (9, "close", 2, k(&["meal", "work"]), "confirmed"),
            ],
            "{:?}",
            s.kind
        );
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn a_roster_offers_the_cases_co_workers_and_proposes_a_close_contacts_team_as_secondaries() {
    use cordon_domain::cases::exposure::ExposureKind;
    use cordon_store::exposures::NewExposure;
    for (s, store) in each_backend("roster").await {
        seed_areas(&store).await;
        import_persons(&store, Cursor::new(people_csv(12).into_bytes()), &mut Collect::default()).await.unwrap();
        let tracer = as_user(&store, "tracer", Role::Investigator, "140121").await;
        let ids = store.person_ids_by_documents(&(0..12).map(id).collect::<Vec<_>>()).await.unwrap();
        let p = |n: u32| ids[&id(n)];
        // The park: 0, 6, 8 sort in team A; 2, 10 in team B; 4 in the office; the canteen's
        // roster (6 and 11) names no teams. Households: 6–7, 8–9, 10–11.
        let csv = format!(
            "单位,身份证号,班组\n\
             物流园,{i0},分拣A组\n物流园,{i6},分拣A组\n物流园,{i8},分拣A组\n物流园,{i2},分拣B组\n物流园,{i10},分拣B组\n\
             物流园,{i4},办公室\n食堂,{i11},\n食堂,{i6},\n食堂,{i5},\n物流园,140121199001011234,分拣A组\n,{i10},\n",
            i0 = id(0),
            i5 = id(5),
            i2 = id(2),
            i4 = id(4),
            i6 = id(6),
            i8 = id(8),
            i10 = id(10),
            i11 = id(11)
        );
        let mut errors = Collect::default();
        let summary = tracer.import_roster(Cursor::new(csv.clone().into_bytes()), &code("140121100"), &mut errors).await.unwrap();
        assert_eq!((summary.rows, summary.workplaces, summary.members, summary.invalid_rows), (11, 2, 9, 2), "{summary:?}");
        let fields: Vec<(u64, Option<&str>)> = errors.0.iter().map(|e| (e.line, e.field)).collect();
        assert_eq!(fields, vec![(11, Some("id_number")), (12, Some("workplace"))]);
        let again = tracer.import_roster(Cursor::new(csv.into_bytes()), &code("140121100"), &mut Collect::default()).await.unwrap();
        assert_eq!((again.workplaces, again.members), (0, 0), "importing again changes nothing");
        let outsider = as_user(&store, "outsider", Role::Investigator, "140121101").await;
        assert!(matches!(
            outsider.import_roster(Cursor::new(b"x".to_vec()), &code("140121100"), &mut Collect::default()).await,
            Err(cordon_store::StoreError::Forbidden(_))
        ));

        let mut new = new_case("140121100201", "清徐-1", vec![], 12);
        new.person_id = Some(p(0));
        let case = tracer.create_case(new).await.unwrap();
        // 11, who works in the canteen, is a case too.
        let mut canteen = new_case("140121100201", "清徐-2", vec![], 12);
        canteen.person_id = Some(p(11));
        let canteen = tracer.create_case(canteen).await.unwrap();
        let got = tracer.roster_candidates(case.id).await.unwrap();
        let got: Vec<(i64, &str, &str)> = got.iter().map(|c| (c.person_id, c.workplace.as_str(), c.unit.as_str())).collect();
        assert_eq!(got, vec![(p(6), "物流园", "分拣A组"), (p(8), "物流园", "分拣A组")], "the case's team only");

        // 6 and 8 are confirmed close contacts in one batch: neither is proposed through the
        // other; 5 (6's canteen, whose roster names no teams) is, beside the households 7 and 9,
        // but not 11, a case; team B and the office are not.
        let met = NewExposure {
            contact_person_id: p(6),
            kind: ExposureKind::Work,
            degree: None,
            first_at: Some(chrono::Utc::now() - chrono::Duration::days(1)),
            last_at: Some(chrono::Utc::now() - chrono::Duration::days(1)),
            note: None,
        };
        let both = [met.clone(), NewExposure { contact_person_id: p(8), ..met.clone() }];
        let done = tracer.record_exposures(case.id, &both).await.unwrap();
        assert_eq!(done.secondaries_proposed, 3, "{done:?}");
        let contacts = tracer.contacts(case.id).await.unwrap();
        let view: Vec<(i64, &str, usize, Vec<String>)> =
            contacts.iter().map(|c| (c.person_id, c.degree.as_str(), c.paths, c.kinds.clone())).collect();
        let k = |s: &str| vec![s.to_string()];
        assert_eq!(
            view,
            vec![
                (p(6), "close", 1, k("work")),
                (p(8), "close", 1, k("work")),
                (p(5), "secondary", 1, k("work")),
                (p(7), "secondary", 1, k("household")),
                (p(9), "secondary", 1, k("household")),
            ],
            "close contacts first"
        );
        assert!(tracer.roster_candidates(case.id).await.unwrap().is_empty(), "recorded co-workers are no longer offered");
        // Why: the canteen's roster names no teams, so its whole staff was proposed.
        let why = tracer.roster_proposals(case.id).await.unwrap();
        assert_eq!(why.iter().map(|w| (w.workplace.as_str(), w.unit.as_str(), w.people)).collect::<Vec<_>>(), [("食堂", "", 1)]);

        // 6 turns positive. The canteen case's co-workers are offered marked: 6 a case, 5 a
        // contact of 清徐-1.
        let mut six = new_case("140121100202", "清徐-3", vec![], 12);
        six.person_id = Some(p(6));
        tracer.create_case(six).await.unwrap();
        let marked: HashMap<i64, Option<cordon_store::exposures::Standing>> =
            tracer.roster_candidates(canteen.id).await.unwrap().into_iter().map(|c| (c.person_id, c.standing)).collect();
        use cordon_domain::cases::exposure::Degree;
        use cordon_store::exposures::Standing;
        assert_eq!(marked.len(), 2, "{marked:?}");
        assert_eq!(marked[&p(6)], Some(Standing::Case { number: "清徐-3".into() }), "a case before a contact");
        // Recording that case as the canteen case's contact is refused and changes nothing.
        let as_contact = NewExposure { contact_person_id: p(6), ..met.clone() };
        let refused = tracer.record_exposures(canteen.id, &[as_contact]).await.unwrap_err();
        assert_eq!(refused.refusal().map(|r| r.kind), Some("refused.contact_is_case"), "{:?}", s.kind);
        assert!(tracer.contacts(canteen.id).await.unwrap().is_empty());
        // (5 met 6, now a case, so 5 is a close contact of 清徐-1 now.)
        assert_eq!(marked[&p(5)], Some(Standing::Contact { number: "清徐-1".into(), degree: Degree::Close }));
        s.finish(store).await.unwrap();
    }
}

#[tokio::test]
async fn clusters_kept_case_by_case_equal_clusters_formed_from_scratch() {
    use cordon_domain::cases::chain::{ChainCase, clusters, shape};
    for (s, store) in each_backend("cluster_paths").await {
        seed_areas(&store).await;
        let tracer = as_user(&store, "tracer", Role::Investigator, "140121").await;
        // 60 cases: most name one earlier case (the fast path), some none (a new cluster), some
        // an earlier case and its own infector (the fast path, the nearest counting), some two
        // from different chains (re-formed).
        let mut rng = 7u64;
        let mut next = |n: u64| {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (rng >> 33) % n
        };
        let mut ids: Vec<i64> = Vec::new();
        let mut links: Vec<(i64, i64)> = Vec::new();
        let areas = ["140121100201", "140121100202", "140121101201"];
        for k in 0..60u64 {
            let infectors: Vec<i64> = match (ids.len(), next(10)) {
                (0, _) | (_, 0..=1) => vec![],
                (n, 2) if n > 1 => {
                    let (a, b) = (next(n as u64) as usize, next(n as u64) as usize);
                    let mut v = vec![ids[a], ids[b]];
                    v.dedup();
                    v
                }
                (n, 3..=4) => {
                    let a = ids[next(n as u64) as usize];
                    match links.iter().find(|(_, b)| *b == a) {
                        Some((infector, _)) => vec![a, *infector],
                        None => vec![a],
                    }
                }
                (n, _) => vec![ids[next(n as u64) as usize]],
            };
            let c = tracer
                .create_case(new_case(areas[(k % 3) as usize], &format!("R{k}"), infectors.clone(), 1 + (k % 28) as u32))
                .await
                .unwrap();
            links.extend(infectors.iter().map(|i| (*i, c.id)));
            ids.push(c.id);
            // Whichever path wrote it, the case answered is the case stored, its investigation
            // is open with its clocks and in the tracer's hands (the only investigator, free
            // only for the first), and its event is on the chain.
            assert_eq!(tracer.case(c.id).await.unwrap().as_ref(), Some(&c), "{:?}", s.kind);
            let inv = tracer.investigation_of_case(c.id).await.unwrap().expect("an investigation");
            assert_eq!((inv.case_number.as_str(), inv.opened_at), (c.external_id.as_str(), c.created_at));
            assert_eq!(inv.core_due_at - inv.opened_at, chrono::Duration::hours(4));
            assert_eq!(inv.assignments.len(), usize::from(k == 0), "case {k}");
        }
        let check = store.verify_audit().await.unwrap();
        assert!(check.breaks.is_empty(), "{:?}", check.breaks);
        let cases = cordon_store::audit::AuditFilter { entity: Some("case".into()), ..Default::default() };
        let events = store.audit_events(&cases, 1000).await.unwrap();
        let made: Vec<&str> = events.iter().filter(|e| e.action == "create").filter_map(|e| e.entity_id.as_deref()).collect();
        assert_eq!(made.len(), 60, "{made:?}");
        let stored = tracer.clusters(&ClusterFilter { min_size: Some(1), limit: Some(5000), ..Default::default() }).await.unwrap();
        let parts = clusters(&ids, &links);
        assert_eq!(stored.len(), parts.len());
        for part in parts {
            let cases: Vec<cordon_store::cases::Case> = {
                let mut v = Vec::new();
                for id in &part {
                    v.push(tracer.case(*id).await.unwrap().unwrap());
                }
                v
            };
            let chain: Vec<ChainCase> = cases.iter().map(|c| ChainCase { id: c.id, date: c.onset_date.or(c.report_date) }).collect();
            let expected = shape(&chain, &links).unwrap();
            let cluster_id = cases[0].cluster_id.unwrap();
            assert!(cases.iter().all(|c| c.cluster_id == Some(cluster_id)), "one cluster per part");
            for c in &cases {
                assert_eq!(c.generation as u32, expected.generation[&c.id], "generation of {}", c.external_id);
            }
            let row = stored.iter().find(|r| r.id == cluster_id).unwrap();
            assert_eq!(
                (row.size as usize, row.generations as u32, row.first_date, row.last_date),
                (part.len(), expected.generations, expected.first_date, expected.last_date)
            );
            assert_eq!(row.index_case_id, Some(expected.index_case));
        }
        s.finish(store).await.unwrap();
    }
}

/// The same file as people have it: LF, CRLF with a BOM (Excel on Windows), and GBK.
fn as_people_have_it(csv: &str) -> Vec<(&'static str, Vec<u8>)> {
    let mut windows = b"\xEF\xBB\xBF".to_vec();
    windows.extend_from_slice(csv.replace('\n', "\r\n").as_bytes());
    let crlf = csv.replace('\n', "\r\n");
    let gbk = encoding_rs::GBK.encode(&crlf).0.into_owned();
    vec![("LF", csv.as_bytes().to_vec()), ("CRLF with BOM", windows), ("GBK CRLF", gbk)]
}

#[tokio::test]
async fn line_lists_scans_and_rosters_report_the_lines_an_editor_shows_whatever_the_endings_encoding_and_quoted_line_breaks() {
    for (s, store) in each_backend("import_lines").await {
        seed_areas(&store).await;
        import_persons(&store, Cursor::new(people_csv(4).into_bytes()), &mut Collect::default()).await.unwrap();
        let tracer = as_user(&store, "tracer", Role::Investigator, "140121100").await;
        let target = LinelistTarget { area: code("140121100"), incident: None };
        // Line 1 the header; lines 2–3 one case whose note breaks a line; line 4 a row with no
        // case number; line 5 a good row; line 6 a number written twice.
        let linelist = "病例编号,传染源,备注\nL1,,\"发热\n咳嗽\"\n,L1,无编号\nL2,L1,\nL1,,重复\n";
        for (how, bytes) in as_people_have_it(linelist) {
            let mut errors = Collect::default();
            tracer.import_linelist(Cursor::new(bytes), &target, &mut errors).await.unwrap();
            let lines: Vec<u64> = errors.0.iter().map(|e| e.line).collect();
            assert_eq!(lines, [4, 6], "{:?} {how}: {:?}", s.kind, errors.0);
        }

        let venue = |c: &str| cordon_store::checkins::NewVenue {
            code: c.into(),
            name: "东关物流园".into(),
            area_code: code("140121100201"),
            address: None,
        };
        tracer.register_venues(&[venue("V001")]).await.unwrap();
        let scans = format!(
            "身份证号,场所码,扫码时间,备注\n{p0},V001,2022-04-11 08:00:00,\"入口\n东门\"\n{p0},V404,2022-04-11 09:00:00,\n{p1},V001,昨天,\n",
            p0 = id(0),
            p1 = id(1)
        );
        for (how, bytes) in as_people_have_it(&scans) {
            let mut errors = Collect::default();
            tracer.import_checkins(Cursor::new(bytes), &mut errors).await.unwrap();
            let lines: Vec<(u64, Option<&str>)> = errors.0.iter().map(|e| (e.line, e.field)).collect();
            assert_eq!(lines, [(4, Some("venue_code")), (5, Some("at"))], "{:?} {how}", s.kind);
        }

        let roster =
            format!("单位,身份证号,班组\n\"东关\n物流园\",{p0},A组\n物流园,140121199001011234,A组\n,{p1},\n", p0 = id(0), p1 = id(1));
        for (how, bytes) in as_people_have_it(&roster) {
            let mut errors = Collect::default();
            tracer.import_roster(Cursor::new(bytes), &code("140121100"), &mut errors).await.unwrap();
            let lines: Vec<(u64, Option<&str>)> = errors.0.iter().map(|e| (e.line, e.field)).collect();
            assert_eq!(lines, [(4, Some("id_number")), (5, Some("workplace"))], "{:?} {how}", s.kind);
        }
        s.finish(store).await.unwrap();
    }
}
