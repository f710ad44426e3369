#!/usr/bin/env python3
"""Memory of a techex server under a burst of wrong-secret token requests.

Starts the release binary on a fresh SQLite database, registers a client, optionally stores its
secret as an argon2id hash the way versions before the SHA-256 change did (the worst case: every
wrong guess then costs an argon2 run), sends BURST concurrent wrong-secret requests spread over
ADDRESSES loopback addresses, and prints the server's resident memory before, at its peak and
after, with the answers' status counts.

    cargo build --release -p techex-api
    python3 bench/token_burst.py [--burst 300] [--addresses 3] [--legacy-hash] [--no-throttle]

Only loopback addresses are used. --legacy-hash needs `argon2-cffi` (pip) and `sqlite3`.
"""
import argparse
import collections
import concurrent.futures
import http.client
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "techex")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run(args, env, data):
    return subprocess.run([BINARY, *args], env=env, cwd=data, check=True, capture_output=True, text=True).stdout


def token_request(port, source, client_id, attempt):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(source, 0))
    body = f"grant_type=client_credentials&client_id={client_id}&client_secret=wrong-{attempt}"
    try:
        conn.request("POST", "/v1/auth/token", body, {"content-type": "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError as error:
        return f"error: {error.__class__.__name__}"
    finally:
        conn.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--burst", type=int, default=300)
    parser.add_argument("--addresses", type=int, default=3)
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--legacy-hash", action="store_true", help="store the client's secret as argon2id")
    parser.add_argument("--no-throttle", action="store_true", help="lift the per-address limits")
    options = parser.parse_args()

    data = tempfile.mkdtemp(prefix="techex-burst-")
    env = dict(os.environ, TECHEX_DATABASE_URL=os.path.join(data, "techex.db"), TECHEX_DATA_DIR=data,
               TECHEX_BIND=f"127.0.0.1:{options.port}", TECHEX_DEMO_DATA="off", RUST_LOG="warn")
    if options.no_throttle:
        env.update(TECHEX_RATE_LIMIT_ANONYMOUS="1000000", TECHEX_TOKEN_FAILURES_PER_ADDRESS="1000000",
                   TECHEX_TOKEN_FAILURES_PER_CLIENT="1000000")
    org = re.search(r"organization_id: (\S+)", run(["orgs", "create", "--kind", "exchange", "--name-vi",
                                                   "Sàn thử tải", "--province", "79"], env, data)).group(1)
    created = run(["clients", "create", "--organization", org, "--name", "Burst", "--scopes",
                   "listings:write"], env, data)
    client_id = re.search(r"client_id:\s+(\S+)", created).group(1)
    if options.legacy_hash:
        import argon2  # argon2-cffi, the library's defaults match the server's earlier ones closely
        legacy = argon2.PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1).hash("old secret")
        subprocess.run(["sqlite3", env["TECHEX_DATABASE_URL"],
                        f"UPDATE api_clients SET secret_hash = '{legacy}' WHERE id = '{client_id}'"], check=True)

    server = subprocess.Popen([BINARY], env=env, cwd=data, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", options.port, timeout=1)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        time.sleep(0.5)
        before = rss_kib(server.pid)
        peak = [before]
        done = threading.Event()

        def watch():
            while not done.is_set():
                peak[0] = max(peak[0], rss_kib(server.pid))
                time.sleep(0.01)

        watcher = threading.Thread(target=watch)
        watcher.start()
        sources = [f"127.0.0.{i + 1}" for i in range(options.addresses)]
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=options.burst) as pool:
            statuses = list(pool.map(lambda i: token_request(options.port, sources[i % len(sources)], client_id, i),
                                     range(options.burst)))
        elapsed = time.monotonic() - started
        time.sleep(2)
        done.set()
        watcher.join()
        after = rss_kib(server.pid)
        health_started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", options.port, timeout=10)
        conn.request("GET", "/v1/listings")
        listing_status = conn.getresponse().status
        health_ms = (time.monotonic() - health_started) * 1000
        counts = collections.Counter(statuses)
        print(f"burst: {options.burst} wrong-secret requests from {options.addresses} addresses, "
              f"{'argon2id' if options.legacy_hash else 'SHA-256'} hash, "
              f"{'no throttles' if options.no_throttle else 'default throttles'}")
        print(f"answers: {dict(sorted(counts.items(), key=str))} in {elapsed:.2f} s")
        print(f"server RSS: before {before / 1024:.1f} MiB, peak {peak[0] / 1024:.1f} MiB, "
              f"2 s after {after / 1024:.1f} MiB")
        print(f"GET /v1/listings after the burst: {listing_status} in {health_ms:.1f} ms")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
