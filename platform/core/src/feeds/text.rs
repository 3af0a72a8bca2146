//! Text from feeds as screens can show it: HTML turned into plain text (scripts, styles and
//! markup gone, entities decoded, links without their addresses), whitespace folded, and
//! cut at a word to the protocol's limits with an ellipsis.

use html2text::render::TrivialDecorator;

/// Plain text of an HTML fragment; plain text (no tag, no entity) passes unchanged but
/// folded, its line breaks kept.
pub fn plain(html: &str) -> String {
    if !looks_like_html(html) {
        return fold(html);
    }
    let rendered = html2text::config::with_decorator(TrivialDecorator::new())
        .link_footnotes(false)
        .string_from_read(html.as_bytes(), 100_000)
        .unwrap_or_else(|_| html.to_owned());
    fold(&rendered)
}

/// A tag (`<p`, `</b`, `<br/`) or an entity (`&amp;`, `&#233;`) somewhere in the text.
fn looks_like_html(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.windows(2).any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/' || w[1] == b'!'))
        || text.split('&').skip(1).any(|rest| {
            rest.split_once(';').is_some_and(|(name, _)| {
                !name.is_empty()
                    && name.len() <= 10
                    && name.trim_start_matches('#').chars().all(|c| c.is_ascii_alphanumeric())
            })
        })
}

/// Folds runs of spaces into one and keeps at most one empty line between paragraphs.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_lines = 0;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            blank_lines += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_lines > 0 { "\n\n" } else { "\n" });
        }
        blank_lines = 0;
        out.push_str(&words.join(" "));
    }
    out
}

/// At most `max` characters, cut at a word with « … » when it had to be cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    if let Some(space) = cut.rfind(char::is_whitespace)
        && space > cut.len() / 2
    {
        cut.truncate(space);
    }
    format!("{}…", cut.trim_end_matches(|c: char| c.is_whitespace() || c == ',' || c == ';'))
}

/// One line (a title, a place): plain text, line breaks folded into spaces.
pub fn line(html: &str, max: usize) -> String {
    clip(&plain(html).split_whitespace().collect::<Vec<_>>().join(" "), max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_plain_text_without_scripts() {
        let cases = [
            ("<p>Concert <b>gratuit</b> &amp; ouvert à tous</p>", "Concert gratuit & ouvert à tous"),
            ("<script>alert('x')</script><p>Exposition</p><style>p{}</style>", "Exposition"),
            ("<p>Un</p><p>Deux</p>", "Un\n\nDeux"),
            ("Texte   simple\n\n\n\nsuite", "Texte simple\n\nsuite"),
            ("Ligne un\nLigne deux & trois < quatre", "Ligne un\nLigne deux & trois < quatre"),
            ("Caf&eacute; <br/>ouvert", "Café\nouvert"),
            ("<a href=\"https://example.org/x\">Réserver</a>", "Réserver"),
            ("<img src=x onerror=alert(1)>Rien", "Rien"),
        ];
        for (html, expected) in cases {
            assert_eq!(plain(html), expected, "{html}");
        }
    }

    #[test]
    fn long_text_is_cut_at_a_word() {
        assert_eq!(clip("court", 10), "court");
        assert_eq!(clip("Festival des lumières sur les quais", 20), "Festival des…");
        assert_eq!(clip(&"a".repeat(30), 10).chars().count(), 10);
        assert_eq!(line("<h1>Titre\nsur deux lignes</h1>", 100), "Titre sur deux lignes");
    }
}
