//! Small, valid sample content for tests and previews in every crate.
//!
//! Each constructor returns an item that passes validation; tests change one field to
//! reach the case they are about.

use jiff::{Timestamp, ToSpan};

use crate::model::*;
use crate::wire::Manifest;

/// 2026-11-24 08:00 UTC, a Tuesday: the instant sample content is built around.
pub fn now() -> Timestamp {
    "2026-11-24T08:00:00Z".parse().expect("constant timestamp")
}

pub fn building() -> Building {
    Building {
        id: "bld-tilleuls".to_owned(),
        name: "Résidence Les Tilleuls".to_owned(),
        address: "12 rue des Tilleuls, 69003 Lyon".to_owned(),
        time_zone: "Europe/Paris".to_owned(),
        locale: "fr-FR".to_owned(),
    }
}

fn base(id: &str, channel: Channel, title: &str, details: Details) -> Item {
    let at = now();
    Item {
        id: id.to_owned(),
        version: 1,
        channel,
        valid_from: at - 24.hours(),
        valid_until: at + (7 * 24).hours(),
        schedule: None,
        weight: 1,
        duration_s: None,
        roles: Vec::new(),
        lang: "fr".to_owned(),
        title: title.to_owned(),
        body: String::new(),
        media: Vec::new(),
        link: None,
        origin: None,
        details,
    }
}

pub fn flash(id: &str, severity: Severity) -> Item {
    let mut item = base(
        id,
        Channel::Building,
        "Coupure d'eau",
        Details::Flash(Flash { severity, starts_at: None, ends_at: None }),
    );
    item.body = "Travaux sur la colonne montante.".to_owned();
    item
}

pub fn offer(id: &str, first_name: &str) -> Item {
    let mut item = base(
        id,
        Channel::Neighbourhood,
        "Je prête ma perceuse",
        Details::Offer(Offer {
            offer_type: OfferType::Offer,
            category: OfferCategory::Lending,
            author_first_name: first_name.to_owned(),
            author_building: Some("Bâtiment B".to_owned()),
        }),
    );
    item.link = Some(format!("https://palier.example/r/{id}"));
    item
}

pub fn promo(id: &str, shop: &str) -> Item {
    base(
        id,
        Channel::Shops,
        "Le café du matin à 1 €",
        Details::Promo(Promo { shop: shop.to_owned(), price: Some("1 €".to_owned()), opening_hours: None }),
    )
}

pub fn event(id: &str) -> Item {
    let starts_at = now() + 96.hours();
    base(
        id,
        Channel::Neighbourhood,
        "Fête des voisins",
        Details::Event(Event { starts_at, ends_at: None, place: Some("Cour intérieure".to_owned()) }),
    )
}

pub fn news(id: &str) -> Item {
    base(id, Channel::Neighbourhood, "Le marché revient place Carnot", Details::News(News { source: None }))
}

/// A media reference with a made-up but well-formed address.
pub fn media(seed: u8) -> MediaRef {
    MediaRef {
        sha256: format!("{seed:02x}").repeat(32),
        bytes: 1000,
        mime: "image/jpeg".to_owned(),
        width: 800,
        height: 600,
        credit: None,
    }
}

/// A manifest for device `dev-1` holding `items`.
pub fn manifest(generation: u64, items: &[Item]) -> Manifest {
    let at = now();
    Manifest::from_items("dev-1", generation, at, at + (7 * 24).hours(), building(), Vec::new(), items)
}

/// Bodies as the platform's publishing API takes them (`POST /v1/publish/items`), valid from
/// an hour ago for a week of real time: what the platform, sync and end-to-end tests publish.
/// `version` and `channel` are left out (the platform assigns them); offers and events carry
/// the neighbourhood app's `author`.
pub mod requests {
    use jiff::{SignedDuration, Timestamp};
    use serde_json::{Value, json};

    use crate::model::Severity;

    fn window() -> (String, String) {
        let now = Timestamp::now();
        (
            (now - SignedDuration::from_hours(1)).to_string(),
            (now + SignedDuration::from_hours(24 * 7)).to_string(),
        )
    }

    fn media_list(media: &[&str]) -> Value {
        Value::Array(media.iter().map(|sha| json!({"sha256": sha})).collect())
    }

    /// A landlord's flash.
    pub fn flash(id: &str, severity: Severity, title: &str) -> Value {
        let (from, until) = window();
        json!({"id": id, "kind": "flash", "severity": severity.as_str(), "valid_from": from,
               "valid_until": until, "title": title,
               "body": "Intervention sur la colonne montante.\nMerci de votre compréhension."})
    }

    /// A shop's promotion, with pictures given by address.
    pub fn promo(id: &str, media: &[&str]) -> Value {
        let (from, until) = window();
        json!({"id": id, "kind": "promo", "shop": "Café Pradel", "price": "1,20 €", "valid_from": from,
               "valid_until": until, "title": "L’espresso du matin à 1,20 €", "media": media_list(media)})
    }

    /// A neighbour's offer, published by the neighbourhood app for `person`.
    pub fn offer(id: &str, person: &str, first_name: &str, media: &[&str]) -> Value {
        let (from, until) = window();
        json!({"id": id, "kind": "offer", "offer_type": "offer", "category": "lending", "valid_from": from,
               "valid_until": until, "title": format!("{first_name} prête sa perceuse"),
               "author": {"person_id": person, "first_name": first_name, "building": "Bâtiment B"},
               "link": format!("https://voisins.example.org/r/{id}"), "media": media_list(media)})
    }

    /// An association's event, published by the neighbourhood app for `person`.
    pub fn event(id: &str, person: &str) -> Value {
        let (from, until) = window();
        json!({"id": id, "kind": "event", "starts_at": until, "valid_from": from, "valid_until": until,
               "title": "Atelier lampions", "author": {"person_id": person}})
    }

    /// The same body, valid until `lasting` from now.
    pub fn lasting(mut item: Value, lasting: SignedDuration) -> Value {
        item["valid_until"] = json!((Timestamp::now() + lasting).to_string());
        item
    }
}
