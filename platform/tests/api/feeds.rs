//! Feeds end to end through the platform: fixture documents served by a local HTTP server
//! that can change between fetches, fetched by the same code the platform's runner calls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use palier_platform::administration::NewFeed;
use palier_platform::feeds::fetch::Fetcher;
use palier_platform::feeds::sync::{FetchOutcome, fetch_feed};
use palier_platform::feeds::{FeedFormat, FeedKind};
use palier_platform::ids::{BuildingId, FeedId, PublisherId};
use palier_platform::moderation::Event;
use palier_platform::publishing::Actor;
use palier_platform::store::AreaKind;
use palier_platform::store::{Publisher, PublisherKind, Via};
use palier_platform::{Role, Settings};
use serde_json::Value;

use crate::support::*;

const AGENDA: &str = include_str!("../fixtures/feeds/agenda.ics");
const RSS: &str = include_str!("../fixtures/feeds/news.rss");
const ATOM: &str = include_str!("../fixtures/feeds/news.atom");

/// Documents served under `/{name}`, changeable while served; each answer carries an ETag
/// of its bytes and `If-None-Match` gets a 304.
#[derive(Clone, Default)]
struct Documents {
    files: Arc<Mutex<HashMap<String, (Vec<u8>, &'static str)>>>,
    requests: Arc<Mutex<Vec<(String, u16)>>>,
}

impl Documents {
    fn put(&self, name: &str, bytes: impl Into<Vec<u8>>, mime: &'static str) {
        self.files.lock().unwrap().insert(name.to_owned(), (bytes.into(), mime));
    }

    fn statuses(&self, name: &str) -> Vec<u16> {
        self.requests.lock().unwrap().iter().filter(|(n, _)| n == name).map(|(_, s)| *s).collect()
    }

    async fn serve(&self) -> String {
        async fn answer(
            State(docs): State<Documents>,
            Path(name): Path<String>,
            headers: HeaderMap,
        ) -> Response {
            let found = docs.files.lock().unwrap().get(&name).cloned();
            let response = match found {
                None => StatusCode::NOT_FOUND.into_response(),
                Some((bytes, mime)) => {
                    let etag = format!("\"{}\"", &palier_content::demo::sha256_hex(&bytes)[..16]);
                    if headers
                        .get(header::IF_NONE_MATCH)
                        .is_some_and(|v| v.to_str().ok() == Some(etag.as_str()))
                    {
                        StatusCode::NOT_MODIFIED.into_response()
                    } else {
                        ([(header::CONTENT_TYPE, mime), (header::ETAG, etag.as_str())], bytes).into_response()
                    }
                }
            };
            docs.requests.lock().unwrap().push((name, response.status().as_u16()));
            response
        }
        let app = axum::Router::new().route("/{name}", axum::routing::get(answer)).with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        base
    }
}

/// A platform whose clock reads `at`, fetching no feed on its own.
async fn platform_at(at: &str) -> Platform {
    let p = Platform::start_with(Settings { feeds_tick: None, ..Settings::default() }).await;
    let target: Timestamp = at.parse().unwrap();
    p.offset_s.store(target.duration_since(Timestamp::now()).as_secs(), std::sync::atomic::Ordering::SeqCst);
    p
}

async fn add_feed(
    p: &Platform,
    url: String,
    format: FeedFormat,
    kind: FeedKind,
    scope: &str,
    moderated: bool,
) -> FeedId {
    let new = NewFeed {
        id: None,
        name: format!("Ville de Lyon — {}", format.as_str()),
        url,
        format,
        kind,
        moderated,
        every: SignedDuration::from_mins(15),
        scope: vec![scope.to_owned()],
    };
    p.admin().add_feed(&OPERATOR, new).await.unwrap().id
}

async fn fetch(p: &Platform, id: &FeedId) -> FetchOutcome {
    let feed = p.store.feed(id).await.unwrap().unwrap();
    fetch_feed(p.state.publishing(), &Fetcher::new(), &feed).await
}

fn pictures(docs: &Documents) {
    docs.put("concert.jpg", palier_testkit::pictures::jpeg(640, 480, 1), "image/jpeg");
    docs.put("sapins.jpg", palier_testkit::pictures::jpeg(800, 600, 2), "image/jpeg");
    docs.put("piscine.png", png(320, 200, 7), "image/png");
}

#[tokio::test]
async fn a_city_agenda_reaches_the_boards_of_its_area_once_and_is_not_fetched_twice() {
    let p = platform_at("2026-10-20T12:00:00Z").await;
    let docs = Documents::default();
    let base = docs.serve().await;
    docs.put(
        "agenda.ics",
        AGENDA.replace("http://127.0.0.1:0/pictures", &base),
        "text/calendar; charset=utf-8",
    );
    pictures(&docs);
    let a = p.building("Les Tilleuls").await;
    let b = p.building("Les Acacias").await;
    let area = p
        .admin()
        .add_area(&OPERATOR, "Lyon 1er", AreaKind::City, None, &[a.clone(), b.clone()], None)
        .await
        .unwrap();
    let board_a = p.enrol(&a, &["lobby-centre"]).await;
    let board_b = p.enrol(&b, &["lift"]).await;
    let id = add_feed(
        &p,
        format!("{base}/agenda.ics"),
        FeedFormat::Ical,
        FeedKind::Event,
        area.area.id.as_str(),
        false,
    )
    .await;

    let first = fetch(&p, &id).await;
    assert_eq!(first.error, None);
    assert_eq!((first.created.len(), first.updated.len(), first.withdrawn.len()), (8, 0, 0), "{first:?}");
    assert_eq!(
        first.problems.len(),
        2,
        "the event without UID and the impossible date: {:?}",
        first.problems
    );
    for board in [&board_a, &board_b] {
        let manifest = p.manifest(&board.token).await;
        let items = manifest["items"].as_array().unwrap();
        assert_eq!(items.len(), 8);
        assert!(
            items.iter().all(|i| i["kind"] == "event" && i["origin"] == "Ville de Lyon — ical"),
            "{manifest}"
        );
    }
    let manifest = p.manifest(&board_a.token).await;
    let concert = manifest["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"] == "Concert du quatuor Debussy")
        .unwrap();
    assert_eq!(concert["starts_at"], "2026-10-29T19:00:00Z");
    assert_eq!(concert["place"], "Temple du Change");
    assert_eq!(concert["body"], "Un programme Ravel & Debussy.\n\nEntrée libre dans la limite des places.");
    assert_eq!(concert["media"].as_array().unwrap().len(), 1, "the picture came through the upload checks");
    assert_eq!(concert["media"][0]["mime"], "image/jpeg");

    // The same document again: a 304, nothing published, no generation moves.
    let generation = p.manifest(&board_a.token).await["generation"].clone();
    let again = fetch(&p, &id).await;
    assert!(again.not_modified, "{again:?}");
    assert_eq!(docs.statuses("agenda.ics"), [200, 304]);
    assert_eq!(p.manifest(&board_a.token).await["generation"], generation);
    let status = p.store.feed(&id).await.unwrap().unwrap();
    assert_eq!((status.live_items, status.status.failures, status.status.last_error.clone()), (8, 0, None));
    assert!(status.status.next_fetch_at.unwrap() > p.state.now());
}

fn rss_with(items: &[(&str, &str, &str)]) -> String {
    let mut out = String::from(
        r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Mairie</title><link>https://m.example/</link>"#,
    );
    for (guid, title, date) in items {
        out.push_str(&format!(
            "<item><guid isPermaLink=\"false\">{guid}</guid><title>{title}</title><pubDate>{date}</pubDate>\
             <description>&lt;p&gt;{title}&lt;/p&gt;</description></item>"
        ));
    }
    out.push_str("</channel></rss>");
    out
}

#[tokio::test]
async fn a_news_feed_that_changes_gives_one_version_one_withdrawal_and_one_new_item() {
    let p = platform_at("2026-11-25T12:00:00Z").await;
    let docs = Documents::default();
    let base = docs.serve().await;
    let a = p.building("Les Tilleuls").await;
    let board = p.enrol(&a, &["lobby-centre"]).await;
    let date = "Tue, 24 Nov 2026 09:00:00 +0100";
    docs.put(
        "news.rss",
        rss_with(&[("n1", "Marché de Noël", date), ("n2", "Piscine fermée", date), ("n3", "Collecte", date)]),
        "application/rss+xml",
    );
    let id = add_feed(&p, format!("{base}/news.rss"), FeedFormat::Rss, FeedKind::News, &a, false).await;
    let first = fetch(&p, &id).await;
    assert_eq!(first.created.len(), 3, "{first:?}");

    docs.put(
        "news.rss",
        rss_with(&[
            ("n1", "Marché de Noël prolongé", date),
            ("n3", "Collecte", date),
            ("n4", "Conseil de quartier", date),
        ]),
        "application/rss+xml",
    );
    let second = fetch(&p, &id).await;
    assert_eq!(second.error, None);
    assert_eq!(
        (second.created.len(), second.updated.len(), second.withdrawn.len(), second.unchanged),
        (1, 1, 1, 1),
        "{second:?}"
    );
    let feed = p.store.feed(&id).await.unwrap().unwrap();
    let item = |key: &str| palier_platform::feeds::sync::item_id(&feed, key);
    assert_eq!(second.updated, [item("n1")]);
    assert_eq!(second.withdrawn, [item("n2")]);
    assert_eq!(second.created, [item("n4")]);
    let manifest = p.manifest(&board.token).await;
    let mut shown: Vec<(String, u64)> = manifest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["title"].as_str().unwrap().to_owned(), i["version"].as_u64().unwrap()))
        .collect();
    shown.sort();
    assert_eq!(
        shown,
        [
            ("Collecte".to_owned(), 1),
            ("Conseil de quartier".to_owned(), 1),
            ("Marché de Noël prolongé".to_owned(), 2)
        ]
    );
    assert!(
        feed.status.report.starts_with("1 new, 1 updated, 1 withdrawn, 1 unchanged"),
        "{}",
        feed.status.report
    );
}

#[tokio::test]
async fn broken_and_hostile_feeds_change_nothing_and_say_why() {
    let p = platform_at("2026-11-25T12:00:00Z").await;
    let docs = Documents::default();
    let base = docs.serve().await;
    pictures(&docs);
    let a = p.building("Les Tilleuls").await;
    let board = p.enrol(&a, &["lobby-centre"]).await;
    docs.put("news.rss", RSS.replace("http://127.0.0.1:0/pictures", &base), "application/rss+xml");
    let id = add_feed(&p, format!("{base}/news.rss"), FeedFormat::Rss, FeedKind::News, &a, false).await;
    let first = fetch(&p, &id).await;
    assert_eq!(first.created.len(), 3, "{first:?}");
    let before = p.manifest(&board.token).await;
    let sapins = before["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["title"].as_str().unwrap().starts_with("Collecte des sapins"))
        .unwrap()
        .clone();
    assert!(
        !sapins["body"].as_str().unwrap().contains("document.write"),
        "scripts never reach a screen: {sapins}"
    );
    assert_eq!(sapins["media"].as_array().unwrap().len(), 1);

    let mut many = String::from(r#"<rss version="2.0"><channel><title>t</title>"#);
    for n in 0..10_000 {
        many.push_str(&format!("<item><title>Entrée {n}</title><guid>{n}</guid></item>"));
    }
    many.push_str("</channel></rss>");
    let empty = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Mairie</title></channel></rss>"#;
    // (what the server now answers, what the error says)
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>".to_vec(),
            "not an RSS or Atom feed",
        ),
        (vec![b' '; 50 * 1024 * 1024], "larger than"),
        (many.into_bytes(), "10000 entries"),
        (empty.as_bytes().to_vec(), "lists no entry now"),
    ];
    let mut failures = 0;
    for (document, expected) in cases {
        docs.put("news.rss", document, "application/rss+xml");
        let outcome = fetch(&p, &id).await;
        failures += 1;
        let error = outcome.error.clone().unwrap_or_default();
        assert!(error.contains(expected), "{expected}: {error}");
        let now = p.manifest(&board.token).await;
        assert_eq!(
            (&now["generation"], &now["items"]),
            (&before["generation"], &before["items"]),
            "{expected}: nothing changed"
        );
        let feed = p.store.feed(&id).await.unwrap().unwrap();
        assert_eq!(
            (feed.status.failures, feed.status.last_error.as_deref()),
            (failures, Some(error.as_str()))
        );
        assert_eq!(feed.live_items, 3);
        let wait = feed.status.next_fetch_at.unwrap().duration_since(p.state.now());
        let backoff = SignedDuration::from_mins(15 << failures);
        assert!(
            wait <= backoff && wait > backoff - SignedDuration::from_secs(10),
            "backs off: {expected}: {wait:?}"
        );
    }
    docs.put("gone.rss", "", "text/plain");
    let missing =
        add_feed(&p, format!("{base}/nothing-here.rss"), FeedFormat::Rss, FeedKind::News, &a, false).await;
    assert!(fetch(&p, &missing).await.error.unwrap().contains("HTTP 404"));

    // Entries with impossible dates or no title are skipped and named; the rest goes on.
    let bad_dates = rss_with(&[("n9", "Nouvelle", "le 32 brumaire")])
        .replace("<title>Mairie</title>", "<title>Mairie</title><item><guid>x</guid></item>");
    docs.put("news.rss", bad_dates, "application/rss+xml");
    let outcome = fetch(&p, &id).await;
    assert_eq!(outcome.error, None, "{outcome:?}");
    assert!(outcome.problems.iter().any(|p| p.contains("entry x: no title")), "{:?}", outcome.problems);
    let feed = p.store.feed(&id).await.unwrap().unwrap();
    assert_eq!(feed.status.failures, 0, "a good fetch resets the backoff");

    // The console, the CLI and `feed list` read the same status.
    let listed = palier_platform::cli::text::render_feed_list(&[(feed, Vec::new())], p.state.now());
    assert!(listed.contains("last fetch:") && listed.contains("ok:"), "{listed}");
}

#[tokio::test]
async fn a_moderated_atom_feed_waits_for_a_moderator_and_feeds_are_checked_when_added() {
    let p = platform_at("2026-11-25T12:00:00Z").await;
    let docs = Documents::default();
    let base = docs.serve().await;
    let a = p.building("Les Tilleuls").await;
    let board = p.enrol(&a, &["lobby-centre"]).await;
    docs.put("atom.xml", ATOM, "application/atom+xml");
    let id = add_feed(&p, format!("{base}/atom.xml"), FeedFormat::Atom, FeedKind::News, &a, true).await;
    let outcome = fetch(&p, &id).await;
    assert_eq!(outcome.created.len(), 2, "{outcome:?}");
    assert!(
        outcome.problems.iter().any(|p| p.contains("picture")),
        "the enclosure's host does not answer: {:?}",
        outcome.problems
    );
    assert!(p.item_ids(&board.token).await.is_empty(), "pending items reach no board");
    let app = p.publisher(Role::Neighbourhood, &[&a]).await;
    let record: Value =
        p.get(&format!("/v1/publish/items/{}", outcome.created[0]), &app).await.json().await.unwrap();
    assert_eq!(record["error"]["code"], "forbidden", "another publisher's item: {record}");
    let moderator = Actor::new(
        Publisher::with_buildings(
            PublisherId::parse("usr-mod").unwrap(),
            "Modération".into(),
            Role::Moderator,
            PublisherKind::Person,
            vec![BuildingId::parse(&a).unwrap()],
        ),
        Via::Console,
    );
    let queue = p.state.publishing().moderation_queue(&moderator).await.unwrap();
    assert_eq!(queue.len(), 2, "both wait in the moderator's queue");
    p.state.publishing().moderate(&moderator, &queue[0].id, queue[0].version, Event::Approve).await.unwrap();
    assert_eq!(p.item_ids(&board.token).await, [queue[0].id.to_string()]);

    let refused = |url: &str, format, kind, scope: &str| NewFeed {
        id: None,
        name: "Agenda".into(),
        url: url.into(),
        format,
        kind,
        moderated: false,
        every: SignedDuration::from_mins(15),
        scope: vec![scope.into()],
    };
    let cases = [
        (refused("ftp://x.example/a.ics", FeedFormat::Ical, FeedKind::Event, &a), "http(s)"),
        (refused("https://x.example/a.ics", FeedFormat::Ical, FeedKind::News, &a), "kind event"),
        (refused("https://x.example/a.rss", FeedFormat::Rss, FeedKind::Event, &a), "kind news"),
        (
            refused("https://x.example/a.rss", FeedFormat::Rss, FeedKind::News, "bld-nowhere"),
            "neither a building nor an area",
        ),
    ];
    for (new, expected) in cases {
        let error = p.admin().add_feed(&OPERATOR, new).await.unwrap_err().to_string();
        assert!(error.contains(expected), "{expected}: {error}");
    }
}
