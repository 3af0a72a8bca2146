//! The platform's side of the crash soak: a seeded stream of publications, new versions,
//! withdrawals and erasures of neighbours, through the real publishing API, with the state
//! the buildings' manifests hold after each operation ([`History`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use palier_content::sample::requests;
use palier_content::{Severity, Snapshot};
use palier_testkit::pictures::jpeg;
use palier_testkit::processes::Platform;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

/// The items a manifest holds: id → version.
pub type State = BTreeMap<String, u64>;

/// The state after each operation, with the generation the platform answered (`None` for
/// a withdrawal or an erasure, whose answers do not say it).
#[derive(Debug, Clone, Default)]
pub struct History(Arc<Mutex<Vec<Entry>>>);

/// One operation's generation (if the answer said it) and the state after it.
type Entry = (Option<u64>, State);

impl History {
    fn push(&self, generation: Option<u64>, state: State) {
        self.0.lock().expect("history").push((generation, state));
    }

    /// Whether `held` is a state the manifest of `generation` can hold: the state after the
    /// last operation whose generation is at most `generation`, or after one of the
    /// operations of unknown generation that followed it before the next known one.
    pub fn is_whole_state(&self, generation: u64, held: &State) -> bool {
        let entries = self.0.lock().expect("history");
        let Some(last_known) = entries.iter().rposition(|(g, _)| g.is_some_and(|g| g <= generation)) else {
            return false;
        };
        entries[last_known..]
            .iter()
            .enumerate()
            .take_while(|(n, (g, _))| *n == 0 || g.is_none())
            .any(|(_, (_, state))| state == held)
    }
}

/// The items of a snapshot as a [`State`].
pub fn state_of(snapshot: &Snapshot) -> State {
    snapshot.items.iter().map(|i| (i.id.clone(), i.version)).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Control {
    Running,
    Paused,
    Stopped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Flash,
    Promo,
    Offer { person: u32 },
}

/// What the stream did, by operation.
#[derive(Debug, Default, Clone)]
struct Done {
    published: u64,
    updated: u64,
    withdrawn: u64,
    erased: u64,
    failed: u64,
}

/// Live items (besides the anchor) are kept between these bounds.
const FEWEST: usize = 4;
const MOST: usize = 12;
/// Neighbours who post offers (erasing one withdraws all of theirs).
const PEOPLE: u32 = 5;
/// Pictures the items use, uploaded again before each use (an erasure may drop them).
const PICTURES: u32 = 10;

/// The seeded publishing stream.
pub struct Stream<'a> {
    platform: &'a Platform,
    shop: String,
    pictures: Vec<Vec<u8>>,
    anchor: String,
    rng: Mutex<StdRng>,
    control: Mutex<(Control, bool)>,
    changed: Condvar,
    live: Mutex<BTreeMap<String, Kind>>,
    state: Mutex<State>,
    history: History,
    done: Mutex<Done>,
    next_id: Mutex<u64>,
}

impl<'a> Stream<'a> {
    /// Publishes the anchor flash (never touched; plays are recorded for it) and starts
    /// paused.
    pub fn new(platform: &'a Platform, seed: u64) -> Stream<'a> {
        let shop = platform.add_publisher("shop");
        let pictures = (0..PICTURES).map(|n| jpeg(900 + 40 * n, 700, n)).collect();
        let anchor = "soak-anchor".to_owned();
        let history = History::default();
        history.push(Some(0), State::new());
        let published =
            platform.publish(&platform.landlord, requests::flash(&anchor, Severity::Info, "Soak"));
        let mut state = State::new();
        state.insert(anchor.clone(), version(&published));
        history.push(Some(generation(&published)), state.clone());
        Stream {
            platform,
            shop,
            pictures,
            anchor,
            rng: Mutex::new(StdRng::seed_from_u64(seed ^ 0x5eed)),
            control: Mutex::new((Control::Paused, false)),
            changed: Condvar::new(),
            live: Mutex::new(BTreeMap::new()),
            state: Mutex::new(state),
            history,
            done: Mutex::new(Done::default()),
            next_id: Mutex::new(0),
        }
    }

    pub fn anchor(&self) -> &str {
        &self.anchor
    }

    pub fn history(&self) -> History {
        self.history.clone()
    }

    /// The state after the last operation.
    pub fn latest_state(&self) -> State {
        self.state.lock().expect("state").clone()
    }

    pub fn resume(&self) {
        self.set(Control::Running);
    }

    /// Pauses and waits for the operation under way to finish.
    pub fn pause(&self) {
        self.set(Control::Paused);
        let guard = self.control.lock().expect("control");
        let _idle = self.changed.wait_while(guard, |(_, busy)| *busy).expect("control");
    }

    pub fn stop(&self) {
        self.set(Control::Stopped);
    }

    fn set(&self, control: Control) {
        self.control.lock().expect("control").0 = control;
        self.changed.notify_all();
    }

    /// Operates until stopped: one operation, then up to 300 ms of quiet.
    pub fn run(&self) {
        loop {
            {
                let guard = self.control.lock().expect("control");
                let mut guard =
                    self.changed.wait_while(guard, |(c, _)| *c == Control::Paused).expect("control");
                if guard.0 == Control::Stopped {
                    return;
                }
                guard.1 = true;
            }
            let operated = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.operate()));
            if operated.is_err() {
                self.done.lock().expect("done").failed += 1;
            }
            self.control.lock().expect("control").1 = false;
            self.changed.notify_all();
            let quiet = self.rng.lock().expect("rng").random_range(0..300);
            std::thread::sleep(Duration::from_millis(quiet));
        }
    }

    fn operate(&self) {
        let (choice, pick, person, pictures) = {
            let mut rng = self.rng.lock().expect("rng");
            (
                rng.random_range(0..100u32),
                rng.random::<u64>(),
                rng.random_range(0..PEOPLE),
                rng.random_range(0..3usize),
            )
        };
        let live: Vec<(String, Kind)> =
            self.live.lock().expect("live").iter().map(|(i, k)| (i.clone(), *k)).collect();
        let chosen = (!live.is_empty()).then(|| live[(pick % live.len() as u64) as usize].clone());
        let people: Vec<u32> = live
            .iter()
            .filter_map(|(_, k)| if let Kind::Offer { person } = k { Some(*person) } else { None })
            .collect();
        match (live.len(), choice, chosen) {
            (n, _, _) if n < FEWEST => self.publish(pick, person, pictures),
            (n, 0..50, Some((id, _))) if n > MOST => self.withdraw(&id),
            (n, _, _) if n > MOST && !people.is_empty() => {
                self.erase(people[(pick % people.len() as u64) as usize])
            }
            (_, 0..30, _) => self.publish(pick, person, pictures),
            (_, 30..65, Some((id, kind))) => self.update(&id, kind, pick, pictures),
            (_, 65..85, Some((id, _))) => self.withdraw(&id),
            (_, _, _) if !people.is_empty() => self.erase(people[(pick % people.len() as u64) as usize]),
            (_, _, Some((id, kind))) => self.update(&id, kind, pick, pictures),
            _ => self.publish(pick, person, pictures),
        }
    }

    fn publish(&self, pick: u64, person: u32, pictures: usize) {
        let id = {
            let mut next = self.next_id.lock().expect("id");
            *next += 1;
            format!("soak-{next}")
        };
        let kind = match pick % 3 {
            0 => Kind::Flash,
            1 => Kind::Promo,
            _ => Kind::Offer { person },
        };
        let (token, body) = self.body(&id, kind, pick, pictures);
        let answer = self.platform.publish(&token, body);
        self.live.lock().expect("live").insert(id.clone(), kind);
        self.record(&id, Some(&answer));
        self.done.lock().expect("done").published += 1;
    }

    fn update(&self, id: &str, kind: Kind, pick: u64, pictures: usize) {
        let (token, body) = self.body(id, kind, pick, pictures);
        let answer = self.platform.update(&token, body);
        self.record(id, Some(&answer));
        self.done.lock().expect("done").updated += 1;
    }

    fn withdraw(&self, id: &str) {
        let token = match self.live.lock().expect("live").get(id) {
            Some(Kind::Flash) => self.platform.landlord.clone(),
            Some(Kind::Promo) => self.shop.clone(),
            _ => self.platform.neighbourhood.clone(),
        };
        self.platform.withdraw(&token, id);
        self.live.lock().expect("live").remove(id);
        self.record(id, None);
        self.done.lock().expect("done").withdrawn += 1;
    }

    fn erase(&self, person: u32) {
        self.platform.forget_person(&person_id(person));
        let gone: Vec<String> = {
            let mut live = self.live.lock().expect("live");
            let gone: Vec<String> =
                live.iter().filter(|(_, k)| **k == Kind::Offer { person }).map(|(i, _)| i.clone()).collect();
            live.retain(|_, k| *k != Kind::Offer { person });
            gone
        };
        {
            let mut state = self.state.lock().expect("state");
            for id in &gone {
                state.remove(id);
            }
            self.history.push(None, state.clone());
        }
        self.done.lock().expect("done").erased += 1;
    }

    /// The new state after an operation on `id`: its version from `answer`, or gone.
    fn record(&self, id: &str, answer: Option<&Value>) {
        let mut state = self.state.lock().expect("state");
        match answer {
            Some(answer) => {
                state.insert(id.to_owned(), version(answer));
                self.history.push(Some(generation(answer)), state.clone());
            }
            None => {
                state.remove(id);
                self.history.push(None, state.clone());
            }
        }
    }

    /// The publisher's token and the item's body, with `pictures` pictures uploaded first.
    fn body(&self, id: &str, kind: Kind, pick: u64, pictures: usize) -> (String, Value) {
        let media: Vec<String> = (0..pictures)
            .map(|n| {
                let index = (pick as usize + n * 3) % self.pictures.len();
                self.platform.upload_media(self.pictures[index].clone())
            })
            .collect();
        let media: Vec<&str> = media.iter().map(String::as_str).collect();
        let title = format!("Soak {id} #{pick}");
        match kind {
            Kind::Flash => (self.platform.landlord.clone(), requests::flash(id, Severity::Info, &title)),
            Kind::Promo => (self.shop.clone(), requests::promo(id, &media)),
            Kind::Offer { person } => {
                let mut body = requests::offer(id, &person_id(person), "Amina", &media);
                body["title"] = json!(title);
                (self.platform.neighbourhood.clone(), body)
            }
        }
    }

    /// Counts of what the stream did, for the table.
    pub fn operations_summary(&self) -> String {
        let d = self.done.lock().expect("done").clone();
        format!(
            "{} ({} published, {} updated, {} withdrawn, {} erasures, {} failed)",
            d.published + d.updated + d.withdrawn + d.erased,
            d.published,
            d.updated,
            d.withdrawn,
            d.erased,
            d.failed
        )
    }

    pub fn operations_json(&self) -> Value {
        let d = self.done.lock().expect("done").clone();
        json!({"published": d.published, "updated": d.updated, "withdrawn": d.withdrawn,
               "erased": d.erased, "failed": d.failed})
    }

    /// Operations that failed (the platform refused or errored): each is a failure.
    pub fn failed(&self) -> u64 {
        self.done.lock().expect("done").failed
    }
}

fn person_id(person: u32) -> String {
    format!("soak-neighbour-{person}")
}

fn version(answer: &Value) -> u64 {
    answer["item"]["version"].as_u64().unwrap_or_else(|| panic!("no item version in {answer}"))
}

fn generation(answer: &Value) -> u64 {
    answer["generation"].as_u64().unwrap_or_else(|| panic!("no generation in {answer}"))
}

/// A JPEG with texture (it weighs what a photo weighs), different for each seed.
#[cfg(test)]
mod tests {
    use super::*;

    fn state(items: &[(&str, u64)]) -> State {
        items.iter().map(|(i, v)| ((*i).to_owned(), *v)).collect()
    }

    #[test]
    fn a_generation_admits_its_own_state_and_the_unnumbered_ones_after_it_only() {
        let history = History::default();
        history.push(Some(0), state(&[]));
        history.push(Some(5), state(&[("a", 1)]));
        history.push(None, state(&[])); // a withdrawal
        history.push(Some(7), state(&[("b", 1)]));
        history.push(Some(8), state(&[("b", 2)]));
        let cases: &[(u64, State, bool)] = &[
            (0, state(&[]), true),
            (5, state(&[("a", 1)]), true),
            (6, state(&[]), true),          // the withdrawal's generation
            (6, state(&[("a", 1)]), true),  // before it
            (7, state(&[("a", 1)]), false), // too old for 7
            (7, state(&[("b", 1)]), true),
            (8, state(&[("b", 1)]), false),
            (8, state(&[("a", 1), ("b", 2)]), false), // a mix
            (9, state(&[("b", 2)]), true),
        ];
        for (generation, held, whole) in cases {
            assert_eq!(history.is_whole_state(*generation, held), *whole, "{generation} {held:?}");
        }
    }
}
