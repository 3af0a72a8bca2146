//! Keeps contact details off the screens.
//!
//! Screens hang in shared hallways: a resident's e-mail address or phone number must never be
//! shown there. Neighbours answer an offer through the slide's QR link instead. The platform
//! refuses, at publish time, any text field that looks like it holds one, and says which
//! field and what it found, so the publisher can fix it (refusing is clearer than silently
//! stripping part of a sentence). Detection is deliberately narrow so dates, prices and
//! times pass: an e-mail address is `local@domain.tld`; a phone number is a run of digits
//! with optional single separators (space, dot, dash, parentheses) that starts with `+`
//! and holds 8–15 digits, or starts with `0` and holds exactly 10 (French numbers), or
//! starts with `00` and holds 11–15 (international).

/// What a piece of text was found to contain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact {
    Email(String),
    Phone(String),
}

impl Contact {
    pub fn describe(&self) -> String {
        match self {
            Contact::Email(found) => format!("an e-mail address ({found})"),
            Contact::Phone(found) => format!("a phone number ({found})"),
        }
    }
}

/// The first contact detail in `text`, if any.
pub fn find_contact(text: &str) -> Option<Contact> {
    find_email(text).map(Contact::Email).or_else(|| find_phone(text).map(Contact::Phone))
}

fn find_email(text: &str) -> Option<String> {
    for word in text.split(|c: char| c.is_whitespace() || "<>()[]\"'«»,;:".contains(c)) {
        let Some((local, domain)) = word.split_once('@') else { continue };
        let domain = domain.trim_end_matches(['.', '!', '?']);
        let labelled = domain.split('.').count() >= 2 && domain.split('.').all(|label| !label.is_empty());
        if !local.is_empty() && labelled {
            return Some(format!("{local}@{domain}"));
        }
    }
    None
}

fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '.' | '-' | '(' | ')' | '\u{a0}' | '\u{202f}')
}

fn find_phone(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut start = 0;
    while start < chars.len() {
        let c = chars[start];
        let begins =
            c.is_ascii_digit() || (c == '+' && chars.get(start + 1).is_some_and(char::is_ascii_digit));
        let after_word = start == 0 || !chars[start - 1].is_alphanumeric();
        if !(begins && after_word) {
            start += 1;
            continue;
        }
        // Extend the run: digits, each gap one separator (or "(0)"-style brackets).
        let mut end = start + 1;
        loop {
            if chars.get(end).is_some_and(char::is_ascii_digit) {
                end += 1;
                continue;
            }
            let mut gap = end;
            while gap < chars.len() && is_separator(chars[gap]) && gap - end < 2 {
                gap += 1;
            }
            if gap > end && chars.get(gap).is_some_and(char::is_ascii_digit) {
                end = gap;
            } else {
                break;
            }
        }
        let run: String = chars[start..end].iter().collect();
        let digits: String = run.chars().filter(char::is_ascii_digit).collect();
        let phone = if run.starts_with('+') {
            (8..=15).contains(&digits.len())
        } else if digits.starts_with("00") {
            (11..=15).contains(&digits.len())
        } else {
            digits.starts_with('0') && digits.len() == 10
        };
        if phone {
            return Some(run.trim_end_matches(is_separator).to_owned());
        }
        start = end;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_addresses_and_numbers() {
        let cases = [
            ("Écrivez à camille.martin@example.org !", Some("camille.martin@example.org")),
            ("contact: (jean@mail.fr)", Some("jean@mail.fr")),
            ("Appelez le 06 12 34 56 78 le soir", Some("06 12 34 56 78")),
            ("Tél. 06.12.34.56.78", Some("06.12.34.56.78")),
            ("0612345678", Some("0612345678")),
            ("+33 6 12 34 56 78", Some("+33 6 12 34 56 78")),
            ("+33 (0)6 12 34 56 78", Some("+33 (0)6 12 34 56 78")),
            ("0033 6 12 34 56 78", Some("0033 6 12 34 56 78")),
        ];
        for (text, expected) in cases {
            let found = find_contact(text).map(|c| match c {
                Contact::Email(s) | Contact::Phone(s) => s,
            });
            assert_eq!(found.as_deref(), expected, "{text}");
        }
    }

    #[test]
    fn leaves_dates_prices_and_times_alone() {
        for text in [
            "Coupure d’eau mardi 24 novembre, 9 h – 12 h",
            "L’espresso du matin à 1,20 €",
            "Samedi 5 décembre 2026, 14 h 30 – 17 h 30",
            "24.11.2026 10.30",
            "Collecte le 03/12/2026 à 17:00",
            "12 rue des Tilleuls, 69003 Lyon",
            "Suivez @mairie_lyon3 sur les réseaux",
            "Code porte 1234 5678",
            "Réunion en salle 101 — 20 places",
        ] {
            assert_eq!(find_contact(text), None, "{text}");
        }
    }
}
