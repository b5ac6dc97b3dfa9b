//! The UI's two languages: zh-CN (default) and English. Strings live in `locales/*.json`
//! (flat key → text, embedded in the binary); a test keeps both files key-identical.
//! The language comes from `?lang=`, then the `lang` cookie, then `Accept-Language`.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::auth::cookie;

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

    /// The text for `key` with `{name}` placeholders filled.
    pub fn fill(&self, key: &str, args: &[(&str, &str)]) -> String {
        args.iter().fold(self.get(key).to_string(), |s, (k, v)| s.replace(&format!("{{{k}}}"), v))
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

/// Remembers a language chosen with `?lang=` in a cookie.
pub async fn remember(req: Request, next: Next) -> Response {
    let chosen = req
        .uri()
        .query()
        .and_then(|q| q.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == "lang"))
        .and_then(|(_, v)| Lang::parse(v));
    let mut res = next.run(req).await;
    if let Some(lang) = chosen {
        let c = format!("lang={}; Path=/; SameSite=Lax; Max-Age=31536000", lang.code());
        if let Ok(v) = c.parse() {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
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
