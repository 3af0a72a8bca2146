//! `palier-sync`: The sync daemon: keeps a board's cache in step with the platform. This crate is a placeholder until its issue lands.

fn main() {
    eprintln!("palier-sync {}: not built yet", env!("CARGO_PKG_VERSION"));
    std::process::exit(2);
}
