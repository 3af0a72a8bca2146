//! Words, dates and times as residents read them: French first, English by configuration.
//!
//! French follows the usual typography: « mardi 24 novembre », « 9 h – 12 h », « 18 h 30 »,
//! « 1er décembre », narrow no-break spaces inside « guillemets » and before « h ». Pure
//! functions of their arguments, so templates stay testable.

use jiff::Zoned;
use jiff::civil::{Date, Time};
use palier_content::{OfferCategory, OfferType, Severity};

/// Narrow no-break space (U+202F), used by French typography around « h » and « ».
pub const NNBSP: char = '\u{202F}';

/// The languages the screen text is available in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    French,
    English,
}

impl Locale {
    /// `fr-FR`, `fr` and anything unknown read as French; `en*` as English.
    pub fn from_tag(tag: &str) -> Locale {
        if tag.to_ascii_lowercase().starts_with("en") { Locale::English } else { Locale::French }
    }

    /// « mardi 24 novembre » / "Tuesday 24 November".
    pub fn date(self, date: Date) -> String {
        let weekday = date.weekday().to_monday_zero_offset() as usize;
        let month = date.month() as usize - 1;
        match self {
            Locale::French => {
                let day = if date.day() == 1 { "1er".to_owned() } else { date.day().to_string() };
                format!("{} {day} {}", FR_WEEKDAYS[weekday], FR_MONTHS[month])
            }
            Locale::English => format!("{} {} {}", EN_WEEKDAYS[weekday], date.day(), EN_MONTHS[month]),
        }
    }

    /// « 9 h », « 18 h 05 » / "9:00", "18:05".
    pub fn time(self, time: Time) -> String {
        match self {
            Locale::French if time.minute() == 0 => format!("{}{NNBSP}h", time.hour()),
            Locale::French => format!("{}{NNBSP}h{NNBSP}{:02}", time.hour(), time.minute()),
            Locale::English => format!("{}:{:02}", time.hour(), time.minute()),
        }
    }

    /// The clock in the header: « 14:05 » in both languages, as on every French clock.
    pub fn clock(self, time: Time) -> String {
        format!("{:02}:{:02}", time.hour(), time.minute())
    }

    /// A day relative to `today`: « aujourd'hui », « demain », else the full date.
    pub fn day(self, date: Date, today: Date) -> String {
        match (self, date.since(today).map(|span| span.get_days())) {
            (Locale::French, Ok(0)) => "aujourd'hui".to_owned(),
            (Locale::French, Ok(1)) => "demain".to_owned(),
            (Locale::English, Ok(0)) => "today".to_owned(),
            (Locale::English, Ok(1)) => "tomorrow".to_owned(),
            _ => self.date(date),
        }
    }

    /// A time range: « mardi 24 novembre, 9 h – 12 h »; across days « du lundi 23 novembre,
    /// 9 h au mardi 24 novembre, 12 h ». Days close to `today` read « aujourd'hui », « demain ».
    /// Whole days (midnight to midnight, as calendars export all-day events) read « samedi
    /// 5 décembre, toute la journée » or « du samedi 5 décembre au lundi 7 décembre ».
    pub fn range(self, start: &Zoned, end: Option<&Zoned>, today: Date) -> String {
        let start_day = self.day(start.date(), today);
        let Some(end) = end else {
            return format!("{start_day}, {}", self.time(start.time()));
        };
        let midnight = Time::midnight();
        if start.time() == midnight && end.time() == midnight && end.date() > start.date() {
            let last = end.date().yesterday().unwrap_or(end.date());
            if last == start.date() {
                return match self {
                    Locale::French => format!("{start_day}, toute la journée"),
                    Locale::English => format!("{start_day}, all day"),
                };
            }
            let last_day = self.day(last, today);
            return match self {
                Locale::French => format!("{} {}", fr_from(&start_day), fr_to(&last_day)),
                Locale::English => format!("from {start_day} to {last_day}"),
            };
        }
        if start.date() == end.date() {
            return format!("{start_day}, {} – {}", self.time(start.time()), self.time(end.time()));
        }
        let end_day = self.day(end.date(), today);
        match self {
            Locale::French => format!(
                "{}, {} {}, {}",
                fr_from(&start_day),
                self.time(start.time()),
                fr_to(&end_day),
                self.time(end.time())
            ),
            Locale::English => format!(
                "from {start_day}, {} to {end_day}, {}",
                self.time(start.time()),
                self.time(end.time())
            ),
        }
    }

    /// « jusqu'au dimanche 6 décembre » / "until Sunday 6 December".
    pub fn until(self, date: Date) -> String {
        match self {
            Locale::French => format!("jusqu'au {}", self.date(date)),
            Locale::English => format!("until {}", self.date(date)),
        }
    }

    pub fn severity(self, severity: Severity) -> &'static str {
        match (self, severity) {
            (Locale::French, Severity::Info) => "Information",
            (Locale::French, Severity::Important) => "Important",
            (Locale::French, Severity::Urgent) => "Urgent",
            (Locale::English, Severity::Info) => "Notice",
            (Locale::English, Severity::Important) => "Important",
            (Locale::English, Severity::Urgent) => "Urgent",
        }
    }

    pub fn offer_type(self, offer_type: OfferType) -> &'static str {
        match (self, offer_type) {
            (Locale::French, OfferType::Offer) => "Propose",
            (Locale::French, OfferType::Request) => "Recherche",
            (Locale::English, OfferType::Offer) => "Offer",
            (Locale::English, OfferType::Request) => "Request",
        }
    }

    pub fn category(self, category: OfferCategory) -> &'static str {
        use OfferCategory as C;
        match (self, category) {
            (Locale::French, C::Lending) => "Prêt",
            (Locale::French, C::Service) => "Service",
            (Locale::French, C::Giving) => "Don",
            (Locale::French, C::Selling) => "Vente",
            (Locale::French, C::LostFound) => "Perdu, trouvé",
            (Locale::French, C::Carpooling) => "Covoiturage",
            (Locale::French, C::Childcare) => "Garde d'enfants",
            (Locale::French, C::Other) => "Entraide",
            (Locale::English, C::Lending) => "Lending",
            (Locale::English, C::Service) => "Service",
            (Locale::English, C::Giving) => "Giving away",
            (Locale::English, C::Selling) => "For sale",
            (Locale::English, C::LostFound) => "Lost & found",
            (Locale::English, C::Carpooling) => "Carpooling",
            (Locale::English, C::Childcare) => "Childcare",
            (Locale::English, C::Other) => "Neighbours",
        }
    }

    /// Fixed labels of the templates.
    pub fn label(self, label: Label) -> &'static str {
        use Label as L;
        match (self, label) {
            (Locale::French, L::Event) => "Événement",
            (Locale::French, L::News) => "Actualité du quartier",
            (Locale::French, L::Promo) => "Bon plan",
            (Locale::French, L::ScanToReply) => "Scannez pour répondre",
            (Locale::French, L::ScanForMore) => "Scannez pour en savoir plus",
            (Locale::French, L::Neighbour) => "Votre voisin",
            (Locale::French, L::Neighbourhood) => "Entre voisins",
            (Locale::French, L::Welcome) => "Bienvenue",
            (Locale::French, L::Urgent) => "URGENT",
            (Locale::English, L::Event) => "Event",
            (Locale::English, L::News) => "Neighbourhood news",
            (Locale::English, L::Promo) => "Local offer",
            (Locale::English, L::ScanToReply) => "Scan to reply",
            (Locale::English, L::ScanForMore) => "Scan for more",
            (Locale::English, L::Neighbour) => "Your neighbour",
            (Locale::English, L::Neighbourhood) => "Neighbours",
            (Locale::English, L::Welcome) => "Welcome",
            (Locale::English, L::Urgent) => "URGENT",
        }
    }
}

impl Locale {
    /// Typesets text for the screen. In French: a narrow no-break space before « ? ! ; »
    /// and inside « guillemets », a no-break space before « : », and the typographic
    /// apostrophe, so that punctuation never starts a line on its own.
    pub fn typeset(self, text: &str) -> String {
        if self != Locale::French {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len() + 8);
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            let before = out.chars().last();
            let rest = chars.clone().take(2).collect::<Vec<char>>();
            // « 9 h 30 » stays on one line: the spaces around an hour's « h » do not break.
            let hour_h = |h: Option<&char>, after: Option<&char>| {
                h == Some(&'h') && after.is_none_or(|a| !a.is_alphabetic())
            };
            if c == ' ' && before.is_some_and(|b| b.is_ascii_digit()) && hour_h(rest.first(), rest.get(1)) {
                out.push(NNBSP);
                continue;
            }
            if c == ' ' && before == Some('h') && rest.first().is_some_and(char::is_ascii_digit) {
                let mut back = out.chars().rev().skip(1);
                if back.next() == Some(NNBSP) {
                    out.push(NNBSP);
                    continue;
                }
            }
            match c {
                ' ' if matches!(chars.peek(), Some('?' | '!' | ';' | '»')) => out.push(NNBSP),
                ' ' if chars.peek() == Some(&':') => out.push('\u{00A0}'),
                '«' if chars.peek() == Some(&' ') => {
                    chars.next();
                    out.push('«');
                    out.push(NNBSP);
                }
                '\'' => out.push('’'),
                _ => out.push(c),
            }
        }
        out
    }
}

/// Fixed template labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    Event,
    News,
    Promo,
    ScanToReply,
    ScanForMore,
    Neighbour,
    Neighbourhood,
    Welcome,
    Urgent,
}

const FR_WEEKDAYS: [&str; 7] = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];
const FR_MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const EN_WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const EN_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The text with its first letter in capitals: « Aujourd'hui, 9 h ».
pub fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// « du mardi 24 novembre », « d'aujourd'hui », « de demain ».
fn fr_from(day: &str) -> String {
    match day {
        "aujourd'hui" => "d'aujourd'hui".to_owned(),
        "demain" => "de demain".to_owned(),
        date => format!("du {date}"),
    }
}

/// « au mardi 24 novembre », « à demain ».
fn fr_to(day: &str) -> String {
    match day {
        "aujourd'hui" | "demain" => format!("à {day}"),
        date => format!("au {date}"),
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::{date, time};
    use jiff::tz::TimeZone;

    use super::*;

    fn zoned(text: &str) -> Zoned {
        text.parse::<jiff::civil::DateTime>()
            .unwrap()
            .to_zoned(TimeZone::get("Europe/Paris").unwrap())
            .unwrap()
    }

    #[test]
    fn french_dates_and_times_follow_french_typography() {
        let fr = Locale::French;
        let n = NNBSP;
        let today = date(2026, 11, 21);
        let cases: Vec<(String, String)> = vec![
            (fr.date(date(2026, 11, 24)), "mardi 24 novembre".into()),
            (fr.date(date(2026, 12, 1)), "mardi 1er décembre".into()),
            (fr.date(date(2026, 8, 15)), "samedi 15 août".into()),
            (fr.time(time(9, 0, 0, 0)), format!("9{n}h")),
            (fr.time(time(18, 5, 0, 0)), format!("18{n}h{n}05")),
            (fr.clock(time(9, 5, 0, 0)), "09:05".into()),
            (
                fr.range(&zoned("2026-11-24T09:00"), Some(&zoned("2026-11-24T12:00")), today),
                format!("mardi 24 novembre, 9{n}h – 12{n}h"),
            ),
            (
                fr.range(&zoned("2026-11-22T18:30"), Some(&zoned("2026-11-22T20:00")), today),
                format!("demain, 18{n}h{n}30 – 20{n}h"),
            ),
            (
                fr.range(&zoned("2026-11-21T07:00"), Some(&zoned("2026-11-24T12:00")), today),
                format!("d'aujourd'hui, 7{n}h au mardi 24 novembre, 12{n}h"),
            ),
            (
                fr.range(&zoned("2026-12-05T00:00"), Some(&zoned("2026-12-06T00:00")), today),
                "samedi 5 décembre, toute la journée".into(),
            ),
            (
                fr.range(&zoned("2026-12-05T00:00"), Some(&zoned("2026-12-08T00:00")), today),
                "du samedi 5 décembre au lundi 7 décembre".into(),
            ),
            (
                fr.range(&zoned("2026-11-22T00:00"), Some(&zoned("2026-11-25T00:00")), today),
                "de demain au mardi 24 novembre".into(),
            ),
            (
                fr.range(&zoned("2026-11-21T20:00"), Some(&zoned("2026-11-22T02:00")), today),
                format!("d'aujourd'hui, 20{n}h à demain, 2{n}h"),
            ),
            (
                Locale::English.range(&zoned("2026-12-05T00:00"), Some(&zoned("2026-12-06T00:00")), today),
                "Saturday 5 December, all day".into(),
            ),
            (fr.range(&zoned("2026-11-28T10:00"), None, today), format!("samedi 28 novembre, 10{n}h")),
            (fr.until(date(2026, 12, 6)), "jusqu'au dimanche 6 décembre".into()),
            (capitalize("aujourd'hui"), "Aujourd'hui".into()),
            (
                fr.typeset("Avez-vous vu Mimi ? Oui ! « Bien » : l'eau"),
                format!("Avez-vous vu Mimi{n}? Oui{n}! «{n}Bien{n}»{}: l’eau", '\u{00A0}'),
            ),
            (Locale::English.typeset("Seen Mimi ? l'eau"), "Seen Mimi ? l'eau".into()),
            (fr.typeset("de 9 h 30 à 19 h, 6 hommes"), format!("de 9{n}h{n}30 à 19{n}h, 6 hommes")),
            (capitalize("été"), "Été".into()),
            (Locale::English.date(date(2026, 11, 24)), "Tuesday 24 November".into()),
            (Locale::English.time(time(9, 30, 0, 0)), "9:30".into()),
        ];
        for (got, expected) in cases {
            assert_eq!(got, expected);
        }
    }

    #[test]
    fn locale_tags_pick_a_language() {
        let cases = [
            ("fr-FR", Locale::French),
            ("fr", Locale::French),
            ("en-GB", Locale::English),
            ("de-DE", Locale::French),
        ];
        for (tag, expected) in cases {
            assert_eq!(Locale::from_tag(tag), expected, "{tag}");
        }
    }
}
