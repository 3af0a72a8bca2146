//! What a screen shows at any instant: a pure function of the cache snapshot, the screen and
//! the wall-clock time.
//!
//! Nothing here keeps state between calls, so every screen of a building agrees without
//! talking, a restarted player resumes in the right place, and a test can ask what shows at
//! 09:30 next Tuesday. The rotation is a fixed cycle of slots (each item appears `weight`
//! times, channels interleaved, see [`cycle`]) laid on a clock that counts from the Unix
//! epoch. The cycle only changes at *boundaries*: an item's validity start or end, an edge
//! of its weekly schedule, or its arrival in the cache. Urgent flashes take the first part
//! of every minute counted from the newest one's arrival, so they preempt at once and come
//! back every minute; the other slides then carry a banner.

mod cycle;
mod eligibility;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use palier_content::config::ScreenConfig;
use palier_content::wire::PlayTrigger;
use palier_content::{Channel, Details, Item, Schedule, Snapshot};

use cycle::Cycle;

/// Shortest reading time given to a slide, and longest, unless the item sets its own.
pub const MIN_READING: SignedDuration = SignedDuration::from_secs(6);
pub const MAX_READING: SignedDuration = SignedDuration::from_secs(20);
/// A piece of slot shorter than this is merged into its neighbour rather than flashed by.
pub const MIN_PIECE: SignedDuration = SignedDuration::from_secs(4);
/// Urgent flashes come back once per period while they are valid.
pub const URGENT_PERIOD: SignedDuration = SignedDuration::from_secs(60);
/// At most this much of each period goes to urgent flashes when there is other content.
pub const MAX_URGENT_SHARE: SignedDuration = SignedDuration::from_secs(45);
/// The fallback slide is re-announced on this grid (it carries a clock, so a new showing
/// each hour keeps proof of play honest).
const FALLBACK_PERIOD: SignedDuration = SignedDuration::from_hours(1);

/// What goes on screen.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SlideRef {
    Item {
        id: String,
        version: u64,
    },
    /// Nothing is eligible: building name, date and clock.
    Fallback,
}

/// One stretch of time during which a screen shows one slide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Showing {
    pub slide: SlideRef,
    pub start: Timestamp,
    pub end: Timestamp,
    pub trigger: PlayTrigger,
    /// An urgent flash (by id) whose banner runs along this slide.
    pub banner: Option<String>,
}

impl Showing {
    pub fn item_id(&self) -> Option<&str> {
        match &self.slide {
            SlideRef::Item { id, .. } => Some(id),
            SlideRef::Fallback => None,
        }
    }

    pub fn duration(&self) -> SignedDuration {
        self.end.duration_since(self.start)
    }
}

/// An item as far as scheduling is concerned.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub id: String,
    pub version: u64,
    pub channel: Channel,
    pub weight: u32,
    pub duration: SignedDuration,
    pub urgent: bool,
    pub valid_from: Timestamp,
    pub valid_until: Timestamp,
    pub schedule: Option<Schedule>,
    /// The item's origin, and when it happens (an event's start, else its validity start):
    /// a screen rotates the soonest items of one origin, up to its cap.
    pub origin: Option<String>,
    pub happens: Timestamp,
}

/// The rotation of one screen over one cache snapshot.
#[derive(Debug)]
pub struct Playlist {
    tz: TimeZone,
    entries: Vec<Entry>,
    /// At most this many items of one origin at once (0: no cap).
    max_per_origin: usize,
    /// The last cycle built, keyed by the entries it was built from.
    memo: Mutex<Option<(Vec<usize>, Arc<Cycle>)>>,
}

impl Playlist {
    /// Builds the playlist of `screen`. `excluded` lists items that cannot be shown on this
    /// board (missing or undecodable media); they are left out as if not eligible.
    pub fn new(
        snapshot: &Snapshot,
        screen: &ScreenConfig,
        tz: &TimeZone,
        excluded: &HashSet<String>,
    ) -> Playlist {
        let mut entries: Vec<Entry> = snapshot
            .items
            .iter()
            .filter(|item| !excluded.contains(&item.id))
            .filter(|item| item.roles.is_empty() || item.roles.contains(&screen.role))
            // Urgent flashes reach every screen, whatever channels it is set to show.
            .filter(|item| item.is_urgent() || screen.shows(item.channel))
            .map(|item| Entry {
                id: item.id.clone(),
                version: item.version,
                channel: item.channel,
                weight: item.weight.max(1),
                duration: reading_time(item),
                urgent: item.is_urgent(),
                // Nothing shows before it reached this board.
                valid_from: item.valid_from.max(snapshot.arrival(item)),
                valid_until: item.valid_until,
                schedule: item.schedule.clone(),
                origin: item.origin.clone(),
                happens: match &item.details {
                    Details::Event(event) => event.starts_at,
                    _ => item.valid_from,
                },
            })
            .collect();
        entries.sort_by(|a, b| a.id.cmp(&b.id));
        let max_per_origin = screen.max_per_origin as usize;
        Playlist { tz: tz.clone(), entries, max_per_origin, memo: Mutex::new(None) }
    }

    /// How many items could ever show on this screen.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What the screen shows at `t`, with the exact start and end of that showing.
    pub fn showing_at(&self, t: Timestamp) -> Showing {
        let active = self.capped((0..self.entries.len()).filter(|&i| self.is_eligible(i, t)).collect());
        let (prev_edge, next_edge) = self.edges_around(t);
        let mut urgent: Vec<usize> = active.iter().copied().filter(|&i| self.entries[i].urgent).collect();
        let normal: Vec<usize> = active.iter().copied().filter(|&i| !self.entries[i].urgent).collect();
        // Newest urgent flash first: the one that just arrived is the one to show now.
        urgent.sort_by(|&a, &b| {
            self.urgent_anchor(b, t).cmp(&self.urgent_anchor(a, t)).then_with(|| a.cmp(&b))
        });

        if urgent.is_empty() {
            if normal.is_empty() {
                return self.fallback(t, prev_edge, next_edge);
            }
            let segment = Segment { start: prev_edge, end: next_edge, clock_at_start: prev_edge };
            return self.rotation_piece(&normal, t, segment, None);
        }

        let anchor = self.urgent_anchor(urgent[0], t);
        let urgent_cycle = self.cycle(&urgent);
        let share =
            if normal.is_empty() { URGENT_PERIOD } else { urgent_cycle.length().min(MAX_URGENT_SHARE) };
        let since = t.duration_since(anchor);
        let periods = since.as_millis() / URGENT_PERIOD.as_millis();
        let window_start = anchor + URGENT_PERIOD * periods as i32;
        let window_end = window_start + URGENT_PERIOD;
        let urgent_end = window_start + share;
        let banner = Some(self.entries[urgent[0]].id.clone());
        if t < urgent_end {
            // The urgent clock advances only inside urgent windows, so every flash gets its
            // turn; it reads a whole number of shares at each window start, so a window that
            // holds the whole urgent cycle starts with its first flash.
            let clock_at_start = Timestamp::UNIX_EPOCH + share * periods as i32;
            let segment = Segment {
                start: window_start.max(prev_edge),
                end: urgent_end.min(next_edge),
                clock_at_start: clock_at_start + window_start.max(prev_edge).duration_since(window_start),
            };
            let mut showing = self.piece(&urgent_cycle, &urgent, t, segment);
            showing.trigger = PlayTrigger::Preempt;
            return showing;
        }
        // Between urgent windows the rotation goes on where it left off: each part starts a
        // fresh slot after the one the flash cut short, so no slot hides under the flash
        // minute after minute and none is shown twice around it.
        let start = urgent_end.max(prev_edge);
        let cycle = self.cycle(&normal);
        let part_start = cycle.start_of(self.part_first_slot(&cycle, anchor, share, periods));
        let clock_at_start = Timestamp::UNIX_EPOCH + part_start + start.duration_since(urgent_end);
        let segment = Segment { start, end: window_end.min(next_edge), clock_at_start };
        self.rotation_piece(&normal, t, segment, banner)
    }

    /// The slot the rotation part of urgent window `period` starts with: the part of window
    /// 0 starts after the slot the first flash interrupted, every later part after the slot
    /// the previous part ended on.
    fn part_first_slot(
        &self,
        cycle: &Cycle,
        anchor: Timestamp,
        share: SignedDuration,
        period: i128,
    ) -> usize {
        let part = URGENT_PERIOD - share;
        // The walk restarts every thousand windows (about 17 hours), so its cost stays
        // bounded for a flash that preempts for weeks.
        const REBASE: i128 = 1000;
        let base = period - period % REBASE;
        let mut slot =
            cycle.index_at(anchor.duration_since(Timestamp::UNIX_EPOCH)) + 1 + (base / REBASE) as usize;
        for _ in 0..(period - base) {
            let mut used = SignedDuration::ZERO;
            // Slots fill the part; the last one is cut by the next window and counts as shown.
            while used < part {
                used += cycle.slot_duration(slot);
                slot += 1;
            }
        }
        slot % cycle.len()
    }

    /// Every showing from `from` until `until`, in order.
    pub fn showings(&self, from: Timestamp, until: Timestamp) -> Vec<Showing> {
        let mut out = Vec::new();
        let mut t = from;
        while t < until {
            let showing = self.showing_at(t);
            t = showing.end.max(t + SignedDuration::from_millis(1));
            out.push(showing);
        }
        out
    }

    /// Length of one full rotation of what is eligible at `t` (urgent flashes aside).
    pub fn cycle_length(&self, t: Timestamp) -> SignedDuration {
        let normal: Vec<usize> =
            (0..self.entries.len()).filter(|&i| self.is_eligible(i, t) && !self.entries[i].urgent).collect();
        if normal.is_empty() { SignedDuration::ZERO } else { self.cycle(&normal).length() }
    }

    /// Keeps, of each origin, the soonest `max_per_origin` entries (by when they happen, then
    /// by id); items without an origin and urgent flashes are never capped. The kept set only
    /// changes when the eligible set does, so it changes at boundaries only.
    fn capped(&self, mut active: Vec<usize>) -> Vec<usize> {
        if self.max_per_origin == 0 {
            return active;
        }
        let mut by_origin: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
        for &i in &active {
            let e = &self.entries[i];
            if let (Some(origin), false) = (&e.origin, e.urgent) {
                by_origin.entry(origin.as_str()).or_default().push(i);
            }
        }
        let mut dropped = HashSet::new();
        for members in by_origin.values_mut() {
            if members.len() > self.max_per_origin {
                members.sort_by(|&a, &b| {
                    let (ea, eb) = (&self.entries[a], &self.entries[b]);
                    ea.happens.cmp(&eb.happens).then_with(|| ea.id.cmp(&eb.id))
                });
                dropped.extend(members[self.max_per_origin..].iter().copied());
            }
        }
        active.retain(|i| !dropped.contains(i));
        active
    }

    fn is_eligible(&self, index: usize, t: Timestamp) -> bool {
        let e = &self.entries[index];
        e.valid_from <= t
            && t < e.valid_until
            && eligibility::schedule_allows(e.schedule.as_ref(), t, &self.tz)
    }

    /// The last boundary at or before `t` and the first after it, over every entry.
    fn edges_around(&self, t: Timestamp) -> (Timestamp, Timestamp) {
        let mut prev = Timestamp::UNIX_EPOCH;
        let mut next = Timestamp::MAX;
        for e in &self.entries {
            for edge in [e.valid_from, e.valid_until] {
                if edge <= t {
                    prev = prev.max(edge);
                } else {
                    next = next.min(edge);
                }
            }
            if let Some(schedule) = &e.schedule {
                let (p, n) = eligibility::schedule_edges_around(schedule, t, &self.tz);
                if let Some(p) = p {
                    prev = prev.max(p);
                }
                if let Some(n) = n {
                    next = next.min(n);
                }
            }
        }
        (prev, next)
    }

    /// When an urgent flash started to preempt: its validity start (never before it reached
    /// the cache) or the start of its current schedule window, whichever is latest.
    fn urgent_anchor(&self, index: usize, t: Timestamp) -> Timestamp {
        let e = &self.entries[index];
        let mut anchor = e.valid_from;
        if let Some(schedule) = &e.schedule
            && let (Some(p), _) = eligibility::schedule_edges_around(schedule, t, &self.tz)
        {
            anchor = anchor.max(p);
        }
        anchor.min(t)
    }

    fn cycle(&self, members: &[usize]) -> Arc<Cycle> {
        let mut memo = self.memo.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((key, cycle)) = memo.as_ref()
            && key == members
        {
            return cycle.clone();
        }
        let cycle = Arc::new(Cycle::build(&self.entries, members));
        *memo = Some((members.to_vec(), cycle.clone()));
        cycle
    }

    fn rotation_piece(
        &self,
        normal: &[usize],
        t: Timestamp,
        segment: Segment,
        banner: Option<String>,
    ) -> Showing {
        let cycle = self.cycle(normal);
        let mut showing = self.piece(&cycle, normal, t, segment);
        showing.banner = banner;
        showing
    }

    /// The piece of `cycle` under `t` within `segment`, where the cycle's clock reads
    /// `segment.clock_at_start` at `segment.start`. A piece shorter than [`MIN_PIECE`] at
    /// either end of the segment is merged into its neighbour rather than flashed by.
    fn piece(&self, cycle: &Cycle, members: &[usize], t: Timestamp, segment: Segment) -> Showing {
        let reach = cycle.longest_slot() * 2;
        let from = segment.start.max(t - reach);
        let until = segment.end.min(t.checked_add(reach).unwrap_or(Timestamp::MAX));
        let mut pieces = Vec::new();
        let mut at = from;
        while at < until {
            let clock = segment.clock_at(at);
            let (slot, _, slot_end) = cycle.slot_at(clock);
            let end = segment.end.min(at + (slot_end - clock));
            pieces.push((slot, at, end));
            at = end;
        }
        if pieces.len() > 1 {
            let (_, first_start, first_end) = pieces[0];
            if first_start == segment.start && first_end.duration_since(first_start) < MIN_PIECE {
                pieces.remove(0);
                pieces[0].1 = first_start;
            }
        }
        if pieces.len() > 1 {
            let (_, last_start, last_end) = pieces[pieces.len() - 1];
            if last_end == segment.end && last_end.duration_since(last_start) < MIN_PIECE {
                pieces.pop();
                let n = pieces.len();
                pieces[n - 1].2 = last_end;
            }
        }
        let (slot, start, end) =
            pieces.into_iter().find(|&(_, start, end)| start <= t && t < end).expect("the pieces cover t");
        let e = &self.entries[members[slot]];
        Showing {
            slide: SlideRef::Item { id: e.id.clone(), version: e.version },
            start,
            end,
            trigger: PlayTrigger::Rotation,
            banner: None,
        }
    }

    fn fallback(&self, t: Timestamp, prev_edge: Timestamp, next_edge: Timestamp) -> Showing {
        let period = FALLBACK_PERIOD.as_millis() as i64;
        let grid_start =
            Timestamp::from_millisecond(t.as_millisecond().div_euclid(period) * period).unwrap_or(t);
        Showing {
            slide: SlideRef::Fallback,
            start: grid_start.max(prev_edge),
            end: (grid_start + FALLBACK_PERIOD).min(next_edge),
            trigger: PlayTrigger::Fallback,
            banner: None,
        }
    }
}

/// A stretch of wall-clock time over which one cycle runs on one clock.
#[derive(Debug, Clone, Copy)]
struct Segment {
    start: Timestamp,
    end: Timestamp,
    /// The cycle clock at `start`, written as an instant (the clock counts from the epoch).
    clock_at_start: Timestamp,
}

impl Segment {
    /// The cycle clock at `at`, as time since the epoch.
    fn clock_at(&self, at: Timestamp) -> SignedDuration {
        self.clock_at_start.duration_since(Timestamp::UNIX_EPOCH) + at.duration_since(self.start)
    }
}

/// How long a slide stays up: about one second per word to read, 6 to 20 s, unless the item
/// sets its own duration.
pub fn reading_time(item: &Item) -> SignedDuration {
    if let Some(seconds) = item.duration_s {
        return SignedDuration::from_secs(i64::from(seconds));
    }
    let mut words = item.title.split_whitespace().count() + item.body.split_whitespace().count();
    words += match &item.details {
        Details::Promo(p) => {
            [&p.price, &p.opening_hours]
                .iter()
                .filter_map(|s| s.as_ref())
                .map(|s| s.split_whitespace().count())
                .sum::<usize>()
                + 2
        }
        Details::Event(e) => e.place.as_deref().map_or(0, |p| p.split_whitespace().count()) + 4,
        Details::Flash(f) => {
            if f.starts_at.is_some() {
                5
            } else {
                0
            }
        }
        Details::Offer(_) => 3,
        Details::News(_) => 0,
    };
    SignedDuration::from_secs(words as i64).clamp(MIN_READING, MAX_READING)
}
