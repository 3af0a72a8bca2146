//! Table tests of the media plan and the collector.

use jiff::ToSpan;
use palier_content::{Item, MediaRef, sample};

use super::*;

/// A picture whose sha256 is `seed` repeated, `width` × `height`.
fn picture(seed: char, width: u32, height: u32) -> MediaRef {
    MediaRef {
        sha256: seed.to_string().repeat(64),
        bytes: 1000,
        mime: "image/jpeg".into(),
        width,
        height,
        credit: None,
    }
}

fn item(id: &str, media: &[MediaRef]) -> Item {
    let mut item = sample::promo(id, "Café Pradel");
    item.media = media.to_vec();
    item
}

fn listing(media: &[char], renditions: &[char]) -> MediaListing {
    MediaListing {
        media: media.iter().map(|c| c.to_string().repeat(64)).collect(),
        renditions: renditions.iter().map(|c| c.to_string().repeat(64)).collect(),
        partials: Vec::new(),
        temporaries: Vec::new(),
    }
}

fn shas(media: &[MediaRef]) -> String {
    media.iter().map(|m| &m.sha256[..1]).collect()
}

#[test]
fn the_plan_downloads_what_is_missing_once_and_scales_what_is_too_big() {
    let big = picture('a', 4000, 3000);
    let small = picture('b', 800, 600);
    let tall = picture('c', 1080, 2400);
    let exact = picture('d', 1920, 1080);
    let items = [
        item("one", &[big.clone(), small.clone()]),
        item("two", &[small.clone(), tall.clone(), exact.clone()]),
    ];
    // (case, listing, renditions current, downloads, present, renditions)
    let cases = [
        ("empty directory", listing(&[], &[]), true, "abcd", "", "ac"),
        ("all present, renditions made", listing(&['a', 'b', 'c', 'd'], &['a', 'c']), true, "", "abcd", ""),
        ("a rendition is missing", listing(&['a', 'b', 'c', 'd'], &['a']), true, "", "abcd", "c"),
        ("the screens changed size", listing(&['a', 'b', 'c', 'd'], &['a', 'c']), false, "", "abcd", "ac"),
        ("a stray rendition without its picture", listing(&['b'], &['a', 'c']), true, "acd", "b", "ac"),
    ];
    for (case, listing, current, downloads, present, renditions) in cases {
        let plan = plan(&items, &listing, 1920, current);
        assert_eq!(shas(&plan.downloads), downloads, "{case}: downloads");
        let present_got: String = plan.present.iter().map(|s| &s[..1]).collect();
        assert_eq!(present_got, present, "{case}: present");
        assert_eq!(shas(&plan.renditions), renditions, "{case}: renditions");
    }
    assert_eq!(plan(&[], &listing(&['a'], &['a']), 1920, true), Plan::default(), "nothing to do");
    assert_eq!(shas(&plan(&items, &listing(&[], &[]), 640, true).renditions), "abcd", "a smaller screen");
}

#[test]
fn garbage_is_what_nothing_references_and_old_partials() {
    let now = sample::now();
    let big = picture('a', 4000, 3000);
    let small = picture('b', 800, 600);
    let mut files = listing(&['a', 'b', 'e'], &['a', 'b', 'f']);
    files.partials = vec![("c".repeat(64), now - 2.hours()), ("d".repeat(64), now - 25.hours())];
    let names = |names: Vec<String>| -> Vec<String> {
        names.iter().map(|n| format!("{}{}", &n[..1], n.get(64..).unwrap_or(""))).collect()
    };
    // The manifest still wants c and d (items held back while they download), or nothing.
    let both: HashSet<String> = ["c".repeat(64), "d".repeat(64)].into();
    let none = HashSet::new();
    // What the case shows, the cache's media, the manifest's, the display side, the garbage.
    type Case<'a> = (&'a str, Vec<MediaRef>, &'a HashSet<String>, u32, Vec<&'a str>);
    let cases: [Case<'_>; 5] = [
        (
            "both kept",
            vec![big.clone(), small.clone()],
            &both,
            1920,
            vec!["b.display", "d.partial", "e", "f.display"],
        ),
        (
            "the big one withdrawn",
            vec![small.clone()],
            &both,
            1920,
            vec!["a", "a.display", "b.display", "d.partial", "e", "f.display"],
        ),
        (
            "a small screen keeps both renditions",
            vec![big.clone(), small.clone()],
            &both,
            640,
            vec!["d.partial", "e", "f.display"],
        ),
        (
            "nothing left",
            vec![],
            &both,
            1920,
            vec!["a", "a.display", "b", "b.display", "d.partial", "e", "f.display"],
        ),
        (
            "a fresh partial the manifest no longer wants",
            vec![big.clone(), small.clone()],
            &none,
            1920,
            vec!["b.display", "c.partial", "d.partial", "e", "f.display"],
        ),
    ];
    for (case, referenced, wanted, side, expected) in cases {
        assert_eq!(names(garbage(&files, &referenced, wanted, side, now)), expected, "{case}");
    }
}

#[test]
fn temporary_files_go_once_their_writer_is_gone_or_they_are_old() {
    let now = sample::now();
    let temporary = |name: &str, writer_running: bool, age: i64| Temporary {
        name: name.to_owned(),
        writer_running,
        modified: now - age.minutes(),
    };
    // (case, the temporary file, collected)
    let cases = [
        ("a write under way", temporary(".x.display.10.tmp", true, 0), false),
        ("its writer was killed", temporary(".x.display.11.tmp", false, 0), true),
        ("a reused process id, an hour on", temporary(".x.display.12.tmp", true, 61), true),
    ];
    for (case, file, collected) in cases {
        let mut files = listing(&[], &[]);
        files.temporaries = vec![file.clone()];
        let names = garbage(&files, &[], &HashSet::new(), 1920, now);
        assert_eq!(names.contains(&file.name), collected, "{case}");
    }
}

#[test]
fn file_names_are_classified_strictly() {
    let sha = "0123456789abcdef".repeat(4);
    let cases = [
        (sha.clone(), MediaFile::Media(sha.clone())),
        (format!("{sha}.display"), MediaFile::Rendition(sha.clone())),
        (format!("{sha}.partial"), MediaFile::Partial(sha.clone())),
        (format!("{sha}.tmp"), MediaFile::Other),
        (format!(".{sha}.display.4242.tmp"), MediaFile::Temporary { pid: 4242 }),
        (".rendition-side.17.tmp".to_owned(), MediaFile::Temporary { pid: 17 }),
        (".rendition-side.tmp".to_owned(), MediaFile::Other),
        (sha.to_uppercase(), MediaFile::Other),
        (".rendition-side".to_owned(), MediaFile::Other),
        (sha[..63].to_owned(), MediaFile::Other),
    ];
    for (name, expected) in cases {
        assert_eq!(MediaFile::classify(&name), expected, "{name}");
    }
}
