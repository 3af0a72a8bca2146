//! News in RSS or Atom, read into news entries with `feed-rs`.
//!
//! An entry's key is its GUID or Atom id (feed-rs makes one from the link when a feed gives
//! none). Its title and summary (or content) become plain text; relative links resolve
//! against the feed's address. Its picture is the first image among its media (RSS
//! enclosures, `media:content`, Atom enclosure links), else its thumbnail. An entry shows
//! from its date ([`published`, else `updated`]; an undated one from when the platform
//! first saw it) for [`NEWS_LIFETIME`]; older ones are left out, and the newest
//! [`MAX_FEED_ITEMS`] kept.

use feed_rs::model::{Entry as FeedEntry, Text};
use jiff::Timestamp;

use super::text::{clip, fold, line, plain};
use super::{
    Entry, EntryDetails, FeedError, MAX_DOCUMENT_ENTRIES, MAX_FEED_BODY_CHARS, NEWS_LIFETIME, Read, Skipped,
    cap, timestamp, web_address,
};
use palier_content::limits::MAX_TITLE_CHARS;

/// Reads an RSS or Atom document fetched from `address`. `first_seen` tells when the
/// platform first saw an entry, for entries without a date.
pub fn read(
    document: &[u8],
    address: &str,
    now: Timestamp,
    first_seen: &dyn Fn(&str) -> Option<Timestamp>,
) -> Result<Read, FeedError> {
    let parser = feed_rs::parser::Builder::new().base_uri(Some(address)).build();
    let feed = parser.parse(document).map_err(|e| {
        FeedError::Unreadable(format!("not an RSS or Atom feed: {}", first_line(&e.to_string())))
    })?;
    if feed.entries.len() > MAX_DOCUMENT_ENTRIES {
        return Err(FeedError::TooManyEntries { listed: feed.entries.len() });
    }
    let mut read = Read { listed: feed.entries.len(), ..Read::default() };
    for entry in &feed.entries {
        match news_entry(entry, now, first_seen) {
            Ok(Some(news)) => read.entries.push(news),
            Ok(None) => {}
            Err(skipped) => read.skipped.push(skipped),
        }
    }
    read.entries.sort_by(|a, b| b.valid_from.cmp(&a.valid_from).then_with(|| a.key.cmp(&b.key)));
    cap(&mut read);
    Ok(read)
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().chars().take(200).collect()
}

/// An HTML text through [`plain`]; a plain one (which may hold a literal `<` or `&`) folded.
fn text_of(text: &Text) -> String {
    if text.content_type.to_string().contains("html") { plain(&text.content) } else { fold(&text.content) }
}

/// An entry as a news item, `None` when it is too old to show.
fn news_entry(
    entry: &FeedEntry,
    now: Timestamp,
    first_seen: &dyn Fn(&str) -> Option<Timestamp>,
) -> Result<Option<Entry>, Skipped> {
    let key = entry.id.trim().to_owned();
    let skip = |reason: &str| Skipped { key: Some(key.clone()), reason: format!("entry {key}: {reason}") };
    if key.is_empty() {
        return Err(Skipped { key: None, reason: "an entry has neither id nor link".into() });
    }
    let title = entry.title.as_ref().map(|t| line(&text_of(t), MAX_TITLE_CHARS)).unwrap_or_default();
    if title.is_empty() {
        return Err(skip("no title"));
    }
    let body = entry
        .summary
        .as_ref()
        .map(text_of)
        .or_else(|| entry.content.as_ref().and_then(|c| c.body.as_deref()).map(plain))
        .map(|b| clip(&b, MAX_FEED_BODY_CHARS))
        .unwrap_or_default();
    let dated = entry.published.or(entry.updated).as_ref().and_then(timestamp);
    let Some(from) = dated.or_else(|| first_seen(&key)).or(Some(now)) else { return Ok(None) };
    let until = from + NEWS_LIFETIME;
    if until <= now {
        return Ok(None);
    }
    let link = entry
        .links
        .iter()
        .filter(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .find_map(|l| web_address(&l.href));
    let body = if body == title { String::new() } else { body };
    Ok(Some(Entry {
        key,
        title,
        body,
        link,
        picture: picture(entry),
        valid_from: from,
        valid_until: until,
        details: EntryDetails::News,
    }))
}

fn is_image(content_type: Option<&str>, address: &str) -> bool {
    match content_type {
        Some(kind) => kind.starts_with("image/"),
        None => {
            let lower = address.to_ascii_lowercase();
            let path = lower.split(['?', '#']).next().unwrap_or_default();
            [".jpg", ".jpeg", ".png", ".webp"].iter().any(|ext| path.ends_with(ext))
        }
    }
}

/// The entry's first picture: media content, enclosure links, then thumbnails.
fn picture(entry: &FeedEntry) -> Option<String> {
    let contents = entry.media.iter().flat_map(|m| &m.content).filter_map(|c| {
        let address = c.url.as_ref()?.as_str();
        is_image(c.content_type.as_ref().map(|t| t.to_string()).as_deref(), address)
            .then(|| address.to_owned())
    });
    let enclosures = entry
        .links
        .iter()
        .filter(|l| l.rel.as_deref() == Some("enclosure") && is_image(l.media_type.as_deref(), &l.href))
        .map(|l| l.href.clone());
    let thumbnails = entry.media.iter().flat_map(|m| &m.thumbnails).map(|t| t.image.uri.clone());
    contents.chain(enclosures).chain(thumbnails).find_map(|address| web_address(&address))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSS: &[u8] = include_bytes!("../../../tests/fixtures/feeds/news.rss");
    const ATOM: &[u8] = include_bytes!("../../../tests/fixtures/feeds/news.atom");

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn rss_items_become_news_of_the_week_with_plain_text_and_pictures() {
        let now = at("2026-11-25T12:00:00Z");
        let read = read(RSS, "https://mairie1.lyon.example/feed/", now, &|_| None).unwrap();
        assert_eq!(read.listed, 4);
        let keys: Vec<&str> = read.entries.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(
            keys,
            ["mairie1-actu-4812", "mairie1-actu-4809", "mairie1-actu-4801"],
            "newest first, the old one left out"
        );
        let sapins = &read.entries[0];
        assert_eq!(sapins.title, "Collecte des sapins : trois points de dépôt du 26 décembre au 15 janvier");
        assert_eq!(
            sapins.body,
            "Déposez votre sapin sans décoration place Sathonay, square Delfosse ou au jardin des Chartreux."
        );
        assert_eq!(sapins.picture.as_deref(), Some("http://127.0.0.1:0/pictures/sapins.jpg"));
        assert_eq!(sapins.link.as_deref(), Some("https://mairie1.lyon.example/actualites/collecte-sapins"));
        assert_eq!(
            (sapins.valid_from, sapins.valid_until),
            (at("2026-11-24T08:00:00Z"), at("2026-12-01T08:00:00Z"))
        );
        assert_eq!(read.entries[1].picture.as_deref(), Some("http://127.0.0.1:0/pictures/piscine.png"));
        let conseil = &read.entries[2];
        assert_eq!(conseil.title, "Conseil d'arrondissement & questions des habitants");
        assert!(conseil.body.starts_with("Lundi 7 décembre, 18 h 30"), "{}", conseil.body);
        assert!(conseil.body.contains("en ligne avant le 4 décembre"), "{}", conseil.body);
        assert_eq!(conseil.picture, None);
    }

    #[test]
    fn atom_entries_resolve_relative_links_and_read_html_titles() {
        let now = at("2026-11-25T12:00:00Z");
        let read = read(ATOM, "https://pentes.quartier.example/atom.xml", now, &|_| None).unwrap();
        assert_eq!(read.entries.len(), 2);
        let courges = &read.entries[0];
        assert_eq!(courges.key, "tag:pentes.quartier.example,2026:nouvelle-311");
        assert_eq!(courges.title, "Jardin partagé : la récolte des courges");
        assert_eq!(courges.body, "Rendez-vous samedi au jardin de la Muette pour partager la récolte.");
        assert_eq!(courges.link.as_deref(), Some("https://pentes.quartier.example/nouvelles/courges"));
        assert_eq!(courges.picture.as_deref(), Some("https://pentes.quartier.example/images/courges.jpg"));
        assert_eq!(courges.valid_from, at("2026-11-24T18:00:00Z"), "published, not updated");
        assert_eq!(read.entries[1].body, "Jeudi 3 décembre à 19 h, salle de la Ficelle.");
    }

    #[test]
    fn undated_entries_show_from_when_they_were_first_seen() {
        let doc = br#"<rss version="2.0"><channel><title>t</title><item><title>Sans date</title><guid>g1</guid></item></channel></rss>"#;
        let now = at("2026-11-25T12:00:00Z");
        let seen = at("2026-11-20T12:00:00Z");
        let first = read(doc, "https://x.example/", now, &|_| None).unwrap();
        assert_eq!(first.entries[0].valid_from, now);
        let later = read(doc, "https://x.example/", now, &|key| (key == "g1").then_some(seen)).unwrap();
        assert_eq!(later.entries[0].valid_from, seen);
        assert!(
            read(doc, "https://x.example/", seen + NEWS_LIFETIME, &|_| Some(seen))
                .unwrap()
                .entries
                .is_empty()
        );
    }

    #[test]
    fn what_is_not_a_feed_is_refused_whole() {
        let now = at("2026-11-25T12:00:00Z");
        for document in [
            &b"<html><body>502 Bad Gateway</body></html>"[..],
            b"",
            b"{\"not\": \"a feed\"}",
            b"\x00\x01\x02",
        ] {
            let error = read(document, "https://x.example/", now, &|_| None).unwrap_err();
            assert!(matches!(error, FeedError::Unreadable(_)), "{error}");
        }
        let mut many = String::from(r#"<rss version="2.0"><channel><title>t</title>"#);
        for n in 0..10_000 {
            many.push_str(&format!("<item><title>n{n}</title><guid>{n}</guid></item>"));
        }
        many.push_str("</channel></rss>");
        assert_eq!(
            read(many.as_bytes(), "https://x.example/", now, &|_| None).unwrap_err(),
            FeedError::TooManyEntries { listed: 10_000 }
        );
    }
}
