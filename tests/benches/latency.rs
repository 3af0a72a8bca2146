//! Publish-to-pixels latency of an urgent flash: from the publish call returning to the
//! moment each screen of a lift board and a lobby board switched to it (the player's own
//! screen status), over 20 trials, with change hints and with polling only. Prints figures,
//! asserts nothing. Run: `cargo bench -p palier-tests --bench latency` (after `cargo build
//! --release --workspace` for release binaries; the bench uses its own profile's binaries).

use std::time::Duration;

use jiff::Timestamp;
use palier_tests::{Board, LIFT, LOBBY, Platform, urgent_flash, wait_until};

const TRIALS: usize = 20;

fn main() {
    for (label, poll_s, hints) in
        [("change hints on", 600, true), ("hints blocked, polling every 5 s", 5, false)]
    {
        let mut platform = Platform::init();
        platform.serve();
        let mut boards = vec![
            Board::new(&platform, &platform.device_code("lift"), LIFT, poll_s),
            Board::new(
                &platform,
                &platform.device_code("lobby-left,lobby-centre,lobby-right"),
                LOBBY,
                poll_s,
            ),
        ];
        for board in &mut boards {
            if !hints {
                let text = std::fs::read_to_string(&board.config).expect("config");
                std::fs::write(&board.config, text.replace("[sync]\n", "[sync]\nchange_hints = false\n"))
                    .expect("config");
            }
            board.start_sync();
            board.start_player();
        }
        for board in &boards {
            wait_until(Duration::from_secs(60), "the board plays", || {
                board.statuses().len() == board.screens.len()
            });
        }
        let mut latencies = Vec::new();
        for trial in 0..TRIALS {
            let id = format!("flash-latency-{trial}");
            platform.publish(&platform.landlord, urgent_flash(&id, "Ascenseur à l'arrêt", 10));
            let published = Timestamp::now();
            for board in &boards {
                wait_until(Duration::from_secs(60), "the flash shows", || board.all_show(&id));
                for status in board.statuses() {
                    latencies.push(status.since.duration_since(published).as_secs_f64() * 1000.0);
                }
            }
            platform.withdraw(&platform.landlord, &id);
            for board in &boards {
                wait_until(Duration::from_secs(60), "the flash leaves", || board.none_shows(&id));
            }
        }
        latencies.sort_by(f64::total_cmp);
        let at =
            |q: f64| latencies[((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1];
        println!(
            "{label}: publish to pixels over {TRIALS} trials × 4 screens: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms",
            at(0.5),
            at(0.95),
            at(1.0)
        );
    }
}
