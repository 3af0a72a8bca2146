//! Palier's screen theme: colours and proportions shared by every template.
//!
//! Dark backgrounds with bright, large type. Accent colours keep a contrast ratio above 7:1
//! against the background, readable from across a lobby.

use super::Color;
use palier_content::{OfferType, Severity};

pub const BACKGROUND: Color = Color::rgb(0, 0, 0);
pub const URGENT_BACKGROUND: Color = Color::rgb(48, 6, 8);
pub const SURFACE: Color = Color::rgb(24, 27, 36);
pub const TEXT: Color = Color::rgb(255, 255, 255);
pub const TEXT_DIM: Color = Color::rgb(196, 200, 212);
pub const TEXT_FAINT: Color = Color::rgb(140, 146, 162);
pub const DARK_TEXT: Color = Color::rgb(20, 20, 24);
pub const BANNER: Color = Color::rgb(211, 34, 40);
pub const PROMO: Color = Color::rgb(255, 214, 79);
pub const EVENT: Color = Color::rgb(255, 148, 112);
pub const NEWS: Color = Color::rgb(110, 184, 255);
pub const QR_LIGHT: Color = Color::rgb(255, 255, 255);
pub const CREDIT_STRIP: Color = Color([0, 0, 0, 150]);

pub fn severity(severity: Severity) -> Color {
    match severity {
        Severity::Info => Color::rgb(88, 166, 255),
        Severity::Important => Color::rgb(255, 180, 40),
        Severity::Urgent => Color::rgb(255, 77, 77),
    }
}

pub fn offer(offer_type: OfferType) -> Color {
    match offer_type {
        OfferType::Offer => Color::rgb(72, 224, 160),
        OfferType::Request => Color::rgb(190, 150, 255),
    }
}

/// The layout unit: 1.0 on a 1080-pixel short side.
pub fn unit(width: u32, height: u32) -> f32 {
    width.min(height) as f32 / 1080.0
}

/// Outer margin, in units.
pub const MARGIN: f32 = 64.0;
/// Header band (date and clock), in units.
pub const HEADER: f32 = 104.0;
/// Urgent banner band, in units.
pub const BANNER_HEIGHT: f32 = 150.0;
/// Corner radius of cards and pictures, in units.
pub const RADIUS: f32 = 28.0;
/// Side of a QR code, in units.
pub const QR_SIDE: f32 = 300.0;
