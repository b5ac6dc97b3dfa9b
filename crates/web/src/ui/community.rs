//! The community worker's page (社区工作台): the village's work in one place, sized for a phone —
//! recalls waiting for a door re-test, residents not yet sampled in the latest round, people
//! waiting to start home quarantine, door tests due today, the hotline's tickets sent to the
//! village and the deliveries to bring to its doors — each a link to the list that does it.

use askama::Template;
use axum::response::Response;
use cordon_domain::AreaCode;

use crate::auth::Caller;
use crate::format::today;
use crate::i18n::Tr;
use crate::ui::{Card, Places, UserBadge, failure, render};

#[derive(Template)]
#[template(path = "community.html")]
struct CommunityPage {
    t: Tr,
    user: Option<UserBadge>,
    /// The caller's areas, by name.
    areas: String,
    cards: Vec<Card>,
}

pub async fn page(t: Tr, caller: Caller) -> Response {
    let scope = &caller.0;
    let today = today();
    let now = chrono::Utc::now();
    let loaded = async {
        let (recalls, home, rounds) = tokio::try_join!(scope.open_recalls(), scope.home_list(today), scope.rounds())?;
        // The latest round: its residents still missing in each of the caller's areas.
        let mut missing = Vec::new();
        if let Some(r) = rounds.iter().max_by_key(|r| r.starts_at) {
            for a in scope.principal().user.jurisdiction.areas() {
                if let Some(c) = scope.coverage(r.id, a).await? {
                    missing.push((r.id, a.clone(), c.area.missing()));
                }
            }
        }
        // The hotline's tickets, for a worker who reads them (an account may have lost the
        // permission).
        let tickets = if scope.principal().can(cordon_domain::access::Permission::HotlineRead) {
            Some(scope.ticket_board(500).await?.1)
        } else {
            None
        };
        let deliveries = scope.deliveries().await?;
        Ok::<_, cordon_store::StoreError>((recalls, home, missing, tickets, deliveries))
    };
    let (recalls, home, missing, tickets, deliveries) = match loaded.await {
        Ok(x) => x,
        Err(e) => return failure(t, &caller, e),
    };
    let codes: Vec<String> = scope.principal().user.jurisdiction.areas().iter().map(AreaCode::to_string).collect();
    let names = match Places::of(&caller, codes.iter().map(String::as_str)).await {
        Ok(n) => n,
        Err(e) => return failure(t, &caller, e),
    };
    let overdue = recalls.iter().filter(|r| r.deadline < now).count();
    let waiting = home.iter().filter(|s| s.order.status == cordon_domain::observation::Status::AwaitingHome).count();
    let door =
        home.iter().filter(|s| s.due && s.taken.is_none() && s.order.status != cordon_domain::observation::Status::AwaitingHome).count();
    let mut cards = vec![Card::new(
        "card-recalls",
        recalls.len(),
        t.get("community.recalls").to_string(),
        t.fill("community.recalls_overdue", &[("n", &overdue.to_string())]),
        "/recalls",
        overdue > 0,
    )];
    // One card per area, named when there are several (a worker of two villages sees both).
    let several = missing.len() > 1;
    for (round, a, n) in &missing {
        let label = if several {
            format!("{} · {}", t.get("community.missing"), names.name(a.as_str()))
        } else {
            t.get("community.missing").to_string()
        };
        cards.push(Card::new(
            if several { format!("card-missing-{a}") } else { "card-missing".to_string() },
            *n,
            label,
            t.get("community.missing_hint").to_string(),
            format!("/coverage?round={round}&area={a}"),
            false,
        ));
    }
    cards.push(Card::new(
        "card-waiting",
        waiting,
        t.get("home.waiting").to_string(),
        t.get("community.waiting_hint").to_string(),
        "/observation/home#home-waiting",
        waiting > 0,
    ));
    cards.push(Card::new(
        "card-door",
        door,
        t.get("home.tests_due").to_string(),
        t.fill("community.at_home", &[("n", &(home.len() - waiting).to_string())]),
        "/observation/home",
        false,
    ));
    if let Some(tickets) = tickets {
        let late = tickets.iter().filter(|x| x.overdue(now)).count();
        cards.push(Card::new(
            "card-tickets",
            tickets.len(),
            t.get("community.tickets").to_string(),
            t.fill("community.tickets_late", &[("n", &late.to_string())]),
            "/hotline",
            late > 0,
        ));
    }
    let to_bring = deliveries.iter().filter(|d| d.status != cordon_domain::supplies::DeliveryStatus::Delivered).count();
    cards.push(Card::new(
        "card-deliveries",
        to_bring,
        t.get("community.deliveries").to_string(),
        t.get("community.deliveries_hint").to_string(),
        "/supplies/deliveries",
        false,
    ));
    render(&CommunityPage {
        t,
        user: UserBadge::of(&caller),
        areas: codes.iter().map(|c| names.name(c)).collect::<Vec<_>>().join("、"),
        cards,
    })
}
