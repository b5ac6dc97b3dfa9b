//! One refusal type for every rule: a kind with the values it names. The kind is the key of its
//! text in the web crate's locale files (`"refused.case_number_taken"`), so each face says it its own
//! way — a page in its language, the API in English with the kind beside the text — and a test
//! checks that every kind written in the code has its text in both languages.

use std::fmt::Display;

use serde::Serialize;
use serde::ser::SerializeMap;

/// How a refusal answers over HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// The rules refuse the request as it stands (422).
    #[default]
    Refused,
    /// The record is not in a state to allow it, or changed meanwhile (409).
    Conflict,
    /// A record the request names does not exist (404).
    Missing,
}

/// A value a refusal names: a text as it is, or a term (a status, a kind) that each face labels in
/// its language with the locale key `<group>.<value>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Text(String),
    Term { group: &'static str, value: String },
}

impl Arg {
    /// The value as stored (a term's code).
    pub fn raw(&self) -> &str {
        match self {
            Arg::Text(s) => s,
            Arg::Term { value, .. } => value,
        }
    }
}

/// A term labelled by the face: `term("obs.status", "centralized")` reads 集中隔离中 on a Chinese page.
pub fn term(group: &'static str, value: impl Display) -> Arg {
    Arg::Term { group, value: value.to_string() }
}

/// What a refusal's argument can be made of: anything shown as it is, or a [`term`].
pub trait IntoArg {
    fn into_arg(self) -> Arg;
}

impl<T: Display> IntoArg for T {
    fn into_arg(self) -> Arg {
        Arg::Text(self.to_string())
    }
}

impl IntoArg for Arg {
    fn into_arg(self) -> Arg {
        self
    }
}

impl IntoArg for &Arg {
    fn into_arg(self) -> Arg {
        self.clone()
    }
}

/// Why the rules refuse a request; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// The locale key of its text, e.g. `refused.case_number_taken`.
    pub kind: &'static str,
    /// The values its text names (`{number}`), in order.
    #[serde(serialize_with = "args_as_map")]
    pub args: Vec<(&'static str, Arg)>,
    /// The refusals of the members of a whole (each tube of a box), said after its own text.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Refusal>,
    #[serde(skip)]
    pub class: Class,
}

fn args_as_map<S: serde::Serializer>(args: &[(&'static str, Arg)], s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(args.len()))?;
    for (k, v) in args {
        map.serialize_entry(k, v.raw())?;
    }
    map.end()
}

impl Refusal {
    /// A refusal of the rules (422).
    pub fn new(kind: &'static str) -> Self {
        Refusal { kind, args: vec![], parts: vec![], class: Class::Refused }
    }

    /// A record not in a state to allow the request (409).
    pub fn conflict(kind: &'static str) -> Self {
        Refusal { class: Class::Conflict, ..Refusal::new(kind) }
    }

    /// A record the request names does not exist (404).
    pub fn missing(kind: &'static str) -> Self {
        Refusal { class: Class::Missing, ..Refusal::new(kind) }
    }

    /// Names a value its text shows as `{name}`.
    pub fn with(mut self, name: &'static str, value: impl IntoArg) -> Self {
        self.args.push((name, value.into_arg()));
        self
    }

    /// Adds the refusal of one member of the whole.
    pub fn part(mut self, part: Refusal) -> Self {
        self.parts.push(part);
        self
    }

    /// The value named `name`, as stored.
    pub fn arg(&self, name: &str) -> Option<&str> {
        self.args.iter().find(|(k, _)| *k == name).map(|(_, v)| v.raw())
    }

    /// The text of `template` (the kind's text in some language) with each `{name}` filled, terms
    /// labelled by `label(key)` (their code when it has none).
    pub fn fill<'a>(&self, template: &str, label: impl Fn(&str) -> Option<&'a str>) -> String {
        self.args.iter().fold(template.to_string(), |text, (name, arg)| {
            let value = match arg {
                Arg::Text(s) => s.clone(),
                Arg::Term { group, value } => label(&format!("{group}.{value}")).map_or_else(|| value.clone(), str::to_string),
            };
            text.replace(&format!("{{{name}}}"), &value)
        })
    }
}

/// `refusal!("refused.tube_full", capacity = 10)`: a refusal of the rules with its values; a value
/// may be a [`term`].
#[macro_export]
macro_rules! refusal {
    ($kind:literal $(, $k:ident = $v:expr)* $(,)?) => {
        $crate::refusal::Refusal::new($kind)$(.with(stringify!($k), &$v))*
    };
}

impl Display for Refusal {
    /// The kind and its values, for logs (faces use the locale's text).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kind)?;
        for (k, v) in &self.args {
            write!(f, " {k}={}", v.raw())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_values_and_labels_terms() {
        let r = refusal!("refused.cannot_become", name = "张三", from = term("obs.status", "centralized"), n = 3);
        let label = |k: &str| (k == "obs.status.centralized").then_some("集中隔离中");
        assert_eq!(r.fill("{name} 当前为“{from}”（{n}）", label), "张三 当前为“集中隔离中”（3）");
        assert_eq!(r.fill("{name} is {from}", |_| None), "张三 is centralized");
        assert_eq!(r.arg("from"), Some("centralized"));
        assert_eq!(r.class, Class::Refused);
    }

    #[test]
    fn serializes_kind_and_values_without_class() {
        let r = Refusal::conflict("refused.busy").with("barcode", "A1");
        assert_eq!(serde_json::to_value(&r).unwrap(), serde_json::json!({"kind": "refused.busy", "args": {"barcode": "A1"}}));
        assert_eq!(r.class, Class::Conflict);
        assert_eq!(r.to_string(), "refused.busy barcode=A1");
    }
}
