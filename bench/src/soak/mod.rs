//! Reliability soak: long, repeated runs of the failure paths the test suite proves once.
//!
//! Each part takes a count or a duration and returns a [`PartReport`]: rows for the printed
//! table, the same figures as JSON (written to `target/soak/<part>.json` by `palier-soak`),
//! and the failures it saw, each named. `bench/soak` is the command; `cargo test` runs every
//! part a few iterations long (`bench/tests/soak.rs`) so the command cannot rot.
//!
//! Parts: [`crashes`] (`kill -9` of `palier-sync` during a seeded publishing stream),
//! [`offline`] (a month without the platform, on an injected clock), [`rotation`] (the
//! windowed player through thousands of crossfades), [`boards`] (one platform, thousands of
//! simulated boards). Power cuts of the QEMU board are `kiosk-image/test/boot-test --cuts N`.

pub mod boards;
pub mod crashes;
pub mod offline;
pub mod rotation;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// What one part measured.
#[derive(Debug, Clone)]
pub struct PartReport {
    /// `crashes`, `offline`, …: also the JSON file's name.
    pub part: &'static str,
    /// Figure and value, in the order printed.
    pub rows: Vec<(String, String)>,
    /// Everything, for `target/soak/<part>.json`.
    pub json: Value,
    /// Each failure seen, in words (empty when the part passed).
    pub failures: Vec<String>,
}

impl PartReport {
    pub fn new(part: &'static str) -> PartReport {
        PartReport { part, rows: Vec::new(), json: Value::Null, failures: Vec::new() }
    }

    pub fn row(&mut self, figure: impl Into<String>, value: impl ToString) {
        self.rows.push((figure.into(), value.to_string()));
    }

    /// Records a failure; the first few of each part are kept in full, the rest counted.
    pub fn fail(&mut self, failure: impl Into<String>) {
        const KEPT: usize = 20;
        if self.failures.len() < KEPT {
            self.failures.push(failure.into());
        } else if self.failures.len() == KEPT {
            self.failures.push("… further failures counted in the table".to_owned());
        }
    }

    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The table as Markdown: a heading, then figure | value rows, then the failures.
    pub fn table(&self) -> String {
        let mut out = format!("### {}\n\n| figure | value |\n|---|---|\n", self.part);
        for (figure, value) in &self.rows {
            let _ = writeln!(out, "| {figure} | {value} |");
        }
        if self.failures.is_empty() {
            out.push_str("\nno failure\n");
        } else {
            out.push_str("\nfailures:\n");
            for failure in &self.failures {
                let _ = writeln!(out, "- {failure}");
            }
        }
        out
    }

    /// Writes `<dir>/<part>.json` (the figures, the failures and `header`: date, commit,
    /// machine) and returns its path.
    pub fn write_json(&self, dir: &Path, header: &Value) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{}.json", self.part));
        let document = serde_json::json!({
            "part": self.part,
            "run": header,
            "figures": self.json,
            "rows": self.rows.iter().map(|(f, v)| serde_json::json!([f, v])).collect::<Vec<_>>(),
            "failures": self.failures,
        });
        let text = serde_json::to_string_pretty(&document).map_err(std::io::Error::other)?;
        std::fs::write(&path, text + "\n")?;
        Ok(path)
    }
}

/// A seed for a part: `given`, or one drawn now (printed by the caller, so a run replays).
pub fn seed(given: Option<u64>) -> u64 {
    given.unwrap_or_else(rand::random)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lists_rows_then_failures_and_caps_them() {
        let mut report = PartReport::new("crashes");
        report.row("kills", 3);
        assert!(report.passed());
        assert!(report.table().contains("| kills | 3 |\n\nno failure"), "{}", report.table());
        for n in 0..25 {
            report.fail(format!("kill {n}: generation mixed"));
        }
        assert_eq!(report.failures.len(), 21);
        assert!(report.table().contains("- kill 19: generation mixed\n- … further failures"));
        let dir = tempfile::tempdir().unwrap();
        let path = report.write_json(dir.path(), &serde_json::json!({"commit": "abc"})).unwrap();
        let written: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(written["run"]["commit"], "abc");
        assert_eq!(written["rows"][0], serde_json::json!(["kills", "3"]));
    }
}
