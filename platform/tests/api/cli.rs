//! The real binary, end to end: init, building add, publisher add, device code, serve (wait
//! for its "listening on" line), then enrol, publish, verify with the printed key, list,
//! revoke.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

const BIN: &str = env!("CARGO_BIN_EXE_palier-platform");

/// Runs a command to completion; returns its stdout, trimmed.
fn run(data: &Path, args: &[&str]) -> String {
    let output = Command::new(BIN).arg("--data").arg(data).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{args:?} failed: {stderr}");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn the_binary_sets_up_and_serves_a_platform() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    prepare_data_dir(&data).await;
    let key = run(&data, &["init"]);
    assert!(key.starts_with("ed25519:") && key.len() == 8 + 44, "{key}");
    assert_eq!(run(&data, &["init"]), key, "init again keeps the key");
    assert_eq!(run(&data, &["public-key"]), key);

    let building = run(
        &data,
        &[
            "building",
            "add",
            "--name",
            "Résidence Les Tilleuls",
            "--address",
            "12 rue des Tilleuls",
            "--time-zone",
            "Europe/Paris",
            "--locale",
            "fr-FR",
        ],
    );
    assert_eq!(building, "bld-residence-les-tilleuls");
    let token = run(&data, &["publisher", "add", "--role", "landlord", "--building", &building]);
    assert!(token.starts_with("pp1_"), "{token}");
    let listed = run(&data, &["publisher", "list"]);
    assert!(
        listed.contains("landlord") && listed.contains(&building) && !listed.contains(&token),
        "{listed}"
    );
    let code = run(&data, &["device", "code", "--building", &building, "--roles", "lift,lobby-left"]);
    assert_eq!(code.len(), 14, "{code}");
    assert!(run(&data, &["device", "list"]).contains("no devices enrolled yet"));

    let bad = Command::new(BIN)
        .arg("--data")
        .arg(&data)
        .args(["building", "add", "--name", "X", "--time-zone", "Mars/Olympus"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("Mars/Olympus") && stderr.contains("Europe/Paris"), "{stderr}");
    let uninitialised = Command::new(BIN)
        .arg("--data")
        .arg(dir.path().join("none"))
        .args(["device", "list"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&uninitialised.stderr).contains("init"));

    let mut server = Command::new(BIN)
        .env("PALIER_PLATFORM_DATA", &data)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = server.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{line:?}")).to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    let http = reqwest::Client::new();
    let enrolled: Value = http
        .post(format!("{base}/v1/device/enrol"))
        .json(&json!({"code": code, "device_name": "tilleuls-ascenseur"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let device_token = enrolled["token"].as_str().unwrap().to_owned();
    let published = http
        .post(format!("{base}/v1/publish/items"))
        .bearer_auth(&token)
        .json(&flash("flash-eau"))
        .send()
        .await
        .unwrap();
    assert_eq!(published.status(), StatusCode::CREATED);
    let manifest =
        http.get(format!("{base}/v1/device/manifest")).bearer_auth(&device_token).send().await.unwrap();
    let signature = header(&manifest, "x-palier-signature");
    let body = manifest.bytes().await.unwrap();
    assert!(verify(&key, &body, &signature), "the printed key verifies the manifest");
    let mut tampered = body.to_vec();
    let last = tampered.len() - 2;
    tampered[last] ^= 1;
    assert!(!verify(&key, &tampered, &signature));

    let listing = run(&data, &["device", "list"]);
    let device_id = enrolled["device_id"].as_str().unwrap();
    assert!(listing.contains(device_id) && listing.contains("roles lift,lobby-left"), "{listing}");
    assert!(listing.contains("heartbeat: none yet"), "{listing}");
    assert_eq!(run(&data, &["device", "revoke", device_id]), format!("device {device_id} revoked"));
    let refused =
        http.get(format!("{base}/v1/device/manifest")).bearer_auth(&device_token).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    server.kill().unwrap();
    server.wait().unwrap();
}
