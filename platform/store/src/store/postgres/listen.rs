//! Change hints between replicas: `NOTIFY` on the writing side, one `LISTEN` connection per
//! replica on the other, fanned out in-process by [`Hints`].
//!
//! A write that moves buildings' manifests sends `pg_notify('palier_hints', payload)` inside
//! its transaction; PostgreSQL delivers it to every listening connection when, and only
//! when, the transaction commits. The payload is small text, `<generation> <reason>
//! <building> <building> …`, split over several notifications when many buildings move (a
//! notification holds at most 8000 bytes).
//!
//! The listening connection is a plain connection of its own, outside the pool: `LISTEN`
//! needs a session that stays, which a transaction-pooling bouncer does not give. When it is
//! lost, notifications sent meanwhile are lost with it, so on every (re)connection the
//! replica asks each open event stream to re-read its building's generation
//! ([`Hints::recheck_all`]): boards behind are told at once, the others hear nothing.
//! Hints only hasten what polling does anyway; nothing depends on their delivery.

use std::time::Duration;

use futures_util::StreamExt;
use tokio_postgres::{AsyncMessage, NoTls};

use super::error_text;
use crate::hints::Hints;
use crate::ids::BuildingId;
use crate::store::sql::{Outcome, Tx, execute};

/// The notification channel.
pub const HINT_CHANNEL: &str = "palier_hints";

/// A notification's payload stays under PostgreSQL's 8000-byte limit.
const MAX_PAYLOAD: usize = 7000;

/// Waits between attempts to reconnect the listening connection.
const RETRY: [Duration; 4] =
    [Duration::from_millis(200), Duration::from_secs(1), Duration::from_secs(5), Duration::from_secs(15)];

/// The payloads telling that `buildings` moved to `generation`.
pub(super) fn payloads(buildings: &[BuildingId], generation: u64, reason: &str) -> Vec<String> {
    let head = format!("{generation} {reason}");
    let mut payloads = Vec::new();
    let mut current = head.clone();
    for building in buildings {
        if current.len() + 1 + building.as_str().len() > MAX_PAYLOAD && current.len() > head.len() {
            payloads.push(std::mem::replace(&mut current, head.clone()));
        }
        current.push(' ');
        current.push_str(building.as_str());
    }
    payloads.push(current);
    payloads
}

/// Reads a payload back; `None` for one this build does not understand.
pub(super) fn parse(payload: &str) -> Option<(u64, String, Vec<BuildingId>)> {
    let mut words = payload.split(' ');
    let generation = words.next()?.parse().ok()?;
    let reason = words.next()?.to_owned();
    let buildings = words.map(BuildingId::parse).collect::<Result<Vec<_>, _>>().ok()?;
    Some((generation, reason, buildings))
}

/// Sends the hints of a write, delivered when its transaction commits.
pub(super) async fn notify(
    tx: &dyn Tx,
    buildings: &[BuildingId],
    generation: u64,
    reason: &str,
) -> Outcome<()> {
    for payload in payloads(buildings, generation, reason) {
        execute(tx, "SELECT pg_notify($1, $2)", &[&HINT_CHANNEL, &payload]).await?;
    }
    Ok(())
}

/// The replica's listening connection, kept open for as long as it lives.
#[derive(Debug)]
pub struct HintListener {
    task: tokio::task::JoinHandle<()>,
}

impl HintListener {
    /// Listens on the database of `config` and hands every hint to `hints`.
    pub fn start(config: tokio_postgres::Config, hints: Hints) -> HintListener {
        HintListener { task: tokio::spawn(listen_forever(config, hints)) }
    }
}

impl Drop for HintListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn listen_forever(config: tokio_postgres::Config, hints: Hints) {
    let mut failures = 0usize;
    loop {
        match listen_once(&config, &hints).await {
            Ok(()) => {
                tracing::warn!("the hint listening connection closed; reconnecting");
                failures = 0;
            }
            Err(e) => {
                if failures == 0 {
                    tracing::warn!("the hint listening connection failed: {e}; boards still poll; retrying");
                }
                failures += 1;
            }
        }
        tokio::time::sleep(RETRY[failures.min(RETRY.len() - 1)]).await;
    }
}

/// One listening connection, from connect to loss.
async fn listen_once(config: &tokio_postgres::Config, hints: &Hints) -> Result<(), String> {
    let (client, mut connection) = config.connect(NoTls).await.map_err(|e| error_text(&e))?;
    let (sender, mut received) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(notification)) => {
                    if sender.send(notification.payload().to_owned()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => return Err(error_text(&e)),
            }
        }
        Ok(())
    });
    client.batch_execute(&format!("LISTEN {HINT_CHANNEL}")).await.map_err(|e| error_text(&e))?;
    tracing::info!("listening for change hints from every replica");
    // Whatever was sent while this replica was not listening is lost: streams re-read.
    hints.recheck_all();
    while let Some(payload) = received.recv().await {
        match parse(&payload) {
            Some((generation, reason, buildings)) => hints.notify(&buildings, generation, &reason),
            None => tracing::debug!(%payload, "a hint this build does not read"),
        }
    }
    drop(client);
    match driver.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_stay_small() {
        let few: Vec<BuildingId> = ["bld-a", "bld-b"].iter().map(|b| BuildingId::parse(b).unwrap()).collect();
        let one = payloads(&few, 42, "publish");
        assert_eq!(one, vec!["42 publish bld-a bld-b".to_owned()]);
        assert_eq!(parse(&one[0]), Some((42, "publish".to_owned(), few)));

        let many: Vec<BuildingId> =
            (0..2000).map(|n| BuildingId::parse(&format!("bld-{n:06}")).unwrap()).collect();
        let split = payloads(&many, 7, "withdraw");
        assert!(split.len() > 1);
        assert!(split.iter().all(|p| p.len() <= MAX_PAYLOAD), "every payload under the limit");
        let back: Vec<BuildingId> = split.iter().flat_map(|p| parse(p).unwrap().2).collect();
        assert_eq!(back, many, "every building once, in order");
        assert_eq!(parse("not a hint"), None);
    }
}
