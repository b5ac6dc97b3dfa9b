//! The UI's two languages: zh-CN (default) and English. Strings live in `locales/*.json`
//! (flat key → text, embedded in the binary); a test keeps both files key-identical.
//! The language comes from `?lang=`, then the `lang` cookie, then `Accept-Language`.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::Response;

use crate::cookies::cookie;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

pub const ZH_CN: &str = include_str!("../locales/zh-CN.json");
pub const EN: &str = include_str!("../locales/en.json");

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim().to_ascii_lowercase();
        if s.starts_with("zh") {
            Some(Lang::Zh)
        } else if s.starts_with("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    fn catalog(self) -> &'static HashMap<String, String> {
        static ZH: OnceLock<HashMap<String, String>> = OnceLock::new();
        static EN_: OnceLock<HashMap<String, String>> = OnceLock::new();
        let (cell, text) = match self {
            Lang::Zh => (&ZH, ZH_CN),
            Lang::En => (&EN_, EN),
        };
        cell.get_or_init(|| serde_json::from_str(text).expect("locale file is a flat JSON object"))
    }

    /// The language a request asks for.
    pub fn of(query: Option<&str>, headers: &HeaderMap) -> Lang {
        let from_query = query
            .and_then(|q| q.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == "lang").and_then(|(_, v)| Lang::parse(v)));
        from_query
            .or_else(|| cookie(headers, "lang").and_then(Lang::parse))
            .or_else(|| {
                let accept = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
                accept.split(',').find_map(|part| Lang::parse(part.split(';').next().unwrap_or("")))
            })
            .unwrap_or(Lang::Zh)
    }
}

/// A refusal as the API and logs say it: in English.
pub fn in_english(r: &cordon_domain::refusal::Refusal) -> String {
    Tr(Lang::En).refusal(r)
}

/// An import's refused row or warning as the API's report and the CLI say it: what is wrong,
/// then, for a warning, what the import did instead.
pub fn row_in_english(e: &cordon_store::import::RowError) -> String {
    let english = in_english(&e.reason);
    match &e.then {
        Some(then) => format!("{english} {}", in_english(then)),
        None => english,
    }
}

/// The translator handed to templates: `{{ t.get("nav.home") }}`.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    /// The text for `key`; "…" when missing (the locale tests keep that from shipping).
    pub fn get(&self, key: &str) -> &'static str {
        match self.0.catalog().get(key) {
            Some(v) => v.as_str(),
            None => {
                tracing::warn!("missing translation {key} for {}", self.0.code());
                "…"
            }
        }
    }

    /// The text for `key` when the locale has one (for labels of open-ended values).
    pub fn try_get(&self, key: &str) -> Option<&'static str> {
        self.0.catalog().get(key).map(|v| v.as_str())
    }

    /// Every key that starts with one of `prefixes`, with its text (for a script that words a
    /// whole family of refusals, such as an import's row reasons).
    pub fn starting_with(&self, prefixes: &[&str]) -> Vec<(&'static str, &'static str)> {
        let mut out: Vec<_> = self
            .0
            .catalog()
            .iter()
            .filter(|(k, _)| prefixes.iter().any(|p| k.starts_with(p)))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        out.sort_unstable();
        out
    }

    /// The text for `key` with `{name}` placeholders filled.
    pub fn fill(&self, key: &str, args: &[(&str, &str)]) -> String {
        args.iter().fold(self.get(key).to_string(), |s, (k, v)| s.replace(&format!("{{{k}}}"), v))
    }

    /// Why a caller was refused, in this language.
    pub fn denied(&self, d: &cordon_store::Denied) -> String {
        let t = self;
        match d {
            cordon_store::Denied::OutsideJurisdiction { area, yours } => {
                let sep = if t.zh() { "、" } else { ", " };
                t.fill("denied.outside_jurisdiction", &[("area", area), ("yours", &yours.join(sep))])
            }
            cordon_store::Denied::MissingPermission { role, permission } => t.fill(
                "denied.missing_permission",
                &[
                    ("role", t.get(&format!("role.{}", role.as_str()))),
                    ("permission", t.get(&format!("permission.{}", permission.as_str()))),
                    ("code", permission.as_str()),
                ],
            ),
        }
    }

    /// A refusal in this language: its kind's text with its values (terms labelled), then the
    /// refusals of its parts.
    pub fn refusal(&self, r: &cordon_domain::refusal::Refusal) -> String {
        let own = r.fill(self.get(r.kind), |key| self.try_get(key));
        r.parts.iter().fold(own, |text, part| format!("{text} {}", self.refusal(part)))
    }

    /// Whether the page speaks Chinese.
    pub fn zh(&self) -> bool {
        self.0 == Lang::Zh
    }

    pub fn lang(&self) -> &'static str {
        self.0.code()
    }

    /// The code of the other language, for the switch link.
    pub fn other(&self) -> &'static str {
        match self.0 {
            Lang::Zh => "en",
            Lang::En => "zh-CN",
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Tr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Tr(Lang::of(parts.uri.query(), &parts.headers)))
    }
}

/// A language chosen with `?lang=`, to be remembered in a cookie.
pub(crate) fn chosen(uri: &axum::http::Uri) -> Option<Lang> {
    uri.query().and_then(|q| q.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == "lang")).and_then(|(_, v)| Lang::parse(v))
}

/// Remembers a language [`chosen`] on the request in a cookie on its response.
pub(crate) fn remember(res: &mut Response, lang: Lang) {
    let c = format!("lang={}; Path=/; SameSite=Lax; Max-Age=31536000", lang.code());
    if let Ok(v) = c.parse() {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cordon_domain::access::Role;

    fn keys(text: &str) -> std::collections::BTreeMap<String, String> {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn both_locales_have_the_same_keys_and_no_empty_values() {
        let (zh, en) = (keys(ZH_CN), keys(EN));
        let zk: Vec<&String> = zh.keys().collect();
        let ek: Vec<&String> = en.keys().collect();
        assert_eq!(zk, ek);
        for (k, v) in zh.iter().chain(en.iter()) {
            assert!(!v.trim().is_empty(), "{k} is empty");
        }
    }

    /// Every act the store audits (each change built with a literal action and entity, and the
    /// acts named by a variable) reads in words on the audit log, in both languages, and its kind of record is
    /// one the log's filter offers.
    #[test]
    fn every_audited_act_has_words_in_both_locales() {
        let mut pairs: Vec<(String, String)> = [
            ("investigation", "core_done"),
            ("investigation", "reported"),
            ("exposures", "record"),
            ("exposures", "dismiss"),
            ("exposures", "confirm"),
            ("instruction_recipient", "receive"),
            ("instruction_recipient", "progress"),
            ("instruction_recipient", "done"),
            ("instruction_recipient", "verify"),
            ("instruction_recipient", "send_back"),
            ("instruction_recipient", "reassign"),
        ]
        .iter()
        .map(|(e, a)| (e.to_string(), a.to_string()))
        .collect();
        for (_, src) in sources() {
            for (i, _) in src.match_indices("Change::new(\"") {
                let mut parts = src[i + "Change::new(\"".len()..].splitn(3, '"');
                let (Some(action), Some(sep), Some(rest)) = (parts.next(), parts.next(), parts.next()) else { continue };
                if sep != ", " {
                    continue;
                }
                if let Some(entity) = rest.split('"').next() {
                    pairs.push((entity.to_string(), action.to_string()));
                }
            }
        }
        assert!(pairs.len() > 40, "found the audited acts: {}", pairs.len());
        let entities = crate::ui::admin::audit::ENTITIES;
        for (entity, action) in pairs {
            for lang in [Lang::Zh, Lang::En] {
                let key = format!("audit.did.{entity}.{action}");
                assert!(lang.catalog().contains_key(key.as_str()), "{key} ({})", lang.code());
            }
            assert!(entities.contains(&entity.as_str()), "{entity} is not offered by the audit log's filter");
        }
    }

    /// The pages' security policy (`default-src 'self'`) blocks inline styles and scripts: a
    /// template that carries one would show or do nothing, with only a console error to say so.
    #[test]
    fn no_template_carries_an_inline_style_or_script_the_policy_would_block() {
        for (path, src) in sources().into_iter().filter(|(p, _)| p.ends_with(".html")) {
            for banned in [" style=\"", " onclick=\"", " onsubmit=\"", " onchange=\"", "<script>"] {
                assert!(!src.contains(banned), "{path} carries {banned}");
            }
        }
    }

    /// A form that does not read names its field in the page's words (`field.<name>`), never
    /// the field's code: every input a template names has a label in both locales.
    #[test]
    fn every_form_field_a_template_names_has_a_label_in_both_locales() {
        let mut missing = vec![];
        for (path, src) in sources().into_iter().filter(|(p, _)| p.ends_with(".html")) {
            for name in literals_after(&src, "name=\"") {
                let ok = |lang: Lang| lang.catalog().contains_key(format!("field.{name}").as_str());
                // Names built per row (a rule set's days.<category>.<n>) are read by their own form.
                let built = name.contains("{{");
                if !built && name != "viewport" && name != "htmx-config" && !(ok(Lang::Zh) && ok(Lang::En)) {
                    missing.push(format!("{path}: {name}"));
                }
            }
        }
        assert!(missing.is_empty(), "fields without a label: {missing:?}");
    }

    #[test]
    fn every_role_and_level_has_a_label_in_both() {
        for lang in [Lang::Zh, Lang::En] {
            for r in Role::ALL {
                assert!(lang.catalog().contains_key(&format!("role.{}", r.as_str())), "{r:?} {lang:?}");
            }
            for l in ["province", "city", "county", "township", "village"] {
                assert!(lang.catalog().contains_key(&format!("level.{l}")));
            }
        }
    }

    /// Every file of the three crates' code and the page templates, with its path.
    fn sources() -> Vec<(String, String)> {
        fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs" || e == "html") {
                    out.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
                }
            }
        }
        let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut out = vec![];
        for dir in ["domain/src", "store/src", "web/src", "web/templates"] {
            walk(&crates.join(dir), &mut out);
        }
        assert!(out.len() > 100, "found the sources");
        out
    }

    /// The string literal that starts right after each `pattern` (which ends with `"`).
    fn literals_after<'a>(src: &'a str, pattern: &str) -> Vec<&'a str> {
        src.match_indices(pattern).filter_map(|(i, _)| src[i + pattern.len()..].split('"').next()).collect()
    }

    /// The text labelling each value of a kind of term, by its key's prefix: for each key the
    /// code builds as `format!("prefix.{}", value)` (or names as a refusal's term), the values.
    fn labelled() -> Vec<(&'static str, Vec<&'static str>)> {
        use cordon_domain::cases::{
            case::{CaseClass, CasePlace, HowFound, Origin, PlaceKind, Severity},
            exposure::{AssistStatus, Degree, ExposureKind, ExposureStatus},
            investigation::Part,
        };
        use cordon_domain::observation::{
            Status,
            rules::{Category, StageKind},
        };
        use cordon_domain::testing::{
            exemption::ExemptionReason,
            result::{RecallStatus, TubeResult},
        };
        use cordon_domain::transfer::{TransferKind, TransferStatus, VehicleKind};
        use cordon_domain::treatment::{HospitalKind, StayStatus};
        use cordon_domain::{AreaLevel, Sex, Vulnerability, access::Permission};
        fn all<T: Copy>(values: &[T], f: fn(T) -> &'static str) -> Vec<&'static str> {
            values.iter().map(|v| f(*v)).collect()
        }
        use cordon_domain::observation::{RoomStatus, SiteKind};
        vec![
            ("case.class.", all(CaseClass::ALL, CaseClass::as_str)),
            ("case.found.", all(HowFound::ALL, HowFound::as_str)),
            ("case.origin.", all(Origin::ALL, Origin::as_str)),
            ("case.place.", all(CasePlace::ALL, CasePlace::as_str)),
            ("place.", all(PlaceKind::ALL, PlaceKind::as_str)),
            ("treatment.severity.", all(Severity::ALL, Severity::as_str)),
            ("contacts.degree.", all(Degree::ALL, Degree::as_str)),
            ("contacts.kind.", all(ExposureKind::ALL, ExposureKind::as_str)),
            ("investigation.part.", all(Part::ALL, Part::as_str)),
            ("obs.status.", all(Status::ALL, Status::as_str)),
            ("stock.kind.", all(cordon_domain::supplies::MovementKind::ALL, cordon_domain::supplies::MovementKind::as_str)),
            ("stock.source.", all(cordon_domain::supplies::ReceiptSource::ALL, cordon_domain::supplies::ReceiptSource::as_str)),
            ("supply.category.", all(cordon_domain::supplies::ItemCategory::ALL, cordon_domain::supplies::ItemCategory::as_str)),
            ("supply.level.", all(cordon_domain::supplies::WarehouseLevel::ALL, cordon_domain::supplies::WarehouseLevel::as_str)),
            ("supply.requester.", all(cordon_domain::supplies::RequesterKind::ALL, cordon_domain::supplies::RequesterKind::as_str)),
            ("supply.priority.", all(cordon_domain::supplies::Priority::ALL, cordon_domain::supplies::Priority::as_str)),
            ("supply.status.", all(cordon_domain::supplies::RequestStatus::ALL, cordon_domain::supplies::RequestStatus::as_str)),
            ("delivery.status.", all(cordon_domain::supplies::DeliveryStatus::ALL, cordon_domain::supplies::DeliveryStatus::as_str)),
            ("ticket.channel.", all(cordon_domain::hotline::Channel::ALL, cordon_domain::hotline::Channel::as_str)),
            ("ticket.category.", all(cordon_domain::hotline::TicketCategory::ALL, cordon_domain::hotline::TicketCategory::as_str)),
            ("ticket.urgency.", all(cordon_domain::hotline::Urgency::ALL, cordon_domain::hotline::Urgency::as_str)),
            ("ticket.status.", all(cordon_domain::hotline::TicketStatus::ALL, cordon_domain::hotline::TicketStatus::as_str)),
            ("ticket.satisfaction.", all(cordon_domain::hotline::Satisfaction::ALL, cordon_domain::hotline::Satisfaction::as_str)),
            ("ticket.act.", all(cordon_domain::hotline::TicketAct::ALL, cordon_domain::hotline::TicketAct::as_str)),
            ("ticket.text.", vec!["address", "content", "reason", "result", "note"]),
            ("obs.category.", all(Category::ALL, Category::as_str)),
            ("obs.stage.", all(StageKind::ALL, StageKind::as_str)),
            ("exemption.", all(ExemptionReason::ALL, ExemptionReason::as_str)),
            ("dispatch.kind.", all(TransferKind::ALL, TransferKind::as_str)),
            ("dispatch.own_place.", all(TransferKind::ALL, TransferKind::as_str)),
            ("dispatch.status.", all(TransferStatus::ALL, TransferStatus::as_str)),
            ("dispatch.vehicle.", all(VehicleKind::ALL, VehicleKind::as_str)),
            ("dispatch.hospital.", all(HospitalKind::ALL, HospitalKind::as_str)),
            ("permission.", all(Permission::ALL, Permission::as_str)),
            ("role.", all(Role::ALL, Role::as_str)),
            ("audit.lockout.", all(&cordon_domain::throttle::Scope::ALL, cordon_domain::throttle::Scope::as_str)),
            ("rules.title.", cordon_domain::observation::RuleSet::BUILT_IN.to_vec()),
            ("checkpoints.kind.", all(cordon_domain::checkpoints::CheckpointKind::ALL, cordon_domain::checkpoints::CheckpointKind::as_str)),
            ("checkpoints.why.", all(cordon_domain::checkpoints::DecisionCode::ALL, cordon_domain::checkpoints::DecisionCode::as_str)),
            ("checkpoints.risk.", all(cordon_domain::checkpoints::OriginRisk::ALL, cordon_domain::checkpoints::OriginRisk::as_str)),
            ("checkpoints.decision.", all(cordon_domain::checkpoints::Decision::ALL, cordon_domain::checkpoints::Decision::as_str)),
            ("code.colour.", all(cordon_domain::health_code::Colour::ALL, cordon_domain::health_code::Colour::as_str)),
            ("zones.act.", all(cordon_domain::zones::ZoneAct::ALL, cordon_domain::zones::ZoneAct::as_str)),
            ("zones.condition.", all(cordon_domain::zones::ConditionCode::ALL, cordon_domain::zones::ConditionCode::as_str)),
            ("zones.kind_2021.", all(cordon_domain::zones::ZoneKind::ALL, cordon_domain::zones::ZoneKind::as_str)),
            ("zones.kind_risk.", all(cordon_domain::zones::ZoneKind::ALL, cordon_domain::zones::ZoneKind::as_str)),
            ("clocks.kind.", all(cordon_domain::clocks::ClockKind::ALL, cordon_domain::clocks::ClockKind::as_str)),
            ("daily.field.", all(cordon_domain::report::Field::ALL, cordon_domain::report::Field::as_str)),
            ("screen.group.", all(cordon_domain::report::FoundGroup::ALL, cordon_domain::report::FoundGroup::as_str)),
            ("screen.", crate::ui::command::screen::WORDS.to_vec()),
            ("daily.section.", cordon_domain::report::Field::sections().iter().map(|(k, _)| *k).collect()),
            ("timeline.kind.", all(cordon_domain::timeline::EventKind::ALL, cordon_domain::timeline::EventKind::as_str)),
            ("response_level.", all(cordon_domain::command::ResponseLevel::ALL, cordon_domain::command::ResponseLevel::as_str)),
            ("task_force.kind.", all(cordon_domain::command::TaskForceKind::ALL, cordon_domain::command::TaskForceKind::as_str)),
            ("instr.state.", all(cordon_domain::command::RecipientState::ALL, cordon_domain::command::RecipientState::as_str)),
            ("instr.act.", all(cordon_domain::command::Act::ALL, cordon_domain::command::Act::as_str)),
            ("instr.kind.", all(cordon_domain::command::RecipientKind::ALL, cordon_domain::command::RecipientKind::as_str)),
            ("notice.kind.", all(cordon_domain::command::NoticeKind::ALL, cordon_domain::command::NoticeKind::as_str)),
            ("instr.clock.", vec!["running", "due_soon", "overdue", "done_on_time", "done_late", "closed"]),
            (
                "unique.",
                vec![
                    "labs",
                    "hospitals",
                    "vehicles",
                    "quarantine_sites",
                    "users",
                    "venues",
                    "rooms",
                    "transport_batches",
                    "workplaces",
                    "cases",
                    "persons",
                    "tubes",
                    "record",
                ],
            ),
            (
                "level.",
                all(&[AreaLevel::Province, AreaLevel::City, AreaLevel::County, AreaLevel::Township, AreaLevel::Village], AreaLevel::as_str),
            ),
            ("sex.", all(&[Sex::Male, Sex::Female], Sex::as_str)),
            ("tag.", all(&Vulnerability::ALL, Vulnerability::as_str)),
            ("results.result.", all(&TubeResult::ALL, TubeResult::as_str)),
            ("room_status.", all(RoomStatus::ALL, RoomStatus::as_str)),
            ("quarantine.room.", all(RoomStatus::ALL, RoomStatus::as_str)),
            ("quarantine.kind.", all(SiteKind::ALL, SiteKind::as_str)),
            ("contacts.status.", all(ExposureStatus::ALL, ExposureStatus::as_str)),
            ("recalls.status.", all(RecallStatus::ALL, RecallStatus::as_str)),
            ("assist.status.", all(AssistStatus::ALL, AssistStatus::as_str)),
            ("treatment.status.", all(StayStatus::ALL, StayStatus::as_str)),
            // The outcomes a page reports back, and the steps a board offers: named by the page.
            ("contacts.done.", vec!["recorded", "dismissed", "confirmed", "handed_over", "existing"]),
            ("users.done.", vec!["created", "updated", "password", "disabled", "enabled", "token", "revoked", "not_live"]),
            ("obs.outcome.", vec!["pending", "negative", "positive"]),
            ("transport.stage_", vec!["open", "sealed", "departed", "received", "resulted"]),
            ("dispatch.do_", vec!["dispatched", "picked_up", "arrived"]),
            ("quarantine.out_", vec!["home_monitoring", "home_quarantine", "released"]),
            ("form.", vec!["not_number"]),
            ("audit.entity.", crate::ui::admin::audit::ENTITIES.to_vec()),
            ("audit.", vec!["area", "since", "until", "actor"]),
            ("audit.actor.", vec!["recompute", "demo"]),
        ]
    }

    #[test]
    fn every_key_the_code_names_is_in_both_locales() {
        // Keys looked up with `try_get` fall back to the value itself: open-ended by design.
        const OPEN: [&str; 3] = ["action.", "field.", "audit.did."];
        let labelled = labelled();
        let mut missing = vec![];
        let mut unknown_prefixes = vec![];
        let mut seen = 0;
        for (path, src) in sources() {
            let mut keys: Vec<&str> = vec![];
            for pattern in [
                "t.get(\"",
                "t.fill(\"",
                "self.get(\"",
                "refusal!(\"",
                "refused!(\"",
                "Refusal::new(\"",
                "Refusal::conflict(\"",
                "Refusal::missing(\"",
            ] {
                keys.extend(literals_after(&src, pattern));
            }
            // Refusal kinds wherever they are written, and the keys a page hands its script.
            keys.extend(src.match_indices("\"refused.").map(|(i, _)| src[i + 1..].split('"').next().unwrap()));
            if path.contains("/ui/") {
                keys.extend(literals_after(&src, "\", \"").into_iter().filter(|k| k.contains('.') && !k.contains(' ')));
            }
            for key in keys.into_iter().filter(|k| !k.is_empty() && !k.ends_with('.') && !k.contains(['{', ' '])) {
                seen += 1;
                for lang in [Lang::Zh, Lang::En] {
                    if !lang.catalog().contains_key(key) {
                        missing.push(format!("{key} ({}) in {path}", lang.code()));
                    }
                }
            }
            let formatted = ["t.get(&format!(\"", "t.fill(&format!(\"", "t.try_get(&format!(\""]
                .iter()
                .flat_map(|p| literals_after(&src, p))
                .map(|f| f.split('{').next().unwrap_or(f).to_string());
            let groups = literals_after(&src, "term(\"").into_iter().map(|g| format!("{g}."));
            for prefix in formatted.chain(groups) {
                if OPEN.contains(&prefix.as_str()) {
                    continue;
                }
                match labelled.iter().find(|(p, _)| *p == prefix) {
                    Some((_, values)) => {
                        for v in values {
                            for lang in [Lang::Zh, Lang::En] {
                                if !lang.catalog().contains_key(&format!("{prefix}{v}")) {
                                    missing.push(format!("{prefix}{v} ({}) in {path}", lang.code()));
                                }
                            }
                        }
                    }
                    None => unknown_prefixes.push(format!("{prefix} in {path}")),
                }
            }
        }
        assert!(seen > 500, "the scan sees the keys ({seen})");
        missing.sort();
        missing.dedup();
        assert!(missing.is_empty(), "keys the code names but a locale lacks:\n{}", missing.join("\n"));
        assert!(unknown_prefixes.is_empty(), "keys built from values the test does not know:\n{}", unknown_prefixes.join("\n"));
    }

    #[test]
    fn query_beats_cookie_beats_accept_language() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::of(None, &h), Lang::Zh);
        h.insert(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9".parse().unwrap());
        assert_eq!(Lang::of(None, &h), Lang::En);
        h.insert(header::COOKIE, "lang=zh-CN".parse().unwrap());
        assert_eq!(Lang::of(None, &h), Lang::Zh);
        assert_eq!(Lang::of(Some("q=x&lang=en"), &h), Lang::En);
    }
}
