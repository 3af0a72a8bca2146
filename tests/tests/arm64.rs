//! The arm64 binaries, run under `qemu-aarch64` on Debian's arm64 Mesa (lavapipe and
//! llvmpipe), beside the amd64 ones of this build: `.ci/arm64` cross-builds them and runs this
//! test with `PALIER_ARM64_BIN` (their directory) and `PALIER_ARM64_SYSROOT` (the arm64
//! root QEMU reads libraries from). Not part of `cargo test --workspace` (`test = false`):
//! without those, it fails and says how to get them.
//!
//! - the player's `--demo check` (adapter, self-test frame) on both backends;
//! - the demo's contact sheet (every item on every demo screen, each tile exactly what
//!   `render --at` draws) on both backends, compared with the amd64 sheet: at most 0.4 % of
//!   the pixels may differ, by at most 24 in a channel (the goldens' tolerance). The two are
//!   not byte-exact by design: llvmpipe compiles its shaders for the CPU it runs on (AVX2
//!   here, NEON there) and contracts floating-point operations differently, so a few edge
//!   pixels of text and scaled pictures round the other way;
//! - the daemon's `check-config`, then `sync-once` against a real platform on loopback: the
//!   board's cache holds what was published, pictures verified.

use std::path::{Path, PathBuf};
use std::process::Command;

use palier_content::{CacheReader, DataDir};
use palier_tests::{Board, Platform, binary, demo_dir, urgent_flash, workspace_root};

/// The arm64 binaries' directory and the sysroot, or a panic that says how to get them.
fn arm64() -> (PathBuf, PathBuf) {
    let var = |name: &str| {
        std::env::var_os(name).map(PathBuf::from).unwrap_or_else(|| {
            panic!(
                "{name} is not set: run .ci/arm64, which cross-builds the arm64 binaries and runs this test"
            )
        })
    };
    (var("PALIER_ARM64_BIN"), var("PALIER_ARM64_SYSROOT"))
}

/// An arm64 program under `qemu-aarch64`, its libraries and Mesa's drivers from the sysroot.
fn under_qemu(program: &Path, sysroot: &Path) -> Command {
    let mut command = Command::new("qemu-aarch64");
    command
        .arg("-L")
        .arg(sysroot)
        .arg(program)
        .env("VK_DRIVER_FILES", sysroot.join("usr/share/vulkan/icd.d/lvp_icd.aarch64.json"))
        .env("LIBGL_DRIVERS_PATH", sysroot.join("usr/lib/aarch64-linux-gnu/dri"))
        .env("__EGL_VENDOR_LIBRARY_DIRS", sysroot.join("usr/share/glvnd/egl_vendor.d"))
        .env("RUST_LOG", "info");
    command
}

fn run(mut command: Command, what: &str) -> String {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{what} failed: {stderr}");
    format!("{}{stderr}", String::from_utf8_lossy(&output.stdout))
}

/// Pixels that differ, and the largest difference in a channel.
fn difference(a: &Path, b: &Path) -> (usize, usize, u8) {
    let a = image::open(a).unwrap().to_rgba8();
    let b = image::open(b).unwrap().to_rgba8();
    assert_eq!(a.dimensions(), b.dimensions(), "the sheets have the same size");
    let mut differing = 0;
    let mut largest = 0u8;
    for (p, q) in a.pixels().zip(b.pixels()) {
        let d = p.0.iter().zip(q.0).map(|(x, y)| x.abs_diff(y)).max().unwrap();
        if d > 0 {
            differing += 1;
            largest = largest.max(d);
        }
    }
    (differing, (a.width() * a.height()) as usize, largest)
}

#[test]
fn the_arm64_player_draws_what_the_amd64_player_draws() {
    let (bin, sysroot) = arm64();
    let player = bin.join("palier-player");
    let assets = workspace_root().join("assets");
    let out = workspace_root().join("target").join("arm64");
    std::fs::create_dir_all(&out).unwrap();
    // One instant for both programs: tomorrow at 10:00 in the demo building's zone, when the
    // demo pack's items (dated relative to each program's start) are on the screens.
    let tomorrow = jiff::Timestamp::now().in_tz("Europe/Paris").unwrap().date().tomorrow().unwrap();
    let at = tomorrow.at(10, 0, 0, 0).in_tz("Europe/Paris").unwrap().timestamp().to_string();
    let at = at.as_str();
    for backend in ["vulkan", "gl"] {
        let mut check = under_qemu(&player, &sysroot);
        check.args(["--demo", "--assets"]).arg(&assets).args(["--backend", backend, "check"]);
        let said = run(check, &format!("arm64 player --backend {backend} check"));
        assert!(
            said.contains("adapter: llvmpipe"),
            "arm64 {backend} runs on Mesa's software adapter: {said}"
        );
        println!("arm64 {backend}: {}", said.lines().find(|l| l.starts_with("adapter:")).unwrap_or(""));

        let sheet = |program: Command, name: &str| {
            let path = out.join(format!("sheet-{name}-{backend}.png"));
            let mut program = program;
            program.args(["--demo", "--assets"]).arg(&assets).args([
                "--backend",
                backend,
                "sheet",
                "--at",
                at,
                "--out",
            ]);
            program.arg(&path);
            run(program, &format!("{name} player --backend {backend} sheet"));
            path
        };
        let arm = sheet(under_qemu(&player, &sysroot), "arm64");
        let amd = sheet(Command::new(binary("palier-player")), "amd64");
        let (differing, total, largest) = difference(&arm, &amd);
        let share = differing as f64 / total as f64;
        println!(
            "{backend}: {differing} of {total} pixels differ ({:.3} %), by at most {largest} (sheets in {})",
            share * 100.0,
            out.display()
        );
        assert!(share <= 0.004 && largest <= 24, "{backend}: the arm64 sheet differs too much");
    }
}

#[test]
fn the_arm64_daemon_checks_its_file_and_syncs_from_a_real_platform() {
    let (bin, sysroot) = arm64();
    let daemon = bin.join("palier-sync");
    let mut platform = Platform::init();
    platform.serve();
    let photo = platform.upload_media(std::fs::read(demo_dir().join("media").join(first_picture())).unwrap());
    platform.publish(&platform.landlord, urgent_flash("flash-arm64", "Coupure d’eau mardi, 9 h – 12 h", 60));
    platform.publish(
        &platform.neighbourhood,
        palier_tests::offer("offre-arm64", "p-arm64", "Camille", Some(&photo)),
    );
    let code = platform.device_code("lift");
    let board = Board::new(&platform, &code, palier_tests::LIFT, 30);

    let mut check = under_qemu(&daemon, &sysroot);
    check.arg("--config").arg(&board.config).arg("check-config");
    println!("{}", run(check, "arm64 palier-sync check-config").trim());

    let mut once = under_qemu(&daemon, &sysroot);
    once.arg("--config").arg(&board.config).arg("sync-once");
    run(once, "arm64 palier-sync sync-once");
    let snapshot = CacheReader::open(&DataDir::new(board.data.path()).cache()).unwrap().snapshot().unwrap();
    let ids: Vec<&str> = snapshot.items.iter().map(|i| i.id.as_str()).collect();
    assert!(ids.contains(&"flash-arm64") && ids.contains(&"offre-arm64"), "the arm64 board's cache: {ids:?}");
    for item in &snapshot.items {
        for media in &item.media {
            let bytes = std::fs::read(snapshot.media_path(media)).unwrap();
            assert_eq!(palier_content::demo::sha256_hex(&bytes), media.sha256, "{}", item.id);
        }
    }
}

/// A photo of the demo pack.
fn first_picture() -> String {
    let mut names: Vec<String> = std::fs::read_dir(demo_dir().join("media"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jpg"))
        .collect();
    names.sort();
    names.into_iter().next().expect("a JPEG in the demo pack")
}
