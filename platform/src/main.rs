//! `palier-platform`: The reference platform: publishing and device APIs. This crate is a placeholder until its issue lands.

fn main() {
    eprintln!("palier-platform {}: not built yet", env!("CARGO_PKG_VERSION"));
    std::process::exit(2);
}
