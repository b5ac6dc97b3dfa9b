//! `cordon demo`: a populated county in an empty database, so a newcomer sees the platform working.

pub mod county;
pub mod names;
pub mod rng;

use std::time::Instant;

use anyhow::{Context, Result, bail};
use cordon_store::{Store, Table};

/// Residents of the demo county (Qingxu had about 340,000 in 2020).
pub const DEMO_POPULATION: u32 = 350_000;

pub struct Loaded {
    pub areas: usize,
    pub households: usize,
    pub people: u64,
    pub seconds: f64,
}

/// Generates the county for `seed` and stores it. Refuses a database that already holds data.
pub async fn load(store: &Store, seed: u64, population: u32) -> Result<Loaded> {
    if store.count(Table::Areas).await? > 0 || store.count(Table::Persons).await? > 0 {
        bail!("the database already holds data; the demo only fills an empty one");
    }
    let started = Instant::now();
    let county = tokio::task::spawn_blocking(move || county::generate(seed, population)).await?;
    store.upsert_areas(&county.areas).await.context("storing areas")?;
    store.insert_places(&county.grids, &county.buildings, &county.households).await.context("storing places")?;
    let mut writer = store.person_writer().await?;
    let mut people = 0;
    let mut rest = county.people.into_iter().peekable();
    while rest.peek().is_some() {
        let batch: Vec<_> = rest.by_ref().take(20_000).collect();
        people += writer.write(batch).await.context("storing people")?;
    }
    store.refresh_populations().await?;
    Ok(Loaded { areas: county.areas.len(), households: county.households.len(), people, seconds: started.elapsed().as_secs_f64() })
}
