//! People: names, sex, identity documents, vulnerability tags, and a validated new-person record.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::area::AreaCode;
use crate::phone::Phone;
use crate::resident_id::ResidentId;
pub use crate::resident_id::Sex;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonNameError {
    #[error("is empty")]
    Empty,
    #[error("is longer than 50 characters")]
    TooLong,
    #[error("contains a control character or digit")]
    BadCharacter,
}

impl From<PersonNameError> for crate::refusal::Refusal {
    fn from(e: PersonNameError) -> Self {
        match e {
            PersonNameError::Empty => crate::refusal!("refused.name.empty"),
            PersonNameError::TooLong => crate::refusal!("refused.name.too_long"),
            PersonNameError::BadCharacter => crate::refusal!("refused.name.bad_character"),
        }
    }
}

/// A person's name as written on their document (Chinese or Latin letters, `·` for minority names).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

text_newtype!(PersonName, PersonNameError);

impl PersonName {
    pub fn parse(s: &str) -> Result<Self, PersonNameError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(PersonNameError::Empty);
        }
        if s.chars().count() > 50 {
            return Err(PersonNameError::TooLong);
        }
        if s.chars().any(|c| c.is_control() || c.is_ascii_digit()) {
            return Err(PersonNameError::BadCharacter);
        }
        Ok(PersonName(s.to_string()))
    }
}

/// The document a person is identified by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "number", rename_all = "snake_case")]
pub enum IdDocument {
    Resident(ResidentId),
    Passport(String),
}

impl IdDocument {
    pub fn kind(&self) -> &'static str {
        match self {
            IdDocument::Resident(_) => "resident",
            IdDocument::Passport(_) => "passport",
        }
    }
    pub fn number(&self) -> &str {
        match self {
            IdDocument::Resident(id) => id.as_str(),
            IdDocument::Passport(p) => p,
        }
    }
    /// The last four characters, used for phone look-ups.
    pub fn tail4(&self) -> String {
        let n = self.number();
        n[n.len().saturating_sub(4)..].to_string()
    }
    /// Masked for lists: resident ids as `1401**********1234`, passports keep their last 4.
    pub fn masked(&self) -> String {
        match self {
            IdDocument::Resident(id) => id.masked(),
            IdDocument::Passport(p) => format!("{}{}", "*".repeat(p.len().saturating_sub(4)), self.tail4()),
        }
    }
}

/// Validates a passport number: 5–20 letters or digits.
pub fn parse_passport(s: &str) -> Result<String, String> {
    let s = s.trim().to_ascii_uppercase();
    if (5..=20).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(s)
    } else {
        Err("passport number must be 5–20 letters or digits".into())
    }
}

/// Vulnerability tags that cannot be derived from the birth date, kept as a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Tags(u32);

/// One vulnerability that changes how a person is sampled, moved or served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vulnerability {
    Bedridden,
    Disabled,
    Pregnant,
    /// 80 years or older (derived from the birth date).
    Elderly,
    /// Under 3 years (derived from the birth date).
    Infant,
}

impl Vulnerability {
    pub const STORED: [Vulnerability; 3] = [Vulnerability::Bedridden, Vulnerability::Disabled, Vulnerability::Pregnant];
    pub const ALL: [Vulnerability; 5] =
        [Vulnerability::Bedridden, Vulnerability::Disabled, Vulnerability::Pregnant, Vulnerability::Elderly, Vulnerability::Infant];

    pub fn as_str(self) -> &'static str {
        match self {
            Vulnerability::Bedridden => "bedridden",
            Vulnerability::Disabled => "disabled",
            Vulnerability::Pregnant => "pregnant",
            Vulnerability::Elderly => "elderly",
            Vulnerability::Infant => "infant",
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            Vulnerability::Bedridden => "卧床",
            Vulnerability::Disabled => "残疾",
            Vulnerability::Pregnant => "孕妇",
            Vulnerability::Elderly => "高龄",
            Vulnerability::Infant => "婴幼儿",
        }
    }
    fn bit(self) -> u32 {
        match self {
            Vulnerability::Bedridden => 1,
            Vulnerability::Disabled => 2,
            Vulnerability::Pregnant => 4,
            Vulnerability::Elderly | Vulnerability::Infant => 0,
        }
    }
}

impl std::str::FromStr for Vulnerability {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.trim() {
            "bedridden" | "卧床" => Vulnerability::Bedridden,
            "disabled" | "残疾" => Vulnerability::Disabled,
            "pregnant" | "孕妇" => Vulnerability::Pregnant,
            "elderly" | "高龄" => Vulnerability::Elderly,
            "infant" | "婴幼儿" => Vulnerability::Infant,
            other => return Err(format!("unknown tag {other:?} (卧床/残疾/孕妇)")),
        })
    }
}

impl Tags {
    pub const ELDERLY_AGE: u32 = 80;
    pub const INFANT_AGE: u32 = 3;

    pub fn from_bits(bits: i64) -> Self {
        Tags(bits as u32 & 7)
    }
    pub fn bits(self) -> i64 {
        i64::from(self.0)
    }
    pub fn with(self, v: Vulnerability) -> Self {
        Tags(self.0 | v.bit())
    }
    pub fn has(self, v: Vulnerability) -> bool {
        v.bit() != 0 && self.0 & v.bit() != 0
    }
    /// Parses a list such as `卧床;残疾` or `bedridden,disabled`. Derived tags are accepted and ignored.
    pub fn parse_list(s: &str) -> Result<Self, String> {
        s.split([',', ';', '、', '，', '|', ' '])
            .filter(|t| !t.trim().is_empty())
            .try_fold(Tags::default(), |acc, t| Ok(acc.with(t.parse()?)))
    }
    /// All vulnerabilities of a person born on `birth`, as of `today`.
    pub fn all(self, birth: NaiveDate, today: NaiveDate) -> Vec<Vulnerability> {
        let age = age_on(birth, today);
        let mut out: Vec<Vulnerability> = Vulnerability::STORED.into_iter().filter(|v| self.has(*v)).collect();
        if age >= Self::ELDERLY_AGE {
            out.push(Vulnerability::Elderly);
        }
        if age < Self::INFANT_AGE {
            out.push(Vulnerability::Infant);
        }
        out
    }
}

/// Full years of age on `today`.
pub fn age_on(birth: NaiveDate, today: NaiveDate) -> u32 {
    let mut age = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age.max(0) as u32
}

/// A person ready to be stored: every field already validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPerson {
    pub document: IdDocument,
    pub name: PersonName,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub phone: Option<Phone>,
    pub area_code: AreaCode,
    pub address: Option<String>,
    pub tags: Tags,
}

/// What a re-imported row does to the person stored under its id ([`NewPerson::reimport`]); the
/// fields as `person_row::PersonField` names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reimport {
    Same,
    /// Name, phone or address corrected from the row.
    Updated(Vec<&'static str>),
    /// The row names another area: nothing changed; these fields differ.
    Kept(Vec<&'static str>),
}

/// What is stored of a person that a row for the same id is compared with.
#[derive(Debug, Clone, Copy)]
pub struct Stored<'a> {
    pub name: &'a str,
    pub phone: Option<&'a str>,
    pub area_code: &'a str,
    pub address: Option<&'a str>,
}

impl NewPerson {
    /// What a row does to the person already stored under its id — the rule of a re-import.
    /// The list is the registry's source: a corrected list corrects the name, phone and address
    /// (a name stored garbled is repaired by importing the list again, right); a phone or
    /// address the row leaves empty keeps the stored one. A different area
    /// is a move between jurisdictions, not an import's to make: the row then changes nothing and
    /// every differing field is reported.
    pub fn reimport(&self, stored: Stored<'_>) -> Reimport {
        let mut fields = Vec::new();
        if self.name.as_str() != stored.name {
            fields.push("name");
        }
        // A phone or address the row leaves out (no column, an empty cell) is not a correction.
        if self.phone.as_ref().is_some_and(|p| Some(p.as_str()) != stored.phone) {
            fields.push("phone");
        }
        if self.address.as_deref().is_some_and(|a| Some(a) != stored.address) {
            fields.push("address");
        }
        if self.area_code.as_str() != stored.area_code {
            fields.insert(0, "area_code");
            return Reimport::Kept(fields);
        }
        match fields.is_empty() {
            true => Reimport::Same,
            false => Reimport::Updated(fields),
        }
    }

    /// Whether a person met on the spot may be registered where they say they live: in a village
    /// or community (a 12-digit code), the level a household and the community's lists need.
    pub fn may_register_on_the_spot(&self) -> Result<(), crate::refusal::Refusal> {
        if self.area_code.level() == crate::AreaLevel::Village {
            Ok(())
        } else {
            Err(crate::refusal!("refused.register_needs_village", area = self.area_code))
        }
    }

    /// A resident met where they are (a sampling station, a checkpoint): sex and birth date come
    /// from the resident id, so the minimum is the id, the name and the area they live in.
    pub fn from_resident_id(id: ResidentId, name: PersonName, phone: Option<Phone>, area_code: AreaCode, address: Option<String>) -> Self {
        NewPerson {
            sex: id.sex(),
            birth_date: id.birth_date(),
            document: IdDocument::Resident(id),
            name,
            phone,
            area_code,
            address: address.map(|a| a.trim().to_string()).filter(|a| !a.is_empty()),
            tags: Tags::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_reject_digits_and_blank() {
        assert_eq!(PersonName::parse("  "), Err(PersonNameError::Empty));
        assert_eq!(PersonName::parse("张3"), Err(PersonNameError::BadCharacter));
        assert_eq!(PersonName::parse(" 买买提·艾力 ").unwrap().as_str(), "买买提·艾力");
    }

    #[test]
    fn derived_tags_follow_age() {
        let today = NaiveDate::from_ymd_opt(2022, 4, 13).unwrap();
        let old = NaiveDate::from_ymd_opt(1942, 4, 13).unwrap();
        let nearly_old = NaiveDate::from_ymd_opt(1942, 4, 14).unwrap();
        let baby = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        let tags = Tags::parse_list("卧床、残疾").unwrap();
        assert_eq!(tags.all(old, today), vec![Vulnerability::Bedridden, Vulnerability::Disabled, Vulnerability::Elderly]);
        assert_eq!(Tags::default().all(nearly_old, today), vec![]);
        assert_eq!(Tags::default().all(baby, today), vec![Vulnerability::Infant]);
        assert!(Tags::parse_list("飞行员").is_err());
    }

    #[test]
    fn a_resident_met_on_the_spot_takes_sex_and_birth_from_the_id() {
        let birth = NaiveDate::from_ymd_opt(1950, 3, 7).unwrap();
        let id = ResidentId::from_parts("140121", birth, 12).unwrap();
        let area = AreaCode::parse("140121100201").unwrap();
        let p = NewPerson::from_resident_id(id.clone(), PersonName::parse("王桂英").unwrap(), None, area, Some("  ".into()));
        assert_eq!((p.birth_date, p.sex, p.address), (birth, id.sex(), None));
        assert_eq!(p.document.number(), id.as_str());
    }

    #[test]
    fn a_reimport_corrects_name_phone_and_address_but_never_moves_a_person() {
        let birth = NaiveDate::from_ymd_opt(1950, 3, 7).unwrap();
        let id = ResidentId::from_parts("140121", birth, 12).unwrap();
        let area = AreaCode::parse("140121100201").unwrap();
        let row = NewPerson::from_resident_id(id, PersonName::parse("刘德").unwrap(), None, area, Some("东街1号".into()));
        let stored = |name, area_code, address| Stored { name, phone: None, area_code, address };
        assert_eq!(row.reimport(stored("刘德", "140121100201", Some("东街1号"))), Reimport::Same);
        assert_eq!(row.reimport(stored("鍒樺痉", "140121100201", Some("东街1号"))), Reimport::Updated(vec!["name"]));
        assert_eq!(row.reimport(stored("刘德", "140121100201", None)), Reimport::Updated(vec!["address"]));
        let no_address = NewPerson { address: None, ..row.clone() };
        assert_eq!(no_address.reimport(stored("刘德", "140121100201", Some("东街1号"))), Reimport::Same, "left empty, kept");
        assert_eq!(row.reimport(stored("鍒樺痉", "140121101201", Some("东街1号"))), Reimport::Kept(vec!["area_code", "name"]));
        let with_phone = NewPerson { phone: Some(Phone::parse("13912345678").unwrap()), ..row };
        assert_eq!(with_phone.reimport(stored("刘德", "140121100201", Some("东街1号"))), Reimport::Updated(vec!["phone"]));
    }

    #[test]
    fn passports_are_masked_to_their_tail() {
        let doc = IdDocument::Passport(parse_passport("e12345678").unwrap());
        assert_eq!(doc.masked(), "*****5678");
        assert_eq!(doc.number(), "E12345678");
    }

    #[test]
    fn a_person_met_on_the_spot_is_registered_in_a_village_not_a_county() {
        let id = ResidentId::parse("11010519491231002X").unwrap();
        let name = PersonName::parse("王秀英").unwrap();
        let at = |code: &str| NewPerson::from_resident_id(id.clone(), name.clone(), None, AreaCode::parse(code).unwrap(), None);
        assert!(at("140121100201").may_register_on_the_spot().is_ok());
        assert_eq!(at("140121").may_register_on_the_spot().unwrap_err().kind, "refused.register_needs_village");
    }
}
