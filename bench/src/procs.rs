//! Measuring a running program from outside, through `/proc`, the same way for Palier, for
//! Chromium and for Xvfb: CPU time, wake-ups, and memory summed over all its processes.
//!
//! A program is a root process, its descendants, and any process whose command line holds a
//! marker (Chromium's crash handler is not a child of the browser; its command line names
//! the profile directory). A [`Watch`] samples the program every `period` on a thread of its
//! own until stopped:
//! - CPU seconds: `utime + stime` of each process (`/proc/PID/stat`; exited threads stay
//!   counted in their process), from its value at the start of the watch, or from zero for a
//!   process born during it;
//! - wake-ups: voluntary context switches, i.e. times a thread went to sleep and was woken
//!   again, per thread (`/proc/PID/task/TID/status`), counted the same way; the main
//!   thread's own count of the root process is kept apart;
//! - peak RSS and peak PSS: the largest sum over the program's processes of `VmRSS` and of
//!   `Pss` (`/proc/PID/smaps_rollup`, which shares each page among the processes that map
//!   it, so libraries shared by Chromium's processes count once overall).
//!
//! The last sample is taken when the watch stops; a process that exits between two samples
//! loses what it did since the previous one, so the period stays short.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Clock ticks per second of `/proc/PID/stat` times (`getconf CLK_TCK`; 100 on Linux).
pub fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// Which processes make up a program.
#[derive(Debug, Clone)]
pub struct Program {
    pub root: u32,
    /// A substring of the command line of processes that belong to it without descending
    /// from `root`.
    pub marker: Option<String>,
}

impl Program {
    pub fn new(root: u32) -> Program {
        Program { root, marker: None }
    }

    pub fn with_marker(root: u32, marker: &str) -> Program {
        Program { root, marker: Some(marker.to_owned()) }
    }

    /// The program's processes now.
    pub fn pids(&self) -> Vec<u32> {
        let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
        let mut marked = Vec::new();
        for pid in all_pids() {
            if let Some(ppid) = stat_fields(pid).and_then(|f| f.get(1).and_then(|v| v.parse().ok())) {
                children.entry(ppid).or_default().push(pid);
            }
            if let Some(marker) = &self.marker
                && fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker.as_str()))
            {
                marked.push(pid);
            }
        }
        let mut found: HashSet<u32> = HashSet::new();
        let mut queue = vec![self.root];
        queue.extend(marked);
        while let Some(pid) = queue.pop() {
            if found.insert(pid) {
                queue.extend(children.get(&pid).into_iter().flatten().copied());
            }
        }
        let mut pids: Vec<u32> =
            found.into_iter().filter(|pid| fs::metadata(format!("/proc/{pid}")).is_ok()).collect();
        pids.sort_unstable();
        pids
    }
}

fn all_pids() -> Vec<u32> {
    fs::read_dir("/proc")
        .map(|entries| entries.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).collect())
        .unwrap_or_default()
}

/// The fields of `/proc/PID/stat` after the command name: state is index 0, ppid 1,
/// utime 11, stime 12.
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// CPU ticks used so far by process `pid`, all its threads (live and exited).
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let fields = stat_fields(pid)?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// A `kB` field of a `/proc` status-like file, in KiB.
fn kib_field(text: &str, name: &str) -> Option<u64> {
    text.lines().find(|l| l.starts_with(name))?.split_whitespace().nth(1)?.parse().ok()
}

/// A numeric field of `/proc/PID/status` (`VmRSS:` in KiB, `Threads:`); 0 if unreadable.
pub fn status_field(pid: u32, field: &str) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status")).ok().and_then(|s| kib_field(&s, field)).unwrap_or(0)
}

/// How many descriptors the process holds open; 0 if unreadable.
pub fn open_fds(pid: u32) -> u64 {
    fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count() as u64).unwrap_or(0)
}

/// The peak resident set of one process so far (`VmHWM`), in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    kib_field(&fs::read_to_string(format!("/proc/{pid}/status")).ok()?, "VmHWM:")
}

fn voluntary_switches(path: &str) -> Option<u64> {
    let status = fs::read_to_string(path).ok()?;
    status.lines().find(|l| l.starts_with("voluntary_ctxt_switches"))?.split_whitespace().nth(1)?.parse().ok()
}

/// The proportional set size of all of `program`'s processes now, in MiB.
pub fn pss_mib(program: &Program) -> f64 {
    let kib: u64 = program
        .pids()
        .iter()
        .filter_map(|pid| fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok())
        .map(|rollup| kib_field(&rollup, "Pss:").unwrap_or(0))
        .sum();
    kib as f64 / 1024.0
}

/// What a watch measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    pub seconds: f64,
    pub cpu_s: f64,
    /// Voluntary context switches of every thread of every process.
    pub wakeups: u64,
    /// Those of the root process's main thread.
    pub main_wakeups: u64,
    pub peak_rss_mib: f64,
    pub peak_pss_mib: f64,
    /// Most processes and threads seen at once.
    pub processes: usize,
    pub threads: usize,
}

#[derive(Debug, Default)]
struct Counters {
    /// pid -> (ticks at first sight, or 0 if born during the watch; ticks at last sight)
    cpu: HashMap<u32, (u64, u64)>,
    wakeups: HashMap<(u32, u32), (u64, u64)>,
    peak_rss_kib: u64,
    peak_pss_kib: u64,
    processes: usize,
    threads: usize,
}

impl Counters {
    fn sample(&mut self, program: &Program, first: bool) {
        let pids = program.pids();
        let (mut rss, mut pss, mut threads) = (0, 0, 0);
        for &pid in &pids {
            if let Some(ticks) = cpu_ticks(pid) {
                let entry = self.cpu.entry(pid).or_insert((if first { ticks } else { 0 }, ticks));
                entry.1 = ticks;
            }
            if let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status")) {
                rss += kib_field(&status, "VmRSS:").unwrap_or(0);
            }
            if let Ok(rollup) = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) {
                pss += kib_field(&rollup, "Pss:").unwrap_or(0);
            }
            let tids: Vec<u32> = fs::read_dir(format!("/proc/{pid}/task"))
                .map(|e| e.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).collect())
                .unwrap_or_default();
            threads += tids.len();
            for tid in tids {
                if let Some(n) = voluntary_switches(&format!("/proc/{pid}/task/{tid}/status")) {
                    let entry = self.wakeups.entry((pid, tid)).or_insert((if first { n } else { 0 }, n));
                    entry.1 = n;
                }
            }
        }
        self.peak_rss_kib = self.peak_rss_kib.max(rss);
        self.peak_pss_kib = self.peak_pss_kib.max(pss);
        self.processes = self.processes.max(pids.len());
        self.threads = self.threads.max(threads);
    }

    fn usage(&self, program: &Program, seconds: f64, ticks_per_s: f64) -> Usage {
        let cpu: u64 = self.cpu.values().map(|(a, b)| b.saturating_sub(*a)).sum();
        Usage {
            seconds,
            cpu_s: cpu as f64 / ticks_per_s,
            wakeups: self.wakeups.values().map(|(a, b)| b.saturating_sub(*a)).sum(),
            main_wakeups: self
                .wakeups
                .get(&(program.root, program.root))
                .map_or(0, |(a, b)| b.saturating_sub(*a)),
            peak_rss_mib: self.peak_rss_kib as f64 / 1024.0,
            peak_pss_mib: self.peak_pss_kib as f64 / 1024.0,
            processes: self.processes,
            threads: self.threads,
        }
    }
}

/// Samples a program on a thread until [`Watch::stop`].
#[derive(Debug)]
pub struct Watch {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Usage>,
}

impl Watch {
    pub fn start(program: Program, period: Duration) -> Watch {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let ticks_per_s = clock_ticks();
        let handle = std::thread::spawn(move || {
            let start = Instant::now();
            let mut counters = Counters::default();
            counters.sample(&program, true);
            let mut next = start + period;
            while !flag.load(Ordering::Relaxed) {
                let now = Instant::now();
                if now >= next {
                    counters.sample(&program, false);
                    next += period;
                } else {
                    std::thread::sleep((next - now).min(Duration::from_millis(50)));
                }
            }
            counters.sample(&program, false);
            counters.usage(&program, start.elapsed().as_secs_f64(), ticks_per_s)
        });
        Watch { stop, handle }
    }

    /// Takes a last sample and returns the figures.
    pub fn stop(self) -> Usage {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().expect("the watch thread does not panic")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_measured() {
        let watch = Watch::start(Program::new(std::process::id()), Duration::from_millis(20));
        let start = Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(200) {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        std::hint::black_box(x);
        let usage = watch.stop();
        assert!(usage.cpu_s > 0.0, "{usage:?}");
        assert!(usage.peak_rss_mib > 0.0 && usage.peak_pss_mib > 0.0, "{usage:?}");
        assert!(usage.processes >= 1 && usage.threads >= 2, "{usage:?}");
    }
}
