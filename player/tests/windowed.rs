//! The windowed player for real: `palier-player --demo` under Xvfb opens its four windows and
//! presents a frame on each (through the GL or Vulkan software adapter).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts Xvfb on a display number it picks itself and returns once it accepts clients.
fn xvfb() -> (Killed, String) {
    let mut child = Command::new("Xvfb")
        .args(["-displayfd", "1", "-screen", "0", "1920x1080x24", "-nolisten", "tcp"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("Xvfb did not start ({e}); install it: apt-get install xvfb"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("Xvfb prints its display");
    (Killed(child), format!(":{}", line.trim()))
}

#[test]
fn the_demo_opens_its_windows_and_presents_frames() {
    let (_xvfb, display) = xvfb();
    let mut player = Command::new(env!("CARGO_BIN_EXE_palier-player"))
        .arg("--demo")
        .env("DISPLAY", &display)
        .env_remove("WAYLAND_DISPLAY")
        .env("RUST_LOG", "palier_player=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("palier-player runs");
    let stderr = player.stderr.take().expect("stderr");
    let _player = Killed(player);
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    loop {
        match received.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if line.contains("first frame presented") => {
                assert!(line.contains("screens=4"), "all four demo screens presented: {line}");
                break;
            }
            Ok(line) => seen.push(line),
            Err(_) => panic!("no frame presented within a minute; the player said:\n{}", seen.join("\n")),
        }
    }
}
