//! One template per kind of item, in portrait and landscape, plus the fallback slide.
//!
//! Each template places its boxes in a [`Frame`]: the slide minus margins, the date and
//! clock header, and the urgent banner when one runs. Portrait stacks photo, text and the
//! reply row; landscape puts the photo (or a colour panel) on the left and the text on the
//! right.

use std::path::PathBuf;

use jiff::Timestamp;
use palier_content::{Details, Event, Flash, Item, News, Offer, Promo, Severity};
use qrcode::{EcLevel, QrCode};

use super::theme::{self, unit};
use super::{Align, Color, Element, Rect, Scene, SlideContent, SlideContext, TextBox, VAlign};
use crate::locale::{Label, capitalize};

/// The longest text handed to layout: bounded work whatever the cache holds.
const MAX_TEXT_CHARS: usize = 2000;

/// Lays out one slide.
pub fn build(content: SlideContent<'_>, ctx: &SlideContext<'_>) -> Scene {
    let mut b = Builder::new(ctx);
    match content {
        SlideContent::Fallback => fallback(&mut b, ctx),
        SlideContent::Item(item) => {
            if item.is_urgent() {
                b.scene.background = theme::URGENT_BACKGROUND;
            }
            let frame = b.frame(ctx);
            match &item.details {
                Details::Flash(flash) => flash_slide(&mut b, ctx, frame, item, flash),
                Details::Offer(offer) => offer_slide(&mut b, ctx, frame, item, offer),
                Details::Promo(promo) => promo_slide(&mut b, ctx, frame, item, promo),
                Details::Event(event) => event_slide(&mut b, ctx, frame, item, event),
                Details::News(news) => news_slide(&mut b, ctx, frame, item, news),
            }
        }
    }
    b.scene
}

/// The area a template fills, and the layout unit.
#[derive(Debug, Clone, Copy)]
struct Frame {
    content: Rect,
    u: f32,
    portrait: bool,
}

struct Builder {
    scene: Scene,
    u: f32,
    locale: crate::locale::Locale,
}

impl Builder {
    fn new(ctx: &SlideContext<'_>) -> Builder {
        Builder {
            scene: Scene {
                width: ctx.width,
                height: ctx.height,
                background: theme::BACKGROUND,
                elements: Vec::new(),
            },
            u: unit(ctx.width, ctx.height),
            locale: ctx.locale,
        }
    }

    fn rect(&mut self, rect: Rect, color: Color, radius: f32) {
        self.scene.elements.push(Element::Rect { rect, color, radius });
    }

    #[allow(clippy::too_many_arguments)]
    fn text(
        &mut self,
        rect: Rect,
        text: &str,
        size: (f32, f32),
        lines: usize,
        bold: bool,
        color: Color,
        align: Align,
        valign: VAlign,
    ) {
        let text: String = text.chars().take(MAX_TEXT_CHARS).collect();
        let text = self.locale.typeset(&text);
        if text.trim().is_empty() || rect.w <= 0.0 || rect.h <= 0.0 {
            return;
        }
        self.scene.elements.push(Element::Text(TextBox {
            rect,
            text,
            size_range: (size.0 * self.u, size.1 * self.u),
            max_lines: lines,
            bold,
            color,
            align,
            valign,
        }));
    }

    /// A bold title and the body right under it: the title may take up to `share` of the
    /// area, the body whatever the title leaves.
    #[allow(clippy::too_many_arguments)]
    fn title_and_body(
        &mut self,
        area: Rect,
        title: &str,
        title_size: (f32, f32),
        title_lines: usize,
        share: f32,
        body: &str,
        body_size: (f32, f32),
        body_lines: usize,
    ) {
        let u = self.u;
        let text = |text: &str, h: f32, size: (f32, f32), lines, bold, color| TextBox {
            rect: Rect::new(area.x, area.y, area.w, h),
            text: self.locale.typeset(&text.chars().take(MAX_TEXT_CHARS).collect::<String>()),
            size_range: (size.0 * u, size.1 * u),
            max_lines: lines,
            bold,
            color,
            align: Align::Left,
            valign: VAlign::Top,
        };
        let share = if body.trim().is_empty() { 1.0 } else { share };
        // The title may not starve the body: two body lines at its smallest size stay free.
        let one_line = title_size.1 * u * 1.2;
        let body_reserve = if body.trim().is_empty() { 0.0 } else { 2.0 * body_size.1 * u * 1.3 + 36.0 * u };
        let title_h = (area.h * share).min(area.h - body_reserve).max(one_line).min(area.h);
        let mut texts = vec![text(title, title_h, title_size, title_lines, true, theme::TEXT)];
        if !body.trim().is_empty() {
            texts.push(text(body, area.h, body_size, body_lines, false, theme::TEXT_DIM));
        }
        self.scene.elements.push(Element::Column { rect: area, gap: 36.0 * u, texts });
    }

    /// A picture with its credit line along the bottom edge.
    fn photo(&mut self, rect: Rect, source: PathBuf, credit: Option<&str>) {
        let radius = theme::RADIUS * self.u;
        self.scene.elements.push(Element::Image { rect, source, radius });
        if let Some(credit) = credit {
            let strip = Rect::new(rect.x, rect.bottom() - 44.0 * self.u, rect.w, 44.0 * self.u);
            self.rect(strip, theme::CREDIT_STRIP, 0.0);
            let text = strip.inset(8.0 * self.u);
            self.text(text, credit, (24.0, 18.0), 1, false, theme::TEXT_DIM, Align::Right, VAlign::Center);
        }
    }

    /// A QR code for `link` with its caption under it; nothing when the link cannot encode.
    fn qr(&mut self, rect: Rect, link: &str, caption: &str) {
        let Ok(code) = QrCode::with_error_correction_level(link.as_bytes(), EcLevel::M) else { return };
        let size = code.width();
        let modules = code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect();
        let caption_h = 44.0 * self.u;
        let side = rect.w.min(rect.h - caption_h).max(0.0);
        let square = Rect::new(rect.x + (rect.w - side) / 2.0, rect.y, side, side);
        self.rect(square, theme::QR_LIGHT, 12.0 * self.u);
        self.scene.elements.push(Element::Qr { rect: square, size, modules });
        let caption_rect = Rect::new(rect.x, square.bottom() + 6.0 * self.u, rect.w, caption_h);
        self.text(caption_rect, caption, (28.0, 20.0), 1, false, theme::TEXT_DIM, Align::Center, VAlign::Top);
    }

    /// A pill-shaped badge sized to its text; returns its rectangle.
    fn badge(&mut self, at: Rect, text: &str, fill: Color, ink: Color) -> Rect {
        let u = self.u;
        let h = 72.0 * u;
        let w = (text.chars().count() as f32 * 26.0 * u + 64.0 * u).min(at.w);
        let rect = Rect::new(at.x, at.y, w, h);
        self.rect(rect, fill, h / 2.0);
        self.text(rect.inset(12.0 * u), text, (40.0, 26.0), 1, true, ink, Align::Center, VAlign::Center);
        rect
    }

    /// Header (date, clock), banner (urgent flash), margins: what every item slide shares.
    fn frame(&mut self, ctx: &SlideContext<'_>) -> Frame {
        let u = self.u;
        let full = Rect::new(0.0, 0.0, ctx.width as f32, ctx.height as f32);
        let (header, mut rest) = full.split_top((theme::HEADER + theme::MARGIN * 0.5) * u);
        let header = header.inset(0.0);
        let header_inner = Rect::new(
            header.x + theme::MARGIN * u,
            header.y + 28.0 * u,
            header.w - 2.0 * theme::MARGIN * u,
            theme::HEADER * u - 28.0 * u,
        );
        let (date_box, clock_box) = header_inner.split_left(header_inner.w * 0.72);
        let date = capitalize(&ctx.locale.date(ctx.now.date()));
        self.text(date_box, &date, (44.0, 30.0), 1, false, theme::TEXT_DIM, Align::Left, VAlign::Center);
        let clock = ctx.locale.clock(ctx.now.time());
        self.text(clock_box, &clock, (56.0, 40.0), 1, true, theme::TEXT, Align::Right, VAlign::Center);
        if let Some(banner) = ctx.banner {
            let (above, band) = rest.split_bottom(theme::BANNER_HEIGHT * u);
            rest = above;
            self.rect(band, theme::BANNER, 0.0);
            let label = format!("{}  ·  {banner}", ctx.locale.label(Label::Urgent));
            let inner = band.inset(24.0 * u);
            let inner = Rect::new(
                inner.x + (theme::MARGIN - 24.0) * u,
                inner.y,
                inner.w - 2.0 * (theme::MARGIN - 24.0) * u,
                inner.h,
            );
            self.text(inner, &label, (60.0, 36.0), 1, true, theme::TEXT, Align::Left, VAlign::Center);
        }
        let m = theme::MARGIN * u;
        let content = Rect::new(rest.x + m, rest.y, rest.w - 2.0 * m, rest.h - m);
        Frame { content, u, portrait: ctx.height > ctx.width }
    }
}

fn when(ctx: &SlideContext<'_>, start: Timestamp, end: Option<Timestamp>) -> String {
    let tz = ctx.now.time_zone().clone();
    let start = start.to_zoned(tz.clone());
    let end = end.map(|e| e.to_zoned(tz));
    capitalize(&ctx.locale.range(&start, end.as_ref(), ctx.now.date()))
}

fn main_photo<'a>(ctx: &SlideContext<'_>, item: &'a Item) -> Option<(PathBuf, Option<&'a str>)> {
    let path = ctx.media_paths.first().cloned().flatten()?;
    Some((path, item.media.first().and_then(|m| m.credit.as_deref())))
}

/// Splits the frame into (picture area, text area) when there is a picture.
fn split_for_photo(f: &Frame, has_photo: bool) -> (Option<Rect>, Rect) {
    if !has_photo {
        return (None, f.content);
    }
    let gap = 48.0 * f.u;
    if f.portrait {
        let (photo, rest) = f.content.split_top(f.content.h * 0.36);
        (Some(photo), Rect::new(rest.x, rest.y + gap, rest.w, rest.h - gap))
    } else {
        let (photo, rest) = f.content.split_left(f.content.w * 0.44);
        (Some(photo), Rect::new(rest.x + gap, rest.y, rest.w - gap, rest.h))
    }
}

/// A label followed by the item's origin, when it has one.
fn with_origin(label: &str, item: &Item) -> String {
    match &item.origin {
        Some(origin) => format!("{label}  ·  {origin}"),
        None => label.to_owned(),
    }
}

fn flash_slide(b: &mut Builder, ctx: &SlideContext<'_>, f: Frame, item: &Item, flash: &Flash) {
    let u = f.u;
    let colour = theme::severity(flash.severity);
    let band = 20.0 * u;
    let area = if f.portrait {
        let (top, rest) = f.content.split_top(band);
        b.rect(top, colour, band / 2.0);
        Rect::new(rest.x, rest.y + 48.0 * u, rest.w, rest.h - 48.0 * u)
    } else {
        let (left, rest) = f.content.split_left(band);
        b.rect(left, colour, band / 2.0);
        Rect::new(rest.x + 64.0 * u, rest.y, rest.w - 64.0 * u, rest.h)
    };
    let (label, rest) = area.split_top(80.0 * u);
    // A flash from an outside company (the lift's) names it: « Urgent · Ascenseurs Rhône ».
    let severity = with_origin(ctx.locale.severity(flash.severity), item);
    b.text(label, &severity, (56.0, 40.0), 1, true, colour, Align::Left, VAlign::Top);
    let range = flash.starts_at.map(|s| when(ctx, s, flash.ends_at));
    let (rest, range_box) = match &range {
        Some(_) => {
            let (rest, bottom) = rest.split_bottom(150.0 * u);
            (rest, Some(bottom))
        }
        None => (rest, None),
    };
    let urgent = flash.severity == Severity::Urgent;
    // A flash without a body gives its whole area to a larger title.
    let title_size = match (urgent, item.body.trim().is_empty()) {
        (true, true) => (200.0, 72.0),
        (true, false) => (150.0, 72.0),
        (false, true) => (160.0, 64.0),
        (false, false) => (128.0, 64.0),
    };
    let share = if f.portrait { 0.5 } else { 0.55 };
    b.title_and_body(rest, &item.title, title_size, 4, share, &item.body, (72.0, 40.0), 8);
    if let (Some(range), Some(range_box)) = (range, range_box) {
        b.rect(range_box, theme::SURFACE, theme::RADIUS * u);
        b.rect(Rect::new(range_box.x, range_box.y, 14.0 * u, range_box.h), colour, 7.0 * u);
        let inner = range_box.inset(32.0 * u);
        b.text(inner, &range, (60.0, 36.0), 2, true, theme::TEXT, Align::Left, VAlign::Center);
    }
}

/// The reply corner of offers, promos, events and news: a text block at the bottom left and
/// the QR code at the bottom right. In portrait they share a row; in landscape the QR code
/// takes a column of its own so the text keeps the height. Returns the area left for text.
fn reply_row(
    b: &mut Builder,
    f: &Frame,
    area: Rect,
    link: Option<&str>,
    caption: &str,
    left: impl FnOnce(&mut Builder, Rect),
) -> Rect {
    let u = f.u;
    let qr_h = theme::QR_SIDE * u + 50.0 * u;
    let gap = 32.0 * u;
    if f.portrait {
        let (above, row) = area.split_bottom(qr_h);
        let text_area = match link {
            Some(link) => {
                let (text_area, qr_area) = row.split_left(row.w - theme::QR_SIDE * u);
                b.qr(qr_area, link, caption);
                Rect::new(text_area.x, text_area.y, text_area.w - gap, text_area.h)
            }
            None => row,
        };
        left(b, text_area);
        return Rect::new(above.x, above.y, above.w, above.h - gap);
    }
    let text_area = match link {
        Some(link) => {
            let (text_area, qr_column) = area.split_left(area.w - theme::QR_SIDE * u - gap);
            let qr_area = Rect::new(qr_column.x + gap, qr_column.bottom() - qr_h, theme::QR_SIDE * u, qr_h);
            b.qr(qr_area, link, caption);
            text_area
        }
        None => area,
    };
    let (above, block) = text_area.split_bottom(170.0 * u);
    left(b, block);
    Rect::new(above.x, above.y, above.w, above.h - gap)
}

fn offer_slide(b: &mut Builder, ctx: &SlideContext<'_>, f: Frame, item: &Item, offer: &Offer) {
    let u = f.u;
    let photo = main_photo(ctx, item);
    let (photo_area, text) = split_for_photo(&f, photo.is_some());
    if let (Some((path, credit)), Some(area)) = (photo, photo_area) {
        b.photo(area, path, credit);
    }
    let colour = theme::offer(offer.offer_type);
    let badge =
        format!("{} · {}", ctx.locale.offer_type(offer.offer_type), ctx.locale.category(offer.category));
    let (badge_row, rest) = text.split_top(72.0 * u);
    b.badge(badge_row, &badge, colour, theme::DARK_TEXT);
    let rest = Rect::new(rest.x, rest.y + 40.0 * u, rest.w, rest.h - 40.0 * u);
    let above =
        reply_row(b, &f, rest, item.link.as_deref(), ctx.locale.label(Label::ScanToReply), |b, area| {
            let (name, place) = area.split_top(area.h * 0.45);
            b.text(
                name,
                &offer.author_first_name,
                (72.0, 44.0),
                1,
                true,
                colour,
                Align::Left,
                VAlign::Bottom,
            );
            let place_text = match &offer.author_building {
                Some(building) => format!("{building} · {}", ctx.locale.label(Label::Neighbour)),
                None => ctx.locale.label(Label::Neighbour).to_owned(),
            };
            b.text(place, &place_text, (44.0, 30.0), 2, false, theme::TEXT_DIM, Align::Left, VAlign::Top);
        });
    b.title_and_body(above, &item.title, (112.0, 56.0), 3, 0.55, &item.body, (60.0, 36.0), 6);
}

fn promo_slide(b: &mut Builder, ctx: &SlideContext<'_>, f: Frame, item: &Item, promo: &Promo) {
    let u = f.u;
    let photo = main_photo(ctx, item);
    let (photo_area, text) = split_for_photo(&f, photo.is_some());
    if let (Some((path, credit)), Some(area)) = (photo, photo_area) {
        b.photo(area, path, credit);
    }
    let (shop, rest) = text.split_top(76.0 * u);
    b.text(shop, &promo.shop, (60.0, 40.0), 1, true, theme::PROMO, Align::Left, VAlign::Top);
    let rest = Rect::new(rest.x, rest.y + 24.0 * u, rest.w, rest.h - 24.0 * u);
    let until = capitalize(&ctx.locale.until(item.valid_until.to_zoned(ctx.now.time_zone().clone()).date()));
    let above =
        reply_row(b, &f, rest, item.link.as_deref(), ctx.locale.label(Label::ScanForMore), |b, area| {
            let (until_box, hours_box) = area.split_top(area.h * 0.5);
            b.text(until_box, &until, (44.0, 30.0), 2, true, theme::TEXT, Align::Left, VAlign::Bottom);
            if let Some(hours) = &promo.opening_hours {
                b.text(
                    hours_box,
                    &capitalize(hours),
                    (40.0, 28.0),
                    2,
                    false,
                    theme::TEXT_DIM,
                    Align::Left,
                    VAlign::Top,
                );
            }
        });
    let (above, price_row) = match &promo.price {
        Some(_) => {
            let (above, row) = above.split_bottom(if f.portrait { 150.0 } else { 124.0 } * u);
            (above, Some(row))
        }
        None => (above, None),
    };
    b.title_and_body(above, &item.title, (104.0, 56.0), 3, 0.6, &item.body, (52.0, 34.0), 4);
    if let (Some(price), Some(row)) = (&promo.price, price_row) {
        let pill_w = (price.chars().count() as f32 * 56.0 + 96.0) * u;
        let pill = Rect::new(row.x, row.y + 10.0 * u, pill_w, row.h - 20.0 * u);
        let pill = Rect::new(pill.x, pill.y, pill.w.min(row.w), pill.h.min(row.h));
        b.rect(pill, theme::PROMO, pill.h / 2.0);
        b.text(
            pill.inset(14.0 * u),
            price,
            (96.0, 48.0),
            1,
            true,
            theme::DARK_TEXT,
            Align::Center,
            VAlign::Center,
        );
    }
}

fn event_slide(b: &mut Builder, ctx: &SlideContext<'_>, f: Frame, item: &Item, event: &Event) {
    let u = f.u;
    let photo = main_photo(ctx, item);
    let (photo_area, text) = split_for_photo(&f, photo.is_some());
    if let (Some((path, credit)), Some(area)) = (photo, photo_area) {
        b.photo(area, path, credit);
    }
    // The calendar block: weekday, day number, month.
    let start = event.starts_at.to_zoned(ctx.now.time_zone().clone());
    let side = 250.0 * u;
    let (top_row, rest) = text.split_top(side);
    let (block, label_area) = top_row.split_left(side);
    b.rect(block, theme::EVENT, theme::RADIUS * u);
    let (wd, rest_block) = block.inset(16.0 * u).split_top(54.0 * u);
    let (day, month_box) = rest_block.split_top(rest_block.h * 0.66);
    let weekday = ctx.locale.date(start.date());
    let weekday = weekday.split_whitespace().next().unwrap_or_default();
    b.text(wd, &capitalize(weekday), (44.0, 28.0), 1, true, theme::DARK_TEXT, Align::Center, VAlign::Center);
    b.text(
        day,
        &start.day().to_string(),
        (120.0, 72.0),
        1,
        true,
        theme::DARK_TEXT,
        Align::Center,
        VAlign::Center,
    );
    let month = ctx.locale.date(start.date());
    let month = month.split_whitespace().last().unwrap_or_default();
    b.text(month_box, month, (44.0, 28.0), 1, true, theme::DARK_TEXT, Align::Center, VAlign::Top);
    let label_area = Rect::new(label_area.x + 40.0 * u, label_area.y, label_area.w - 40.0 * u, label_area.h);
    let (label, place) = label_area.split_top(label_area.h * 0.4);
    b.text(
        label,
        &with_origin(ctx.locale.label(Label::Event), item),
        (48.0, 32.0),
        1,
        true,
        theme::EVENT,
        Align::Left,
        VAlign::Bottom,
    );
    if let Some(p) = &event.place {
        b.text(place, p, (48.0, 30.0), 2, false, theme::TEXT_DIM, Align::Left, VAlign::Top);
    }
    let rest = Rect::new(rest.x, rest.y + 40.0 * u, rest.w, rest.h - 40.0 * u);
    let range = when(ctx, event.starts_at, event.ends_at);
    let above =
        reply_row(b, &f, rest, item.link.as_deref(), ctx.locale.label(Label::ScanForMore), |b, area| {
            b.text(area, &range, (52.0, 34.0), 3, true, theme::TEXT, Align::Left, VAlign::Center);
        });
    b.title_and_body(above, &item.title, (104.0, 56.0), 3, 0.55, &item.body, (56.0, 34.0), 5);
}

fn news_slide(b: &mut Builder, ctx: &SlideContext<'_>, f: Frame, item: &Item, news: &News) {
    let u = f.u;
    let photo = main_photo(ctx, item);
    let (photo_area, text) = split_for_photo(&f, photo.is_some());
    if let (Some((path, credit)), Some(area)) = (photo, photo_area) {
        b.photo(area, path, credit);
    }
    let (label, rest) = text.split_top(80.0 * u);
    b.text(
        label,
        ctx.locale.label(Label::News),
        (52.0, 34.0),
        1,
        true,
        theme::NEWS,
        Align::Left,
        VAlign::Top,
    );
    let rest = Rect::new(rest.x, rest.y + 24.0 * u, rest.w, rest.h - 24.0 * u);
    let above = match item.link.as_deref() {
        Some(link) => reply_row(b, &f, rest, Some(link), ctx.locale.label(Label::ScanForMore), |b, area| {
            if let Some(source) = &news.source {
                b.text(area, source, (44.0, 30.0), 2, false, theme::TEXT_FAINT, Align::Left, VAlign::Bottom);
            }
        }),
        None => {
            let (above, source_box) = rest.split_bottom(80.0 * u);
            if let Some(source) = &news.source {
                b.text(
                    source_box,
                    source,
                    (44.0, 30.0),
                    1,
                    false,
                    theme::TEXT_FAINT,
                    Align::Left,
                    VAlign::Bottom,
                );
            }
            above
        }
    };
    b.title_and_body(above, &item.title, (112.0, 56.0), 4, 0.5, &item.body, (64.0, 38.0), 8);
}

/// Building name, date and a large clock over the fallback picture.
fn fallback(b: &mut Builder, ctx: &SlideContext<'_>) {
    let u = b.u;
    let full = Rect::new(0.0, 0.0, ctx.width as f32, ctx.height as f32);
    if let Some(image) = &ctx.fallback_image {
        b.scene.elements.push(Element::Image { rect: full, source: image.clone(), radius: 0.0 });
    }
    let area = full.inset(theme::MARGIN * 1.5 * u);
    let name = ctx.building.map_or(ctx.building_name, |building| building.name.as_str());
    let address = ctx.building.map(|building| building.address.as_str()).unwrap_or_default();
    let portrait = ctx.height > ctx.width;
    let (top, bottom) = area.split_top(area.h * if portrait { 0.5 } else { 0.55 });
    let (welcome, name_box) = top.split_top(90.0 * u);
    b.text(
        welcome,
        ctx.locale.label(Label::Welcome),
        (56.0, 36.0),
        1,
        false,
        theme::TEXT_DIM,
        Align::Left,
        VAlign::Top,
    );
    let (name_box, address_box) = name_box.split_bottom(80.0 * u);
    b.text(name_box, name, (136.0, 64.0), 3, true, theme::TEXT, Align::Left, VAlign::Bottom);
    b.text(address_box, address, (44.0, 30.0), 1, false, theme::TEXT_DIM, Align::Left, VAlign::Center);
    let (clock, date) = bottom.split_top(bottom.h * 0.62);
    b.text(
        clock,
        &ctx.locale.clock(ctx.now.time()),
        (300.0, 120.0),
        1,
        true,
        theme::TEXT,
        Align::Left,
        VAlign::Bottom,
    );
    b.text(
        date,
        &capitalize(&ctx.locale.date(ctx.now.date())),
        (72.0, 44.0),
        2,
        false,
        theme::TEXT_DIM,
        Align::Left,
        VAlign::Top,
    );
}
