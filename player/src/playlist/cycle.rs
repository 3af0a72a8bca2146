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

        // Channels first, then within each channel its items, both spread evenly.
        let channel_order = interleave(&channel_slots);
        let mut item_orders: Vec<std::vec::IntoIter<usize>> = channels
            .iter()
            .zip(&repeats)
            .map(|((_, list), r)| {
                let quotas: Vec<u64> = list.iter().map(|&p| weight_of(p) * r).collect();
                interleave(&quotas).into_iter().map(|k| list[k]).collect::<Vec<_>>().into_iter()
            })
            .collect();
        let slots: Vec<usize> = channel_order
            .into_iter()
            .map(|c| item_orders[c].next().expect("a channel's items fill its quota"))
            .collect();
        debug_assert_eq!(slots.len() as u64, length);
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

    /// Number of slots in one rotation.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Where slot `index` (taken around the cycle) starts, from the cycle start.
    pub fn start_of(&self, index: usize) -> SignedDuration {
        let index = index % self.slots.len();
        if index == 0 { SignedDuration::ZERO } else { self.ends[index - 1] }
    }

    /// How long slot `index` (taken around the cycle) lasts.
    pub fn slot_duration(&self, index: usize) -> SignedDuration {
        let index = index % self.slots.len();
        self.ends[index] - self.start_of(index)
    }

    /// The index of the slot under `clock`.
    pub fn index_at(&self, clock: SignedDuration) -> usize {
        let position = clock.as_millis().rem_euclid(self.length().as_millis());
        self.ends.partition_point(|&end| end.as_millis() <= position)
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

/// Orders `quotas[k]` picks of each k so that picks spread evenly (smooth weighted
/// round-robin) and, whenever the quotas allow, no k follows itself, around the cycle's
/// end included. Deterministic: ties go to the lowest index.
fn interleave(quotas: &[u64]) -> Vec<usize> {
    let total: u64 = quotas.iter().sum();
    let mut remaining = quotas.to_vec();
    let mut credit = vec![0i64; quotas.len()];
    let mut order: Vec<usize> = Vec::with_capacity(total as usize);
    for step in 0..total {
        for (k, &quota) in quotas.iter().enumerate() {
            if remaining[k] > 0 {
                credit[k] += quota as i64;
            }
        }
        let last = order.last().copied();
        let first = order.first().copied();
        // The cycle closes on its first pick: count it as one more pick due at the very end,
        // over the positions left plus that one.
        let positions = total - step + 1;
        let due = |k: usize| remaining[k] + u64::from(Some(k) == first);
        let open = |k: &usize| remaining[*k] > 0 && Some(*k) != last;
        // A pick that must go now, or it could not avoid following itself later.
        let forced = (0..quotas.len()).filter(open).find(|&k| step > 0 && due(k) * 2 > positions);
        let closing = total - step == 1;
        let mut candidates: Vec<usize> =
            (0..quotas.len()).filter(open).filter(|&k| !closing || Some(k) != first).collect();
        if candidates.is_empty() {
            candidates = (0..quotas.len()).filter(open).collect();
        }
        if candidates.is_empty() {
            candidates = (0..quotas.len()).filter(|&k| remaining[k] > 0).collect();
        }
        let pick = forced.unwrap_or_else(|| {
            *candidates
                .iter()
                .max_by(|&&a, &&b| credit[a].cmp(&credit[b]).then(b.cmp(&a)))
                .expect("a pick remains")
        });
        credit[pick] -= total as i64;
        remaining[pick] -= 1;
        order.push(pick);
    }
    order
}

#[cfg(test)]
mod tests {
    use super::interleave;

    #[test]
    fn interleaving_spreads_picks_and_avoids_repeats_when_possible() {
        let cases: &[(&[u64], bool)] = &[
            (&[1, 1, 1], true),
            (&[6, 11, 8], true),
            (&[2, 1, 1, 1, 1, 1, 1, 1, 1, 1], true),
            (&[3, 3], true),
            (&[5, 1], false),
            (&[4], false),
        ];
        for &(quotas, repeat_free) in cases {
            let order = interleave(quotas);
            for (k, &quota) in quotas.iter().enumerate() {
                assert_eq!(order.iter().filter(|&&o| o == k).count() as u64, quota, "{quotas:?}: {order:?}");
            }
            let n = order.len();
            let repeats = (0..n).filter(|&i| n > 1 && order[i] == order[(i + 1) % n]).count();
            assert_eq!(repeats == 0, repeat_free, "{quotas:?}: {order:?}");
        }
    }
}
