//! Where `--demo` puts each screen's window when the screens outnumber the monitors: portrait
//! screens side by side at full height on the left, landscape screens stacked in a column on
//! the right, all at one scale that fits the monitor (never enlarged). Pure; the benchmark's
//! Chromium page uses the same layout so both players show the same picture.

use palier_content::config::ScreenConfig;

/// One window's place on the monitor, in physical pixels: `[x, y, width, height]`.
pub type WindowRect = [f64; 4];

/// The rectangle of every screen's window, in the order of `screens`.
pub fn layout(screens: &[ScreenConfig], monitor: (u32, u32)) -> Vec<WindowRect> {
    let (mw, mh) = (f64::from(monitor.0), f64::from(monitor.1));
    let is_portrait = |s: &ScreenConfig| s.height > s.width;
    let portrait: Vec<usize> = (0..screens.len()).filter(|&i| is_portrait(&screens[i])).collect();
    let landscape: Vec<usize> = (0..screens.len()).filter(|&i| !is_portrait(&screens[i])).collect();
    let left_w: f64 = portrait.iter().map(|&i| f64::from(screens[i].width)).sum();
    let left_h = portrait.iter().map(|&i| f64::from(screens[i].height)).fold(0.0, f64::max);
    let right_w = landscape.iter().map(|&i| f64::from(screens[i].width)).fold(0.0, f64::max);
    let right_h: f64 = landscape.iter().map(|&i| f64::from(screens[i].height)).sum();
    let scale = (mw / (left_w + right_w)).min(mh / left_h.max(right_h)).min(1.0);
    let size = |i: usize| (f64::from(screens[i].width) * scale, f64::from(screens[i].height) * scale);
    let mut out = vec![[0.0; 4]; screens.len()];
    let mut x = 0.0;
    for &i in &portrait {
        let (w, h) = size(i);
        out[i] = [x, 0.0, w, h];
        x += w;
    }
    let mut y = 0.0;
    for &i in &landscape {
        let (w, h) = size(i);
        out[i] = [x, y, w, h];
        y += h;
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
        }
    }

    /// A case: what it shows, the screens, the monitor's size, the rectangles wanted.
    type Case = (&'static str, Vec<ScreenConfig>, (u32, u32), Vec<WindowRect>);

    #[test]
    fn windows_fit_the_monitor_without_overlap() {
        let cases: &[Case] = &[
            (
                "the demo: a lift and three lobby screens on 1920×1080",
                vec![screen(1080, 1920), screen(1920, 1080), screen(1920, 1080), screen(1920, 1080)],
                (1920, 1080),
                vec![
                    [0.0, 0.0, 360.0, 640.0],
                    [360.0, 0.0, 640.0, 360.0],
                    [360.0, 360.0, 640.0, 360.0],
                    [360.0, 720.0, 640.0, 360.0],
                ],
            ),
            (
                "one small screen is never enlarged",
                vec![screen(480, 270)],
                (1920, 1080),
                vec![[0.0, 0.0, 480.0, 270.0]],
            ),
            (
                "two portrait screens side by side, scaled to the height",
                vec![screen(1080, 1920), screen(1080, 1920)],
                (1920, 960),
                vec![[0.0, 0.0, 540.0, 960.0], [540.0, 0.0, 540.0, 960.0]],
            ),
            ("no screens", vec![], (1920, 1080), vec![]),
        ];
        for (name, screens, monitor, want) in cases {
            assert_eq!(&layout(screens, *monitor), want, "{name}");
        }
    }
}
