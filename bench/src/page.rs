//! The baseline's content: the demo rotation as one HTML page for a Chromium kiosk, made
//! from exactly what Palier would draw.
//!
//! The page is generated from the player's own [`Scene`]s: for each of the demo's four
//! screens, the showings of its playlist over the next minutes, each slide laid out by
//! Palier's templates (same texts, photos, colours, QR codes, 1080×1920 and 1920×1080
//! layouts) and turned into absolutely positioned elements: rectangles as `div`s, photos as
//! `img` with `object-fit: cover`, text boxes shrunk to fit by a small script at load, QR
//! codes as inline SVG, the bundled Inter fonts by `@font-face`. Slides change at the same
//! instants as Palier's (the schedule is absolute time, repeated past its end) with a CSS
//! opacity transition of the same length; the header clocks tick every minute, as Palier
//! redraws them. The four screens sit where `palier-player --demo` puts its four windows on
//! one monitor (side by side, scaled to fit), inside one kiosk window.
//!
//! [`timed_assets`] makes the assets directory both players use: the demo pack with every
//! item set to the same number of seconds per showing.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use jiff::{SignedDuration, Timestamp};
use palier_content::demo::{DemoPack, PACK_FILE};
use palier_content::{Cache, CacheReader, DataDir};
use palier_player::board::Board;
use palier_player::scene::{Align, Color, Element, Rect, Scene, TextBox, VAlign};
use palier_player::source::{Assets, demo_config};
use serde_json::Value;

/// Writes an assets directory into `dir` whose demo pack is the bundled one with every item
/// shown `seconds` at a time (the fallback image beside it, the media linked).
pub fn timed_assets(assets: &Assets, seconds: u32, dir: &Path) -> anyhow::Result<Assets> {
    let demo = dir.join("demo");
    std::fs::create_dir_all(&demo)?;
    let source = assets.demo_pack();
    let text = std::fs::read_to_string(source.join(PACK_FILE))?;
    let mut pack: Value = serde_json::from_str(&text)?;
    for item in pack["items"].as_array_mut().context("the demo pack has items")? {
        item["duration_s"] = Value::from(seconds);
    }
    std::fs::write(demo.join(PACK_FILE), serde_json::to_vec_pretty(&pack)?)?;
    let media = demo.join("media");
    if !media.exists() {
        std::os::unix::fs::symlink(source.join("media").canonicalize()?, &media)?;
    }
    std::fs::copy(assets.fallback_image(), dir.join("fallback.png"))?;
    Ok(Assets { dir: dir.to_path_buf() })
}

/// What the page holds.
#[derive(Debug, Clone)]
pub struct Page {
    pub path: PathBuf,
    /// Distinct slides per screen, and slide changes per screen over the horizon.
    pub slides: Vec<usize>,
    pub changes: Vec<usize>,
}

/// Writes `dir/page.html` showing the demo rotation of `assets` (its first `screens` screens,
/// the lift's first) from now for `horizon`
/// (then again from the start), on a `monitor`-sized window. The demo cache it draws from
/// stays in `dir/data`.
pub fn write_page(
    assets: &Assets,
    screens: usize,
    monitor: (u32, u32),
    horizon: SignedDuration,
    crossfade_ms: u32,
    dir: &Path,
) -> anyhow::Result<Page> {
    let now = Timestamp::now();
    let data = DataDir::new(dir.join("data"));
    std::fs::create_dir_all(data.path())?;
    let pack = DemoPack::load(&assets.demo_pack(), now)?;
    pack.install(&mut Cache::open(&data.cache())?, now - SignedDuration::from_hours(1))?;
    let snapshot = CacheReader::open(&data.cache())?.snapshot()?;
    let mut config = demo_config(data.path());
    config.screens.truncate(screens);
    let board = Board::new(snapshot, &config, assets);
    let layout = palier_player::demo_windows::layout(&config.screens, monitor);
    let fonts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/fonts").canonicalize()?;

    let mut body = String::new();
    let mut schedules = Vec::new();
    let (mut slide_counts, mut change_counts) = (Vec::new(), Vec::new());
    for (index, screen) in config.screens.iter().enumerate() {
        let [x, y, w, h] = layout[index];
        let (cw, ch) = screen.content_size();
        let scale = w / f64::from(cw);
        let _ = write!(
            body,
            "<div class=\"screen\" id=\"screen{index}\" style=\"left:{x:.0}px;top:{y:.0}px;width:{w:.0}px;height:{h:.0}px\">\
             <div class=\"stack\" style=\"width:{cw}px;height:{ch}px;transform:scale({scale:.5})\">"
        );
        let playlist = board.playlist(screen);
        let mut keys: HashMap<(Option<String>, Option<String>), usize> = HashMap::new();
        let mut schedule = Vec::new();
        let mut t = now;
        while t < now + horizon {
            let showing = playlist.showing_at(t);
            let key = (showing.item_id().map(str::to_owned), showing.banner.clone());
            let next = keys.len();
            let slide = *keys.entry(key).or_insert_with(|| {
                let at = showing.start.max(now) + SignedDuration::from_millis(i64::from(crossfade_ms));
                let scene = board.scene(screen, &showing, at.min(showing.end));
                let clock = at.to_zoned(board.tz.clone()).strftime("%H:%M").to_string();
                slide_html(&mut body, &scene, &clock);
                next
            });
            schedule.push(format!(
                "[{},{},{slide}]",
                showing.start.as_millisecond(),
                showing.end.as_millisecond()
            ));
            t = showing.end;
        }
        body.push_str("</div></div>\n");
        slide_counts.push(keys.len());
        change_counts.push(schedule.len().saturating_sub(1));
        schedules.push(format!("[{}]", schedule.join(",")));
    }
    let html = format!(
        "<!doctype html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Palier demo rotation — browser baseline</title>\n<style>\n\
         @font-face{{font-family:Inter;font-weight:400;src:url(\"file://{regular}\")}}\n\
         @font-face{{font-family:Inter;font-weight:700;src:url(\"file://{bold}\")}}\n\
         html,body{{margin:0;width:{mw}px;height:{mh}px;overflow:hidden;background:#000;font-family:Inter,sans-serif}}\n\
         .screen{{position:absolute;overflow:hidden;background:#000}}\n\
         .stack{{position:absolute;left:0;top:0;transform-origin:0 0}}\n\
         .slide{{position:absolute;left:0;top:0;width:100%;height:100%;opacity:0;transition:opacity {crossfade_ms}ms linear}}\n\
         .slide.on{{opacity:1}}\n.slide.cut{{transition:none}}\n\
         .e{{position:absolute;box-sizing:border-box;margin:0}}\n\
         .t{{display:flex;flex-direction:column;overflow:hidden}}\n\
         .t>div{{overflow:hidden;overflow-wrap:break-word;white-space:pre-wrap}}\n\
         img.e{{object-fit:cover}}\n.col{{display:flex;flex-direction:column;overflow:hidden}}\n.col>.t{{position:relative;flex:none}}\n\
         </style></head><body>\n{body}<script>\n\
         const SCHEDULES=[{schedules}];\nconst T0={t0},HORIZON={horizon_ms},FADE={crossfade_ms};\n{SCRIPT}</script></body></html>\n",
        regular = fonts.join("Inter-Regular.otf").display(),
        bold = fonts.join("Inter-Bold.otf").display(),
        mw = monitor.0,
        mh = monitor.1,
        schedules = schedules.join(",\n"),
        t0 = now.as_millisecond(),
        horizon_ms = horizon.as_millis(),
    );
    let path = dir.join("page.html");
    std::fs::write(&path, html)?;
    Ok(Page { path, slides: slide_counts, changes: change_counts })
}

/// Fits each text box at load, then switches slides at their instants, with a crossfade.
const SCRIPT: &str = r#"
for (const box of document.querySelectorAll('.t')) {
  const inner = box.firstElementChild, min = +box.dataset.min, lines = +box.dataset.lines, lh = +box.dataset.lh;
  let size = +box.dataset.max;
  const fits = () => inner.scrollHeight <= box.clientHeight + 1 && inner.scrollHeight <= lines * size * lh + 1;
  while (size > min && !fits()) { size -= 1; inner.style.fontSize = size + 'px'; }
  inner.style.display = '-webkit-box'; inner.style.webkitBoxOrient = 'vertical'; inner.style.webkitLineClamp = lines;
}
const clockFormat = new Intl.DateTimeFormat('fr-FR', {hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Paris'});
function clocks() {
  const text = clockFormat.format(new Date());
  for (const c of document.querySelectorAll('.clock')) if (c.textContent !== text) c.textContent = text;
  setTimeout(clocks, 60000 - Date.now() % 60000 + 5);
}
const screens = SCHEDULES.map((list, i) => ({list, slides: document.querySelectorAll('#screen' + i + ' .slide'), current: -1, z: 1}));
function due(list, now) {
  const t = T0 + (((now - T0) % HORIZON) + HORIZON) % HORIZON;
  for (const [start, end, slide] of list) if (t >= start && t < end) return [slide, end - t];
  return [list[0][2], 1000];
}
function show(sc, k, fade) {
  const next = sc.slides[k], prev = sc.current >= 0 ? sc.slides[sc.current] : null;
  next.classList.toggle('cut', !fade);
  next.style.zIndex = ++sc.z;
  next.classList.add('on');
  sc.current = k;
  if (prev && prev !== next) setTimeout(() => { if (sc.slides[sc.current] !== prev) { prev.classList.add('cut'); prev.classList.remove('on'); } }, FADE + 50);
}
function tick(sc, first) {
  const [k, left] = due(sc.list, Date.now());
  if (k !== sc.current) show(sc, k, !first);
  setTimeout(() => tick(sc, false), Math.max(left, 5));
}
for (const sc of screens) tick(sc, true);
clocks();
"#;

fn css_color(color: Color) -> String {
    let [r, g, b, a] = color.0;
    if a == 255 {
        format!("rgb({r},{g},{b})")
    } else {
        format!("rgba({r},{g},{b},{:.3})", f64::from(a) / 255.0)
    }
}

fn rect_css(rect: Rect) -> String {
    format!("left:{:.1}px;top:{:.1}px;width:{:.1}px;height:{:.1}px", rect.x, rect.y, rect.w, rect.h)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn file_url(path: &Path) -> String {
    let absolute = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    format!("file://{}", absolute.display()).replace(' ', "%20")
}

/// One slide as a `div` of absolutely positioned elements, appended to `out`.
fn slide_html(out: &mut String, scene: &Scene, clock: &str) {
    let _ = write!(out, "<div class=\"slide\" style=\"background:{}\">", css_color(scene.background));
    for element in &scene.elements {
        match element {
            Element::Rect { rect, color, radius } => {
                let _ = write!(
                    out,
                    "<div class=\"e\" style=\"{};background:{};border-radius:{radius:.1}px\"></div>",
                    rect_css(*rect),
                    css_color(*color)
                );
            }
            Element::Image { rect, source, radius } => {
                let _ = write!(
                    out,
                    "<img class=\"e\" alt=\"\" src=\"{}\" style=\"{};border-radius:{radius:.1}px\">",
                    file_url(source),
                    rect_css(*rect)
                );
            }
            Element::Text(text) => text_html(out, text, Some(text.rect), clock),
            Element::Column { rect, gap, texts } => {
                let _ = write!(out, "<div class=\"e col\" style=\"{};gap:{gap:.1}px\">", rect_css(*rect));
                for text in texts {
                    text_html(out, text, None, clock);
                }
                out.push_str("</div>");
            }
            Element::Qr { rect, size, modules } => {
                const QUIET: usize = 4;
                let side = size + 2 * QUIET;
                let mut path = String::new();
                for (index, _) in modules.iter().enumerate().filter(|(_, dark)| **dark) {
                    let _ = write!(path, "M{} {}h1v1h-1z", index % size + QUIET, index / size + QUIET);
                }
                let _ = write!(
                    out,
                    "<svg class=\"e\" style=\"{}\" viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\">\
                     <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>",
                    rect_css(*rect)
                );
            }
        }
    }
    out.push_str("</div>");
}

/// A text box: placed at `rect`, or (in a column) flowing with its height as a maximum.
fn text_html(out: &mut String, text: &TextBox, rect: Option<Rect>, clock: &str) {
    let line_height = if text.bold { 1.15 } else { 1.3 };
    let placement = match rect {
        Some(rect) => format!("class=\"e t\" style=\"{}", rect_css(rect)),
        None => format!("class=\"t\" style=\"width:{:.1}px;max-height:{:.1}px", text.rect.w, text.rect.h),
    };
    let justify = match text.valign {
        VAlign::Top => "flex-start",
        VAlign::Center => "center",
        VAlign::Bottom => "flex-end",
    };
    let align = match text.align {
        Align::Left => "left",
        Align::Center => "center",
        Align::Right => "right",
    };
    let class = if text.text == clock { " class=\"clock\"" } else { "" };
    let _ = write!(
        out,
        "<div {placement};justify-content:{justify};text-align:{align};color:{};font-weight:{}\" \
         data-max=\"{:.0}\" data-min=\"{:.0}\" data-lines=\"{}\" data-lh=\"{line_height}\">\
         <div{class} style=\"font-size:{:.0}px;line-height:{line_height}\">{}</div></div>",
        css_color(text.color),
        if text.bold { 700 } else { 400 },
        text.size_range.0,
        text.size_range.1,
        text.max_lines.max(1),
        text.size_range.0,
        escape(&text.text)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_holds_every_screen_and_its_schedule() {
        let assets = Assets::locate(None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let timed = timed_assets(&assets, 10, &dir.path().join("assets")).unwrap();
        let page =
            write_page(&timed, 4, (1920, 1080), SignedDuration::from_mins(3), 600, dir.path()).unwrap();
        let html = std::fs::read_to_string(&page.path).unwrap();
        for index in 0..4 {
            assert!(html.contains(&format!("id=\"screen{index}\"")));
        }
        assert!(html.contains("Ascenseur"), "the urgent flash is on the page");
        assert!(html.contains("<img") && html.contains("<svg"), "photos and QR codes");
        assert_eq!(page.slides.len(), 4);
        // 10-second slides over three minutes: about 18 changes per screen.
        assert!(page.changes.iter().all(|&n| (14..=20).contains(&n)), "{:?}", page.changes);
    }
}
