//! systemd's service notifications (`sd_notify`), by hand: one datagram per message to the
//! socket named by `$NOTIFY_SOCKET`, a path or an abstract name written `@name`.
//!
//! Both services of a board use it. `palier-sync` says `READY=1` once its first round was
//! attempted and pets the watchdog from its loop; the player says `READY=1` after its first
//! presented frames and pets the watchdog only after presenting one, so a stuck GPU gets the
//! player restarted. `STATUS=` lines show in `systemctl status`. Outside systemd nothing is
//! set and every call is a no-op.

use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

/// A handle on the service manager's notification socket, if there is one.
#[derive(Debug)]
pub struct Notifier {
    target: Option<(UnixDatagram, SocketAddr)>,
}

impl Notifier {
    /// Reads `$NOTIFY_SOCKET`; without it (or if it is unusable) notifications are dropped.
    pub fn from_env() -> Notifier {
        match std::env::var_os("NOTIFY_SOCKET") {
            Some(name) => Notifier::to_socket(&name.to_string_lossy()).unwrap_or_else(|e| {
                tracing::warn!("NOTIFY_SOCKET {name:?} is unusable ({e}); no service notifications");
                Notifier::disabled()
            }),
            None => Notifier::disabled(),
        }
    }

    pub fn disabled() -> Notifier {
        Notifier { target: None }
    }

    /// A notifier for a socket path, or an abstract name written `@name`.
    pub fn to_socket(name: &str) -> std::io::Result<Notifier> {
        let address = match name.strip_prefix('@') {
            Some(abstract_name) => {
                use std::os::linux::net::SocketAddrExt;
                SocketAddr::from_abstract_name(abstract_name.as_bytes())?
            }
            None => SocketAddr::from_pathname(name)?,
        };
        Ok(Notifier { target: Some((UnixDatagram::unbound()?, address)) })
    }

    fn send(&self, message: &str) {
        if let Some((socket, address)) = &self.target
            && let Err(e) = socket.send_to_addr(message.as_bytes(), address)
        {
            tracing::debug!("sd_notify {message:?} failed: {e}");
        }
    }

    pub fn ready(&self, status: &str) {
        self.send(&format!("READY=1\nSTATUS={}", one_line(status)));
    }

    pub fn status(&self, status: &str) {
        self.send(&format!("STATUS={}", one_line(status)));
    }

    pub fn watchdog(&self) {
        self.send("WATCHDOG=1");
    }

    pub fn stopping(&self) {
        self.send("STOPPING=1");
    }
}

fn one_line(text: &str) -> String {
    text.replace('\n', " ")
}

/// How often to pet the watchdog: half of `$WATCHDOG_USEC`, when it is set for this process.
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    if let Some(pid) = std::env::var("WATCHDOG_PID").ok().and_then(|p| p.parse::<u32>().ok())
        && pid != std::process::id()
    {
        return None;
    }
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(socket: &UnixDatagram) -> String {
        let mut buffer = [0; 256];
        let n = socket.recv(&mut buffer).unwrap();
        String::from_utf8_lossy(&buffer[..n]).into_owned()
    }

    #[test]
    fn messages_reach_a_path_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let listener = UnixDatagram::bind(&path).unwrap();
        let notifier = Notifier::to_socket(path.to_str().unwrap()).unwrap();
        notifier.ready("generation 4\nsynced");
        assert_eq!(received(&listener), "READY=1\nSTATUS=generation 4 synced");
        notifier.watchdog();
        assert_eq!(received(&listener), "WATCHDOG=1");
    }

    #[test]
    fn messages_reach_an_abstract_socket() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("palier-notify-test-{}", std::process::id());
        let address = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let listener = UnixDatagram::bind_addr(&address).unwrap();
        Notifier::to_socket(&format!("@{name}")).unwrap().status("platform unreachable");
        assert_eq!(received(&listener), "STATUS=platform unreachable");
        Notifier::disabled().ready("nobody listens"); // a no-op, not an error
    }
}
