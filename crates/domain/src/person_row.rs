//! One row of a person list as people keep it in spreadsheets: which column is which (Chinese or
//! English headers) and how a row of text becomes a validated [`NewPerson`].

use chrono::NaiveDate;
use serde::Serialize;

use crate::area::AreaCode;
use crate::person::{IdDocument, NewPerson, PersonName, Sex, Tags, parse_passport};
use crate::phone::Phone;
use crate::refusal::Refusal;
use crate::resident_id::ResidentId;

/// A field of a person row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonField {
    IdKind,
    IdNumber,
    Name,
    Sex,
    BirthDate,
    Phone,
    AreaCode,
    Address,
    Tags,
}

impl PersonField {
    pub const ALL: [PersonField; 9] = [
        PersonField::IdKind,
        PersonField::IdNumber,
        PersonField::Name,
        PersonField::Sex,
        PersonField::BirthDate,
        PersonField::Phone,
        PersonField::AreaCode,
        PersonField::Address,
        PersonField::Tags,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PersonField::IdKind => "id_kind",
            PersonField::IdNumber => "id_number",
            PersonField::Name => "name",
            PersonField::Sex => "sex",
            PersonField::BirthDate => "birth_date",
            PersonField::Phone => "phone",
            PersonField::AreaCode => "area_code",
            PersonField::Address => "address",
            PersonField::Tags => "tags",
        }
    }

    /// Header spellings accepted for this field (compared after trimming, case-insensitive).
    fn aliases(self) -> &'static [&'static str] {
        match self {
            PersonField::IdKind => &["id_kind", "证件类型"],
            PersonField::IdNumber => &["id_number", "resident_id", "id", "身份证号", "身份证号码", "证件号码", "证件号", "公民身份号码"],
            PersonField::Name => &["name", "姓名"],
            PersonField::Sex => &["sex", "gender", "性别"],
            PersonField::BirthDate => &["birth_date", "birthday", "出生日期"],
            PersonField::Phone => &["phone", "mobile", "手机号", "手机号码", "联系电话", "电话"],
            PersonField::AreaCode => &["area_code", "区划代码", "行政区划代码", "社区代码", "村居代码"],
            PersonField::Address => &["address", "住址", "地址", "家庭住址", "现住址", "居住地址"],
            PersonField::Tags => &["tags", "重点人群", "标签"],
        }
    }

    fn from_header(h: &str) -> Option<Self> {
        let h = crate::header::normalize(h);
        PersonField::ALL.into_iter().find(|f| f.aliases().contains(&h.as_str()))
    }
}

/// Where each field sits in a row, decided once from the header line.
#[derive(Debug, Clone)]
pub struct PersonColumns {
    index: [Option<usize>; 9],
}

/// A problem with one field of one row: what is wrong, said by a kind each face words in its
/// language, and for a warning what the import did instead (left it empty, took the id's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: PersonField,
    pub reason: Refusal,
    pub then: Option<Refusal>,
}

impl PersonColumns {
    /// Maps a header line; fails, naming them, when required columns are missing.
    pub fn from_headers<'a>(headers: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut index = [None; 9];
        for (i, h) in headers.into_iter().enumerate() {
            if let Some(f) = PersonField::from_header(h) {
                index[f as usize].get_or_insert(i);
            }
        }
        let missing: Vec<&str> = [PersonField::IdNumber, PersonField::Name, PersonField::AreaCode]
            .into_iter()
            .filter(|f| index[*f as usize].is_none())
            .map(|f| f.aliases()[0])
            .collect();
        if missing.is_empty() {
            Ok(PersonColumns { index })
        } else {
            Err(format!("missing required column(s): {} (accepted headers include 身份证号, 姓名, 区划代码)", missing.join(", ")))
        }
    }

    fn get<'r>(&self, row: &'r [&'r str], f: PersonField) -> &'r str {
        self.index[f as usize].and_then(|i| row.get(i)).map(|s| s.trim()).unwrap_or("")
    }

    /// Validates one row against `today`; every bad field is reported, not just the first.
    ///
    /// A row that cannot be a person (no valid id, no name, no area; a passport holder without
    /// sex or birth date; a sex or birth date that contradicts the resident id, which suggests a
    /// mistyped id) is refused with all its problems. An optional field that does not read is a
    /// warning and the person is stored without it: a phone or tags left empty, an address over
    /// 200 characters left empty, a sex or birth date the resident id gives instead.
    pub fn parse(&self, row: &[&str], today: NaiveDate) -> Result<(NewPerson, Vec<FieldError>), Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let mut fail = |field, reason: Refusal| errors.push(FieldError { field, reason, then: None });
        let mut warn = |field, reason: Refusal, then: Refusal| warnings.push(FieldError { field, reason, then: Some(then) });
        let (left_empty, from_id) = (|| crate::refusal!("row.then.left_empty"), || crate::refusal!("row.then.from_id"));
        let kind = self.get(row, PersonField::IdKind);
        let number = self.get(row, PersonField::IdNumber);
        let document = match kind {
            "" | "身份证" | "居民身份证" | "resident" => {
                ResidentId::parse_on(number, today).map(IdDocument::Resident).map_err(Refusal::from)
            }
            "护照" | "passport" => parse_passport(number).map(IdDocument::Passport).map_err(|_| crate::refusal!("row.passport")),
            other => Err(crate::refusal!("row.id_kind", value = other)),
        };
        let document = document.map_err(|r| fail(PersonField::IdNumber, r)).ok();
        let name = PersonName::parse(self.get(row, PersonField::Name)).map_err(|e| fail(PersonField::Name, e.into())).ok();

        let resident = matches!(document, Some(IdDocument::Resident(_)));
        // A sex or birth date that does not read: the resident id gives it instead (a warning), or
        // for a passport holder the row cannot be a person.
        let mut unread = |field, reason| if resident { warn(field, reason, from_id()) } else { fail(field, reason) };
        let sex_text = self.get(row, PersonField::Sex);
        let given_sex = match sex_text.parse::<Sex>() {
            _ if sex_text.is_empty() => None,
            Ok(s) => Some(s),
            Err(_) => {
                unread(PersonField::Sex, crate::refusal!("row.sex", value = sex_text));
                None
            }
        };
        let birth_text = self.get(row, PersonField::BirthDate);
        let given_birth = match parse_date(birth_text) {
            _ if birth_text.is_empty() => None,
            Ok(d) => Some(d),
            Err(_) => {
                unread(PersonField::BirthDate, crate::refusal!("row.date", value = birth_text));
                None
            }
        };
        let (sex, birth_date) = match &document {
            Some(IdDocument::Resident(id)) => {
                if given_sex.is_some_and(|s| s != id.sex()) {
                    let kind = match id.sex() {
                        Sex::Male => "row.sex_contradicts_male",
                        Sex::Female => "row.sex_contradicts_female",
                    };
                    fail(PersonField::Sex, Refusal::new(kind).with("value", sex_text));
                }
                if given_birth.is_some_and(|b| b != id.birth_date()) {
                    fail(PersonField::BirthDate, crate::refusal!("row.birth_contradicts", value = birth_text, id = id.birth_date()));
                }
                (Some(id.sex()), Some(id.birth_date()))
            }
            Some(IdDocument::Passport(_)) => {
                if sex_text.is_empty() {
                    fail(PersonField::Sex, crate::refusal!("row.passport_needs"));
                }
                if birth_text.is_empty() {
                    fail(PersonField::BirthDate, crate::refusal!("row.passport_needs"));
                }
                (given_sex, given_birth)
            }
            None => (given_sex, given_birth),
        };
        let phone_text = self.get(row, PersonField::Phone);
        let phone = if phone_text.is_empty() {
            None
        } else {
            Phone::parse(phone_text).map_err(|e| warn(PersonField::Phone, e.into(), left_empty())).ok()
        };
        let area_code = AreaCode::parse(self.get(row, PersonField::AreaCode))
            .map_err(|_| {
                fail(PersonField::AreaCode, crate::refusal!("refused.area_code_invalid", code = self.get(row, PersonField::AreaCode)))
            })
            .ok();
        let mut address = self.get(row, PersonField::Address);
        if address.chars().count() > 200 {
            warn(PersonField::Address, crate::refusal!("row.too_long", max = 200), left_empty());
            address = "";
        }
        let tags_text = self.get(row, PersonField::Tags);
        let tags = Tags::parse_list(tags_text).unwrap_or_else(|_| {
            warn(PersonField::Tags, crate::refusal!("row.tags", value = tags_text), left_empty());
            Tags::default()
        });

        match (document, name, sex, birth_date, area_code) {
            (Some(document), Some(name), Some(sex), Some(birth_date), Some(area_code)) if errors.is_empty() => Ok((
                NewPerson {
                    document,
                    name,
                    sex,
                    birth_date,
                    phone,
                    area_code,
                    address: (!address.is_empty()).then(|| address.to_string()),
                    tags,
                },
                warnings,
            )),
            // A refused row lists every problem it has, the optional fields' too.
            _ => {
                // Nothing is stored, so nothing is "left empty" or "taken from the id".
                errors.extend(warnings.into_iter().map(|w| FieldError { then: None, ..w }));
                Err(errors)
            }
        }
    }
}

/// Dates as spreadsheets write them: `2022-04-13`, `2022/4/13`, `20220413`, `2022年4月13日`,
/// and day first with slashes, `13/04/2022`, as exported line lists often are.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let s = s.trim();
    ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d", "%d/%m/%Y"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
        .ok_or_else(|| format!("{s:?} is not a date (use 2022-04-13)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn chinese_headers_map_and_a_good_row_parses() {
        let cols = PersonColumns::from_headers(["\u{feff}身份证号", "姓名", "手机号", "区划代码", "住址", "重点人群"]).unwrap();
        let (p, warnings) =
            cols.parse(&["11010519491231002X", "王秀英", "13812345678", "140121100201", "东街1号", "卧床"], today()).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(p.name.as_str(), "王秀英");
        assert_eq!(p.sex, Sex::Female);
        assert_eq!(p.address.as_deref(), Some("东街1号"));
        assert!(p.tags.has(crate::person::Vulnerability::Bedridden));
    }

    #[test]
    fn missing_required_columns_are_named() {
        let err = PersonColumns::from_headers(["姓名", "phone"]).unwrap_err();
        assert!(err.contains("id_number") && err.contains("area_code"), "{err}");
    }

    #[test]
    fn every_bad_field_is_reported() {
        let cols = PersonColumns::from_headers(["id_number", "name", "phone", "area_code"]).unwrap();
        let errs = cols.parse(&["110105194912310021", "", "123", "1401"], today()).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field).collect();
        assert_eq!(fields, [PersonField::IdNumber, PersonField::Name, PersonField::Phone]);
        assert_eq!(errs[0].reason.kind, "refused.id.check_digit");
        assert_eq!((errs[2].reason.kind, &errs[2].then), ("refused.phone", &None), "a refused row stores nothing");
    }

    #[test]
    fn passports_need_sex_and_birth_date() {
        let cols = PersonColumns::from_headers(["证件类型", "证件号码", "姓名", "性别", "出生日期", "区划代码"]).unwrap();
        let (ok, _) = cols.parse(&["护照", "E12345678", "JOHN SMITH", "男", "1980/5/1", "140121"], today()).unwrap();
        assert_eq!(ok.birth_date, NaiveDate::from_ymd_opt(1980, 5, 1).unwrap());
        let errs = cols.parse(&["护照", "E12345678", "JOHN SMITH", "", "", "140121"], today()).unwrap_err();
        assert_eq!(errs.len(), 2);
    }

    #[test]
    fn an_unreadable_optional_field_is_a_warning_and_the_person_is_kept_without_it() {
        let cols = PersonColumns::from_headers(["身份证号", "姓名", "性别", "出生日期", "手机号", "区划代码", "重点人群"]).unwrap();
        let (p, warnings) =
            cols.parse(&["11010519491231002X", "王秀英", "女?", "1949年12月", "1381234", "140121100201", "火星人"], today()).unwrap();
        let fields: Vec<_> = warnings.iter().map(|w| w.field).collect();
        assert_eq!(fields, [PersonField::Sex, PersonField::BirthDate, PersonField::Phone, PersonField::Tags]);
        let said: Vec<_> = warnings.iter().map(|w| (w.reason.kind, w.then.as_ref().map(|t| t.kind))).collect();
        assert_eq!(
            said,
            [
                ("row.sex", Some("row.then.from_id")),
                ("row.date", Some("row.then.from_id")),
                ("refused.phone", Some("row.then.left_empty")),
                ("row.tags", Some("row.then.left_empty"))
            ]
        );
        assert_eq!(warnings[1].reason.arg("value"), Some("1949年12月"), "the cell as written");
        assert_eq!(
            (p.sex, p.birth_date, p.phone, p.tags),
            (Sex::Female, NaiveDate::from_ymd_opt(1949, 12, 31).unwrap(), None, Tags::default())
        );
        // A passport holder has no id to give them: refused.
        let cols = PersonColumns::from_headers(["证件类型", "证件号码", "姓名", "性别", "出生日期", "区划代码"]).unwrap();
        let errs = cols.parse(&["护照", "E12345678", "JOHN SMITH", "M?", "1980/5/1", "140121"], today()).unwrap_err();
        assert_eq!(errs[0].field, PersonField::Sex);
    }

    #[test]
    fn sex_contradicting_the_id_is_an_error() {
        let cols = PersonColumns::from_headers(["身份证号", "姓名", "性别", "区划代码"]).unwrap();
        let errs = cols.parse(&["11010519491231002X", "王秀英", "男", "140121"], today()).unwrap_err();
        assert_eq!(errs[0].field, PersonField::Sex);
    }
}
