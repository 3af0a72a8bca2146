//! Where `--demo` puts each screen's window when the screens outnumber the monitors: as they
//! hang in a building, the tall lift screens on the left beside a row of the landscape lobby
//! panels, at one scale that uses the monitor's width or height (whichever runs out first),
//! with a narrow gap between panels, the whole centred. Pure; the benchmark's Chromium page
//! uses the same layout so both players show the same picture.

use palier_content::config::ScreenConfig;

/// One window's place on the monitor, in physical pixels: `[x, y, width, height]`.
pub type WindowRect = [f64; 4];

/// The gap between two panels, as a share of the monitor's width.
const GAP: f64 = 0.01;

/// The rectangle of every screen's window, in the order of `screens`.
pub fn layout(screens: &[ScreenConfig], monitor: (u32, u32)) -> Vec<WindowRect> {
    let (mw, mh) = (f64::from(monitor.0), f64::from(monitor.1));
    if screens.is_empty() {
        return Vec::new();
    }
    let is_portrait = |s: &ScreenConfig| s.height > s.width;
    // Portrait screens first, then landscape ones, each group in the board file's order.
    let mut order: Vec<usize> = (0..screens.len()).filter(|&i| is_portrait(&screens[i])).collect();
    order.extend((0..screens.len()).filter(|&i| !is_portrait(&screens[i])));
    let gap = (mw * GAP).round();
    let gaps = gap * (screens.len() - 1) as f64;
    let total_w: f64 = screens.iter().map(|s| f64::from(s.width)).sum();
    let total_h = screens.iter().map(|s| f64::from(s.height)).fold(0.0, f64::max);
    let scale = ((mw - gaps) / total_w).min(mh / total_h);
    let row_w = total_w * scale + gaps;
    let row_h = total_h * scale;
    let mut x = ((mw - row_w) / 2.0).max(0.0).floor();
    let top = ((mh - row_h) / 2.0).max(0.0).floor();
    let mut out = vec![[0.0; 4]; screens.len()];
    for i in order {
        let (w, h) =
            ((f64::from(screens[i].width) * scale).floor(), (f64::from(screens[i].height) * scale).floor());
        // Each panel centred on the row's height: the lift screen stands, the lobby row hangs
        // at mid height beside it.
        let y = top + ((row_h - h) / 2.0).floor();
        out[i] = [x, y, w, h];
        x += w + gap;
    }
    out
}

#[cfg(test)]
mod tests {
    use palier_content::config::{Rotation, ScreenConfig};
    use palier_content::model::Channel;

    use super::*;

    fn screen(width: u32, height: u32) -> ScreenConfig {
        ScreenConfig {
            name: format!("{width}x{height}"),
            role: "lift".into(),
            channels: Channel::ALL.to_vec(),
            width,
            height,
            rotation: Rotation::R0,
            output: None,
            max_per_origin: palier_content::config::DEFAULT_MAX_PER_ORIGIN,
        }
    }

    /// A case: what it shows, the screens, the monitor's size, the rectangles wanted.
    type Case = (&'static str, Vec<ScreenConfig>, (u32, u32), Vec<WindowRect>);

    #[test]
    fn windows_fit_the_monitor_without_overlap() {
        let cases: &[Case] = &[
            (
                "the demo on 1920×1080: the lift beside a row of three lobby panels, the whole width used",
                vec![screen(1080, 1920), screen(1920, 1080), screen(1920, 1080), screen(1920, 1080)],
                (1920, 1080),
                // scale (1920 − 3 × 19) / 6840 = 0.27237…, row 522.9 high from y = 278;
                // panels 294 high hang at 278 + (522.9 − 294) / 2.
                vec![
                    [0.0, 278.0, 294.0, 522.0],
                    [313.0, 392.0, 522.0, 294.0],
                    [854.0, 392.0, 522.0, 294.0],
                    [1395.0, 392.0, 522.0, 294.0],
                ],
            ),
            (
                "the lift screen is placed first even when listed last",
                vec![screen(1920, 1080), screen(1080, 1920)],
                (3000, 1920),
                // scale min((3000 − 30) / 3000, 1920 / 1920) = 0.99, row 1900.8 high from y = 9
                vec![[1099.0, 424.0, 1900.0, 1069.0], [0.0, 9.0, 1069.0, 1900.0]],
            ),
            (
                "one small screen grows to the monitor",
                vec![screen(480, 270)],
                (1920, 1080),
                vec![[0.0, 0.0, 1920.0, 1080.0]],
            ),
            ("no screens", vec![], (1920, 1080), vec![]),
        ];
        for (name, screens, monitor, want) in cases {
            assert_eq!(&layout(screens, *monitor), want, "{name}");
        }
    }
}
