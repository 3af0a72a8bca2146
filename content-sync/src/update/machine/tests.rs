use super::*;

fn at(minutes: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + minutes * 60).unwrap()
}

fn bundle(version: &str) -> SystemUpdate {
    SystemUpdate {
        version: version.into(),
        sha256: format!("{:a>64}", version),
        bytes: 1000,
        compatible: "palier-amd64".into(),
        allow_downgrade: false,
    }
}

fn facts(version: &str) -> Facts {
    Facts {
        now: at(100),
        booted_at: at(0),
        desired: None,
        running: Running {
            version: version.into(),
            compatible: "palier-amd64".into(),
            slot: Some("A".into()),
        },
        bundle_ready: false,
        in_window: false,
        player_presented: true,
        synced: true,
        booted_good: true,
        proof_window: PROOF_WINDOW,
    }
}

/// Runs the machine through a list of moments, each changing the facts and carrying out
/// the action's outcome as the glue would; returns the (state, action) of each.
/// What changes at one moment of a scenario.
type Moment = Box<dyn Fn(&mut Facts)>;

fn run(moments: Vec<Moment>, outcomes: Vec<Option<Outcome>>) -> Vec<(UpdateState, Action)> {
    let mut record = Record::default();
    let mut facts = facts("1");
    let mut seen = Vec::new();
    for (change, outcome) in moments.into_iter().zip(outcomes) {
        change(&mut facts);
        let (next, action) = step(&record, &facts);
        record = next;
        record = match outcome {
            None => record,
            Some(Outcome::Downloaded(result)) => downloaded(&record, result, facts.now),
            Some(Outcome::Installed(result)) => installed(&record, result, "tonight", facts.now),
        };
        seen.push((record.state(), action));
    }
    seen
}

enum Outcome {
    Downloaded(Result<(), DownloadFailure>),
    Installed(Result<(), String>),
}

#[test]
fn an_update_goes_from_download_to_a_proven_new_system() {
    let two = bundle("2");
    let seen = run(
        vec![
            Box::new(|f| f.desired = Some(bundle("2"))),
            Box::new(|f| f.bundle_ready = true),
            Box::new(|_| {}),
            Box::new(|f| f.in_window = true),
            // The board restarts into slot B, version 2: nothing shown nor synced yet.
            Box::new(|f| {
                f.booted_at = at(200);
                f.now = at(201);
                f.running = Running {
                    version: "2".into(),
                    compatible: "palier-amd64".into(),
                    slot: Some("B".into()),
                };
                f.player_presented = false;
                f.synced = false;
            }),
            Box::new(|f| f.player_presented = true),
            Box::new(|f| f.synced = true),
            Box::new(|f| f.now = at(300)),
        ],
        vec![
            Some(Outcome::Downloaded(Ok(()))),
            Some(Outcome::Installed(Ok(()))),
            None,
            None,
            None,
            None,
            None,
            None,
        ],
    );
    let expected = vec![
        (UpdateState::Downloading, Action::Download(two.clone())),
        // (the state once the install's outcome came back)
        (UpdateState::WaitingForWindow, Action::Install(two.clone())),
        (UpdateState::WaitingForWindow, Action::Nothing),
        (UpdateState::WaitingForWindow, Action::Reboot),
        (UpdateState::Verifying, Action::Nothing),
        (UpdateState::Verifying, Action::Nothing),
        (UpdateState::Idle, Action::MarkGood),
        (UpdateState::Idle, Action::Nothing),
    ];
    assert_eq!(seen, expected);
}

#[test]
fn a_new_system_that_does_not_prove_itself_is_left_and_not_retried() {
    let booted_three = |f: &mut Facts| {
        f.booted_at = at(200);
        f.now = at(202);
        f.running =
            Running { version: "3".into(), compatible: "palier-amd64".into(), slot: Some("B".into()) };
        f.player_presented = false;
    };
    let seen = run(
        vec![
            Box::new(|f| {
                f.desired = Some(bundle("3"));
                f.bundle_ready = true;
                f.in_window = true;
            }),
            Box::new(|_| {}),
            Box::new(booted_three),
            Box::new(|f| f.now = at(202) + PROOF_WINDOW),
            // The boot loader brings slot A (version 2) back.
            Box::new(|f| {
                f.booted_at = at(300);
                f.now = at(301);
                f.running = Running {
                    version: "2".into(),
                    compatible: "palier-amd64".into(),
                    slot: Some("A".into()),
                };
                f.player_presented = true;
            }),
            Box::new(|f| f.now = at(400)),
        ],
        vec![Some(Outcome::Installed(Ok(()))), None, None, None, None, None],
    );
    let states: Vec<UpdateState> = seen.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        states,
        [
            UpdateState::WaitingForWindow,
            UpdateState::WaitingForWindow,
            UpdateState::Verifying,
            UpdateState::Verifying,
            UpdateState::RolledBack,
            UpdateState::RolledBack
        ]
    );
    let actions: Vec<&Action> = seen.iter().map(|(_, a)| a).collect();
    assert_eq!(actions[1], &Action::Reboot);
    assert_eq!(actions[3], &Action::MarkBadAndReboot);
    assert_eq!(actions[4], &Action::Discard(bundle("3").sha256));
    assert_eq!(actions[5], &Action::Nothing, "the same bundle is not tried again");
}

#[test]
fn a_board_that_boots_back_by_itself_reports_the_rollback() {
    // Power cut or watchdog while version 3 starts: the boot loader's attempts run out.
    let mut record = Record {
        status: status(UpdateState::WaitingForWindow, Some("3"), None, at(50)),
        target: Some(bundle("3")),
        rebooted_from_boot: Some(at(0)),
        previous_version: Some("2".into()),
        given_up: Vec::new(),
    };
    let mut f = facts("2");
    f.desired = Some(bundle("3"));
    f.booted_at = at(150);
    let (next, action) = step(&record, &f);
    assert_eq!((next.state(), action), (UpdateState::RolledBack, Action::Discard(bundle("3").sha256)));
    let detail = next.reported().detail.unwrap();
    assert!(detail.contains("came back to 2"), "{detail}");
    record = next;
    // A newer version assigned later is tried.
    f.desired = Some(bundle("4"));
    assert_eq!(step(&record, &f).1, Action::Download(bundle("4")));
}

#[test]
fn bundles_that_cannot_be_installed_are_refused_with_a_reason_and_content_plays_on() {
    let mut older = bundle("1");
    older.sha256 = "b".repeat(64);
    let mut other_system = bundle("3");
    other_system.compatible = "palier-arm64".into();
    let mut downgrade = bundle("1");
    downgrade.allow_downgrade = true;
    // (running, desired, facts change, outcome, state, detail contains)
    type Case = (&'static str, SystemUpdate, Option<Outcome>, UpdateState, &'static str);
    let cases: Vec<Case> = vec![
        ("2", older, None, UpdateState::Refused, "older than the running 2"),
        ("2", other_system, None, UpdateState::Refused, "for palier-arm64"),
        (
            "2",
            bundle("3"),
            Some(Outcome::Installed(Err("signature verification failed".into()))),
            UpdateState::Refused,
            "signature",
        ),
        (
            "2",
            bundle("3"),
            Some(Outcome::Downloaded(Err(DownloadFailure::Damaged("sha256 differs".into())))),
            UpdateState::Refused,
            "damaged",
        ),
        (
            "2",
            bundle("3"),
            Some(Outcome::Downloaded(Err(DownloadFailure::Interrupted("connection reset".into())))),
            UpdateState::Downloading,
            "will resume",
        ),
        ("2", downgrade, None, UpdateState::Downloading, ""),
        ("2", bundle("2"), None, UpdateState::Idle, ""),
    ];
    for (running, desired, outcome, state, detail) in cases {
        let mut f = facts(running);
        f.bundle_ready = matches!(outcome, Some(Outcome::Installed(_)));
        f.desired = Some(desired.clone());
        let (mut record, _) = step(&Record::default(), &f);
        record = match outcome {
            None => record,
            Some(Outcome::Downloaded(r)) => downloaded(&record, r, f.now),
            Some(Outcome::Installed(r)) => installed(&record, r, "tonight", f.now),
        };
        let reported = record.reported();
        assert_eq!(reported.state, state, "{desired:?}");
        assert!(reported.detail.clone().unwrap_or_default().contains(detail), "{reported:?}");
        if state == UpdateState::Refused {
            // Refused once, not downloaded again round after round.
            assert_eq!(step(&record, &f).1, Action::Nothing, "{desired:?}");
        }
    }
}

#[test]
fn an_assignment_withdrawn_or_replaced_leaves_no_file_behind() {
    let mut f = facts("1");
    f.desired = Some(bundle("2"));
    let (record, _) = step(&Record::default(), &f);
    f.desired = Some(bundle("3"));
    let (record, action) = step(&record, &f);
    assert_eq!(action, Action::Discard(bundle("2").sha256));
    assert_eq!(record.target, Some(bundle("3")));
    f.desired = None;
    let (record, action) = step(&record, &f);
    assert_eq!((record.state(), action), (UpdateState::Idle, Action::Discard(bundle("3").sha256)));
}

#[test]
fn every_boot_that_shows_content_is_marked_good() {
    let mut f = facts("2");
    f.booted_good = false;
    f.player_presented = false;
    assert_eq!(step(&Record::default(), &f).1, Action::Nothing, "not before the player showed something");
    f.player_presented = true;
    f.synced = false;
    assert_eq!(step(&Record::default(), &f).1, Action::MarkGood, "offline boards keep their slot too");
}

#[test]
fn power_cuts_during_the_write_and_right_after_the_switch() {
    let mut f = facts("2");
    f.desired = Some(bundle("4"));
    f.bundle_ready = true;
    // The write began; the power went before it ended: the board starts 2 again.
    let (writing, action) = step(&Record::default(), &f);
    assert_eq!((writing.state(), action), (UpdateState::Installing, Action::Install(bundle("4"))));
    f.booted_at = at(200);
    f.now = at(201);
    let (again, action) = step(&writing, &f);
    assert_eq!(
        (again.state(), action),
        (UpdateState::Installing, Action::Install(bundle("4"))),
        "installed again"
    );
    // Written; the power went before the planned restart: the board starts 4.
    let written = installed(&again, Ok(()), "at once", at(205));
    f.booted_at = at(300);
    f.now = at(301);
    f.running = Running { version: "4".into(), compatible: "palier-amd64".into(), slot: Some("A".into()) };
    f.player_presented = false;
    f.synced = false;
    let (proving, action) = step(&written, &f);
    assert_eq!(
        (proving.state(), action),
        (UpdateState::Verifying, Action::Nothing),
        "proven like a planned restart"
    );
    f.player_presented = true;
    f.synced = true;
    let (done, action) = step(&proving, &f);
    assert_eq!((done.state(), action), (UpdateState::Idle, Action::MarkGood));
    // Same boot as the write, no restart yet: still waiting for the window.
    let mut same_boot = facts("2");
    same_boot.desired = Some(bundle("4"));
    same_boot.bundle_ready = true;
    same_boot.booted_at = at(0);
    assert_eq!(step(&written, &same_boot), (written.clone(), Action::Nothing));
    // A busy engine is asked again, not given up.
    let busy = installed(
        &again,
        Err("D-Bus error: Already processing a different method".into()),
        "at once",
        at(206),
    );
    assert_eq!(busy.state(), UpdateState::Installing);
    assert!(busy.given_up.is_empty());
}
