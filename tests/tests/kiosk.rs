//! The kiosk image's fast checks, so that `cargo test --workspace` is the whole suite:
//! shellcheck on the recipe's scripts, `systemd-analyze verify` on the board's units, and the
//! provisioning tool's tests (`kiosk-image/test/check`, a few seconds). The boot test, which
//! builds and boots an image for minutes, is run by hand: see kiosk-image/README.md.

use std::process::Command;

#[test]
fn the_kiosk_image_recipe_passes_its_fast_checks() {
    let script = palier_tests::workspace_root().join("kiosk-image/test/check");
    let output = Command::new(&script).output().unwrap_or_else(|e| panic!("{}: {e}", script.display()));
    assert!(
        output.status.success(),
        "kiosk-image/test/check failed (it needs the Debian packages shellcheck, systemd, python3, mtools, \
         dosfstools and fdisk, which .ci/run installs):\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
