//! Cordon's domain: validated identifiers and the rules of an outbreak response, as pure code.
//! No I/O, no async, no SQL.

pub mod area;
pub mod barcode;
pub mod person;
pub mod person_row;
pub mod phone;
pub mod resident_id;

pub use area::{AreaCode, AreaLevel};
pub use barcode::Barcode;
pub use person::{IdDocument, NewPerson, PersonName, Sex, Tags, Vulnerability};
pub use phone::Phone;
pub use resident_id::ResidentId;
