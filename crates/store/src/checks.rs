//! The database refuses a value the domain does not know: every column that stores one of the
//! domain's enums gets a check generated from the enum's values — a CHECK constraint on
//! PostgreSQL, a pair of triggers on SQLite (which cannot add a constraint to a table without
//! rebuilding it). They are made after the migrations, each time the store migrates, so a value
//! added to an enum reaches the database with the code that writes it.

use cordon_domain::access::Role;
use cordon_domain::area::AreaLevel;
use cordon_domain::cases::case::{CaseClass, CasePlace, HowFound, Origin, PlaceKind, Severity};
use cordon_domain::cases::exposure::{AssistStatus, Degree, ExposureKind, ExposureStatus};
use cordon_domain::cases::investigation::Part;
use cordon_domain::checkpoints::{CheckpointKind, Decision, Direction};
use cordon_domain::health_code::Colour;
use cordon_domain::hotline::{Channel, Satisfaction, TicketAct, TicketCategory, TicketStatus, Urgency};
use cordon_domain::observation::{Category, RoomStatus, SiteKind, Status};
use cordon_domain::person::Sex;
use cordon_domain::supplies::{
    DeliveryStatus, ItemCategory, MovementKind, Priority, ReceiptSource, RequestStatus, RequesterKind, WarehouseLevel,
};
use cordon_domain::testing::exemption::ExemptionReason;
use cordon_domain::testing::pooling::ZoneKind;
use cordon_domain::testing::result::{RecallStatus, TubeResult};
use cordon_domain::transfer::{TransferKind, TransferStatus, VehicleKind};
use cordon_domain::treatment::{HospitalKind, StayStatus};
use cordon_domain::zones::ZoneAct;

use crate::{Backend, Result, Store};

/// One enum column: its table, its column, and the values the domain allows.
pub struct EnumColumn {
    pub table: &'static str,
    pub column: &'static str,
    pub values: Vec<&'static str>,
}

fn column<T: Copy>(table: &'static str, column: &'static str, all: &[T], name: fn(T) -> &'static str) -> EnumColumn {
    EnumColumn { table, column, values: all.iter().map(|v| name(*v)).collect() }
}

/// Every column that stores a domain enum.
pub fn enum_columns() -> Vec<EnumColumn> {
    vec![
        column("cases", "classification", CaseClass::ALL, CaseClass::as_str),
        column("cases", "severity", Severity::ALL, Severity::as_str),
        column("cases", "how_found", HowFound::ALL, HowFound::as_str),
        column("cases", "origin", Origin::ALL, Origin::as_str),
        column("cases", "place", CasePlace::ALL, CasePlace::as_str),
        column("investigation_assignments", "part", Part::ALL, Part::as_str),
        column("exposures", "kind", ExposureKind::ALL, ExposureKind::as_str),
        column("exposures", "degree", Degree::ALL, Degree::as_str),
        column("exposures", "status", ExposureStatus::ALL, ExposureStatus::as_str),
        column("assist_requests", "status", AssistStatus::ALL, AssistStatus::as_str),
        column("trajectory_entries", "kind", PlaceKind::ALL, PlaceKind::as_str),
        column("recalls", "status", RecallStatus::ALL, RecallStatus::as_str),
        column("round_exemptions", "reason", ExemptionReason::ALL, ExemptionReason::as_str),
        column("observation_orders", "category", Category::ALL, Category::as_str),
        column("observation_orders", "status", Status::ALL, Status::as_str),
        column("quarantine_sites", "kind", SiteKind::ALL, SiteKind::as_str),
        column("rooms", "status", RoomStatus::ALL, RoomStatus::as_str),
        column("transfers", "kind", TransferKind::ALL, TransferKind::as_str),
        column("transfers", "status", TransferStatus::ALL, TransferStatus::as_str),
        column("vehicles", "kind", VehicleKind::ALL, VehicleKind::as_str),
        column("hospitals", "kind", HospitalKind::ALL, HospitalKind::as_str),
        column("hospital_stays", "severity", Severity::ALL, Severity::as_str),
        column("hospital_stays", "status", StayStatus::ALL, StayStatus::as_str),
        column("severity_changes", "severity", Severity::ALL, Severity::as_str),
        column("round_areas", "zone_kind", ZoneKind::ALL, ZoneKind::as_str),
        column("zones", "kind", ZoneKind::ALL, ZoneKind::as_str),
        column("zone_changes", "act", ZoneAct::ALL, ZoneAct::as_str),
        column("zone_changes", "kind", ZoneKind::ALL, ZoneKind::as_str),
        column("checkpoints", "kind", CheckpointKind::ALL, CheckpointKind::as_str),
        column("passages", "direction", Direction::ALL, Direction::as_str),
        column("passages", "decision", Decision::ALL, Decision::as_str),
        column("passages", "colour", Colour::ALL, Colour::as_str),
        column("code_overrides", "colour", Colour::ALL, Colour::as_str),
        column("areas", "level", AreaLevel::ALL, AreaLevel::as_str),
        column("persons", "sex", Sex::ALL, Sex::as_str),
        column("users", "role", Role::ALL, Role::as_str),
        column("role_permissions", "role", Role::ALL, Role::as_str),
        column("tubes", "result", &TubeResult::ALL, TubeResult::as_str),
        column("tubes", "pool_kind", &crate::station::POOL_KINDS, |k| k),
        column("supply_items", "category", ItemCategory::ALL, ItemCategory::as_str),
        column("warehouses", "level", WarehouseLevel::ALL, WarehouseLevel::as_str),
        column("stock_movements", "kind", MovementKind::ALL, MovementKind::as_str),
        column("stock_movements", "source", ReceiptSource::ALL, ReceiptSource::as_str),
        column("supply_requests", "requester_kind", RequesterKind::ALL, RequesterKind::as_str),
        column("supply_requests", "priority", Priority::ALL, Priority::as_str),
        column("supply_requests", "status", RequestStatus::ALL, RequestStatus::as_str),
        column("deliveries", "status", DeliveryStatus::ALL, DeliveryStatus::as_str),
        column("hotline_tickets", "channel", Channel::ALL, Channel::as_str),
        column("hotline_tickets", "category", TicketCategory::ALL, TicketCategory::as_str),
        column("hotline_tickets", "urgency", Urgency::ALL, Urgency::as_str),
        column("hotline_tickets", "status", TicketStatus::ALL, TicketStatus::as_str),
        column("hotline_tickets", "satisfaction", Satisfaction::ALL, Satisfaction::as_str),
        column("hotline_events", "act", TicketAct::ALL, TicketAct::as_str),
        column("hotline_events", "status", TicketStatus::ALL, TicketStatus::as_str),
        column("hotline_limits", "category", TicketCategory::ALL, TicketCategory::as_str),
        column("hotline_limits", "urgency", Urgency::ALL, Urgency::as_str),
        column("hotline_counts", "category", TicketCategory::ALL, TicketCategory::as_str),
        column("hotline_counts", "status", TicketStatus::ALL, TicketStatus::as_str),
    ]
}

impl EnumColumn {
    /// The name of its check (constraint or trigger prefix).
    pub fn name(&self) -> String {
        format!("chk_{}_{}", self.table, self.column)
    }

    /// `'a', 'b'`: the values as SQL literals (identifiers of the domain, never user input).
    fn literals(&self) -> String {
        self.values.iter().map(|v| format!("'{}'", v.replace('\'', "''"))).collect::<Vec<_>>().join(", ")
    }

    /// The condition a row must meet (a NULL passes: a column that may be empty stays so).
    pub fn condition(&self, row: &str) -> String {
        format!("{row}{} IN ({})", self.column, self.literals())
    }
}

impl Store {
    /// Makes (or remakes, when an enum changed) the check of every enum column.
    pub(crate) async fn ensure_enum_checks(&self) -> Result<()> {
        match &*self.backend {
            Backend::Sqlite(b) => {
                let mut tx = b.write.begin().await?;
                for c in enum_columns() {
                    let (name, table, column) = (c.name(), c.table, c.column);
                    let abort = format!("SELECT RAISE(ABORT, '{table}.{column}: not a known value')");
                    let when = format!("NEW.{column} IS NOT NULL AND NOT ({})", c.condition("NEW."));
                    let ddl = [
                        format!("DROP TRIGGER IF EXISTS {name}_insert"),
                        format!("DROP TRIGGER IF EXISTS {name}_update"),
                        format!("CREATE TRIGGER {name}_insert BEFORE INSERT ON {table} WHEN {when} BEGIN {abort}; END"),
                        format!("CREATE TRIGGER {name}_update BEFORE UPDATE OF {column} ON {table} WHEN {when} BEGIN {abort}; END"),
                    ];
                    for sql in ddl {
                        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *tx).await?;
                    }
                }
                tx.commit().await?;
            }
            Backend::Postgres(b) => {
                let existing: Vec<(String, String)> = sqlx::query_as(
                    "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'c' AND conname LIKE 'chk\\_%'",
                )
                .fetch_all(&b.pool)
                .await?;
                for c in enum_columns() {
                    let name = c.name();
                    // PostgreSQL words the condition its own way; the values in order are what matters.
                    let current = existing.iter().find(|(n, _)| *n == name).map(|(_, def)| def.as_str());
                    if current.is_some_and(|def| same_values(def, &c.values)) {
                        continue;
                    }
                    let mut tx = b.pool.begin().await?;
                    let (table, condition) = (c.table, c.condition(""));
                    sqlx::query(sqlx::AssertSqlSafe(format!("ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")))
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(sqlx::AssertSqlSafe(format!("ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({condition})")))
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                }
            }
        }
        Ok(())
    }

    /// The enum checks the database holds: (name, the values it allows in order), for tests.
    pub async fn enum_checks(&self) -> Result<Vec<(String, Vec<String>)>> {
        let rows: Vec<(String, String)> = match &*self.backend {
            Backend::Sqlite(b) => {
                sqlx::query_as("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'chk\\_%\\_insert' ESCAPE '\\'")
                    .fetch_all(&b.write)
                    .await?
            }
            Backend::Postgres(b) => {
                sqlx::query_as(
                    "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'c' AND conname LIKE 'chk\\_%'",
                )
                .fetch_all(&b.pool)
                .await?
            }
        };
        let mut out: Vec<(String, Vec<String>)> =
            rows.into_iter().map(|(name, def)| (name.trim_end_matches("_insert").to_string(), quoted_values(&def))).collect();
        out.sort();
        Ok(out)
    }
}

/// The quoted values of a check's definition, in order.
fn quoted_values(def: &str) -> Vec<String> {
    def.split('\'').skip(1).step_by(2).map(str::to_string).filter(|v| !v.contains(' ') && !v.contains(':')).collect()
}

fn same_values(def: &str, values: &[&str]) -> bool {
    quoted_values(def) == values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_names_its_column_and_the_domains_values() {
        let rooms = enum_columns().into_iter().find(|c| c.table == "rooms").unwrap();
        assert_eq!(rooms.condition("NEW."), "NEW.status IN ('free', 'occupied', 'cleaning', 'out_of_use')");
        assert_eq!(rooms.name(), "chk_rooms_status");
        let pg = "CHECK ((status = ANY (ARRAY['free'::text, 'occupied'::text, 'cleaning'::text, 'out_of_use'::text])))";
        assert!(same_values(pg, &rooms.values));
        assert!(!same_values(pg, &["free", "occupied"]));
    }
}
