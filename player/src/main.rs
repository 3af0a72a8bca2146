//! `palier-player`: The GPU player: renders the rotation on the building's screens. This crate is a placeholder until its issue lands.

fn main() {
    eprintln!("palier-player {}: not built yet", env!("CARGO_PKG_VERSION"));
    std::process::exit(2);
}
