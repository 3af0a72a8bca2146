//! Change hints: the fan-out from "a building's manifests moved on" to every open event
//! stream of that building's devices.
//!
//! One tokio broadcast channel per building with listeners, created on the first subscriber
//! and dropped with the last, so a publish wakes only the streams of the buildings it
//! touched. Hints may be merged or lost (a lagging stream re-reads the current generation);
//! correctness never depends on them. This hub lives in one process; on PostgreSQL every
//! replica also feeds it from the database's notifications
//! ([`crate::store::HintListener`]), so a publish on one replica reaches the streams of all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use crate::ids::BuildingId;

/// How many hints a slow stream may fall behind before it skips to the latest.
const CHANNEL_CAPACITY: usize = 64;

/// One building's manifests moved to `generation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub generation: u64,
    /// `publish`, `update`, `withdraw` or `settings`.
    pub reason: String,
}

impl Hint {
    /// Hints may have been lost: a stream receiving this re-reads its building's generation.
    pub fn recheck() -> Hint {
        Hint { generation: 0, reason: RECHECK.to_owned() }
    }

    pub fn is_recheck(&self) -> bool {
        self.generation == 0 && self.reason == RECHECK
    }
}

const RECHECK: &str = "recheck";

/// The per-building fan-out.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    channels: Arc<Mutex<HashMap<BuildingId, broadcast::Sender<Hint>>>>,
}

impl Hints {
    pub fn new() -> Hints {
        Hints::default()
    }

    /// Listens to a building's hints from now on.
    pub fn subscribe(&self, building: &BuildingId) -> broadcast::Receiver<Hint> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        channels.entry(building.clone()).or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0).subscribe()
    }

    /// Tells every listener of these buildings; forgets buildings nobody listens to.
    pub fn notify(&self, buildings: &[BuildingId], generation: u64, reason: &str) {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        for building in buildings {
            if let Some(sender) = channels.get(building)
                && sender.send(Hint { generation, reason: reason.to_owned() }).is_err()
            {
                channels.remove(building);
            }
        }
    }
}

impl Hints {
    /// Asks every open stream to re-read its building's generation (after hints may have
    /// been lost, e.g. while a replica's listening connection was down).
    pub fn recheck_all(&self) {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        channels.retain(|_, sender| sender.send(Hint::recheck()).is_ok());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hints_reach_only_their_building() {
        let hints = Hints::new();
        let (bld_a, bld_b) = (BuildingId::parse("bld-a").unwrap(), BuildingId::parse("bld-b").unwrap());
        let mut a1 = hints.subscribe(&bld_a);
        let mut a2 = hints.subscribe(&bld_a);
        let mut b = hints.subscribe(&bld_b);
        hints.notify(std::slice::from_ref(&bld_a), 7, "publish");
        assert_eq!(a1.recv().await.unwrap().generation, 7);
        assert_eq!(a2.recv().await.unwrap().generation, 7);
        assert!(b.try_recv().is_err());
        drop((a1, a2));
        hints.notify(std::slice::from_ref(&bld_a), 8, "withdraw");
        assert!(!hints.channels.lock().unwrap().contains_key(&bld_a));
    }
}
