//! Moving an installation between stores: `palier-platform export` writes the database as
//! JSON Lines ([`crate::store::dump`]); `import` reads it into a new, empty store and, given
//! the old media directory, copies every stored file into the new media storage (a bucket,
//! say), checking each against its address.

use std::fs;
use std::io::{BufReader, BufWriter};
use std::path::Path;

use crate::administration::AdminError;
use crate::media::MediaFiles;
use crate::store::Store;
use crate::store::dump::{Dump, Value};

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    pub rows: usize,
    pub media_copied: usize,
}

/// Writes the store's export to `out` (through a temporary file, so a cut export never
/// looks whole); returns the number of rows.
pub async fn export(store: &dyn Store, out: &Path) -> Result<usize, AdminError> {
    let dump = store.export().await?;
    let temp = out.with_extension("partial");
    let written = (|| {
        let mut file = BufWriter::new(fs::File::create(&temp)?);
        dump.write(&mut file)?;
        file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        fs::rename(&temp, out)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(AdminError::Invalid(format!("{}: {e}", out.display())));
    }
    Ok(dump.tables.iter().map(|t| t.rows.len()).sum())
}

/// Reads an export into `store` (which must be empty) and, with `media_from`, copies the
/// media files it names from that directory into `media`.
pub async fn import(
    store: &dyn Store,
    media: &MediaFiles,
    file: &Path,
    media_from: Option<&Path>,
) -> Result<Imported, AdminError> {
    let invalid = |e: &dyn std::fmt::Display| AdminError::Invalid(format!("{}: {e}", file.display()));
    let reader = BufReader::new(fs::File::open(file).map_err(|e| invalid(&e))?);
    let dump = Dump::read(reader).map_err(|e| invalid(&e))?;
    let mut imported = Imported { rows: dump.tables.iter().map(|t| t.rows.len()).sum(), media_copied: 0 };
    // Files first: a database that names a file the storage lacks would break boards.
    if let Some(dir) = media_from {
        for sha256 in media_addresses(&dump) {
            let path = dir.join(&sha256);
            let missing = |e: &dyn std::fmt::Display| {
                AdminError::Invalid(format!("media file {}: {e}; nothing was imported", path.display()))
            };
            let (stored, _) = media.put_file(&path).await.map_err(|e| missing(&e))?;
            if stored != sha256 {
                return Err(missing(&format!("its content has SHA-256 {stored}")));
            }
            imported.media_copied += 1;
        }
    }
    store.import(&dump).await?;
    Ok(imported)
}

/// The addresses of every stored file (pictures and update bundles).
fn media_addresses(dump: &Dump) -> Vec<String> {
    let Some(table) = dump.tables.iter().find(|t| t.name == "media") else { return Vec::new() };
    let Some(column) = table.columns.iter().position(|c| c == "sha256") else { return Vec::new() };
    table
        .rows
        .iter()
        .filter_map(|row| match &row[column] {
            Value::Text(sha256) if crate::ids::MediaAddress::parse(sha256).is_ok() => Some(sha256.clone()),
            _ => None,
        })
        .collect()
}
