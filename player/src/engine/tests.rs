//! The engine against a real cache and plays journal in a temporary directory, with a
//! made-up clock.

use jiff::{SignedDuration, Timestamp, ToSpan};
use palier_content::config::{BoardConfig, Output, Rotation, ScreenConfig};
use palier_content::wire::{PlayRecord, PlayTrigger};
use palier_content::{Cache, Channel, DataDir, Item, PlaysJournal, Severity, sample, validate_manifest};

use super::*;

struct Board {
    dir: tempfile::TempDir,
    generation: u64,
}

impl Board {
    fn new() -> Board {
        Board { dir: tempfile::tempdir().unwrap(), generation: 0 }
    }

    fn data(&self) -> DataDir {
        DataDir::new(self.dir.path())
    }

    fn publish(&mut self, items: &[Item], at: Timestamp) {
        self.generation += 1;
        let mut cache = Cache::open(&self.data().cache()).unwrap();
        cache.apply(&validate_manifest(sample::manifest(self.generation, items)).unwrap(), at).unwrap();
    }

    fn config(&self) -> BoardConfig {
        let screen = |name: &str| ScreenConfig {
            name: name.to_owned(),
            role: name.to_owned(),
            channels: Channel::ALL.to_vec(),
            width: 540,
            height: 960,
            rotation: Rotation::R0,
            output: Some(Output::Index(0)),
            max_per_origin: palier_content::config::DEFAULT_MAX_PER_ORIGIN,
        };
        let mut config = crate::source::demo_config(self.dir.path());
        config.screens = vec![screen("lift"), screen("lobby-left")];
        config
    }

    fn engine(&self, now: Timestamp) -> Engine {
        let assets = Assets::locate(None).unwrap();
        let data = self.data();
        Engine::start(
            self.config(),
            assets,
            EnginePaths { cache: data.cache(), journal: data.journal() },
            now,
        )
    }

    fn plays(&self) -> Vec<PlayRecord> {
        PlaysJournal::open(&self.data().journal()).unwrap().pending(1000).unwrap()
    }
}

fn shown(engine: &Engine) -> Vec<Option<String>> {
    engine.screens().iter().map(|s| s.current.item_id().map(str::to_owned)).collect()
}

#[test]
fn a_board_without_cache_shows_the_fallback_then_content_as_soon_as_it_arrives() {
    let mut board = Board::new();
    let t0 = sample::now();
    let mut engine = board.engine(t0);
    assert_eq!(shown(&engine), vec![None, None], "fallback on both screens");
    assert!(engine.screens().iter().all(|s| s.current.trigger == PlayTrigger::Fallback));

    board.publish(&[sample::news("n")], t0 + 2.seconds());
    let t1 = t0 + 3.seconds();
    let changed = engine.advance(t1);
    assert_eq!(changed, vec![0, 1]);
    assert_eq!(shown(&engine), vec![Some("n".into()), Some("n".into())]);
    let plays = board.plays();
    assert_eq!(plays.len(), 2, "the fallback's 3 s on each screen are recorded");
    assert!(plays.iter().all(|p| p.trigger == PlayTrigger::Fallback && p.duration_ms == 3000));
}

#[test]
fn an_urgent_flash_preempts_within_one_probe_and_a_withdrawn_item_leaves_at_once() {
    let mut board = Board::new();
    let t0 = sample::now();
    let offer = sample::offer("o", "Karim");
    board.publish(std::slice::from_ref(&offer), t0 - 1.hour());
    let mut engine = board.engine(t0);
    assert_eq!(shown(&engine), vec![Some("o".into()), Some("o".into())]);

    let mut flash = sample::flash("lift-down", Severity::Urgent);
    flash.valid_from = t0 - 1.hour();
    board.publish(&[offer.clone(), flash.clone()], t0 + 1.second());
    let poll = SignedDuration::from_millis(i64::from(engine.config().player.cache_poll_ms));
    let t1 = t0 + 1.second() + poll;
    engine.advance(t1);
    assert_eq!(shown(&engine), vec![Some("lift-down".into()), Some("lift-down".into())], "preempted");
    assert!(
        engine.screens().iter().all(|s| s.current.trigger == PlayTrigger::Preempt && s.shown_since == t1)
    );

    // The flash is withdrawn while it shows: it leaves at the next probe.
    board.publish(&[offer], t1 + 2.seconds());
    let t2 = t1 + 2.seconds() + poll;
    engine.advance(t2);
    assert_eq!(shown(&engine), vec![Some("o".into()), Some("o".into())]);
    let flash_plays: Vec<_> = board.plays().into_iter().filter(|p| p.item_id == "lift-down").collect();
    assert_eq!(flash_plays.len(), 2);
    let shown_for = t2.duration_since(t1).as_millis() as u64;
    assert!(flash_plays.iter().all(|p| p.trigger == PlayTrigger::Preempt && p.duration_ms == shown_for));
}

#[test]
fn slides_follow_the_playlist_and_every_showing_is_recorded_once() {
    let mut board = Board::new();
    let t0 = sample::now();
    board.publish(&[sample::news("a"), sample::offer("b", "Léa"), sample::promo("c", "Café")], t0 - 1.hour());
    let mut engine = board.engine(t0);
    let mut t = t0;
    let mut switches = 0;
    while t < t0 + 3.minutes() {
        let deadline = engine.next_deadline(t);
        assert!(deadline > t || engine.screens().iter().any(|s| s.current.end <= t), "time moves on");
        t = deadline;
        switches += engine.advance(t).len();
    }
    engine.finish(t);
    let plays = board.plays();
    assert_eq!(plays.len(), switches + 2, "one play per showing, the last ones at finish");
    let lift: Vec<_> = plays.iter().filter(|p| p.screen == "lift").collect();
    for pair in lift.windows(2) {
        assert_eq!(
            pair[0].started_at + SignedDuration::from_millis(pair[0].duration_ms as i64),
            pair[1].started_at
        );
        assert_ne!(pair[0].item_id, pair[1].item_id, "the rotation moves on");
    }
    let status = PlaysJournal::open(&board.data().journal()).unwrap().screen_statuses().unwrap();
    assert_eq!(status.len(), 2);
    assert_eq!(Some(status[0].item_id.as_str()), engine.screens()[0].current.item_id());
}

#[test]
fn the_clock_and_the_cache_probe_bound_the_next_deadline() {
    let board = Board::new();
    let t0: Timestamp = "2026-11-24T08:00:59.500Z".parse().unwrap();
    let mut engine = board.engine(t0);
    engine.advance(t0);
    let poll = SignedDuration::from_millis(i64::from(engine.config().player.cache_poll_ms));
    assert_eq!(engine.next_deadline(t0), t0 + poll.min(SignedDuration::from_millis(500)));
}
