//! Table tests of the `[sync]` section: defaults, every key, every problem's wording.

use super::*;

const KEY: &str = "ed25519:A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=";

fn table(text: &str) -> toml::Table {
    text.parse().unwrap()
}

fn minimal() -> String {
    format!("platform_url = \"https://palier.example\"\nplatform_key = \"{KEY}\"\n")
}

#[test]
fn a_minimal_section_takes_the_defaults() {
    let loaded = SyncSettings::from_table(&table(&minimal())).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let s = loaded.settings;
    assert_eq!(
        (s.poll_interval_s, s.heartbeat_interval_s, s.request_timeout_s, s.max_parallel_downloads),
        (60, 300, 20, 2)
    );
    assert_eq!(s.enrolment_code, None);
    assert_eq!(s.key().unwrap().to_text(), KEY);
    assert_eq!(s.base_url().unwrap().as_str(), "https://palier.example/");
}

#[test]
fn every_key_is_read_and_unknown_ones_warn() {
    let text = format!(
        "{}enrolment_code = \"TLL-4K7P-9QXM\"\npoll_interval_s = 30\nheartbeat_interval_s = 600\n\
         request_timeout_s = 5\nmax_parallel_downloads = 4\npoll_intervall_s = 10\nchange_hints = false\n",
        minimal()
    );
    let loaded = SyncSettings::from_table(&table(&text)).unwrap();
    let s = &loaded.settings;
    assert_eq!(s.enrolment_code.as_deref(), Some("TLL-4K7P-9QXM"));
    assert!(!s.change_hints);
    assert!(SyncSettings::from_table(&table(&minimal())).unwrap().settings.change_hints, "on by default");
    assert_eq!(
        (s.poll_interval_s, s.heartbeat_interval_s, s.request_timeout_s, s.max_parallel_downloads),
        (30, 600, 5, 4)
    );
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    assert!(loaded.warnings[0].contains("sync.poll_intervall_s"), "{:?}", loaded.warnings);
}

#[test]
fn plain_http_to_another_machine_is_a_warning() {
    let local = format!("platform_url = \"http://127.0.0.1:8080\"\nplatform_key = \"{KEY}\"\n");
    assert!(SyncSettings::from_table(&table(&local)).unwrap().warnings.is_empty());
    let lan = format!("platform_url = \"http://192.0.2.7:8080\"\nplatform_key = \"{KEY}\"\n");
    let warnings = SyncSettings::from_table(&table(&lan)).unwrap().warnings;
    assert!(warnings[0].contains("plain http"), "{warnings:?}");
}

#[test]
fn problems_name_the_key_and_the_fix() {
    let url = "platform_url = \"https://palier.example\"\n";
    let key = format!("platform_key = \"{KEY}\"\n");
    // (section, key named, words of the fix)
    let cases = [
        (key.clone(), "sync.platform_url", "is missing"),
        (url.to_owned(), "sync.platform_key", "public-key"),
        (format!("{key}platform_url = \"palier.example\""), "sync.platform_url", "https://"),
        (format!("{key}platform_url = \"ftp://palier.example\""), "sync.platform_url", "http:// or https://"),
        (
            format!("{url}platform_key = \"A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=\""),
            "sync.platform_key",
            "ed25519:",
        ),
        (format!("{url}platform_key = \"ed25519:AAAA\""), "sync.platform_key", "32 bytes"),
        (format!("{url}{key}poll_interval_s = \"60\""), "sync.poll_interval_s", "without quotes"),
        (format!("{url}{key}poll_interval_s = 1"), "sync.poll_interval_s", "5..=86400"),
        (format!("{url}{key}max_parallel_downloads = 0"), "sync.max_parallel_downloads", "1..=16"),
        (format!("{url}{key}request_timeout_s = -3"), "sync.request_timeout_s", "whole number"),
        (format!("{url}{key}enrolment_code = \" \""), "sync.enrolment_code", "paste the code"),
        (format!("{url}{key}enrolment_code = 1234"), "sync.enrolment_code", "text in quotes"),
    ];
    for (text, named, fix) in cases {
        let problems = SyncSettings::from_table(&table(&text)).unwrap_err();
        let message = problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
        assert!(message.contains(named) && message.contains(fix), "{text:?}:\n{message}");
    }
}

#[test]
fn the_key_never_hides_in_debug_output_as_bytes() {
    let key = PlatformKey::parse(KEY).unwrap();
    assert_eq!(format!("{key:?}"), format!("PlatformKey({KEY})"));
}

#[test]
fn the_documented_section_names_every_key_with_its_default() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/palier.example.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let section = text.split_once("# [sync]\n").expect("the example documents [sync]").1;
    let uncommented: String = section
        .lines()
        .filter_map(|line| line.strip_prefix("# "))
        .map(|line| line.replace("ed25519:…", KEY) + "\n")
        .collect();
    let loaded = SyncSettings::from_table(&table(&uncommented)).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let defaults = SyncSettings::default();
    let s = loaded.settings;
    assert_eq!(
        (s.poll_interval_s, s.heartbeat_interval_s, s.request_timeout_s, s.max_parallel_downloads),
        (
            defaults.poll_interval_s,
            defaults.heartbeat_interval_s,
            defaults.request_timeout_s,
            defaults.max_parallel_downloads
        ),
        "the example shows the defaults"
    );
    assert!(s.enrolment_code.is_some() && s.platform_url.is_some());
}
