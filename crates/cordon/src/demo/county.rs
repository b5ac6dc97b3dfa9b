//! A synthetic county modelled on Qingxu county, Taiyuan (140121): nine towns and townships,
//! about 190 villages and communities, grids, buildings, households of realistic sizes and
//! people with valid resident ids. Deterministic for a seed.

use std::collections::{HashMap, HashSet};

use chrono::{Days, NaiveDate};
use cordon_domain::person::{IdDocument, Tags, Vulnerability};
use cordon_domain::{AreaCode, NewPerson, PersonName, Phone, ResidentId, Sex};
use cordon_store::{NewArea, NewBuilding, NewGrid, NewHousehold};

use super::names::{self, COMMUNITIES, DIRECTIONS, VILLAGE_STEMS};
use super::rng::Rng;

pub const COUNTY_CODE: &str = "140121";
pub const COUNTY_NAME: &str = "清徐县";
/// The day of the seed scenario; ages are as of this day.
pub fn reference_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2022, 4, 13).expect("valid date")
}

/// (code suffix, name, share of population in per mille, communities, villages)
const TOWNSHIPS: &[(&str, &str, u32, u32, u32)] = &[
    ("100", "清源镇", 300, 12, 22),
    ("101", "徐沟镇", 150, 4, 24),
    ("102", "东于镇", 100, 1, 21),
    ("103", "孟封镇", 90, 1, 19),
    ("200", "马峪乡", 70, 0, 19),
    ("201", "柳杜乡", 80, 0, 19),
    ("202", "西谷乡", 70, 0, 16),
    ("203", "王答乡", 70, 0, 15),
    ("204", "集义乡", 70, 0, 15),
];

/// Everything the demo writes: places, then people (whose addresses name their households).
pub struct County {
    pub areas: Vec<NewArea>,
    pub grids: Vec<NewGrid>,
    pub buildings: Vec<NewBuilding>,
    pub households: Vec<NewHousehold>,
    pub people: Vec<NewPerson>,
}

/// Where residents come from: mostly this county, some from Taiyuan's districts and other provinces.
const ORIGINS: &[(&str, u32)] =
    &[("140121", 900), ("140105", 25), ("140106", 20), ("140109", 15), ("140110", 10), ("140181", 15), ("410522", 10), ("130102", 5)];
const PHONE_PREFIXES: &[&str] = &[
    "134", "135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159", "182", "183", "187", "188", "130", "131", "132",
    "155", "156", "185", "186", "133", "153", "180", "181", "189", "199", "177",
];

struct Generator {
    rng: Rng,
    ids: HashMap<(usize, NaiveDate), u16>,
    county: County,
}

impl Generator {
    fn person(&mut self, area: &AreaCode, address: &str, surname: &str, sex: Sex, age: u32) -> NewPerson {
        let day = reference_day();
        let birth = day - Days::new(u64::from(age) * 365 + u64::from(self.rng.range(0, 364)));
        let origin_weights: Vec<u32> = ORIGINS.iter().map(|(_, w)| *w).collect();
        let mut origin = self.rng.weighted(&origin_weights);
        // Sequence numbers: odd for men, even for women; move to another origin when one runs out.
        let seq = loop {
            let n = self.ids.entry((origin, birth)).or_insert(0);
            if *n < 500 {
                let seq = *n * 2 + u16::from(sex == Sex::Male);
                *n += 1;
                break seq;
            }
            origin = (origin + 1) % ORIGINS.len();
        };
        let id = ResidentId::from_parts(ORIGINS[origin].0, birth, seq).expect("generated ids are valid");
        let name = PersonName::parse(&format!("{surname}{}", names::given(&mut self.rng, sex))).expect("generated names are valid");
        let phone = (age >= 12).then(|| {
            let p = format!("{}{:08}", self.rng.pick(PHONE_PREFIXES), self.rng.next_u64() % 100_000_000);
            Phone::parse(&p).expect("generated phones are valid")
        });
        let mut tags = Tags::default();
        if (age >= 75 && self.rng.chance(0.06)) || self.rng.chance(0.001) {
            tags = tags.with(Vulnerability::Bedridden);
        }
        if self.rng.chance(if age >= 60 { 0.10 } else { 0.035 }) {
            tags = tags.with(Vulnerability::Disabled);
        }
        if sex == Sex::Female && (22..=38).contains(&age) && self.rng.chance(0.05) {
            tags = tags.with(Vulnerability::Pregnant);
        }
        NewPerson {
            document: IdDocument::Resident(id),
            name,
            sex,
            birth_date: birth,
            phone,
            area_code: area.clone(),
            address: Some(address.to_string()),
            tags,
        }
    }

    /// One household of a realistic size and make-up (2020 census: 2.62 people on average).
    fn household(&mut self, area: &AreaCode, address: &str) -> usize {
        let size = [1, 2, 3, 4, 5, 6][self.rng.weighted(&[25, 30, 21, 13, 7, 4])];
        let family = names::surname(&mut self.rng);
        let mut members: Vec<(Sex, u32, bool)> = Vec::new(); // (sex, age, takes family surname)
        let head_sex = if self.rng.chance(0.8) { Sex::Male } else { Sex::Female };
        let other = |s: Sex| if s == Sex::Male { Sex::Female } else { Sex::Male };
        match size {
            1 => members.push((head_sex, if self.rng.chance(0.55) { self.rng.range(60, 96) } else { self.rng.range(20, 45) }, true)),
            2 => {
                let age = if self.rng.chance(0.5) { self.rng.range(58, 92) } else { self.rng.range(23, 45) };
                members.push((head_sex, age, true));
                members.push((other(head_sex), (age + self.rng.range(0, 6)).saturating_sub(3).max(20), false));
            }
            _ => {
                let parent = self.rng.range(26, 52);
                members.push((Sex::Male, parent, true));
                members.push((Sex::Female, parent.saturating_sub(self.rng.range(0, 4)).max(21), false));
                let kids = if size >= 5 { size - 4 } else { size - 2 - usize::from(size == 4 && self.rng.chance(0.4)) };
                for _ in 0..kids {
                    let sex = if self.rng.chance(0.51) { Sex::Male } else { Sex::Female };
                    members.push((sex, parent.saturating_sub(self.rng.range(22, 34)).min(25), true));
                }
                while members.len() < size {
                    let sex = if members.iter().filter(|m| m.1 > parent).count() == 0 { Sex::Male } else { Sex::Female };
                    members.push((sex, (parent + self.rng.range(22, 32)).min(99), true));
                }
            }
        }
        for (sex, age, family_name) in members.iter().copied() {
            let surname = if family_name { family } else { names::surname(&mut self.rng) };
            let p = self.person(area, address, surname, sex, age);
            self.county.people.push(p);
        }
        members.len()
    }
}

/// The county's areas for `seed` (village names depend on the seed; codes do not).
pub fn areas(seed: u64) -> Vec<NewArea> {
    generate(seed, 1).areas
}

/// Generates the county with about `population` residents.
pub fn generate(seed: u64, population: u32) -> County {
    let county_code = AreaCode::parse(COUNTY_CODE).expect("valid code");
    let mut g = Generator {
        rng: Rng::new(seed),
        ids: HashMap::new(),
        county: County { areas: vec![], grids: vec![], buildings: vec![], households: vec![], people: vec![] },
    };
    g.county.areas.push(NewArea { code: county_code.clone(), name: COUNTY_NAME.into() });
    let mut used_names = HashSet::new();
    let (mut grid_id, mut building_id, mut household_id) = (0i64, 0i64, 0i64);
    for (suffix, town_name, share, communities, villages) in TOWNSHIPS {
        let town = AreaCode::parse(&format!("{COUNTY_CODE}{suffix}")).expect("valid code");
        g.county.areas.push(NewArea { code: town.clone(), name: town_name.to_string() });
        let town_people = u64::from(population) * u64::from(*share) / 1000;
        // Communities are about three times as populous as villages.
        let units = communities * 3 + villages;
        let per_unit = (town_people / u64::from(units.max(1))).max(1) as u32;
        for i in 0..communities + villages {
            let is_community = i < *communities;
            let code = if is_community {
                AreaCode::parse(&format!("{town}{:03}", i + 1))
            } else {
                AreaCode::parse(&format!("{town}{:03}", 200 + i - communities + 1))
            }
            .expect("valid code");
            let name = loop {
                let candidate = if is_community {
                    format!("{}社区", g.rng.pick(COMMUNITIES))
                } else if g.rng.chance(0.5) {
                    let stem = *g.rng.pick(VILLAGE_STEMS);
                    format!("{}{}{}", names::surname(&mut g.rng), stem, if stem.ends_with('村') { "" } else { "村" })
                } else {
                    let stem = *g.rng.pick(VILLAGE_STEMS);
                    format!(
                        "{}{}{}",
                        g.rng.pick(DIRECTIONS),
                        g.rng.pick(&["关", "王", "马", "杜", "贾", "范", "罗", "刘", "韩"]),
                        if stem == "村" { "村".to_string() } else { format!("{stem}村") }
                    )
                };
                if used_names.insert(candidate.clone()) {
                    break candidate;
                }
            };
            g.county.areas.push(NewArea { code: code.clone(), name: name.clone() });
            let target = if is_community { per_unit * 3 } else { per_unit } * g.rng.range(70, 130) / 100;
            let mut people = 0u32;
            let mut grid_households = 0;
            let mut grid_no = 0;
            let mut building_households = 0;
            let mut building_no = 0;
            let mut house_no = 0;
            while people < target {
                if grid_no == 0 || grid_households >= 300 {
                    grid_id += 1;
                    grid_no += 1;
                    grid_households = 0;
                    g.county.grids.push(NewGrid { id: grid_id, area_code: code.clone(), name: format!("第{grid_no}网格") });
                }
                household_id += 1;
                grid_households += 1;
                let (address, building) = if is_community {
                    if building_no == 0 || building_households >= 48 {
                        building_id += 1;
                        building_no += 1;
                        building_households = 0;
                        g.county.buildings.push(NewBuilding {
                            id: building_id,
                            area_code: code.clone(),
                            grid_id: Some(grid_id),
                            name: format!("{building_no}号楼"),
                        });
                    }
                    building_households += 1;
                    let unit = (building_households - 1) / 16 + 1;
                    let floor = ((building_households - 1) % 16) / 2 + 1;
                    let room = (building_households - 1) % 2 + 1;
                    (format!("{name}{building_no}号楼{unit}单元{floor}0{room}室"), Some(building_id))
                } else {
                    house_no += 1;
                    (format!("{name}{house_no}号"), None)
                };
                g.county.households.push(NewHousehold {
                    id: household_id,
                    area_code: code.clone(),
                    grid_id: Some(grid_id),
                    building_id: building,
                    address: address.clone(),
                });
                people += g.household(&code, &address) as u32;
            }
        }
    }
    g.county
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_county() {
        let a = generate(7, 5_000);
        let b = generate(7, 5_000);
        assert_eq!(a.people, b.people);
        assert_ne!(generate(8, 5_000).people, a.people);
    }

    #[test]
    fn people_are_valid_unique_and_realistically_spread() {
        let c = generate(1, 60_000);
        let n = c.people.len();
        assert!((50_000..75_000).contains(&n), "{n}");
        let ids: HashSet<&str> = c.people.iter().map(|p| p.document.number()).collect();
        assert_eq!(ids.len(), n, "resident ids are unique");
        let villages = c.areas.iter().filter(|a| a.code.as_str().len() == 12).count();
        assert!((180..200).contains(&villages), "{villages}");
        let per_household = n as f64 / c.households.len() as f64;
        assert!((2.2..3.0).contains(&per_household), "{per_household}");
        let today = reference_day();
        let elderly = c.people.iter().filter(|p| cordon_domain::person::age_on(p.birth_date, today) >= 80).count();
        let share = elderly as f64 / n as f64;
        assert!((0.01..0.08).contains(&share), "80+ share {share}");
        let bedridden = c.people.iter().filter(|p| p.tags.has(Vulnerability::Bedridden)).count();
        assert!(bedridden > 0 && bedridden < n / 50, "{bedridden}");
        let males = c.people.iter().filter(|p| p.sex == Sex::Male).count() as f64 / n as f64;
        assert!((0.45..0.56).contains(&males), "{males}");
    }
}
