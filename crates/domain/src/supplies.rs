//! Supplies (物资保障): items held in warehouses, every change of stock a movement, and the rules
//! a movement, a request and a delivery follow. A balance never goes below zero: a movement that
//! would take it there is refused, naming what is on hand. A request is approved line by line and
//! issued against stock, partly when stock is short (what is still owed is kept); a delivery ends
//! with who received it, or with the proof of a contactless drop at a sealed door.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::access::named_enum;
use crate::refusal::Refusal;

named_enum! {
    /// What kind of thing an item is.
    ItemCategory {
        Protective => "protective", "防护用品";
        Testing => "testing", "检测耗材";
        Medicine => "medicine", "药品";
        Food => "food", "食品和生活物资";
    }
}

named_enum! {
    /// Where a warehouse stands in the chain: the county's store, a township's, a site's or a
    /// community's.
    WarehouseLevel {
        County => "county", "县级仓库";
        Township => "township", "乡镇仓库";
        Site => "site", "点位仓库";
        Community => "community", "社区仓库";
    }
}

named_enum! {
    /// What a movement does to stock.
    MovementKind {
        Receipt => "receipt", "入库";
        Issue => "issue", "出库";
        Transfer => "transfer", "调拨";
        Stocktake => "stocktake", "盘点";
    }
}

named_enum! {
    /// Where received stock came from.
    ReceiptSource {
        Purchase => "purchase", "采购";
        Donation => "donation", "捐赠";
        TransferIn => "transfer_in", "上级调入";
    }
}

named_enum! {
    /// Who asks for supplies.
    RequesterKind {
        QuarantineSite => "quarantine_site", "隔离点";
        SamplingSite => "sampling_site", "采样点";
        Zone => "zone", "封控管控区域";
        Household => "household", "封控户";
    }
}

named_enum! {
    /// How soon a request must be met.
    Priority {
        Urgent => "urgent", "紧急";
        High => "high", "优先";
        Normal => "normal", "一般";
    }
}

named_enum! {
    /// Where a request stands.
    RequestStatus {
        Submitted => "submitted", "待审批";
        Approved => "approved", "已审批待发放";
        PartlyIssued => "partly_issued", "部分发放";
        Issued => "issued", "已发放";
        Delivered => "delivered", "已送达";
        Rejected => "rejected", "已驳回";
    }
}

named_enum! {
    /// Where a delivery stands.
    DeliveryStatus {
        Planned => "planned", "待配送";
        OnTheWay => "on_the_way", "配送中";
        Delivered => "delivered", "已送达";
    }
}

/// The most of one item a movement or a request line may name.
pub const MAX_QUANTITY: i64 = 100_000_000;

/// Days of cover below which an item in a warehouse is shown as running short.
pub const COVER_WARNING_DAYS: f64 = 3.0;

/// The days of issues that days of cover are reckoned from.
pub const COVER_WINDOW_DAYS: i64 = 3;

/// A quantity as typed: a whole number from 1 to [`MAX_QUANTITY`].
pub fn check_quantity(quantity: i64) -> Result<i64, Refusal> {
    if quantity <= 0 {
        return Err(crate::refusal!("refused.stock.quantity"));
    }
    if quantity > MAX_QUANTITY {
        return Err(crate::refusal!("refused.stock.quantity_large", max = MAX_QUANTITY));
    }
    Ok(quantity)
}

/// The warehouses a movement takes stock out of and puts stock into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ends {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// Checks a movement's warehouses against its kind: a receipt only puts in, an issue only takes
/// out, a transfer takes out of one warehouse and puts into another, a stock-take names the one
/// warehouse counted (as `from`).
pub fn check_ends(kind: MovementKind, ends: Ends) -> Result<Ends, Refusal> {
    match (kind, ends.from, ends.to) {
        (MovementKind::Receipt, None, Some(_)) | (MovementKind::Issue, Some(_), None) | (MovementKind::Stocktake, Some(_), None) => {
            Ok(ends)
        }
        (MovementKind::Transfer, Some(a), Some(b)) if a != b => Ok(ends),
        (MovementKind::Transfer, Some(_), Some(_)) => Err(crate::refusal!("refused.stock.same_warehouse")),
        _ => Err(crate::refusal!("refused.stock.ends", kind = crate::refusal::term("stock.kind", kind))),
    }
}

/// Takes `quantity` out of a balance of `on_hand`: the balance after, or the refusal naming what
/// is there — stock never goes below zero.
pub fn take(on_hand: i64, quantity: i64, item: &str, unit: &str) -> Result<i64, Refusal> {
    if quantity > on_hand {
        return Err(crate::refusal!("refused.stock.short", item = item, on_hand = on_hand, wanted = quantity, unit = unit));
    }
    Ok(on_hand - quantity)
}

/// Puts `quantity` into a balance of `on_hand`.
pub fn put(on_hand: i64, quantity: i64) -> Result<i64, Refusal> {
    on_hand
        .checked_add(quantity)
        .filter(|b| *b <= i64::MAX / 2)
        .ok_or_else(|| crate::refusal!("refused.stock.quantity_large", max = MAX_QUANTITY))
}

/// A stock-take's change to the books: the count less what the books say (negative for a loss).
pub fn stocktake_delta(on_hand: i64, counted: i64) -> Result<i64, Refusal> {
    if !(0..=MAX_QUANTITY).contains(&counted) {
        return Err(crate::refusal!("refused.stock.counted", max = MAX_QUANTITY));
    }
    Ok(counted - on_hand)
}

/// How many days the stock on hand lasts at the rate issued over the last
/// [`COVER_WINDOW_DAYS`] days; `None` when nothing was issued (it is not being used up).
pub fn days_of_cover(on_hand: i64, issued_in_window: i64) -> Option<f64> {
    (issued_in_window > 0).then(|| on_hand as f64 / (issued_in_window as f64 / COVER_WINDOW_DAYS as f64))
}

/// Whether days of cover are short of the threshold.
pub fn cover_short(cover: Option<f64>, threshold: f64) -> bool {
    cover.is_some_and(|d| d < threshold)
}

/// How far ahead an expiry may lie.
pub const EXPIRY_YEARS: i64 = 20;

/// A batch's expiry, when the item tracks batches: a receipt of such an item names its batch, and
/// stock already expired is not received.
pub fn check_batch(tracked: bool, batch: &str, expires_on: Option<NaiveDate>, today: NaiveDate) -> Result<(), Refusal> {
    if tracked && batch.trim().is_empty() {
        return Err(crate::refusal!("refused.stock.batch_needed"));
    }
    if batch.chars().count() > 60 {
        return Err(crate::refusal!("refused.stock.batch_long"));
    }
    if let Some(d) = expires_on {
        if d < today {
            return Err(crate::refusal!("refused.stock.expired", expires_on = d));
        }
        if d > today + Duration::days(365 * EXPIRY_YEARS) {
            return Err(crate::refusal!("refused.stock.expiry_far", years = EXPIRY_YEARS));
        }
    }
    Ok(())
}

/// A needed-by time: ahead of now, within 30 days.
pub fn check_needed_by(needed_by: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), Refusal> {
    if needed_by <= now {
        return Err(crate::refusal!("refused.supply.needed_by_past"));
    }
    if needed_by - now > Duration::days(30) {
        return Err(crate::refusal!("refused.supply.needed_by_far", days = 30));
    }
    Ok(())
}

/// Whether a request is late: past its needed-by time and neither issued, delivered nor
/// rejected.
pub fn is_late(needed_by: DateTime<Utc>, status: RequestStatus, now: DateTime<Utc>) -> bool {
    needed_by < now && !matches!(status, RequestStatus::Delivered | RequestStatus::Rejected | RequestStatus::Issued)
}

/// One line of a request: what was asked, what was approved, what has been issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Line {
    pub requested: i64,
    pub approved: i64,
    pub issued: i64,
}

impl Line {
    /// What is approved and not yet issued.
    pub fn owed(&self) -> i64 {
        (self.approved - self.issued).max(0)
    }
}

/// An approval of one line: at most what was asked, zero to strike it.
pub fn check_approved(requested: i64, approved: i64) -> Result<i64, Refusal> {
    if approved < 0 || approved > requested {
        return Err(crate::refusal!("refused.supply.approved_range", requested = requested));
    }
    Ok(approved)
}

/// What an issue against a request hands out of each line: what is owed, or what is on hand when
/// less (a partial issue; the rest stays owed).
pub fn allocate(owed: i64, on_hand: i64) -> i64 {
    owed.min(on_hand).max(0)
}

/// A request's status once its lines are as given: nothing approved is rejected; everything owed
/// issued is issued; something issued and something still owed is partly issued.
pub fn status_after(lines: &[Line]) -> RequestStatus {
    let approved: i64 = lines.iter().map(|l| l.approved).sum();
    let issued: i64 = lines.iter().map(|l| l.issued).sum();
    if approved == 0 {
        RequestStatus::Rejected
    } else if lines.iter().all(|l| l.owed() == 0) {
        RequestStatus::Issued
    } else if issued > 0 {
        RequestStatus::PartlyIssued
    } else {
        RequestStatus::Approved
    }
}

/// Whether a request in `status` may be approved: when submitted, or approved again (other
/// quantities, another warehouse) while nothing of it has been issued.
pub fn may_approve(status: RequestStatus) -> Result<(), Refusal> {
    if !matches!(status, RequestStatus::Submitted | RequestStatus::Approved) {
        return Err(Refusal::conflict("refused.supply.not_submitted").with("status", crate::refusal::term("supply.status", status)));
    }
    Ok(())
}

/// The longest reason a request is rejected with.
pub const REASON_MAX: usize = 500;

/// Whether a request in `status` may be rejected, and its reason: said, at most [`REASON_MAX`]
/// characters. Only before anything of it has been issued.
pub fn check_reject(status: RequestStatus, reason: &str) -> Result<String, Refusal> {
    if !matches!(status, RequestStatus::Submitted | RequestStatus::Approved) {
        return Err(Refusal::conflict("refused.supply.not_rejectable").with("status", crate::refusal::term("supply.status", status)));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(crate::refusal!("refused.supply.reason_needed"));
    }
    if reason.chars().count() > REASON_MAX {
        return Err(crate::refusal!("refused.supply.reason_long", max = REASON_MAX));
    }
    Ok(reason.to_string())
}

/// Whether a request in `status` may be issued against.
pub fn may_issue(status: RequestStatus) -> Result<(), Refusal> {
    match status {
        RequestStatus::Approved | RequestStatus::PartlyIssued => Ok(()),
        _ => Err(Refusal::conflict("refused.supply.not_issuable").with("status", crate::refusal::term("supply.status", status))),
    }
}

/// How a delivery was handed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    /// Who took it (name), for a delivery handed over in person.
    pub received_by: String,
    /// Left at a sealed door without contact: the proof (what was left where, the photo's
    /// reference, who was told) is required instead of a name.
    pub contactless: bool,
    pub proof: String,
}

/// Checks the proof a delivery ends with: a name for one handed over, the proof for a contactless
/// drop. Both trimmed, at most 200 characters.
pub fn check_handover(h: &Handover) -> Result<Handover, Refusal> {
    let received_by = h.received_by.trim().to_string();
    let proof = h.proof.trim().to_string();
    if received_by.chars().count() > 200 || proof.chars().count() > 200 {
        return Err(crate::refusal!("refused.delivery.text_long", max = 200));
    }
    if h.contactless && proof.is_empty() {
        return Err(crate::refusal!("refused.delivery.no_proof"));
    }
    if !h.contactless && received_by.is_empty() {
        return Err(crate::refusal!("refused.delivery.no_receiver"));
    }
    Ok(Handover { received_by, contactless: h.contactless, proof })
}

/// The next status of a delivery: planned → on the way → delivered, one step at a time (a planned
/// one may be delivered at once: the courier set out without saying so).
pub fn may_advance(from: DeliveryStatus, to: DeliveryStatus) -> Result<(), Refusal> {
    use DeliveryStatus::*;
    match (from, to) {
        (Planned, OnTheWay) | (Planned, Delivered) | (OnTheWay, Delivered) => Ok(()),
        _ => Err(Refusal::conflict("refused.delivery.cannot_become")
            .with("from", crate::refusal::term("delivery.status", from))
            .with("to", crate::refusal::term("delivery.status", to))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_never_goes_below_zero_and_the_refusal_names_what_is_there() {
        assert_eq!(take(10, 4, "N95口罩", "只"), Ok(6));
        assert_eq!(take(10, 10, "N95口罩", "只"), Ok(0));
        let r = take(10, 11, "N95口罩", "只").unwrap_err();
        assert_eq!(r.kind, "refused.stock.short");
        assert_eq!(r.arg("on_hand"), Some("10"));
        assert_eq!(r.arg("wanted"), Some("11"));
        assert_eq!(put(5, 7), Ok(12));
    }

    #[test]
    fn quantities_are_whole_and_positive() {
        assert!(check_quantity(0).is_err());
        assert!(check_quantity(-3).is_err());
        assert_eq!(check_quantity(1), Ok(1));
        assert!(check_quantity(MAX_QUANTITY + 1).is_err());
    }

    #[test]
    fn a_movement_names_the_warehouses_its_kind_needs() {
        let e = |from, to| Ends { from, to };
        assert!(check_ends(MovementKind::Receipt, e(None, Some(1))).is_ok());
        assert!(check_ends(MovementKind::Receipt, e(Some(1), Some(2))).is_err());
        assert!(check_ends(MovementKind::Issue, e(Some(1), None)).is_ok());
        assert!(check_ends(MovementKind::Issue, e(None, Some(1))).is_err());
        assert!(check_ends(MovementKind::Transfer, e(Some(1), Some(2))).is_ok());
        assert_eq!(check_ends(MovementKind::Transfer, e(Some(1), Some(1))).unwrap_err().kind, "refused.stock.same_warehouse");
        assert!(check_ends(MovementKind::Stocktake, e(Some(1), None)).is_ok());
    }

    #[test]
    fn a_stocktake_books_the_difference() {
        assert_eq!(stocktake_delta(100, 97), Ok(-3));
        assert_eq!(stocktake_delta(100, 100), Ok(0));
        assert_eq!(stocktake_delta(0, 12), Ok(12));
        assert!(stocktake_delta(5, -1).is_err());
    }

    #[test]
    fn days_of_cover_from_the_last_three_days_of_issues() {
        // 600 issued over three days is 200 a day: 1,000 on hand lasts 5 days.
        assert_eq!(days_of_cover(1000, 600), Some(5.0));
        assert_eq!(days_of_cover(100, 600), Some(0.5));
        assert_eq!(days_of_cover(100, 0), None);
        assert!(cover_short(Some(2.9), COVER_WARNING_DAYS));
        assert!(!cover_short(Some(3.0), COVER_WARNING_DAYS));
        assert!(!cover_short(None, COVER_WARNING_DAYS));
    }

    #[test]
    fn a_tracked_item_is_received_with_its_batch_and_not_expired() {
        let today = NaiveDate::from_ymd_opt(2022, 4, 13).unwrap();
        assert!(check_batch(true, "", None, today).is_err());
        assert!(check_batch(true, "B2204", NaiveDate::from_ymd_opt(2023, 4, 1), today).is_ok());
        assert_eq!(check_batch(true, "B2204", NaiveDate::from_ymd_opt(2022, 4, 12), today).unwrap_err().kind, "refused.stock.expired");
        assert!(check_batch(false, "", None, today).is_ok());
    }

    #[test]
    fn an_issue_hands_out_what_is_owed_or_what_is_there_and_the_rest_stays_owed() {
        assert_eq!(allocate(50, 200), 50);
        assert_eq!(allocate(50, 20), 20);
        assert_eq!(allocate(50, 0), 0);
        let mut lines = [Line { requested: 100, approved: 80, issued: 0 }, Line { requested: 10, approved: 10, issued: 0 }];
        assert_eq!(status_after(&lines), RequestStatus::Approved);
        lines[0].issued = allocate(lines[0].owed(), 30);
        lines[1].issued = allocate(lines[1].owed(), 100);
        assert_eq!(lines[0].owed(), 50);
        assert_eq!(status_after(&lines), RequestStatus::PartlyIssued);
        lines[0].issued += allocate(lines[0].owed(), 100);
        assert_eq!(status_after(&lines), RequestStatus::Issued);
        let struck = [Line { requested: 5, approved: 0, issued: 0 }];
        assert_eq!(status_after(&struck), RequestStatus::Rejected);
    }

    #[test]
    fn approval_is_at_most_what_was_asked_and_only_once() {
        assert_eq!(check_approved(10, 8), Ok(8));
        assert!(check_approved(10, 11).is_err());
        assert!(check_approved(10, -1).is_err());
        assert!(may_approve(RequestStatus::Submitted).is_ok());
        // Approved again (another warehouse) while nothing is issued; not once something is.
        assert!(may_approve(RequestStatus::Approved).is_ok());
        assert_eq!(may_approve(RequestStatus::PartlyIssued).unwrap_err().class, crate::refusal::Class::Conflict);
        assert_eq!(may_approve(RequestStatus::Rejected).unwrap_err().class, crate::refusal::Class::Conflict);
        assert!(may_issue(RequestStatus::PartlyIssued).is_ok());
        assert!(may_issue(RequestStatus::Issued).is_err());
        assert!(may_issue(RequestStatus::Submitted).is_err());
    }

    #[test]
    fn a_request_is_rejected_with_its_reason_before_anything_is_issued() {
        assert_eq!(
            check_reject(RequestStatus::Submitted, "  重复申请，已由东关村统一配送 "),
            Ok("重复申请，已由东关村统一配送".to_string())
        );
        assert!(check_reject(RequestStatus::Approved, "库存不足，改由镇物资站").is_ok());
        assert_eq!(check_reject(RequestStatus::Submitted, " ").unwrap_err().kind, "refused.supply.reason_needed");
        assert_eq!(check_reject(RequestStatus::Submitted, &"长".repeat(REASON_MAX + 1)).unwrap_err().kind, "refused.supply.reason_long");
        assert_eq!(check_reject(RequestStatus::PartlyIssued, "x").unwrap_err().class, crate::refusal::Class::Conflict);
        assert_eq!(check_reject(RequestStatus::Rejected, "x").unwrap_err().kind, "refused.supply.not_rejectable");
    }

    #[test]
    fn a_delivery_ends_with_a_receiver_or_the_proof_of_a_contactless_drop() {
        let h = |name: &str, contactless, proof: &str| Handover { received_by: name.into(), contactless, proof: proof.into() };
        assert!(check_handover(&h(" 王秀英 ", false, "")).is_ok_and(|x| x.received_by == "王秀英"));
        assert_eq!(check_handover(&h("", false, "")).unwrap_err().kind, "refused.delivery.no_receiver");
        assert_eq!(check_handover(&h("", true, " ")).unwrap_err().kind, "refused.delivery.no_proof");
        assert!(check_handover(&h("", true, "放门口，拍照发户主微信")).is_ok());
        assert!(may_advance(DeliveryStatus::Planned, DeliveryStatus::OnTheWay).is_ok());
        assert!(may_advance(DeliveryStatus::OnTheWay, DeliveryStatus::Delivered).is_ok());
        assert!(may_advance(DeliveryStatus::Delivered, DeliveryStatus::OnTheWay).is_err());
    }

    #[test]
    fn a_request_is_late_past_its_time_until_it_is_issued() {
        let now = DateTime::parse_from_rfc3339("2022-04-13T14:00:00Z").unwrap().with_timezone(&Utc);
        let past = now - Duration::minutes(1);
        assert!(is_late(past, RequestStatus::Approved, now));
        assert!(is_late(past, RequestStatus::PartlyIssued, now));
        assert!(!is_late(past, RequestStatus::Issued, now));
        assert!(!is_late(past, RequestStatus::Rejected, now));
        assert!(!is_late(now + Duration::minutes(1), RequestStatus::Submitted, now));
    }

    #[test]
    fn a_needed_by_time_is_ahead() {
        let now = DateTime::parse_from_rfc3339("2022-04-13T14:00:00Z").unwrap().with_timezone(&Utc);
        assert!(check_needed_by(now + Duration::hours(2), now).is_ok());
        assert!(check_needed_by(now, now).is_err());
        assert!(check_needed_by(now + Duration::days(31), now).is_err());
    }
}
