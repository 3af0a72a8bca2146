//! What one fetch changes: the entries read now against the entries the feed published
//! before, compared by key and fingerprint. Pure, so every case sits in one table.
//!
//! A new key is created, a known key whose fingerprint moved is updated (a new version of the
//! same item), a known key absent now is withdrawn — unless its entry could not be read this
//! time, in which case its item stays as it was. A document that lists nothing while the feed
//! has items out is refused: an export that comes back empty by mistake must not blank the
//! screens (items still expire on their own).

use std::collections::{HashMap, HashSet};

/// An entry the feed published before, as remembered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub key: String,
    pub fingerprint: String,
}

/// An entry read now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current<'a> {
    pub key: &'a str,
    pub fingerprint: &'a str,
}

/// What to do, by key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub create: Vec<String>,
    pub update: Vec<String>,
    pub withdraw: Vec<String>,
    pub unchanged: usize,
}

/// Why a document changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the feed lists no entry now while {live} of its items are out; they were kept (they expire on their own). \
         If the feed really is empty, remove the feed"
    )]
    EmptyDocument { live: usize },
}

/// Plans a fetch. `listed` is how many entries the document listed (read or not);
/// `unreadable` the keys of entries that could not be read this time.
pub fn plan(
    current: &[Current<'_>],
    known: &[Known],
    listed: usize,
    unreadable: &HashSet<String>,
) -> Result<Plan, Refusal> {
    if listed == 0 && !known.is_empty() {
        return Err(Refusal::EmptyDocument { live: known.len() });
    }
    let before: HashMap<&str, &str> =
        known.iter().map(|k| (k.key.as_str(), k.fingerprint.as_str())).collect();
    let mut plan = Plan::default();
    let mut seen = HashSet::new();
    for entry in current {
        if !seen.insert(entry.key) {
            continue;
        }
        match before.get(entry.key) {
            None => plan.create.push(entry.key.to_owned()),
            Some(print) if *print == entry.fingerprint => plan.unchanged += 1,
            Some(_) => plan.update.push(entry.key.to_owned()),
        }
    }
    for old in known {
        if !seen.contains(old.key.as_str()) && !unreadable.contains(&old.key) {
            plan.withdraw.push(old.key.clone());
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(pairs: &[(&str, &str)]) -> Vec<Known> {
        pairs.iter().map(|(k, f)| Known { key: (*k).into(), fingerprint: (*f).into() }).collect()
    }

    fn current<'a>(pairs: &[(&'a str, &'a str)]) -> Vec<Current<'a>> {
        pairs.iter().map(|(key, fingerprint)| Current { key, fingerprint }).collect()
    }

    fn keys(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn each_case_of_a_fetch() {
        // (case, now, before, listed, unreadable, expected (create, update, withdraw, unchanged) or refusal)
        type Expected = Result<(Vec<String>, Vec<String>, Vec<String>, usize), Refusal>;
        let cases: Vec<(&str, Vec<(&str, &str)>, Vec<(&str, &str)>, usize, Vec<&str>, Expected)> = vec![
            (
                "first fetch",
                vec![("a", "1"), ("b", "1")],
                vec![],
                2,
                vec![],
                Ok((keys(&["a", "b"]), vec![], vec![], 0)),
            ),
            (
                "same again",
                vec![("a", "1"), ("b", "1")],
                vec![("a", "1"), ("b", "1")],
                2,
                vec![],
                Ok((vec![], vec![], vec![], 2)),
            ),
            (
                "one updated, one removed, one added",
                vec![("a", "2"), ("c", "1")],
                vec![("a", "1"), ("b", "1")],
                2,
                vec![],
                Ok((keys(&["c"]), keys(&["a"]), keys(&["b"]), 0)),
            ),
            (
                "an unreadable entry keeps its item",
                vec![("a", "1")],
                vec![("a", "1"), ("b", "1")],
                2,
                vec!["b"],
                Ok((vec![], vec![], vec![], 1)),
            ),
            (
                "everything ended: all withdrawn",
                vec![],
                vec![("a", "1")],
                3,
                vec![],
                Ok((vec![], vec![], keys(&["a"]), 0)),
            ),
            (
                "an empty document keeps all",
                vec![],
                vec![("a", "1")],
                0,
                vec![],
                Err(Refusal::EmptyDocument { live: 1 }),
            ),
            ("empty and nothing out", vec![], vec![], 0, vec![], Ok((vec![], vec![], vec![], 0))),
            (
                "a key twice counts once",
                vec![("a", "1"), ("a", "2")],
                vec![],
                2,
                vec![],
                Ok((keys(&["a"]), vec![], vec![], 0)),
            ),
        ];
        for (case, now, before, listed, unreadable, expected) in cases {
            let unreadable: HashSet<String> = unreadable.into_iter().map(str::to_owned).collect();
            let got = plan(&current(&now), &known(&before), listed, &unreadable)
                .map(|p| (p.create, p.update, p.withdraw, p.unchanged));
            assert_eq!(got, expected, "{case}");
        }
    }
}
