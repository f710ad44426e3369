//! A TCP proxy in front of the test database that a test can cut, to play a database outage
//! without touching the database server that other tests share.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub struct Proxy {
    pub addr: SocketAddr,
    cut: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    /// Listens on a free local port and forwards every connection to `upstream` (host:port).
    pub fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port for the proxy");
        let addr = listener.local_addr().unwrap();
        let (cut, live) = (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(Vec::new())));
        let (cut_seen, live_kept, upstream) = (cut.clone(), live.clone(), upstream.to_owned());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                // While cut, a connection is accepted and closed at once: the database hung up.
                if cut_seen.load(Ordering::Acquire) {
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream) else { continue };
                let mut kept = live_kept.lock().unwrap();
                kept.extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
                pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                pipe(server, client);
            }
        });
        Proxy { addr, cut, live }
    }

    /// From now on the database is unreachable: open connections break and new ones are closed.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::Release);
        for stream in self.live.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// The database is reachable again for new connections.
    pub fn restore(&self) {
        self.cut.store(false, Ordering::Release);
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buffer = [0u8; 16 * 1024];
        while let Ok(read) = from.read(&mut buffer) {
            if read == 0 || to.write_all(&buffer[..read]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}

/// The `host:port` of a `postgres://user@host:port/db` URL, and the URL with it replaced by `via`.
pub fn reroute(url: &str, via: &str) -> (String, String) {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (user, host) = match authority.rsplit_once('@') {
        Some((user, host)) => (format!("{user}@"), host),
        None => (String::new(), authority),
    };
    let host = if host.contains(':') { host.to_owned() } else { format!("{host}:5432") };
    (host, format!("{scheme}://{user}{via}{tail}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reroute_replaces_the_host_only() {
        assert_eq!(
            super::reroute("postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "127.0.0.1:6000"),
            ("127.0.0.1:5432".to_owned(), "postgres://postgres@127.0.0.1:6000/test?sslmode=disable".to_owned())
        );
        assert_eq!(super::reroute("postgres://db/x", "h:1"), ("db:5432".to_owned(), "postgres://h:1/x".to_owned()));
    }
}
