//! Moderation of what residents post, as a pure state machine in front of the manifests.
//!
//! A building says which kinds from the neighbourhood app wait for a moderator (offers by
//! default). Such an item is `Pending` and reaches no board until a moderator approves it; a
//! rejection carries a reason that the publishing API returns to the app; an edit of what a
//! screen shows (text, picture, dates) sends an approved item back to `Pending`. Items that
//! need no review are `Approved` from the start. Only `Approved` items are in manifests.

use serde::Serialize;

/// Where an item stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Moderation {
    Approved,
    Pending,
    Rejected { reason: String },
}

impl Moderation {
    /// The stored name of the state.
    pub fn as_str(&self) -> &'static str {
        match self {
            Moderation::Approved => "approved",
            Moderation::Pending => "pending",
            Moderation::Rejected { .. } => "rejected",
        }
    }

    /// Reads the stored form back.
    pub fn from_stored(state: &str, reason: Option<String>) -> Result<Moderation, String> {
        match state {
            "approved" => Ok(Moderation::Approved),
            "pending" => Ok(Moderation::Pending),
            "rejected" => Ok(Moderation::Rejected { reason: reason.unwrap_or_default() }),
            other => Err(format!("moderation state {other:?} is not approved, pending or rejected")),
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Moderation::Rejected { reason } => Some(reason),
            _ => None,
        }
    }

    pub fn is_shown(&self) -> bool {
        *self == Moderation::Approved
    }
}

/// What happens to an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A new item; `reviewed` when its kind waits for a moderator in one of its buildings.
    Submitted {
        reviewed: bool,
    },
    /// A new version; `content_changed` when what a screen shows changed (text, picture, dates).
    Edited {
        reviewed: bool,
        content_changed: bool,
    },
    Approve,
    Reject {
        reason: String,
    },
}

/// Why an event does not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModerationError {
    #[error("a rejection needs a reason, which the author will read")]
    ReasonMissing,
    #[error("the reason is {0} characters long; keep it under 300")]
    ReasonTooLong(usize),
}

/// The longest rejection reason, in characters.
pub const MAX_REASON_CHARS: usize = 300;

/// The state after `event`; `current` is `None` for an item that did not exist.
pub fn next(current: Option<&Moderation>, event: Event) -> Result<Moderation, ModerationError> {
    let waiting = |reviewed: bool| if reviewed { Moderation::Pending } else { Moderation::Approved };
    Ok(match (current, event) {
        (_, Event::Submitted { reviewed }) => waiting(reviewed),
        (None, Event::Edited { reviewed, .. }) => waiting(reviewed),
        (Some(Moderation::Approved), Event::Edited { reviewed, content_changed }) => {
            waiting(reviewed && content_changed)
        }
        // A pending item stays pending; a rejected one is submitted again by its edit.
        (Some(Moderation::Pending | Moderation::Rejected { .. }), Event::Edited { reviewed, .. }) => {
            waiting(reviewed)
        }
        (_, Event::Approve) => Moderation::Approved,
        (_, Event::Reject { reason }) => {
            let reason = reason.trim().to_owned();
            if reason.is_empty() {
                return Err(ModerationError::ReasonMissing);
            }
            let chars = reason.chars().count();
            if chars > MAX_REASON_CHARS {
                return Err(ModerationError::ReasonTooLong(chars));
            }
            Moderation::Rejected { reason }
        }
    })
}

/// Whether a new version changes what a screen shows, for [`Event::Edited`]: everything but
/// the weight, the duration and the target roles.
pub fn content_changed(old: &palier_content::Item, new: &palier_content::Item) -> bool {
    let comparable = |item: &palier_content::Item| {
        let mut item = item.clone();
        item.version = 0;
        item.weight = 1;
        item.duration_s = None;
        item.roles = Vec::new();
        item
    };
    comparable(old) != comparable(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_machine() {
        use Moderation::*;
        let rejected = || Rejected { reason: "pas de vente d'animaux".into() };
        let edit = |reviewed, content_changed| Event::Edited { reviewed, content_changed };
        // (state before, event, state after)
        let table: Vec<(Option<Moderation>, Event, Result<Moderation, ModerationError>)> = vec![
            (None, Event::Submitted { reviewed: true }, Ok(Pending)),
            (None, Event::Submitted { reviewed: false }, Ok(Approved)),
            (Some(Approved), edit(true, true), Ok(Pending)),
            (Some(Approved), edit(true, false), Ok(Approved)),
            (Some(Approved), edit(false, true), Ok(Approved)),
            (Some(Pending), edit(true, false), Ok(Pending)),
            (Some(Pending), edit(false, true), Ok(Approved)),
            (Some(rejected()), edit(true, true), Ok(Pending)),
            (Some(rejected()), edit(true, false), Ok(Pending)),
            (Some(Pending), Event::Approve, Ok(Approved)),
            (Some(rejected()), Event::Approve, Ok(Approved)),
            (Some(Pending), Event::Reject { reason: "  pas de vente d'animaux ".into() }, Ok(rejected())),
            (Some(Approved), Event::Reject { reason: "pas de vente d'animaux".into() }, Ok(rejected())),
            (Some(Pending), Event::Reject { reason: "   ".into() }, Err(ModerationError::ReasonMissing)),
            (
                Some(Pending),
                Event::Reject { reason: "x".repeat(301) },
                Err(ModerationError::ReasonTooLong(301)),
            ),
        ];
        for (index, (before, event, after)) in table.into_iter().enumerate() {
            assert_eq!(next(before.as_ref(), event.clone()), after, "case {index}: {before:?} {event:?}");
        }
    }

    #[test]
    fn stored_names_round_trip_and_what_counts_as_content() {
        for state in [Moderation::Approved, Moderation::Pending, Moderation::Rejected { reason: "r".into() }]
        {
            let back = Moderation::from_stored(state.as_str(), state.reason().map(str::to_owned)).unwrap();
            assert_eq!(back, state);
        }
        assert!(Moderation::from_stored("maybe", None).is_err());
        let old = palier_content::sample::offer("o", "Camille");
        let mut reweighted = old.clone();
        reweighted.weight = 3;
        reweighted.version = 2;
        assert!(!content_changed(&old, &reweighted));
        let mut retitled = old.clone();
        retitled.title = "Je donne ma perceuse".into();
        assert!(content_changed(&old, &retitled));
        let mut later = old.clone();
        later.valid_until += jiff::SignedDuration::from_hours(1);
        assert!(content_changed(&old, &later));
    }
}
