//! Who may do what, where: permissions, roles with their default permission sets, and
//! jurisdictions (sets of area-code prefixes). Roles' permissions are data an admin can change;
//! the defaults here seed them.

use serde::{Deserialize, Serialize};

use crate::area::AreaCode;

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal, $zh:literal;)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(into = "&'static str", try_from = "String")]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
            /// The Chinese label shown in the UI.
            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh),* }
            }
            /// Reads the identifier or the Chinese label, as people type them in files.
            pub fn from_text(s: &str) -> Option<Self> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| v.as_str() == s || v.label_zh() == s)
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let known: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    format!("unknown {} {s:?} (known: {})", stringify!($name).to_lowercase(), known.join(", "))
                })
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                s.parse()
            }
        }

        impl From<$name> for &'static str {
            fn from(v: $name) -> &'static str {
                v.as_str()
            }
        }

        /// The identifier, as stored and sent (faces label it from their locale).
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use named_enum;

named_enum! {
    /// One thing a user may do. Place-bound permissions apply only inside the user's jurisdiction.
    Permission {
        AreasRead => "areas.read", "查看区划";
        PersonsRead => "persons.read", "查看人员";
        PersonsReveal => "persons.reveal", "查看完整证件号和手机号";
        PersonsWrite => "persons.write", "登记修改人员";
        PersonsImport => "persons.import", "批量导入人员";
        AuditRead => "audit.read", "查看审计日志";
        UsersManage => "users.manage", "管理账号和角色";
        TestingRead => "testing.read", "查看核酸检测";
        TestingWrite => "testing.write", "核酸采样登记";
        LabWrite => "lab.write", "录入检测结果";
        TracingRead => "tracing.read", "查看流调";
        TracingWrite => "tracing.write", "流调和密接判定";
        QuarantineRead => "quarantine.read", "查看隔离";
        QuarantineWrite => "quarantine.write", "隔离点管理";
        CommunityWrite => "community.write", "社区居家管控";
        TreatmentWrite => "treatment.write", "医疗救治";
        TransferWrite => "transfer.write", "转运调度";
        CheckpointWrite => "checkpoint.write", "卡口登记";
        HotlineRead => "hotline.read", "查看热线工单";
        HotlineWrite => "hotline.write", "热线工单";
        SuppliesWrite => "supplies.write", "物资管理";
        CommandWrite => "command.write", "指挥调度";
        ReportsRead => "reports.read", "查看日报";
    }
}

named_enum! {
    /// A job in the headquarters; each comes with a default set of permissions.
    Role {
        Commander => "commander", "指挥长";
        Investigator => "investigator", "流调人员";
        TestingOfficer => "testing_officer", "核酸采样人员";
        Lab => "lab", "检测机构";
        QuarantineSiteHead => "quarantine_site_head", "隔离点负责人";
        TransferDispatcher => "transfer_dispatcher", "转运调度员";
        CheckpointOfficer => "checkpoint_officer", "卡口值守人员";
        HotlineOperator => "hotline_operator", "热线接线员";
        CommunityWorker => "community_worker", "社区网格员";
        HospitalStaff => "hospital_staff", "医院医护人员";
        Logistics => "logistics", "物资保障人员";
        Viewer => "viewer", "只读观察员";
        Admin => "admin", "系统管理员";
    }
}

impl Permission {
    /// Whether it lets its holder change records (every permission but the reading ones).
    pub fn changes(self) -> bool {
        !self.as_str().ends_with(".read")
    }
}

/// Whether an account with these permissions only reads: it neither joins a task force nor is
/// sent an instruction, since it could do nothing about one.
pub fn read_only<'a>(permissions: impl IntoIterator<Item = &'a Permission>) -> bool {
    !permissions.into_iter().any(|p| p.changes())
}

impl Role {
    /// The permissions a role starts with.
    pub fn default_permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Commander => &[
                AreasRead,
                PersonsRead,
                PersonsReveal,
                PersonsWrite,
                PersonsImport,
                AuditRead,
                TestingRead,
                TracingRead,
                QuarantineRead,
                HotlineRead,
                CommandWrite,
                ReportsRead,
            ],
            Role::Investigator => &[AreasRead, PersonsRead, PersonsReveal, TracingRead, TracingWrite, TestingRead],
            Role::TestingOfficer => &[AreasRead, PersonsRead, PersonsWrite, TestingRead, TestingWrite],
            Role::Lab => &[AreasRead, TestingRead, LabWrite],
            Role::QuarantineSiteHead => &[AreasRead, PersonsRead, QuarantineRead, QuarantineWrite, TestingRead],
            Role::TransferDispatcher => &[AreasRead, PersonsRead, QuarantineRead, TransferWrite],
            Role::CheckpointOfficer => &[AreasRead, PersonsRead, CheckpointWrite],
            Role::HotlineOperator => &[AreasRead, PersonsRead, HotlineRead, HotlineWrite],
            // The village's recall list, missing list and home list, and the door tests.
            // The hotline's tickets sent to the village.
            Role::CommunityWorker => &[AreasRead, PersonsRead, TestingRead, TestingWrite, QuarantineRead, CommunityWrite, HotlineRead],
            // The ward: admission, clinical type, hospital tests, discharge and death.
            Role::HospitalStaff => &[AreasRead, PersonsRead, TestingRead, TreatmentWrite],
            Role::Logistics => &[AreasRead, SuppliesWrite],
            // A read-only observer reads the situation and the lists behind it, changes nothing.
            Role::Viewer => &[AreasRead, PersonsRead, ReportsRead, TestingRead, TracingRead, QuarantineRead, HotlineRead],
            Role::Admin => Permission::ALL,
        }
    }
}

/// The areas a user may work in: a set of area codes, each meaning itself and everything below.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jurisdiction(Vec<AreaCode>);

impl Jurisdiction {
    /// Builds a jurisdiction, dropping codes already covered by another (so ranges never overlap).
    pub fn new(mut areas: Vec<AreaCode>) -> Self {
        areas.sort();
        areas.dedup();
        let mut kept: Vec<AreaCode> = Vec::new();
        for a in areas {
            if !kept.iter().any(|k| k.contains(&a)) {
                kept.retain(|k| !a.contains(k));
                kept.push(a);
            }
        }
        Jurisdiction(kept)
    }

    pub fn areas(&self) -> &[AreaCode] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `code` lies inside the jurisdiction.
    pub fn contains(&self, code: &AreaCode) -> bool {
        self.0.iter().any(|a| a.contains(code))
    }

    /// Whether a facility registered at `code` serves the jurisdiction: it lies inside, or its
    /// area holds one of the jurisdiction's (a county's designated hospital serves its
    /// townships); a facility of a neighbouring county does not.
    pub fn served_from(&self, code: &AreaCode) -> bool {
        self.contains(code) || self.0.iter().any(|a| code.contains(a))
    }

    /// The part of `area`'s subtree inside the jurisdiction: `area` itself when covered, else
    /// the jurisdiction's areas that lie under it.
    pub fn within(&self, area: &AreaCode) -> Jurisdiction {
        if self.contains(area) {
            Jurisdiction(vec![area.clone()])
        } else {
            Jurisdiction(self.0.iter().filter(|a| area.contains(a)).cloned().collect())
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("must be at least 10 characters")]
    TooShort,
    #[error("must contain both letters and digits")]
    TooSimple,
    #[error("must not contain the user name")]
    ContainsUserName,
}

impl From<PasswordError> for crate::refusal::Refusal {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::TooShort => crate::refusal!("refused.password.too_short"),
            PasswordError::TooSimple => crate::refusal!("refused.password.too_simple"),
            PasswordError::ContainsUserName => crate::refusal!("refused.password.contains_user_name"),
        }
    }
}

/// Password rules: at least 10 characters, letters and digits, not containing the user name.
pub fn check_password(password: &str, username: &str) -> Result<(), PasswordError> {
    if password.chars().count() < 10 {
        return Err(PasswordError::TooShort);
    }
    if !password.chars().any(|c| c.is_alphabetic()) || !password.chars().any(|c| c.is_ascii_digit()) {
        return Err(PasswordError::TooSimple);
    }
    if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        return Err(PasswordError::ContainsUserName);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(s: &str) -> AreaCode {
        AreaCode::parse(s).unwrap()
    }

    #[test]
    fn only_the_observer_reads_and_nothing_else() {
        let read_only: Vec<Role> = Role::ALL.iter().copied().filter(|r| read_only(r.default_permissions())).collect();
        assert_eq!(read_only, vec![Role::Viewer]);
        assert!(Permission::CommandWrite.changes() && Permission::PersonsImport.changes());
        assert!(!Permission::ReportsRead.changes());
        assert!(Permission::PersonsReveal.changes(), "unmasking is an act, audited");
    }

    #[test]
    fn jurisdiction_drops_covered_codes() {
        let j = Jurisdiction::new(vec![code("140121100201"), code("140121100"), code("140121101201")]);
        assert_eq!(j.areas(), &[code("140121100"), code("140121101201")]);
        assert!(j.contains(&code("140121100202")));
        assert!(!j.contains(&code("140121101202")));
        assert!(!j.contains(&code("140121")), "a county is not inside one of its townships");
    }

    #[test]
    fn a_facility_serves_the_areas_under_it_and_inside_it() {
        let township = Jurisdiction::new(vec![code("140121100")]);
        assert!(township.served_from(&code("140121")), "the county hospital serves its township");
        assert!(township.served_from(&code("1401")), "and the city's");
        assert!(township.served_from(&code("140121100201")), "a village clinic inside it");
        assert!(!township.served_from(&code("140121101")), "not the next township's");
        assert!(!township.served_from(&code("140122")), "nor the next county's");
    }

    #[test]
    fn within_narrows_to_the_jurisdiction() {
        let j = Jurisdiction::new(vec![code("140121100")]);
        assert_eq!(j.within(&code("140121")).areas(), &[code("140121100")]);
        assert_eq!(j.within(&code("140121100201")).areas(), &[code("140121100201")]);
        assert!(j.within(&code("140121101")).is_empty());
    }

    #[test]
    fn roles_and_permissions_round_trip_their_names() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), *r);
            assert!(r.default_permissions().contains(&Permission::AreasRead));
        }
        assert_eq!(Role::Admin.default_permissions().len(), Permission::ALL.len());
        assert!("pilot".parse::<Role>().unwrap_err().contains("commander"));
    }

    #[test]
    fn password_rules_say_what_is_wrong() {
        assert_eq!(check_password("short1", "wang"), Err(PasswordError::TooShort));
        assert_eq!(check_password("onlyletters", "wang"), Err(PasswordError::TooSimple));
        assert_eq!(check_password("wang12345678", "wang"), Err(PasswordError::ContainsUserName));
        assert_eq!(check_password("qingxu-2022-cmd", "wang"), Ok(()));
    }

    proptest! {
        #[test]
        fn jurisdiction_contains_exactly_what_some_listed_area_contains(
            listed in proptest::collection::vec("1401211[0-2][0-9]([0-9]{3})?", 0..5),
            probe in "1401211[0-2][0-9]([0-9]{3})?",
        ) {
            let listed: Vec<AreaCode> = listed.iter().map(|s| code(s)).collect();
            let j = Jurisdiction::new(listed.clone());
            let probe = code(&probe);
            prop_assert_eq!(j.contains(&probe), listed.iter().any(|a| a.contains(&probe)));
        }
    }
}
