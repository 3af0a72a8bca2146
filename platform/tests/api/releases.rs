//! System releases: real RAUC bundles (signed with keys from `kiosk-image/make-keys`),
//! stored by `release add`, assigned by `release assign`, carried by the manifest of the
//! boards that reported a matching system, and served like media.

use std::path::{Path, PathBuf};
use std::process::Command;

use palier_platform::administration::AudienceArgs;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn make_keys(dir: &Path) {
    let status =
        Command::new(workspace().join("kiosk-image/make-keys")).arg(dir).status().expect("make-keys runs");
    assert!(status.success());
}

/// A small but real bundle: a manifest and a 64 KiB "root file system".
fn bundle(dir: &Path, keys: &Path, compatible: &str, version: &str) -> PathBuf {
    let content = dir.join(format!("content-{version}-{compatible}"));
    std::fs::create_dir_all(&content).unwrap();
    std::fs::write(
        content.join("manifest.raucm"),
        format!(
            "[update]\ncompatible={compatible}\nversion={version}\n\n[image.rootfs]\nfilename=root.ext4\n"
        ),
    )
    .unwrap();
    std::fs::write(content.join("root.ext4"), vec![version.len() as u8; 64 * 1024]).unwrap();
    let out = dir.join(format!("{compatible}-{version}.raucb"));
    let output = Command::new("rauc")
        .arg("bundle")
        .arg(format!("--cert={}", keys.join("signer.cert.pem").display()))
        .arg(format!("--key={}", keys.join("signer.key.pem").display()))
        .arg(format!("--keyring={}", keys.join("keyring.pem").display()))
        .arg(&content)
        .arg(&out)
        .output()
        .expect("rauc runs (apt-get install rauc squashfs-tools)");
    assert!(output.status.success(), "rauc bundle: {}", String::from_utf8_lossy(&output.stderr));
    out
}

/// What `rauc info` says of a bundle against a keyring: `Ok(version)` or the refusal.
fn rauc_info(bundle: &Path, keyring: &Path) -> Result<String, String> {
    let output = Command::new("rauc")
        .args(["info", "--output-format=json"])
        .arg(format!("--keyring={}", keyring.display()))
        .arg(bundle)
        .output()
        .unwrap();
    if output.status.success() {
        let info: Value = serde_json::from_slice(&output.stdout).unwrap();
        Ok(info["version"].as_str().unwrap().to_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

#[tokio::test]
async fn signed_bundles_reach_the_boards_they_are_assigned_to_and_for_whose_system() {
    let dir = tempfile::tempdir().unwrap();
    let (keys, other) = (dir.path().join("keys"), dir.path().join("other-keys"));
    make_keys(&keys);
    make_keys(&other);
    let two = bundle(dir.path(), &keys, "palier-amd64", "2.0.0");
    let two_arm = bundle(dir.path(), &keys, "palier-arm64", "2.0.0");
    let forged = bundle(dir.path(), &other, "palier-amd64", "3.0.0");

    // Signing and verification, with RAUC itself: boards trust their keyring only.
    assert_eq!(rauc_info(&two, &keys.join("keyring.pem")), Ok("2.0.0".to_owned()));
    let refused = rauc_info(&forged, &keys.join("keyring.pem")).unwrap_err();
    assert!(refused.to_lowercase().contains("signature") || refused.contains("issuer"), "{refused}");
    // A truncated bundle is refused too.
    let bytes = std::fs::read(&two).unwrap();
    let truncated = dir.path().join("truncated.raucb");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    assert!(rauc_info(&truncated, &keys.join("keyring.pem")).is_err());

    let p = Platform::start().await;
    let a = p.building("Les Tilleuls").await;
    let b = p.building("Les Acacias").await;
    let stored = p.admin().add_release(&OPERATOR, &two).await.unwrap();
    assert_eq!((stored.version.as_str(), stored.compatible.as_str()), ("2.0.0", "palier-amd64"));
    assert_eq!(stored.bytes, bytes.len() as u64);
    p.admin().add_release(&OPERATOR, &two_arm).await.unwrap();
    let again = p.admin().add_release(&OPERATOR, &two).await.unwrap_err().to_string();
    assert!(again.contains("release 2.0.0 for palier-amd64 already exists"), "{again}");
    let not_a_bundle = p.admin().add_release(&OPERATOR, &truncated).await.unwrap_err().to_string();
    assert!(not_a_bundle.contains("truncated.raucb"), "{not_a_bundle}");

    let amd = p.enrol(&a, &["lift"]).await;
    let arm = p.enrol(&a, &["lobby-left"]).await;
    let elsewhere = p.enrol(&b, &["lift"]).await;
    let silent = p.enrol(&a, &["lift"]).await;
    let beat = |compatible: &str| {
        json!({"sent_at": null, "software_version": "0.1.0", "generation": 0, "last_sync_at": null,
               "free_disk_bytes": 1, "clock": {"trusted": true},
               "system": {"version": "1.0.0", "compatible": compatible, "slot": "A", "update": {"state": "idle"}}})
    };
    for (board, compatible) in [(&amd, "palier-amd64"), (&arm, "palier-arm64"), (&elsewhere, "palier-amd64")]
    {
        let answer = p.post_json("/v1/device/heartbeat", Some(&board.token), &beat(compatible)).await;
        assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    }
    let before = p.get("/v1/device/manifest", &amd.token).await;
    let etag_before = header(&before, "etag");
    assert_eq!(before.json::<Value>().await.unwrap().get("system_update"), None, "nothing assigned yet");

    let unknown = AudienceArgs { building: Some(a.clone()), ..Default::default() }.audience().unwrap();
    let missing =
        p.admin().assign_release(&OPERATOR, "9.9.9", unknown.clone(), false).await.unwrap_err().to_string();
    assert!(missing.contains("release with version 9.9.9 does not exist"), "{missing}");
    p.admin().assign_release(&OPERATOR, "2.0.0", unknown, false).await.unwrap();

    // Each board of the building gets the bundle of its own system; the other building and
    // a board that never said what it runs get nothing.
    let manifest = p.manifest(&amd.token).await;
    assert_eq!(manifest["system_update"]["version"], "2.0.0");
    assert_eq!(manifest["system_update"]["sha256"], stored.sha256.as_str());
    assert_eq!(manifest["system_update"]["bytes"], stored.bytes);
    assert_eq!(p.manifest(&arm.token).await["system_update"]["compatible"], "palier-arm64");
    assert_eq!(p.manifest(&elsewhere.token).await.get("system_update"), None);
    assert_eq!(p.manifest(&silent.token).await.get("system_update"), None);
    // The manifest's ETag moves with the assignment, though no generation did.
    let after = p
        .http
        .get(p.url("/v1/device/manifest"))
        .bearer_auth(&amd.token)
        .header("if-none-match", &etag_before)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::OK);

    // The bundle is served like media, with ranges.
    let part = p
        .http
        .get(p.url(&format!("/v1/media/{}", stored.sha256)))
        .bearer_auth(&amd.token)
        .header("range", "bytes=100-")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes().await.unwrap(), bytes[100..]);

    // A device's own assignment wins over its building's; the rollout lists every board.
    let device =
        AudienceArgs { device: Some(amd.device_id.clone()), ..Default::default() }.audience().unwrap();
    p.admin().add_release(&OPERATOR, &forged).await.unwrap();
    p.admin().assign_release(&OPERATOR, "3.0.0", device, false).await.unwrap();
    assert_eq!(p.manifest(&amd.token).await["system_update"]["version"], "3.0.0");
    let listing = palier_platform::cli::text::render_rollout(&p.admin().rollout(&OPERATOR).await.unwrap());
    assert!(listing.contains("release 2.0.0 for palier-amd64"), "{listing}");
    assert!(
        listing.contains(&format!("{}", amd.device_id)) && listing.contains("should run 3.0.0"),
        "{listing}"
    );
    assert!(listing.contains("no system report"), "the silent board: {listing}");
    assert!(listing.contains("boards: 3 on 1.0.0"), "{listing}");

    let wrong =
        AudienceArgs { building: Some(a.clone()), percent: Some(10), ..Default::default() }.audience();
    assert!(wrong.unwrap_err().to_string().contains("exactly one"));
    p.stop().await;
}
