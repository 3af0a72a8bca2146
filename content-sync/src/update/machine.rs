//! The update on the board as a state machine: pure, so every path (download, install,
//! quiet window, reboot, proof, rollback, refusal) sits in one table of tests.
//!
//! [`step`] looks at what the board remembers ([`Record`], kept across reboots on the data
//! partition) and what it sees now ([`Facts`]) and returns the record to keep and one
//! [`Action`] for the glue to carry out; the outcome of a long action (a download, an
//! install) comes back through [`downloaded`] and [`installed`]. The update engine (RAUC)
//! verifies and writes the other slot and makes it the next boot; the boot loader counts
//! attempts and falls back to the previous slot when a new one never gets marked good. This
//! machine marks it good only once the player presented frames and a sync round succeeded
//! since the boot; a new system that does not within its proof window ([`PROOF_WINDOW`] by
//! default) is marked bad and rebooted, which brings the previous slot back.

use jiff::{SignedDuration, Timestamp};
use palier_content::system::{SystemUpdate, UpdateState, UpdateStatus, compare_versions};
use serde::{Deserialize, Serialize};

/// How long a new system has to show content and sync once after booting, by default.
pub const PROOF_WINDOW: SignedDuration = SignedDuration::from_mins(10);

/// What the board remembers about its update.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Record {
    /// What the heartbeat reports.
    pub status: Option<UpdateStatus>,
    /// The bundle being handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<SystemUpdate>,
    /// The boot during which the board restarted into the target, to tell a reboot happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebooted_from_boot: Option<Timestamp>,
    /// The version the board ran before, to name it in a rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<String>,
    /// Bundles not to try again while they stay assigned (refused, or rolled back).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub given_up: Vec<String>,
}

/// What the system runs, as the update engine and the image say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    pub version: String,
    pub compatible: String,
    pub slot: Option<String>,
}

/// What the board sees now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub now: Timestamp,
    /// When this boot began.
    pub booted_at: Timestamp,
    /// The last manifest's `system_update`.
    pub desired: Option<SystemUpdate>,
    pub running: Running,
    /// The target's bundle is on disk, whole and verified.
    pub bundle_ready: bool,
    /// The clock is within the board's quiet window for restarts.
    pub in_window: bool,
    /// Every screen presented a frame since this boot.
    pub player_presented: bool,
    /// A sync round succeeded since this boot.
    pub synced: bool,
    /// The update engine has the booted slot marked good (the boot loader then keeps it).
    pub booted_good: bool,
    /// How long a new system has to prove itself ([`PROOF_WINDOW`] unless the board says).
    pub proof_window: SignedDuration,
}

/// The one thing to do now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Nothing,
    /// Fetch the bundle (resumable); report through [`downloaded`].
    Download(SystemUpdate),
    /// Hand the bundle to the update engine; report through [`installed`].
    Install(SystemUpdate),
    /// Restart into the new slot.
    Reboot,
    /// Tell the update engine the booted slot is good.
    MarkGood,
    /// Tell the update engine the booted slot is bad, then restart into the previous one.
    MarkBadAndReboot,
    /// Delete a bundle file no longer needed.
    Discard(String),
}

fn status(
    state: UpdateState,
    version: Option<&str>,
    detail: Option<String>,
    since: Timestamp,
) -> Option<UpdateStatus> {
    Some(UpdateStatus { state, version: version.map(str::to_owned), detail, since: Some(since) })
}

impl Record {
    pub fn state(&self) -> UpdateState {
        self.status.as_ref().map_or(UpdateState::Idle, |s| s.state)
    }

    /// The status to report, idle when nothing happened yet.
    pub fn reported(&self) -> UpdateStatus {
        self.status.clone().unwrap_or_else(UpdateStatus::idle)
    }

    fn with(
        &self,
        state: UpdateState,
        version: Option<&str>,
        detail: Option<String>,
        now: Timestamp,
    ) -> Record {
        let since = match &self.status {
            Some(s) if s.state == state && s.version.as_deref() == version => s.since.unwrap_or(now),
            _ => now,
        };
        Record { status: status(state, version, detail, since), ..self.clone() }
    }

    /// Refused for good while this bundle stays assigned, with the reason reported.
    fn refuse(&self, update: &SystemUpdate, detail: String, now: Timestamp) -> Record {
        self.clone().give_up(&update.sha256).with(
            UpdateState::Refused,
            Some(&update.version),
            Some(detail),
            now,
        )
    }

    fn give_up(mut self, sha256: &str) -> Record {
        if !self.given_up.iter().any(|s| s == sha256) {
            self.given_up.push(sha256.to_owned());
        }
        self
    }
}

/// Decides the next step. Besides an update, every boot of a system that shows content is
/// marked good, so that the boot loader keeps it after the next power cut.
pub fn step(record: &Record, facts: &Facts) -> (Record, Action) {
    let (next, action) = decide(record, facts);
    if action == Action::Nothing
        && !facts.booted_good
        && facts.player_presented
        && next.state() != UpdateState::Verifying
    {
        return (next, Action::MarkGood);
    }
    (next, action)
}

fn decide(record: &Record, facts: &Facts) -> (Record, Action) {
    let now = facts.now;
    let running = &facts.running;

    // After a restart into a new version, planned or by a power cut once it was written:
    // prove it, or come back.
    let written_at = (record.state() == UpdateState::WaitingForWindow)
        .then(|| record.status.as_ref().and_then(|s| s.since))
        .flatten();
    if let (Some(target), Some(from_boot)) = (&record.target, record.rebooted_from_boot.or(written_at)) {
        let restarted = facts.booted_at > from_boot;
        if restarted || record.state() == UpdateState::Verifying {
            if running.version != target.version {
                let previous = record.previous_version.clone().unwrap_or_else(|| running.version.clone());
                let detail = format!(
                    "version {} did not prove itself (no content shown and synced, or it did not boot); the board \
                     came back to {previous}",
                    target.version
                );
                let next = Record { target: None, rebooted_from_boot: None, ..record.clone() }
                    .give_up(&target.sha256)
                    .with(UpdateState::RolledBack, Some(&target.version), Some(detail), now);
                return (next, Action::Discard(target.sha256.clone()));
            }
            if facts.player_presented && facts.synced {
                let next = Record {
                    target: None,
                    rebooted_from_boot: None,
                    previous_version: None,
                    ..record.clone()
                }
                .with(UpdateState::Idle, Some(&target.version), None, now);
                return (next, Action::MarkGood);
            }
            // Remember the boot it was written in: after a power cut the record said only
            // « waiting for the window », and the proof must survive the next steps.
            let verifying = Record { rebooted_from_boot: Some(from_boot), ..record.clone() }.with(
                UpdateState::Verifying,
                Some(&target.version),
                None,
                now,
            );
            // Counted from the boot (now less the uptime), not from a stored time: a board
            // without a battery-backed clock may jump forward once it syncs its time.
            if now.duration_since(facts.booted_at) >= facts.proof_window {
                let detail = format!(
                    "version {} did not show content and sync within {} minutes of booting",
                    target.version,
                    facts.proof_window.as_mins()
                );
                let next = Record { rebooted_from_boot: Some(facts.booted_at), ..verifying }.with(
                    UpdateState::Verifying,
                    Some(&target.version),
                    Some(detail),
                    now,
                );
                return (next, Action::MarkBadAndReboot);
            }
            return (verifying, Action::Nothing);
        }
    }

    let Some(desired) = &facts.desired else {
        return settle(record, now, None);
    };
    if desired.version == running.version {
        return settle(record, now, Some(&desired.version));
    }
    if record.given_up.contains(&desired.sha256) {
        return (record.clone(), Action::Nothing);
    }
    if desired.compatible != running.compatible {
        let detail =
            format!("the bundle is for {}, this board runs {}", desired.compatible, running.compatible);
        return (record.refuse(desired, detail, now), Action::Nothing);
    }
    if !desired.allow_downgrade && compare_versions(&desired.version, &running.version).is_lt() {
        let detail = format!(
            "version {} is older than the running {}; assign it with --allow-downgrade to go back",
            desired.version, running.version
        );
        return (record.refuse(desired, detail, now), Action::Nothing);
    }
    let same_target = record.target.as_ref().is_some_and(|t| t.sha256 == desired.sha256);
    let mut next = record.clone();
    if !same_target {
        // A new assignment replaces whatever was under way before its restart.
        let stale = record.target.as_ref().map(|t| t.sha256.clone());
        next = Record { target: Some(desired.clone()), rebooted_from_boot: None, ..record.clone() };
        if let Some(stale) = stale {
            return (
                next.with(UpdateState::Downloading, Some(&desired.version), None, now),
                Action::Discard(stale),
            );
        }
    }
    match next.state() {
        UpdateState::WaitingForWindow if same_target => {
            if facts.in_window {
                let restarting = Record {
                    rebooted_from_boot: Some(facts.booted_at),
                    previous_version: Some(running.version.clone()),
                    ..next
                };
                (restarting, Action::Reboot)
            } else {
                (next, Action::Nothing)
            }
        }
        _ if !facts.bundle_ready => (
            next.with(UpdateState::Downloading, Some(&desired.version), None, now),
            Action::Download(desired.clone()),
        ),
        _ => (
            next.with(UpdateState::Installing, Some(&desired.version), None, now),
            Action::Install(desired.clone()),
        ),
    }
}

/// Nothing to install: back to idle, keeping a refusal or a rollback on record while the
/// same version stays assigned.
fn settle(record: &Record, now: Timestamp, version: Option<&str>) -> (Record, Action) {
    let keep = matches!(record.state(), UpdateState::Refused | UpdateState::RolledBack)
        && version.is_some()
        && record.status.as_ref().and_then(|s| s.version.as_deref()) != version;
    let discard = record.target.as_ref().map(|t| t.sha256.clone());
    let mut next = Record { target: None, rebooted_from_boot: None, ..record.clone() };
    if version.is_none() {
        next.given_up.clear();
    }
    if !keep {
        next = next.with(UpdateState::Idle, version, None, now);
    }
    (next, discard.map_or(Action::Nothing, Action::Discard))
}

/// The outcome of a download: a damaged bundle (size or SHA-256) is refused; a cut one is
/// tried again next round.
pub fn downloaded(record: &Record, result: Result<(), DownloadFailure>, now: Timestamp) -> Record {
    let Some(target) = &record.target else { return record.clone() };
    match result {
        Ok(()) => record.clone(),
        Err(DownloadFailure::Damaged(reason)) => record.clone().give_up(&target.sha256).with(
            UpdateState::Refused,
            Some(&target.version),
            Some(format!("the bundle is damaged: {reason}")),
            now,
        ),
        Err(DownloadFailure::Interrupted(reason)) => record.with(
            UpdateState::Downloading,
            Some(&target.version),
            Some(format!("will resume: {reason}")),
            now,
        ),
    }
}

/// Why a download ended early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadFailure {
    Damaged(String),
    Interrupted(String),
}

/// The outcome of an install: written (then the quiet window), or refused by the update
/// engine with its reason (signature, system, damaged). An engine still busy with an
/// earlier install (the daemon restarted meanwhile) is asked again later.
pub fn installed(record: &Record, result: Result<(), String>, window: &str, now: Timestamp) -> Record {
    let Some(target) = &record.target else { return record.clone() };
    match result {
        Err(reason) if reason.contains("Already processing") => record.with(
            UpdateState::Installing,
            Some(&target.version),
            Some("the update engine is still busy; asking again".to_owned()),
            now,
        ),
        Ok(()) => record.with(
            UpdateState::WaitingForWindow,
            Some(&target.version),
            Some(format!("written to the other slot; the board restarts into it {window}")),
            now,
        ),
        Err(reason) => record.clone().give_up(&target.sha256).with(
            UpdateState::Refused,
            Some(&target.version),
            Some(format!("the update engine refused it: {reason}")),
            now,
        ),
    }
}

#[cfg(test)]
mod tests;
