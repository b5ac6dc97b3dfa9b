//! The values a text field of the API takes, as string schemas with an `enum`, taken from the
//! domain's own lists (`ALL` with `as_str`) so that the document cannot drift from what the
//! server reads and writes. A field names its schema with `#[schema(schema_with = …)]`
//! (`#[param(schema_with = …)]` in a query); `_or_null` for a field that may be null.

use cordon_domain::area::AreaLevel;
use cordon_domain::cases::case::{CaseClass, CasePlace, HowFound, Origin, Severity};
use cordon_domain::cases::exposure::{AssistStatus, Degree, ExposureKind, ExposureStatus};
use cordon_domain::cases::investigation::Part;
use cordon_domain::checkpoints::{CheckpointKind, Decision, DecisionCode, Direction, OriginRisk};
use cordon_domain::command::{Act, NoticeKind, RecipientKind, RecipientState, ResponseLevel, TaskForceKind};
use cordon_domain::health_code::{Colour, ReasonCode};
use cordon_domain::observation::{Category, SiteKind, Status};
use cordon_domain::person::Vulnerability;
use cordon_domain::testing::exemption::ExemptionReason;
use cordon_domain::testing::pooling::ZoneKind;
use cordon_domain::testing::result::RecallStatus;
use cordon_domain::transfer::{TransferKind, TransferStatus};
use cordon_domain::zones::{ConditionCode, Scheme, ZoneAct};
use serde_json::Value;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType, Type};
use utoipa::openapi::{Array, Object};

fn strings(values: impl IntoIterator<Item = &'static str>, nullable: bool) -> Object {
    let mut listed: Vec<Value> = values.into_iter().map(Value::from).collect();
    let ty = if nullable {
        listed.push(Value::Null);
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    ObjectBuilder::new().schema_type(ty).enum_values(Some(listed)).build()
}

/// The identifiers of a domain enum.
fn all<E: Copy + 'static>(all: &'static [E], name: fn(E) -> &'static str) -> impl Iterator<Item = &'static str> {
    all.iter().map(move |v| name(*v))
}

macro_rules! one_of {
    ($($name:ident => $values:expr;)*) => { $(
        pub(crate) fn $name() -> Object { strings($values, false) }
    )* };
}

macro_rules! one_of_or_null {
    ($($name:ident => $values:expr;)*) => { $(
        pub(crate) fn $name() -> Object { strings($values, true) }
    )* };
}

one_of! {
    area_level => all(AreaLevel::ALL, AreaLevel::as_str);
    assist_status => all(AssistStatus::ALL, AssistStatus::as_str);
    case_class => all(CaseClass::ALL, CaseClass::as_str);
    case_place => all(CasePlace::ALL, CasePlace::as_str);
    category => all(Category::ALL, Category::as_str);
    checkpoint_kind => all(CheckpointKind::ALL, CheckpointKind::as_str);
    clock_kind => all(cordon_domain::clocks::ClockKind::ALL, cordon_domain::clocks::ClockKind::as_str);
    report_field => all(cordon_domain::report::Field::ALL, cordon_domain::report::Field::as_str);
    origin_risk => all(OriginRisk::ALL, OriginRisk::as_str);
    clock_state => ["running", "overdue", "done"];
    decision => all(Decision::ALL, Decision::as_str);
    decision_code => all(DecisionCode::ALL, DecisionCode::as_str);
    direction => all(Direction::ALL, Direction::as_str);
    code_colour => all(Colour::ALL, Colour::as_str);
    code_reason => all(ReasonCode::ALL, ReasonCode::as_str);
    degree => all(Degree::ALL, Degree::as_str);
    exemption_reason => all(ExemptionReason::ALL, ExemptionReason::as_str);
    exposure_kind => all(ExposureKind::ALL, ExposureKind::as_str);
    exposure_status => all(ExposureStatus::ALL, ExposureStatus::as_str);
    how_found => all(HowFound::ALL, HowFound::as_str);
    instruction_act => all(Act::ALL, Act::as_str);
    instruction_clock => ["running", "due_soon", "overdue", "done_on_time", "done_late", "closed"];
    notice_kind => all(NoticeKind::ALL, NoticeKind::as_str);
    recipient_kind => all(RecipientKind::ALL, RecipientKind::as_str);
    recipient_state => all(RecipientState::ALL, RecipientState::as_str);
    response_level => all(ResponseLevel::ALL, ResponseLevel::as_str);
    task_force_kind => all(TaskForceKind::ALL, TaskForceKind::as_str);
    timeline_kind => all(cordon_domain::timeline::EventKind::ALL, cordon_domain::timeline::EventKind::as_str);
    investigation_part => all(Part::ALL, Part::as_str);
    investigation_step => ["core_done", "reported"];
    order_status => all(Status::ALL, Status::as_str);
    origin => all(Origin::ALL, Origin::as_str);
    recall_status => all(RecallStatus::ALL, RecallStatus::as_str);
    sampling_group => ["resident", "quarantine_site", "key_group", "retest"];
    severity => all(Severity::ALL, Severity::as_str);
    site_kind => all(SiteKind::ALL, SiteKind::as_str);
    transfer_kind => all(TransferKind::ALL, TransferKind::as_str);
    transfer_status => all(TransferStatus::ALL, TransferStatus::as_str);
    vulnerability => all(&Vulnerability::ALL, Vulnerability::as_str);
    zone_act => all(ZoneAct::ALL, ZoneAct::as_str);
    zone_condition => all(ConditionCode::ALL, ConditionCode::as_str);
    zone_kind => all(ZoneKind::ALL, ZoneKind::as_str);
    zone_scheme => all(Scheme::ALL, Scheme::as_str);
    supply_category => all(cordon_domain::supplies::ItemCategory::ALL, cordon_domain::supplies::ItemCategory::as_str);
    warehouse_level => all(cordon_domain::supplies::WarehouseLevel::ALL, cordon_domain::supplies::WarehouseLevel::as_str);
    movement_kind => all(cordon_domain::supplies::MovementKind::ALL, cordon_domain::supplies::MovementKind::as_str);
    receipt_source => all(cordon_domain::supplies::ReceiptSource::ALL, cordon_domain::supplies::ReceiptSource::as_str);
    requester_kind => all(cordon_domain::supplies::RequesterKind::ALL, cordon_domain::supplies::RequesterKind::as_str);
    supply_priority => all(cordon_domain::supplies::Priority::ALL, cordon_domain::supplies::Priority::as_str);
    supply_request_status => all(cordon_domain::supplies::RequestStatus::ALL, cordon_domain::supplies::RequestStatus::as_str);
    delivery_status => all(cordon_domain::supplies::DeliveryStatus::ALL, cordon_domain::supplies::DeliveryStatus::as_str);
    ticket_channel => all(cordon_domain::hotline::Channel::ALL, cordon_domain::hotline::Channel::as_str);
    ticket_category => all(cordon_domain::hotline::TicketCategory::ALL, cordon_domain::hotline::TicketCategory::as_str);
    ticket_urgency => all(cordon_domain::hotline::Urgency::ALL, cordon_domain::hotline::Urgency::as_str);
    ticket_status => all(cordon_domain::hotline::TicketStatus::ALL, cordon_domain::hotline::TicketStatus::as_str);
    ticket_act => all(cordon_domain::hotline::TicketAct::ALL, cordon_domain::hotline::TicketAct::as_str);
    ticket_satisfaction => all(cordon_domain::hotline::Satisfaction::ALL, cordon_domain::hotline::Satisfaction::as_str);
}

one_of_or_null! {
    ticket_satisfaction_or_null => all(cordon_domain::hotline::Satisfaction::ALL, cordon_domain::hotline::Satisfaction::as_str);
    code_colour_or_null => all(Colour::ALL, Colour::as_str);
    decision_or_null => all(Decision::ALL, Decision::as_str);
    response_level_or_null => all(ResponseLevel::ALL, ResponseLevel::as_str);
    degree_or_null => all(Degree::ALL, Degree::as_str);
    severity_or_null => all(Severity::ALL, Severity::as_str);
    zone_kind_or_null => all(ZoneKind::ALL, ZoneKind::as_str);
    receipt_source_or_null => all(cordon_domain::supplies::ReceiptSource::ALL, cordon_domain::supplies::ReceiptSource::as_str);
}

/// A list of vulnerabilities.
pub(crate) fn vulnerabilities() -> Array {
    ArrayBuilder::new().items(strings(all(&Vulnerability::ALL, Vulnerability::as_str), false)).build()
}

/// A list of the ways two people met.
pub(crate) fn exposure_kinds() -> Array {
    ArrayBuilder::new().items(strings(all(ExposureKind::ALL, ExposureKind::as_str), false)).build()
}
