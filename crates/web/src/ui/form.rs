//! Submitted forms as typed structs. A page's form is decoded by `serde_html_form` (repeated fields
//! into `Vec`s, an empty optional field as `None`), through `serde_path_to_error` so that a field
//! that does not parse is named: the person gets a page saying which field and why, and nothing is
//! changed. No field is ever read as a default value in its place.

use std::str::FromStr;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::response::Response;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use super::message;
use crate::AppState;
use crate::auth::Caller;
use crate::i18n::Tr;

/// The largest form body a page accepts (a rule set's copy is the largest form, a few kilobytes).
const LIMIT: usize = 1 << 20;

/// A form body decoded into `T`; see the module's documentation.
pub struct Form<T>(pub T);

/// The field that did not parse and why (serde's words).
#[derive(Debug, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

/// Decodes a form body (or a query string), naming the field that does not parse.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, FieldError> {
    let de = serde_html_form::Deserializer::from_bytes(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().iter().find_map(|s| match s {
            serde_path_to_error::Segment::Map { key } => Some(key.clone()),
            _ => None,
        });
        let reason = e.into_inner().to_string();
        // A missing field is named in serde's message, not in the path.
        let field = field.or_else(|| reason.split('`').nth(1).map(str::to_string)).unwrap_or_default();
        FieldError { field, reason }
    })
}

impl FieldError {
    /// The field and the reason in the page's language.
    fn said(&self, t: Tr) -> String {
        let label = t.try_get(&format!("field.{}", self.field)).unwrap_or(&self.field);
        let r = &self.reason;
        let reason = if r.contains("missing field") || r.contains("empty string") {
            t.get("form.empty").to_string()
        } else if r.contains("invalid digit") || r.contains("invalid float") || r.contains("number too large") {
            t.get("form.not_number").to_string()
        } else if r.contains("(known:") {
            // A value outside a list of choices (a status, a kind): the page offers the choices.
            t.get("form.not_a_choice").to_string()
        } else {
            t.get("form.unreadable").to_string()
        };
        t.fill("form.bad_field", &[("field", label), ("reason", &reason)])
    }
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Form<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let Ok(t) = Tr::from_request_parts(&mut parts, state).await;
        let decoded = match axum::body::to_bytes(body, LIMIT).await {
            Ok(bytes) => decode::<T>(&bytes),
            Err(_) => Err(FieldError { field: String::new(), reason: t.get("form.too_large").to_string() }),
        };
        match decoded {
            Ok(v) => Ok(Form(v)),
            Err(e) => {
                let caller = Caller::from_request_parts(&mut parts, state).await.ok();
                Err(super::form_refused(t, caller.as_ref(), &e.said(t)))
            }
        }
    }
}

/// A page's query string decoded into `T` the same way: a parameter that does not parse is a
/// page in the person's language naming it, never a bare parser message.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for Query<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Ok(t) = Tr::from_request_parts(parts, state).await;
        match decode::<T>(parts.uri.query().unwrap_or("").as_bytes()) {
            Ok(v) => Ok(Query(v)),
            Err(e) => {
                let caller = Caller::from_request_parts(parts, state).await.ok();
                Err(message(t, caller.as_ref(), StatusCode::BAD_REQUEST, t.get("form.bad_link"), &e.said(t)))
            }
        }
    }
}

/// The record an address names (`/cases/12`): one that does not parse (`/cases/abc`) is no
/// page, said as such in the person's language with the header and a way home.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for Path<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(_) => {
                let Ok(t) = Tr::from_request_parts(parts, state).await;
                let caller = Caller::from_request_parts(parts, state).await.ok();
                Err(message(t, caller.as_ref(), StatusCode::NOT_FOUND, t.get("error.not_found"), t.get("error.not_found_detail")))
            }
        }
    }
}

/// Ids ticked in a list, each box's value one id or several joined by commas (`12,13`), as a
/// person's several exposures are sent from one box. A value that is not a list of ids is refused.
#[derive(Debug, Default, PartialEq)]
pub struct Ids(pub Vec<i64>);

impl<'de> Deserialize<'de> for Ids {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let values = Vec::<String>::deserialize(d)?;
        let mut out = Vec::new();
        for v in &values {
            for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                out.push(i64::from_str(part).map_err(|e| serde::de::Error::custom(format!("{part:?}: {e}")))?);
            }
        }
        Ok(Ids(out))
    }
}

/// A checkbox: present (whatever its value) is `true`.
pub fn checked<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Option::<String>::deserialize(d).map(|v| v.is_some())
}

/// `2022-04-12T08:30` from a datetime-local input, read in the local calendar.
pub(crate) fn local_input(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M").ok().map(cordon_domain::from_local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Sample {
        order_id: i64,
        barcode: String,
        note: Option<String>,
        site_id: Option<i64>,
        #[serde(default)]
        person: Ids,
        #[serde(default, deserialize_with = "checked")]
        confirm: bool,
    }

    #[test]
    fn a_form_decodes_repeated_fields_utf8_and_empty_optionals() {
        let s: Sample = decode(b"order_id=7&barcode=%E6%B8%85+1&note=&site_id=&person=1&person=2%2C3&confirm=on").unwrap();
        // An empty text stays text (a handler trims it); an empty number is no number.
        let want = Sample {
            order_id: 7,
            barcode: "清 1".into(),
            note: Some(String::new()),
            site_id: None,
            person: Ids(vec![1, 2, 3]),
            confirm: true,
        };
        assert_eq!(s, want);
        let s: Sample = decode(b"order_id=7&barcode=x").unwrap();
        assert_eq!((s.person, s.confirm), (Ids(vec![]), false));
    }

    #[test]
    fn a_field_that_does_not_parse_is_named_and_never_read_as_zero() {
        let e = decode::<Sample>(b"order_id=&barcode=x").unwrap_err();
        assert_eq!(e.field, "order_id");
        let e = decode::<Sample>(b"order_id=abc&barcode=x").unwrap_err();
        assert_eq!(e.field, "order_id");
        let e = decode::<Sample>(b"barcode=x").unwrap_err();
        assert_eq!(e.field, "order_id", "{}", e.reason);
        let e = decode::<Sample>(b"order_id=1&barcode=x&person=4&person=x9").unwrap_err();
        assert_eq!(e.field, "person");
    }

    #[test]
    fn a_mistyped_choice_or_a_missing_parameter_is_said_in_the_pages_language() {
        use crate::i18n::Lang;
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Room {
            to: cordon_domain::observation::RoomStatus,
        }
        let e = decode::<Room>(b"to=xyz").unwrap_err();
        let zh = e.said(Tr(Lang::Zh));
        assert_eq!(zh, "「去向」不是可选的值，未做任何更改。");
        assert!(!e.said(Tr(Lang::En)).contains("known"), "no parser words on the page");
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Coverage {
            round: i64,
            area: Option<String>,
        }
        let e = decode::<Coverage>(b"area=140121").unwrap_err();
        assert_eq!(e.said(Tr(Lang::Zh)), "「检测轮次」未填写，未做任何更改。");
    }
}
