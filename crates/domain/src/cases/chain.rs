//! Transmission chains: which cases form one cluster (cases joined by infector links, in either
//! direction), each case's generation, and the cluster's index case.

use std::collections::{BTreeMap, HashMap, VecDeque};

use chrono::NaiveDate;

/// A case as the chain sees it: its id and the date it is ordered by (onset, else report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainCase {
    pub id: i64,
    pub date: Option<NaiveDate>,
}

/// One cluster's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// Generation per case: 0 for a case with no known infector in the cluster, else one more
    /// than its nearest infector's.
    pub generation: HashMap<i64, u32>,
    /// The earliest case of generation 0.
    pub index_case: i64,
    /// How many generations the cluster spans (1 for a lone case).
    pub generations: u32,
    pub first_date: Option<NaiveDate>,
    pub last_date: Option<NaiveDate>,
}

/// Earlier dates first, undated last, then by id: the order in which cases are taken as roots.
fn earlier(a: &ChainCase, b: &ChainCase) -> std::cmp::Ordering {
    (a.date.is_none(), a.date, a.id).cmp(&(b.date.is_none(), b.date, b.id))
}

/// Splits `cases` into clusters: connected parts of the graph of `links` (infector, infectee),
/// read in either direction. Links naming a case not in `cases` are ignored. Each cluster's
/// ids are sorted; clusters come in the order of their smallest id.
pub fn clusters(cases: &[i64], links: &[(i64, i64)]) -> Vec<Vec<i64>> {
    let pos: HashMap<i64, usize> = cases.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    let mut parent: Vec<usize> = (0..cases.len()).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for (a, b) in links {
        if let (Some(&a), Some(&b)) = (pos.get(a), pos.get(b)) {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra != rb {
                parent[ra.max(rb)] = ra.min(rb);
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<i64>> = BTreeMap::new();
    for (i, case) in cases.iter().enumerate() {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(*case);
    }
    let mut out: Vec<Vec<i64>> = groups
        .into_values()
        .map(|mut g| {
            g.sort_unstable();
            g.dedup();
            g
        })
        .collect();
    out.sort_by_key(|g| g[0]);
    out
}

/// The shape of one cluster: generations by breadth-first search from the cases without an
/// infector. Cases reached from no such case (a loop of mutual links) are entered from their
/// earliest member; every link then holds `generation(infectee) ≤ generation(infector) + 1`. `None` for an empty cluster.
pub fn shape(cases: &[ChainCase], links: &[(i64, i64)]) -> Option<Shape> {
    let known: HashMap<i64, &ChainCase> = cases.iter().map(|c| (c.id, c)).collect();
    let mut infectees: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut has_infector: HashMap<i64, bool> = HashMap::new();
    for &(a, b) in links {
        if a != b && known.contains_key(&a) && known.contains_key(&b) {
            infectees.entry(a).or_default().push(b);
            has_infector.insert(b, true);
        }
    }
    let mut order: Vec<&ChainCase> = cases.iter().collect();
    order.sort_by(|a, b| earlier(a, b));
    let mut generation: HashMap<i64, u32> = HashMap::with_capacity(cases.len());
    let mut queue = VecDeque::new();
    for c in &order {
        if !has_infector.contains_key(&c.id) {
            generation.insert(c.id, 0);
            queue.push_back(c.id);
        }
    }
    let walk = |generation: &mut HashMap<i64, u32>, queue: &mut VecDeque<i64>| {
        while let Some(id) = queue.pop_front() {
            let g = generation[&id];
            for next in infectees.get(&id).into_iter().flatten() {
                // A later walk (into a loop) may find a shorter way to a case reached before.
                if generation.get(next).is_none_or(|&h| h > g + 1) {
                    generation.insert(*next, g + 1);
                    queue.push_back(*next);
                }
            }
        }
    };
    walk(&mut generation, &mut queue);
    for c in &order {
        if let std::collections::hash_map::Entry::Vacant(e) = generation.entry(c.id) {
            e.insert(0);
            queue.push_back(c.id);
            walk(&mut generation, &mut queue);
        }
    }
    let index = order.iter().find(|c| generation[&c.id] == 0)?;
    let dates = cases.iter().filter_map(|c| c.date);
    Some(Shape {
        index_case: index.id,
        generations: generation.values().max().map_or(0, |g| g + 1),
        first_date: dates.clone().min(),
        last_date: dates.max(),
        generation,
    })
}

/// Whether a cluster is still active on `today`: a case within the last `quiet_days` days.
pub fn is_active(last_date: Option<NaiveDate>, today: NaiveDate, quiet_days: u32) -> bool {
    last_date.is_some_and(|d| (today - d).num_days() < i64::from(quiet_days))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn c(id: i64, day: Option<u32>) -> ChainCase {
        ChainCase { id, date: day.map(|d| NaiveDate::from_ymd_opt(2022, 4, d).unwrap()) }
    }

    #[test]
    fn links_in_either_direction_join_clusters() {
        let got = clusters(&[1, 2, 3, 4, 5, 6], &[(2, 1), (3, 2), (5, 6), (9, 4)]);
        assert_eq!(got, vec![vec![1, 2, 3], vec![4], vec![5, 6]]);
    }

    #[test]
    fn generations_count_from_the_case_without_infector() {
        // 1 → 2 → 4, 1 → 3, and 4 also infected by 3 (nearest path counts).
        let cases = [c(1, Some(1)), c(2, Some(4)), c(3, Some(5)), c(4, Some(8))];
        let s = shape(&cases, &[(1, 2), (1, 3), (2, 4), (3, 4)]).unwrap();
        assert_eq!(s.index_case, 1);
        assert_eq!(s.generation[&4], 2);
        assert_eq!(s.generations, 3);
        assert_eq!((s.first_date, s.last_date), (cases[0].date, cases[3].date));
    }

    #[test]
    fn a_loop_of_mutual_links_is_entered_from_its_earliest_case() {
        let cases = [c(7, Some(3)), c(8, Some(2)), c(9, None)];
        let s = shape(&cases, &[(7, 8), (8, 7), (8, 9)]).unwrap();
        assert_eq!(s.index_case, 8);
        assert_eq!(s.generation[&7], 1);
        assert_eq!(s.generation[&9], 1);
    }

    #[test]
    fn undated_cases_are_roots_only_after_dated_ones() {
        let s = shape(&[c(1, None), c(2, Some(9))], &[]).unwrap();
        assert_eq!(s.index_case, 2);
        assert_eq!(s.generations, 1);
    }

    #[test]
    fn a_cluster_closes_after_the_quiet_period() {
        let last = NaiveDate::from_ymd_opt(2022, 4, 1);
        assert!(is_active(last, NaiveDate::from_ymd_opt(2022, 4, 14).unwrap(), 14));
        assert!(!is_active(last, NaiveDate::from_ymd_opt(2022, 4, 15).unwrap(), 14));
        assert!(!is_active(None, NaiveDate::from_ymd_opt(2022, 4, 15).unwrap(), 14));
    }

    proptest! {
        #[test]
        fn every_case_gets_a_generation_and_each_infectee_is_at_most_one_past_an_infector(
            n in 1usize..30, raw in proptest::collection::vec((0usize..30, 0usize..30), 0..60)
        ) {
            let cases: Vec<ChainCase> = (0..n).map(|i| c(i as i64, Some(1 + (i as u32 % 28)))).collect();
            let links: Vec<(i64, i64)> = raw.into_iter().filter(|(a, b)| *a < n && *b < n).map(|(a, b)| (a as i64, b as i64)).collect();
            let s = shape(&cases, &links).unwrap();
            prop_assert_eq!(s.generation.len(), n);
            for (a, b) in &links {
                if a != b && s.generation[b] > 0 {
                    prop_assert!(s.generation[b] <= s.generation[a] + 1);
                }
            }
            let parts = clusters(&cases.iter().map(|c| c.id).collect::<Vec<_>>(), &links);
            prop_assert_eq!(parts.iter().map(Vec::len).sum::<usize>(), n);
        }
    }
}
