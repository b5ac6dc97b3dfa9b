//! The city's contact graph in memory: every check-in twice, by person and by venue, each list
//! sorted by time, so that "who shared a venue with this person" and the ring beyond it are
//! binary searches and short scans instead of self-joins over tens of millions of rows.
//!
//! The graph is built from the store on first use (or at server start) in the background;
//! until it is ready, callers answer the same question in SQL. Scans this process stores are
//! added as they commit. Scans stored by another process (a second server, a command-line
//! import) are noticed through `checkin_writes`: each stored batch leaves a row there, and a
//! graph that finds rows it did not write past its snapshot is dropped and rebuilt.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, RwLock};

use chrono::{DateTime, Duration, Utc};

use crate::{Backend, Result, Store, StoreError};

/// One scan: who, where, when (seconds since 1970, UTC), and the exit when scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckIn {
    pub person_id: i64,
    pub venue_id: i64,
    pub at: i64,
    pub left: Option<i64>,
}

/// A scan seen from one side: from the person's list, `who` is the venue; from the venue's,
/// the person. Times are seconds since 1970; `until` is 0 when no exit was scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Visit {
    at: u32,
    until: u32,
    who: u32,
}

impl Visit {
    fn end(&self, stay: u32) -> u32 {
        if self.until > 0 { self.until } else { self.at.saturating_add(stay) }
    }
}

#[derive(Default)]
struct VenueVisits {
    /// The longest stay with an exit scan seen here, in seconds.
    longest: u32,
    visits: Vec<Visit>,
}

/// Inserts `v` keeping `list` sorted by (time, who); answers false when it was there already.
fn insert_sorted(list: &mut Vec<Visit>, v: Visit) -> bool {
    if list.last().is_none_or(|l| (l.at, l.who) < (v.at, v.who)) {
        list.push(v);
        return true;
    }
    let pos = list.partition_point(|l| (l.at, l.who) < (v.at, v.who));
    if list.get(pos).is_some_and(|l| (l.at, l.who) == (v.at, v.who)) {
        return false;
    }
    list.insert(pos, v);
    true
}

#[derive(Default)]
pub(crate) struct Graph {
    by_person: HashMap<u32, Vec<Visit>>,
    by_venue: HashMap<u32, VenueVisits>,
    scans: u64,
}

/// The scan as the graph holds it, or None when an id or time does not fit in 32 bits.
fn narrow(c: &CheckIn) -> Option<(u32, u32, u32, u32)> {
    let left = match c.left {
        Some(l) => u32::try_from(l).ok().filter(|l| *l > 0)?,
        None => 0,
    };
    Some((u32::try_from(c.person_id).ok()?, u32::try_from(c.venue_id).ok()?, u32::try_from(c.at).ok()?, left))
}

fn wide(v: &Visit, person: u32, venue: u32) -> CheckIn {
    CheckIn {
        person_id: i64::from(person),
        venue_id: i64::from(venue),
        at: i64::from(v.at),
        left: (v.until > 0).then_some(i64::from(v.until)),
    }
}

/// Scans at a venue older than this before the case's entry are never read (the SQL bound).
pub(crate) const LONGEST_STAY_S: u32 = 12 * 3600;

impl Graph {
    /// Adds a scan unless it is there already; false when it cannot be held.
    fn add(&mut self, c: &CheckIn) -> bool {
        let Some((person, venue, at, until)) = narrow(c) else { return false };
        if insert_sorted(self.by_person.entry(person).or_default(), Visit { at, until, who: venue }) {
            let v = self.by_venue.entry(venue).or_default();
            insert_sorted(&mut v.visits, Visit { at, until, who: person });
            if until > at {
                v.longest = v.longest.max(until - at);
            }
            self.scans += 1;
        }
        true
    }

    /// Adds a scan read from the store, in any order: [`Graph::sort`] orders the lists after.
    pub(crate) fn push(&mut self, c: &CheckIn) -> bool {
        let Some((person, venue, at, until)) = narrow(c) else { return false };
        self.by_person.entry(person).or_default().push(Visit { at, until, who: venue });
        let v = self.by_venue.entry(venue).or_default();
        v.visits.push(Visit { at, until, who: person });
        if until > at {
            v.longest = v.longest.max(until - at);
        }
        self.scans += 1;
        true
    }

    pub(crate) fn sort(&mut self) {
        for list in self.by_person.values_mut() {
            list.sort_unstable_by_key(|v| (v.at, v.who));
            list.shrink_to_fit();
        }
        for v in self.by_venue.values_mut() {
            v.visits.sort_unstable_by_key(|v| (v.at, v.who));
            v.visits.shrink_to_fit();
        }
    }

    /// For each of `person`'s stays that begin in `[from, until)`, every other person's stay
    /// at the same venue that overlapped it: `f(own, theirs)`. A stay without an exit scan
    /// lasts `stay` seconds. The venue's scans read are those from 12 hours (or its longest
    /// stay, when shorter) before the own entry until the own exit, cut at `until`.
    fn meet(&self, person: u32, from: u32, until: u32, stay: u32, mut f: impl FnMut(&Visit, &Visit)) {
        let Some(own) = self.by_person.get(&person) else { return };
        let first = own.partition_point(|v| v.at < from);
        for mine in own[first..].iter().take_while(|v| v.at < until) {
            let Some(venue) = self.by_venue.get(&mine.who) else { continue };
            let mine_end = mine.end(stay);
            let stop = mine_end.min(until);
            let reach = venue.longest.max(stay).min(LONGEST_STAY_S);
            let start = mine.at.saturating_sub(reach);
            let lo = venue.visits.partition_point(|v| v.at < start);
            for theirs in venue.visits[lo..].iter().take_while(|v| v.at < stop) {
                if theirs.who != person && mine_end.min(theirs.end(stay)) > mine.at.max(theirs.at) {
                    f(mine, theirs);
                }
            }
        }
    }
}

/// The first ring of a person (everyone who shared a venue with them in the window) and the
/// second (everyone who shared one with somebody of the first ring, from that person's first
/// shared stay on), as sorted person ids; neither holds the person, the second not the first.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Rings {
    pub first: Vec<i64>,
    pub second: Vec<i64>,
}

/// What the graph answers for a look-up: the window in seconds and the default stay.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span {
    pub person: i64,
    pub from: i64,
    pub until: i64,
    pub stay: i64,
}

impl Span {
    fn narrow(&self) -> Option<(u32, u32, u32, u32)> {
        let n = |v: i64| u32::try_from(v.max(0)).ok();
        Some((u32::try_from(self.person).ok()?, n(self.from)?, n(self.until)?, n(self.stay)?))
    }
}

impl Graph {
    fn meetings(&self, span: Span) -> Vec<(CheckIn, CheckIn)> {
        let Some((person, from, until, stay)) = span.narrow() else { return vec![] };
        let mut out = Vec::new();
        self.meet(person, from, until, stay, |mine, theirs| out.push((wide(mine, person, mine.who), wide(theirs, theirs.who, mine.who))));
        out
    }

    fn rings(&self, span: Span) -> Rings {
        let Some((person, from, until, stay)) = span.narrow() else { return Rings::default() };
        let mut first: HashMap<u32, u32> = HashMap::new();
        self.meet(person, from, until, stay, |_, theirs| {
            let at = first.entry(theirs.who).or_insert(theirs.at);
            *at = (*at).min(theirs.at);
        });
        let mut second: HashSet<u32> = HashSet::new();
        for (&p, &since) in &first {
            self.meet(p, since, until, stay, |_, theirs| {
                if theirs.who != person && !first.contains_key(&theirs.who) {
                    second.insert(theirs.who);
                }
            });
        }
        let sorted = |ids: Vec<u32>| {
            let mut v: Vec<i64> = ids.into_iter().map(i64::from).collect();
            v.sort_unstable();
            v
        };
        Rings { first: sorted(first.into_keys().collect()), second: sorted(second.into_iter().collect()) }
    }
}

/// Where the contact graph stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum GraphStatus {
    Unbuilt,
    Building,
    Ready {
        scans: u64,
    },
    /// Another process stored scans after the snapshot it was built from.
    Stale {
        watermark: i64,
    },
    /// An id or time does not fit in 32 bits; look-ups go to SQL.
    Unusable,
}

enum State {
    /// Not built yet, or dropped because another process wrote scans.
    Unbuilt,
    /// Being read from the store; scans this process stores meanwhile wait here.
    Building { pending: Vec<CheckIn> },
    /// Holds every scan up to `checkin_writes` row `watermark`, and those this process stored
    /// since.
    Ready { graph: Graph, watermark: i64 },
    /// An id or time does not fit in 32 bits; every look-up goes to SQL.
    Unusable,
}

/// The graph and what this process knows about the scans it has stored.
pub(crate) struct ContactIndex {
    state: RwLock<State>,
    /// `checkin_writes` ids this process stored.
    own: Mutex<Vec<i64>>,
    /// Batches this process is storing right now.
    in_flight: AtomicI64,
}

impl Default for ContactIndex {
    fn default() -> Self {
        ContactIndex { state: RwLock::new(State::Unbuilt), own: Mutex::new(vec![]), in_flight: AtomicI64::new(0) }
    }
}

/// One batch of scans on its way to the store; counted as in flight until dropped.
pub(crate) struct WriteTicket<'a> {
    index: &'a ContactIndex,
}

impl Drop for WriteTicket<'_> {
    fn drop(&mut self) {
        self.index.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl ContactIndex {
    pub(crate) fn begin_write(&self) -> WriteTicket<'_> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        WriteTicket { index: self }
    }

    /// A batch committed as `checkin_writes` row `id`: the graph takes its scans.
    pub(crate) fn committed(&self, ticket: WriteTicket<'_>, id: i64, rows: &[CheckIn]) {
        self.own.lock().expect("own writes").push(id);
        let mut state = self.state.write().expect("contact graph");
        match &mut *state {
            State::Building { pending } => pending.extend_from_slice(rows),
            State::Ready { graph, .. } => {
                if !rows.iter().all(|c| graph.add(c)) {
                    *state = State::Unusable;
                }
            }
            State::Unbuilt | State::Unusable => {}
        }
        drop(ticket);
    }

    /// Marks the graph as being built; false when it is built, being built or unusable.
    fn claim(&self) -> bool {
        let mut state = self.state.write().expect("contact graph");
        if matches!(*state, State::Unbuilt) {
            *state = State::Building { pending: vec![] };
            true
        } else {
            false
        }
    }

    /// The graph read from the store as of `watermark` becomes the one in use, with the scans
    /// stored meanwhile.
    fn install(&self, read: Option<(Graph, i64)>) -> u64 {
        let mut state = self.state.write().expect("contact graph");
        let pending = match std::mem::replace(&mut *state, State::Unbuilt) {
            State::Building { pending } => pending,
            _ => vec![],
        };
        match read {
            Some((mut graph, watermark)) => {
                if !pending.iter().all(|c| graph.add(c)) {
                    *state = State::Unusable;
                    return 0;
                }
                let scans = graph.scans;
                self.own.lock().expect("own writes").retain(|id| *id > watermark);
                *state = State::Ready { graph, watermark };
                scans
            }
            None => {
                *state = State::Unusable;
                0
            }
        }
    }

    fn failed(&self) {
        *self.state.write().expect("contact graph") = State::Unbuilt;
    }

    /// Drops a graph that misses scans another process stored after `watermark`.
    fn drop_stale(&self, watermark: i64) {
        let mut state = self.state.write().expect("contact graph");
        if matches!(*state, State::Ready { watermark: w, .. } if w == watermark) {
            *state = State::Unbuilt;
        }
    }
}

/// Reads every scan stored, as of one snapshot, with the last `checkin_writes` id it holds;
/// None when one does not fit the graph.
async fn read_graph(store: &Store) -> Result<Option<(Graph, i64)>> {
    match &*store.backend {
        Backend::Sqlite(b) => crate::sqlite::checkins::read_graph(b).await,
        Backend::Postgres(b) => crate::postgres::checkins::read_graph(b).await,
    }
}

impl Store {
    /// Reads the contact graph from the store now and puts it in use (or waits for the build
    /// under way); answers how many scans it holds. `cordon serve` starts this in the background; look-ups start it on first use.
    pub async fn build_contact_graph(&self) -> Result<u64> {
        loop {
            match &*self.contacts.state.read().expect("contact graph") {
                State::Ready { graph, .. } => return Ok(graph.scans),
                State::Unusable => return Ok(0),
                State::Building { .. } | State::Unbuilt => {}
            }
            if self.contacts.claim() {
                break;
            }
            // Another task is building it: wait for that one.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        match read_graph(self).await {
            Ok(read) => Ok(self.contacts.install(read)),
            Err(e) => {
                self.contacts.failed();
                Err(e)
            }
        }
    }

    /// Starts building the contact graph in the background unless it is built or being built.
    pub fn warm_contact_graph(&self) {
        if !matches!(*self.contacts.state.read().expect("contact graph"), State::Unbuilt) {
            return;
        }
        let store = self.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            match store.build_contact_graph().await {
                Ok(scans) => tracing::info!("contact graph ready: {scans} scans in {:.1} s", started.elapsed().as_secs_f64()),
                Err(e) => tracing::warn!("contact graph not built: {e}"),
            }
        });
    }

    /// Answers `f` from the contact graph when it holds every scan stored; otherwise (still
    /// building, or another process stored scans since) starts a build and answers None, for
    /// the caller to ask SQL.
    pub(crate) async fn with_graph<T: Send + 'static>(&self, f: impl FnOnce(&Graph) -> T + Send + 'static) -> Result<Option<T>> {
        match self.contact_graph_status().await? {
            GraphStatus::Ready { .. } => {}
            GraphStatus::Unbuilt => {
                self.warm_contact_graph();
                return Ok(None);
            }
            GraphStatus::Stale { watermark } => {
                tracing::info!("scans stored by another process: rebuilding the contact graph");
                self.contacts.drop_stale(watermark);
                self.warm_contact_graph();
                return Ok(None);
            }
            GraphStatus::Building | GraphStatus::Unusable => return Ok(None),
        }
        let index = self.contacts.clone();
        tokio::task::spawn_blocking(move || match &*index.state.read().expect("contact graph") {
            State::Ready { graph, .. } => Some(f(graph)),
            _ => None,
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))
    }

    /// Where the contact graph stands; `Stale` when another process stored scans it lacks.
    pub async fn contact_graph_status(&self) -> Result<GraphStatus> {
        let (watermark, scans) = match &*self.contacts.state.read().expect("contact graph") {
            State::Ready { watermark, graph } => (*watermark, graph.scans),
            State::Unbuilt => return Ok(GraphStatus::Unbuilt),
            State::Building { .. } => return Ok(GraphStatus::Building),
            State::Unusable => return Ok(GraphStatus::Unusable),
        };
        let stored: i64 = crate::with_read_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM checkin_writes WHERE id > $1").bind(watermark).fetch_one(pool).await?);
        let mine = self.contacts.own.lock().expect("own writes").iter().filter(|id| **id > watermark).count() as i64;
        // A batch of this process between its commit and the graph taking it counts as its own.
        if stored > mine + self.contacts.in_flight.load(Ordering::SeqCst) {
            return Ok(GraphStatus::Stale { watermark });
        }
        Ok(GraphStatus::Ready { scans })
    }

    /// Every stay of someone else at a venue that overlapped one of the person's stays
    /// beginning in the window: (own scan, theirs), from the graph when it is ready, else SQL.
    pub(crate) async fn meetings(&self, span: Span) -> Result<Vec<(CheckIn, CheckIn)>> {
        if let Some(found) = self.with_graph(move |g| g.meetings(span)).await? {
            return Ok(found);
        }
        self.meetings_sql(span).await
    }

    /// The first and second ring of a person over the window (see [`Rings`]), from the graph
    /// when it is ready, else SQL.
    pub async fn contact_rings(&self, person_id: i64, window: (DateTime<Utc>, DateTime<Utc>), default_stay: Duration) -> Result<Rings> {
        let span = Span { person: person_id, from: window.0.timestamp(), until: window.1.timestamp(), stay: default_stay.num_seconds() };
        if let Some(rings) = self.with_graph(move |g| g.rings(span)).await? {
            return Ok(rings);
        }
        self.contact_rings_sql(person_id, window, default_stay).await
    }
}
