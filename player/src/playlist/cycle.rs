//! One full rotation: the order of slots for a set of eligible items.
//!
//! Each item gets `weight` slots per cycle, so its share of showings follows its weight and
//! none starves. Channels are interleaved by smooth weighted round-robin, so consecutive
//! slides change channel whenever the mix allows, and every channel present gets at least a
//! quarter of the slots: a handful of shop promotions is not drowned by a hundred
//! neighbour offers. The order depends only on the items (sorted by id), never on time.

use jiff::SignedDuration;
use palier_content::Channel;

use super::Entry;

/// Share of slots guaranteed to each channel present, in percent.
const CHANNEL_FLOOR_PERCENT: u64 = 25;

/// A cycle: slots in order, each the index into the member list it was built from.
#[derive(Debug, Clone)]
pub(crate) struct Cycle {
    slots: Vec<usize>,
    /// `ends[i]` is the end of slot i, measured from the cycle start.
    ends: Vec<SignedDuration>,
}

impl Cycle {
    /// Builds the cycle of `members` (indices into `entries`, in id order).
    pub fn build(entries: &[Entry], members: &[usize]) -> Cycle {
        assert!(!members.is_empty(), "a cycle needs at least one item");
        // Per channel: its members (positions in `members`) and their weights.
        let mut channels: Vec<(Channel, Vec<usize>)> = Vec::new();
        for (position, &index) in members.iter().enumerate() {
            let channel = entries[index].channel;
            match channels.iter_mut().find(|(c, _)| *c == channel) {
                Some((_, list)) => list.push(position),
                None => channels.push((channel, vec![position])),
            }
        }
        channels.sort_by_key(|(c, _)| *c);
        let weight_of = |position: usize| u64::from(entries[members[position]].weight);
        let natural: Vec<u64> =
            channels.iter().map(|(_, list)| list.iter().map(|&p| weight_of(p)).sum()).collect();
        let total: u64 = natural.iter().sum();
        // Repeat the items of a small channel so that it reaches its floor share against the
        // others: r·n ≥ floor/(100 − floor) · others.
        let repeats: Vec<u64> = natural
            .iter()
            .map(|&n| {
                let others = total - n;
                (others * CHANNEL_FLOOR_PERCENT).div_ceil((100 - CHANNEL_FLOOR_PERCENT) * n).max(1)
            })
            .collect();
        let channel_slots: Vec<u64> = natural.iter().zip(&repeats).map(|(n, r)| n * r).collect();
        let length: u64 = channel_slots.iter().sum();

        let mut channel_credit = vec![0i64; channels.len()];
        let mut item_credit: Vec<Vec<i64>> = channels.iter().map(|(_, list)| vec![0; list.len()]).collect();
        let mut slots = Vec::with_capacity(length as usize);
        for _ in 0..length {
            let c = smooth_pick(&mut channel_credit, |k| channel_slots[k] as i64);
            let list = &channels[c].1;
            let i = smooth_pick(&mut item_credit[c], |k| weight_of(list[k]) as i64);
            slots.push(list[i]);
        }
        let mut ends = Vec::with_capacity(slots.len());
        let mut at = SignedDuration::ZERO;
        for &position in &slots {
            at += entries[members[position]].duration;
            ends.push(at);
        }
        Cycle { slots, ends }
    }

    /// Total duration of one rotation.
    pub fn length(&self) -> SignedDuration {
        *self.ends.last().expect("cycles are never empty")
    }

    pub fn longest_slot(&self) -> SignedDuration {
        let mut previous = SignedDuration::ZERO;
        let mut longest = SignedDuration::ZERO;
        for &end in &self.ends {
            longest = longest.max(end - previous);
            previous = end;
        }
        longest
    }

    /// The slot under `clock` (time since the epoch on this cycle's clock): the member it
    /// shows and the clock readings at which that slot starts and ends.
    pub fn slot_at(&self, clock: SignedDuration) -> (usize, SignedDuration, SignedDuration) {
        let length = self.length().as_millis();
        let millis = clock.as_millis();
        let position = SignedDuration::from_millis(millis.rem_euclid(length) as i64);
        let cycle_start = clock - position;
        let slot = self.ends.partition_point(|&end| end <= position);
        let start = if slot == 0 { SignedDuration::ZERO } else { self.ends[slot - 1] };
        (self.slots[slot], cycle_start + start, cycle_start + self.ends[slot])
    }
}

/// Smooth weighted round-robin: every candidate gains its weight, the richest is picked and
/// pays the total. Over a full round each is picked exactly `weight` times, evenly spread.
/// Ties go to the lowest index, which keeps the order deterministic.
fn smooth_pick(credit: &mut [i64], weight: impl Fn(usize) -> i64) -> usize {
    let mut total = 0;
    let mut best = 0;
    for k in 0..credit.len() {
        credit[k] += weight(k);
        total += weight(k);
        if credit[k] > credit[best] {
            best = k;
        }
    }
    credit[best] -= total;
    best
}
