//! Helpers shared by Palier's end-to-end tests: where the workspace and its assets are.

use std::path::PathBuf;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace").to_path_buf()
}

/// The bundled demo pack.
pub fn demo_dir() -> PathBuf {
    workspace_root().join("assets").join("demo")
}
