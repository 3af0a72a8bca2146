//! A counting proxy for HTTP/1.1 on loopback: what a device and the platform really send
//! each other, byte for byte, per request.
//!
//! A board pointed at the proxy instead of the platform works as usual; the proxy forwards
//! every byte both ways and, reading the stream as HTTP/1.1 messages (head, then a body by
//! `Content-Length` or chunked), records for each request its method, path, status, and the
//! bytes of request and response — start line, headers and body, as they cross the socket.
//! TCP/IP headers are not counted (loopback has no link layer to count them on); a kept-alive
//! connection adds no handshake, which the proxy's connection count shows.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One request and its response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    pub connection: usize,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub request_bytes: u64,
    pub response_bytes: u64,
}

#[derive(Debug, Default)]
struct Log {
    exchanges: Vec<Exchange>,
    connections: usize,
}

/// The proxy; it serves until the process exits.
#[derive(Debug, Clone)]
pub struct CountingProxy {
    pub addr: SocketAddr,
    log: Arc<Mutex<Log>>,
}

impl CountingProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub fn start(upstream: SocketAddr) -> std::io::Result<CountingProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let log = Arc::new(Mutex::new(Log::default()));
        let shared = Arc::clone(&log);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(upstream) else { continue };
                let connection = {
                    let mut log = shared.lock().expect("log lock");
                    log.connections += 1;
                    log.connections
                };
                let pending = Arc::new(Mutex::new(VecDeque::new()));
                let (c2, s2) = match (client.try_clone(), server.try_clone()) {
                    (Ok(c), Ok(s)) => (c, s),
                    _ => continue,
                };
                let requests = Arc::clone(&pending);
                std::thread::spawn(move || {
                    pump(client, server, Direction::Request, |message| {
                        requests.lock().expect("queue lock").push_back(message);
                    })
                });
                let log = Arc::clone(&shared);
                std::thread::spawn(move || {
                    pump(s2, c2, Direction::Response, |response| {
                        let request = pending.lock().expect("queue lock").pop_front().unwrap_or_default();
                        log.lock().expect("log lock").exchanges.push(Exchange {
                            connection,
                            method: request.first,
                            path: request.second,
                            status: response.second.parse().unwrap_or(0),
                            request_bytes: request.bytes,
                            response_bytes: response.bytes,
                        });
                    })
                });
            }
        });
        Ok(CountingProxy { addr, log })
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        self.log.lock().expect("log lock").exchanges.clone()
    }

    /// TCP connections opened through the proxy so far.
    pub fn connections(&self) -> usize {
        self.log.lock().expect("log lock").connections
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Request,
    Response,
}

/// A whole message: the first two words of its start line (method and path, or version and
/// status) and its size on the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Message {
    first: String,
    second: String,
    bytes: u64,
}

/// Copies `from` to `to`, handing each complete message to `done`.
fn pump(mut from: TcpStream, mut to: TcpStream, direction: Direction, mut done: impl FnMut(Message)) {
    let mut parser = Parser::new(direction);
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
                for message in parser.feed(&buffer[..n]) {
                    done(message);
                }
            }
        }
    }
    if let Some(message) = parser.close() {
        done(message);
    }
    let _ = to.shutdown(Shutdown::Write);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    Body(u64),
    UntilClose,
    ChunkSize,
    ChunkData(u64),
    ChunkEnd,
}

/// Splits one direction of an HTTP/1.1 connection into messages.
#[derive(Debug)]
struct Parser {
    direction: Direction,
    state: State,
    buffer: Vec<u8>,
    current: Message,
}

impl Parser {
    fn new(direction: Direction) -> Parser {
        Parser { direction, state: State::Head, buffer: Vec::new(), current: Message::default() }
    }

    fn feed(&mut self, bytes: &[u8]) -> Vec<Message> {
        self.buffer.extend_from_slice(bytes);
        let mut done = Vec::new();
        loop {
            match self.state {
                State::Head => {
                    let Some(end) = find(&self.buffer, b"\r\n\r\n") else { break };
                    let head: Vec<u8> = self.buffer.drain(..end + 4).collect();
                    self.start(&String::from_utf8_lossy(&head));
                    if self.state == State::Head {
                        done.push(std::mem::take(&mut self.current));
                    }
                }
                State::Body(left) => {
                    let take = left.min(self.buffer.len() as u64);
                    self.buffer.drain(..take as usize);
                    self.current.bytes += take;
                    if take == left {
                        self.state = State::Head;
                        done.push(std::mem::take(&mut self.current));
                    } else {
                        self.state = State::Body(left - take);
                        break;
                    }
                }
                State::UntilClose => {
                    self.current.bytes += self.buffer.len() as u64;
                    self.buffer.clear();
                    break;
                }
                State::ChunkSize => {
                    let Some(end) = find(&self.buffer, b"\r\n") else { break };
                    let line: Vec<u8> = self.buffer.drain(..end + 2).collect();
                    self.current.bytes += line.len() as u64;
                    let text = String::from_utf8_lossy(&line);
                    let size =
                        u64::from_str_radix(text.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
                    self.state = if size == 0 { State::ChunkEnd } else { State::ChunkData(size + 2) };
                }
                State::ChunkData(left) => {
                    let take = left.min(self.buffer.len() as u64);
                    self.buffer.drain(..take as usize);
                    self.current.bytes += take;
                    if take == left {
                        self.state = State::ChunkSize;
                    } else {
                        self.state = State::ChunkData(left - take);
                        break;
                    }
                }
                State::ChunkEnd => {
                    // No trailers are sent by either side: the last chunk ends with one CRLF.
                    if self.buffer.len() < 2 {
                        break;
                    }
                    self.buffer.drain(..2);
                    self.current.bytes += 2;
                    self.state = State::Head;
                    done.push(std::mem::take(&mut self.current));
                }
            }
        }
        done
    }

    /// Reads a message head and decides how its body is framed.
    fn start(&mut self, head: &str) {
        let mut lines = head.split("\r\n");
        let mut words = lines.next().unwrap_or("").split_whitespace();
        self.current = Message {
            first: words.next().unwrap_or("").to_owned(),
            second: words.next().unwrap_or("").to_owned(),
            bytes: head.len() as u64,
        };
        let mut length = None;
        let mut chunked = false;
        for line in lines {
            if let Some((name, value)) = line.split_once(':') {
                let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
                if name == "content-length" {
                    length = value.parse::<u64>().ok();
                } else if name == "transfer-encoding" && value.to_ascii_lowercase().contains("chunked") {
                    chunked = true;
                }
            }
        }
        let status: u16 = self.current.second.parse().unwrap_or(0);
        let bodiless =
            self.direction == Direction::Response && (status < 200 || status == 204 || status == 304);
        self.state = if bodiless {
            State::Head
        } else if chunked {
            State::ChunkSize
        } else if let Some(n) = length {
            if n == 0 { State::Head } else { State::Body(n) }
        } else if self.direction == Direction::Response {
            State::UntilClose
        } else {
            State::Head
        };
    }

    fn close(&mut self) -> Option<Message> {
        (self.state == State::UntilClose).then(|| std::mem::take(&mut self.current))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_split_and_counted() {
        let mut requests = Parser::new(Direction::Request);
        let get = b"GET /v1/device/manifest HTTP/1.1\r\nhost: x\r\n\r\n";
        let post = b"POST /v1/device/heartbeat HTTP/1.1\r\ncontent-length: 5\r\n\r\nhello";
        let mut stream = get.to_vec();
        stream.extend_from_slice(post);
        let (a, b) = stream.split_at(30);
        let mut got = requests.feed(a);
        got.extend(requests.feed(b));
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].first.as_str(), got[0].second.as_str()), ("GET", "/v1/device/manifest"));
        assert_eq!(got[0].bytes, get.len() as u64);
        assert_eq!(got[1].bytes, post.len() as u64);

        let mut responses = Parser::new(Direction::Response);
        let not_modified = b"HTTP/1.1 304 Not Modified\r\netag: \"g1\"\r\n\r\n";
        let chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        let mut stream = not_modified.to_vec();
        stream.extend_from_slice(chunked);
        let got = responses.feed(&stream);
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].second.as_str(), got[0].bytes), ("304", not_modified.len() as u64));
        assert_eq!(got[1].bytes, chunked.len() as u64);
    }
}
