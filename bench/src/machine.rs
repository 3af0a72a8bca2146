//! The machine a run measured: cores, CPU model, memory, kernel, GPU adapter, Mesa and
//! Chromium versions, and how loaded it was. Every table and JSON file starts with it.

use std::process::Command;

use serde_json::{Value, json};

/// One line of `/proc/loadavg`: the 1-, 5- and 15-minute load averages.
pub fn load_average() -> [f64; 3] {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut values = text.split_whitespace().map(|v| v.parse().unwrap_or(f64::NAN));
    [(); 3].map(|_| values.next().unwrap_or(f64::NAN))
}

/// What the machine is.
#[derive(Debug, Clone)]
pub struct Machine {
    pub cores: usize,
    pub cpu_model: String,
    pub memory_gib: f64,
    pub kernel: String,
    /// `Gpu::describe()` of the adapter the player draws with offscreen.
    pub adapter: String,
    pub mesa: String,
    pub chromium: String,
    pub commit: String,
}

fn first_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("").trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

impl Machine {
    pub fn describe(adapter: String) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or("unknown".to_owned(), |(_, v)| v.trim().to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kib: f64 = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or(0.0);
        let chromium = first_line("chromium", &["--version"]);
        Machine {
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu_model,
            memory_gib: memory_kib / 1024.0 / 1024.0,
            kernel: first_line("uname", &["-r"]),
            adapter,
            mesa: first_line("dpkg-query", &["-W", "-f=${Version}", "mesa-vulkan-drivers"]),
            chromium: if chromium == "unknown" { "not installed".to_owned() } else { chromium },
            commit: first_line("git", &["rev-parse", "--short", "HEAD"]),
        }
    }

    pub fn header(&self) -> Vec<String> {
        vec![
            format!(
                "machine: {} cores, {}, {:.0} GiB, Linux {}",
                self.cores, self.cpu_model, self.memory_gib, self.kernel
            ),
            format!("adapter: {}; Mesa {}", self.adapter, self.mesa),
            format!("baseline: {}", self.chromium),
        ]
    }

    pub fn to_json(&self) -> Value {
        json!({
            "cores": self.cores,
            "cpu_model": self.cpu_model,
            "memory_gib": self.memory_gib,
            "kernel": self.kernel,
            "adapter": self.adapter,
            "mesa": self.mesa,
            "chromium": self.chromium,
            "commit": self.commit,
        })
    }
}
