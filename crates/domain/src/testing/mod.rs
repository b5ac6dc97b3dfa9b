//! Mass testing rules: pool sizes and their arithmetic, sizing of sampling sites, testing
//! frequency, and what a tube's result means.

pub mod coverage;
pub mod exemption;
pub mod frequency;
pub mod pooling;
pub mod result;
pub mod sizing;
pub mod slots;
pub mod station;
pub mod transport;
