//! The player as a systemd service: the real binary, headless on the demo, talking to a
//! notification socket the test holds.

use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn the_player_says_ready_after_its_first_frames_and_feeds_the_watchdog() {
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut player = Command::new(env!("CARGO_BIN_EXE_palier-player"))
        .args(["--demo", "--headless"])
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "1000000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut buffer = [0u8; 512];
    let mut receive = || {
        let n = socket.recv(&mut buffer).expect("the player keeps notifying");
        String::from_utf8_lossy(&buffer[..n]).into_owned()
    };
    let first = receive();
    assert!(first.starts_with("READY=1"), "ready comes first: {first:?}");
    // Watchdog of one second: the player must prove a presented frame every half second,
    // re-presenting a static screen if need be, without flooding the socket.
    let window = Instant::now();
    let mut pings = 0;
    while window.elapsed() < Duration::from_millis(2500) {
        if receive() == "WATCHDOG=1" {
            pings += 1;
        }
    }
    let _ = player.kill();
    let _ = player.wait();
    assert!((4..=40).contains(&pings), "{pings} watchdog pings in 2.5 s");
}
