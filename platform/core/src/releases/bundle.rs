//! What an update bundle says it is, read from the bundle itself: a RAUC "plain" bundle is a
//! squashfs image (holding `manifest.raucm`), then its CMS signature, then the signature's
//! size as 8 big-endian bytes. The platform reads the manifest's `[update]` section
//! (`compatible`, `version`) with `backhand` (squashfs) and `rust-ini`; it does not check the
//! signature — boards do, against the key baked into their image, and refuse anything else.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

/// The largest CMS signature RAUC writes.
const MAX_SIGNATURE_BYTES: u64 = 64 * 1024;

/// What a bundle installs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleInfo {
    pub compatible: String,
    pub version: String,
}

/// Why a file is not a bundle the platform can offer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct BundleError {
    pub path: String,
    pub reason: String,
}

/// Reads a bundle's manifest.
pub fn read(path: &Path) -> Result<BundleInfo, BundleError> {
    let fail = |reason: String| BundleError { path: path.display().to_string(), reason };
    let mut file = File::open(path).map_err(|e| fail(e.to_string()))?;
    let size = file.metadata().map_err(|e| fail(e.to_string()))?.len();
    if size < 4096 + 8 {
        return Err(fail(format!(
            "{size} bytes is too small for an update bundle (made with `rauc bundle`)"
        )));
    }
    // The trailer: the signature's size, which must fit in the file.
    let mut trailer = [0u8; 8];
    file.seek(SeekFrom::Start(size - 8))
        .and_then(|_| file.read_exact(&mut trailer))
        .map_err(|e| fail(e.to_string()))?;
    let signature = u64::from_be_bytes(trailer);
    if signature == 0 || signature > MAX_SIGNATURE_BYTES || signature + 8 >= size {
        return Err(fail("it does not end with a RAUC signature: is it a bundle, and whole?".to_owned()));
    }
    file.seek(SeekFrom::Start(0)).map_err(|e| fail(e.to_string()))?;
    let squashfs = backhand::FilesystemReader::from_reader(BufReader::new(file))
        .map_err(|e| fail(format!("its image cannot be read ({e}): is it a RAUC bundle?")))?;
    let node = squashfs
        .files()
        .find(|node| node.fullpath == Path::new("/manifest.raucm"))
        .ok_or_else(|| fail("it holds no manifest.raucm".to_owned()))?;
    let backhand::InnerNode::File(manifest) = &node.inner else {
        return Err(fail("its manifest.raucm is not a file".to_owned()));
    };
    let mut text = String::new();
    squashfs
        .file(manifest)
        .reader()
        .take(64 * 1024)
        .read_to_string(&mut text)
        .map_err(|e| fail(format!("its manifest cannot be read: {e}")))?;
    parse_manifest(&text).map_err(fail)
}

/// The `[update]` section of a `manifest.raucm`.
pub fn parse_manifest(text: &str) -> Result<BundleInfo, String> {
    let ini = ini::Ini::load_from_str(text).map_err(|e| format!("its manifest is not a key file: {e}"))?;
    let update = ini.section(Some("update")).ok_or("its manifest has no [update] section")?;
    let get = |key: &str| {
        update.get(key).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).ok_or_else(|| {
            format!("its manifest names no {key} in [update]; give the bundle one when building it")
        })
    };
    Ok(BundleInfo { compatible: get("compatible")?, version: get("version")? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_says_what_the_bundle_installs() {
        let manifest = "[update]\ncompatible=palier-amd64\nversion=0.4.0-12\ndescription=Palier\n\n[image.rootfs]\nfilename=root.ext4\n";
        assert_eq!(
            parse_manifest(manifest).unwrap(),
            BundleInfo { compatible: "palier-amd64".into(), version: "0.4.0-12".into() }
        );
        assert!(parse_manifest("[update]\ncompatible=palier-amd64\n").unwrap_err().contains("version"));
        assert!(parse_manifest("[image.rootfs]\nfilename=x\n").unwrap_err().contains("[update]"));
    }

    #[test]
    fn what_is_not_a_bundle_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&str, Vec<u8>, &str); 3] = [
            ("small.raucb", vec![0; 100], "too small"),
            ("zeros.raucb", vec![0; 10_000], "does not end with a RAUC signature"),
            ("fake.raucb", [vec![7; 10_000], 200u64.to_be_bytes().to_vec()].concat(), "cannot be read"),
        ];
        for (name, bytes, expected) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let error = read(&path).unwrap_err().to_string();
            assert!(error.contains(name) && error.contains(expected), "{error}");
        }
    }
}
