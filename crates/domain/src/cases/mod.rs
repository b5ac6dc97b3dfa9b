//! Epidemiological investigation and contact tracing: what a case is, who counts as which kind
//! of contact and over which window, and the shape of transmission chains.

pub mod case;
pub mod chain;
pub mod exposure;
pub mod investigation;
pub mod linelist;
