//! The update engine on the board: RAUC, through its command line (which talks to the
//! `rauc` service over D-Bus). It verifies a bundle's signature against the keyring baked
//! into the image, checks it is for this system, writes the other slot and makes it the next
//! boot; it marks the booted slot good or bad for the boot loader's fallback. Palier never
//! writes a slot itself.

use std::path::Path;

use tokio::process::Command;

/// What RAUC says about the slots.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EngineStatus {
    /// The booted slot's boot name (`A`, `B`).
    pub booted: Option<String>,
    /// The booted slot is marked good.
    pub booted_good: bool,
}

/// RAUC on this board.
#[derive(Debug, Clone)]
pub struct Rauc {
    program: String,
}

impl Default for Rauc {
    fn default() -> Rauc {
        Rauc { program: "rauc".to_owned() }
    }
}

async fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let output = Command::new(program)
        .args(args)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("{program} cannot run: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        return Ok(stdout);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    // RAUC says why on stdout (`LastError: …`) or stderr; keep the telling lines.
    let why: Vec<&str> = stdout
        .lines()
        .chain(stderr.lines())
        .map(str::trim)
        .filter(|l| {
            !l.is_empty()
                && !l.ends_with('%')
                && !l.contains("% Installing")
                && *l != "idle"
                && *l != "installing"
        })
        .collect();
    Err(if why.is_empty() {
        format!("{program} {} failed ({})", args.join(" "), output.status)
    } else {
        why.join("; ")
    })
}

impl Rauc {
    /// Whether this board has an update engine at all.
    pub fn present() -> bool {
        Path::new("/etc/rauc/system.conf").exists()
    }

    pub async fn status(&self) -> Result<EngineStatus, String> {
        let json = run(&self.program, &["status", "--output-format=json"]).await?;
        parse_status(&json)
    }

    /// Verifies and writes the bundle into the other slot, which becomes the next boot.
    pub async fn install(&self, bundle: &Path) -> Result<(), String> {
        let path = bundle.to_string_lossy();
        run(&self.program, &["install", &path]).await.map(|_| ())
    }

    pub async fn mark_good(&self) -> Result<(), String> {
        run(&self.program, &["status", "mark-good", "booted"]).await.map(|_| ())
    }

    pub async fn mark_bad(&self) -> Result<(), String> {
        run(&self.program, &["status", "mark-bad", "booted"]).await.map(|_| ())
    }
}

/// Asks the kernel to write every file system's pending data (`sync`, allowed to any user).
pub async fn flush_to_disk() {
    if let Err(e) = run("sync", &[]).await {
        tracing::warn!("sync: {e}");
    }
}

/// Reads `rauc status --output-format=json`: `booted` is the boot name; each slot carries its
/// `bootname` and `boot_status`.
pub fn parse_status(json: &str) -> Result<EngineStatus, String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("rauc status is not JSON: {e}"))?;
    let booted = value.get("booted").and_then(|b| b.as_str()).map(str::to_owned);
    let slots = value.get("slots").and_then(|s| s.as_array()).cloned().unwrap_or_default();
    let booted_good =
        slots.iter().flat_map(|s| s.as_object().into_iter().flat_map(|o| o.values())).any(|slot| {
            slot.get("bootname").and_then(|b| b.as_str()) == booted.as_deref()
                && slot.get("boot_status").and_then(|b| b.as_str()) == Some("good")
        });
    Ok(EngineStatus { booted, booted_good })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rauc_status_names_the_booted_slot_and_whether_it_is_good() {
        let json = r#"{"compatible":"palier-amd64","variant":"","booted":"B","boot_primary":"rootfs.1",
            "slots":[{"rootfs.0":{"class":"rootfs","device":"/dev/vda2","type":"ext4","bootname":"A",
            "state":"inactive","parent":null,"mountpoint":null,"boot_status":"good"}},
            {"rootfs.1":{"class":"rootfs","device":"/dev/vda3","type":"ext4","bootname":"B",
            "state":"booted","parent":null,"mountpoint":"/","boot_status":"bad"}}]}"#;
        assert_eq!(
            parse_status(json).unwrap(),
            EngineStatus { booted: Some("B".into()), booted_good: false }
        );
        let good = json.replace(r#""boot_status":"bad""#, r#""boot_status":"good""#);
        assert!(parse_status(&good).unwrap().booted_good);
        assert!(parse_status("not json").is_err());
    }
}
