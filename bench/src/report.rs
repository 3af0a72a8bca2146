//! The one table a run prints: a Markdown table (readable in a terminal, pasted as is into
//! the README), in sections whose own heading row names what the three value columns hold
//! (Palier | Chromium | ratio, or portrait | landscape, or a single value).

use std::fmt::Write;

/// A table of figures, printed once at the end of a run.
#[derive(Debug, Default)]
pub struct Table {
    pub header: Vec<String>,
    sections: Vec<Section>,
}

#[derive(Debug)]
struct Section {
    heading: String,
    columns: [String; 3],
    rows: Vec<[String; 4]>,
}

impl Section {
    /// The section's own heading row: its title and the names of its value columns, in bold.
    fn heading_row(&self) -> [String; 4] {
        let [a, b, c] = &self.columns;
        [format!("**{}**", self.heading), bold(a), bold(b), bold(c)]
    }
}

impl Table {
    /// Starts a section; its heading row names the three value columns.
    pub fn section(&mut self, heading: &str, columns: [&str; 3]) {
        self.sections.push(Section {
            heading: heading.to_owned(),
            columns: columns.map(str::to_owned),
            rows: Vec::new(),
        });
    }

    /// Adds a row to the last section.
    pub fn row(&mut self, label: &str, cells: [String; 3]) {
        let [a, b, c] = cells;
        self.sections.last_mut().expect("a section is started first").rows.push([label.to_owned(), a, b, c]);
    }

    pub fn render(&self) -> String {
        let mut widths = [6usize, 0, 0, 0];
        for section in &self.sections {
            let heading = section.heading_row();
            for row in std::iter::once(&heading).chain(&section.rows) {
                for (w, cell) in widths.iter_mut().zip(row) {
                    *w = (*w).max(cell.chars().count());
                }
            }
        }
        let line = |cells: &[String; 4]| {
            let mut out = String::from("|");
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                let pad = w - cell.chars().count();
                if i == 0 {
                    let _ = write!(out, " {cell}{} |", " ".repeat(pad));
                } else {
                    let _ = write!(out, " {}{cell} |", " ".repeat(pad));
                }
            }
            out
        };
        let mut out = String::new();
        for line in &self.header {
            let _ = writeln!(out, "{line}");
        }
        out.push('\n');
        let _ = writeln!(out, "{}", line(&["figure".into(), String::new(), String::new(), String::new()]));
        let rule: Vec<String> =
            widths
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    if i == 0 { format!(":{}", "-".repeat(w + 1)) } else { format!("{}:", "-".repeat(w + 1)) }
                })
                .collect();
        let _ = writeln!(out, "|{}|", rule.join("|"));
        for section in &self.sections {
            let heading = section.heading_row();
            let _ = writeln!(out, "{}", line(&heading));
            for row in &section.rows {
                let _ = writeln!(out, "{}", line(row));
            }
        }
        out
    }
}

fn bold(text: &str) -> String {
    if text.is_empty() { String::new() } else { format!("**{text}**") }
}

/// A number with `decimals`, or "–" when it was not measured.
pub fn num(value: f64, decimals: usize) -> String {
    if value.is_finite() { format!("{value:.decimals$}") } else { "–".to_owned() }
}

/// A number followed by a unit.
pub fn with_unit(value: f64, decimals: usize, unit: &str) -> String {
    if value.is_finite() { format!("{value:.decimals$} {unit}") } else { "–".to_owned() }
}

/// Palier's figure over Chromium's, e.g. "0.12×".
pub fn ratio(palier: f64, chromium: f64) -> String {
    if palier.is_finite() && chromium.is_finite() && chromium > 0.0 {
        format!("{:.2}×", palier / chromium)
    } else {
        "–".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_markdown_table() {
        let mut table = Table { header: vec!["machine: test".into()], ..Table::default() };
        table.section("windowed", ["Palier", "Chromium", "Palier/Chromium"]);
        table.row("CPU s / min", [num(1.25, 1), num(10.0, 1), ratio(1.25, 10.0)]);
        let text = table.render();
        assert!(text.contains("| CPU s / min "), "{text}");
        assert!(text.contains("0.12×"), "{text}");
        assert!(text.lines().filter(|l| l.starts_with('|')).all(|l| l.ends_with('|')), "{text}");
        assert_eq!(ratio(1.0, f64::NAN), "–");
    }
}
