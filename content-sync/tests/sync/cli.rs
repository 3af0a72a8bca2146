//! The installer's commands through the real binary: check-config, enrol, status.

use palier_platform::Role;

use crate::support::*;

fn text(output: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_config_names_each_bad_key_and_the_fix() {
    let platform = Platform::start().await;
    let board = TestBoard::new(&platform, "TLL-4K7P-9QXM");
    let good = run_binary(&board.config_path, &["check-config"]).await;
    assert!(good.status.success(), "{}", text(&good));
    assert!(text(&good).contains("is valid"), "{}", text(&good));

    let original = std::fs::read_to_string(&board.config_path).unwrap();
    // (replace this, with that, the output names)
    let cases = [
        ("platform_key = \"ed25519:", "platform_key = \"", "sync.platform_key"),
        ("request_timeout_s = 5", "request_timeout_s = \"5\"", "sync.request_timeout_s"),
        ("request_timeout_s = 5", "request_timeout_s = 0", "1..=600"),
        ("width = 640", "width = 10", "width 10"),
        ("platform_url = \"http://", "platform_url = \"htp://", "http:// or https://"),
    ];
    for (from, to, named) in cases {
        std::fs::write(&board.config_path, original.replacen(from, to, 1)).unwrap();
        let bad = run_binary(&board.config_path, &["check-config"]).await;
        assert!(!bad.status.success(), "{to}: {}", text(&bad));
        assert!(text(&bad).contains(named) && text(&bad).contains("error"), "{to}: {}", text(&bad));
    }
    std::fs::write(&board.config_path, original.replace("[sync]", "[sync]\npoll_every = 3")).unwrap();
    let warned = run_binary(&board.config_path, &["check-config"]).await;
    assert!(warned.status.success() && text(&warned).contains("sync.poll_every"), "{}", text(&warned));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrol_then_status_tell_the_installer_where_the_board_stands() {
    let platform = Platform::start().await;
    let building = platform.building("Résidence Les Tilleuls").await;
    let shop = platform.publisher(Role::Shop, &[&building]).await;
    platform.publish(&shop, &promo("promo-cafe", &[])).await;
    let board = TestBoard::new(&platform, "NOT-A-CODE");

    let before = run_binary(&board.config_path, &["status"]).await;
    assert!(text(&before).contains("not enrolled") && text(&before).contains("never"), "{}", text(&before));
    let refused = run_binary(&board.config_path, &["enrol", "--code", "NOT-A-CODE"]).await;
    assert!(!refused.status.success());
    assert!(text(&refused).contains("ask the platform admin for a new code"), "{}", text(&refused));

    let code = platform.code(&building, &["lift"]).await;
    let enrolled = run_binary(&board.config_path, &["enrol", "--code", &code]).await;
    assert!(enrolled.status.success(), "{}", text(&enrolled));
    assert!(text(&enrolled).contains("enrolled as dev-"), "{}", text(&enrolled));
    let credentials = std::fs::read_to_string(board.data().credentials()).unwrap();
    assert!(
        !text(&enrolled).contains(&credentials[credentials.find("pd1_").unwrap()..][..20]),
        "the token is never printed"
    );

    let synced = run_binary(&board.config_path, &["sync-once"]).await;
    assert!(synced.status.success(), "{}", text(&synced));
    let after = run_binary(&board.config_path, &["status"]).await;
    let status = text(&after);
    assert!(status.contains("device: dev-") && status.contains("1 item(s)"), "{status}");
    assert!(status.contains("pending plays: 0") && status.contains("clock: trusted"), "{status}");
}
