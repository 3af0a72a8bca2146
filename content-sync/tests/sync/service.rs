//! The binary as systemd runs it: `READY=1` once the first round was attempted, watchdog
//! pets at half of `$WATCHDOG_USEC`, and a clean exit on SIGTERM. The test listens on the
//! notification socket, so readiness is the daemon's own message, not a sleep.

use std::os::unix::net::UnixDatagram;

use palier_platform::Role;

use crate::support::*;

/// Messages received on `socket` until one starts with `prefix`.
async fn until(socket: &UnixDatagram, prefix: &str) -> Vec<String> {
    let socket = socket.try_clone().unwrap();
    let prefix = prefix.to_owned();
    within("a service notification", async move {
        tokio::task::spawn_blocking(move || {
            let mut seen = Vec::new();
            let mut buffer = [0; 512];
            loop {
                let n = socket.recv(&mut buffer).unwrap();
                let message = String::from_utf8_lossy(&buffer[..n]).into_owned();
                let done = message.starts_with(&prefix);
                seen.push(message);
                if done {
                    return seen;
                }
            }
        })
        .await
        .unwrap()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_after_the_first_round_watchdog_and_a_clean_sigterm() {
    let platform = Platform::start().await;
    let building = platform.building("Résidence Les Tilleuls").await;
    let landlord = platform.publisher(Role::Landlord, &[&building]).await;
    platform.publish(&landlord, &flash("flash-eau", "Coupure d’eau mardi, 9 h – 12 h")).await;
    let board = TestBoard::new(&platform, &platform.code(&building, &["lift"]).await);
    let socket_path = board.dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket.set_read_timeout(Some(DEADLINE)).unwrap();

    let mut child = palier_sync(&board.config_path, &["run"])
        .env("NOTIFY_SOCKET", &socket_path)
        .env("WATCHDOG_USEC", "200000")
        .spawn()
        .unwrap();
    let ready = until(&socket, "READY=1").await;
    assert!(ready.last().unwrap().contains("STATUS=first sync round attempted"), "{ready:?}");
    assert!(board.snapshot().item("flash-eau").is_some(), "ready comes after the first round");
    until(&socket, "WATCHDOG=1").await;
    until(&socket, "WATCHDOG=1").await;

    let terminated =
        std::process::Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(terminated.success());
    until(&socket, "STOPPING=1").await;
    let status = within("exit after SIGTERM", async {
        tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap()
    })
    .await;
    assert!(status.success(), "{status:?}");
}
