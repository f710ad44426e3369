"""The load, the kills and the checks of bench/crash, against one database (URL).

Environment: BIN (techex), URL (an SQLite file or postgres://…), WORK (a temporary folder),
KILLS (how many kill -9), WRITERS (client threads).
"""

import datetime
import http.client
import http.server
import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

BIN, URL, WORK = os.environ["BIN"], os.environ["URL"], os.environ["WORK"]
KILLS, WRITERS = int(os.environ["KILLS"]), int(os.environ["WRITERS"])
POSTGRES = URL.startswith("postgres")
ITEMS_PER_WRITER = 40
BATCH_ITEMS = 20


def progress(text):
    print(text, file=sys.stderr, flush=True)


def free_port():
    """A free port below the ephemeral range (32768 and up here): a port the kernel hands out
    for port 0 could, while the killed server is down, go to another program (another run of
    this script), whose server the clients would then talk to."""
    import socket
    while True:
        port = random.randint(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue


PORT = free_port()
BASE = f"http://127.0.0.1:{PORT}"
ENV = {k: v for k, v in os.environ.items() if not k.startswith("TECHEX_")}
ENV.update(TECHEX_DATABASE_URL=URL, TECHEX_DATA_DIR=WORK, TECHEX_BIND=f"127.0.0.1:{PORT}", TECHEX_DEMO_DATA="off",
           TECHEX_RATE_LIMIT_CLIENT="10000000", TECHEX_WEBHOOKS_ALLOW_PRIVATE="true", RUST_LOG="warn")


def sql(query, read_only=True):
    """Rows of a query on the server's database, read beside the server. On SQLite read-only,
    so that closing the last connection to a killed server's database does not checkpoint its
    WAL: the restarted server is the one to recover it."""
    if POSTGRES:
        out = subprocess.run(["psql", URL, "-AtqX", "-F", "\t", "-c", query], check=True, capture_output=True,
                             text=True).stdout
        return [tuple(line.split("\t")) for line in out.splitlines() if line]
    conn = sqlite3.connect(f"file:{URL}?mode=ro" if read_only else URL, uri=read_only, timeout=30)
    try:
        return [tuple(str(v) for v in row) for row in conn.execute(query).fetchall()]
    finally:
        conn.close()


def call(method, path, body=None, token=None, form=None, key=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else form
    request = urllib.request.Request(BASE + path, data=data, method=method)
    if body is not None:
        request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", "Bearer " + token)
    if key:
        request.add_header("idempotency-key", key)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw or b"null")
        except ValueError:
            return error.code, {"code": raw[:80].decode(errors="replace")}
    except (OSError, http.client.HTTPException) as error:
        return 0, {"code": type(error).__name__}


server = {"process": None}


def start():
    """Starts the server and returns the seconds until it was ready."""
    started = time.monotonic()
    process = subprocess.Popen([BIN, "serve"], env=ENV, stdout=open(f"{WORK}/server.out", "a"),
                               stderr=open(f"{WORK}/server.err", "a"))
    server["process"] = process
    with open(f"{WORK}/server.pid", "w") as pid:
        pid.write(str(process.pid))
    while call("GET", "/readyz", timeout=2)[0] != 200:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}: " + open(f"{WORK}/server.err").read()[-2000:])
        time.sleep(0.02)
    return time.monotonic() - started


# The pushing organization and its client, on the command line as the operator does.
created = subprocess.run([BIN, "orgs", "create", "--kind", "exchange", "--name-vi", "Sàn thử sập nguồn", "--province", "75",
                          "--source-exchange", "crash", "--client-name", "crash",
                          "--client-scopes", "listings:write listings:publish changes:read"],
                         env=ENV, check=True, capture_output=True, text=True).stdout
fields = dict(line.split(":", 1) for line in created.splitlines() if ":" in line)
credentials = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": fields["client_id"].strip(),
                                      "client_secret": fields["client_secret"].strip()}).encode()
ready_times = [start()]
token = call("POST", "/v1/auth/token", form=credentials)[1]["access_token"]

# The webhook receiver: answers 200 and keeps every webhook-id it got, with how often.
received, received_lock = {}, threading.Lock()


class Hooks(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        with received_lock:
            received[self.headers["webhook-id"]] = received.get(self.headers["webhook-id"], 0) + 1
        # A little time per delivery, so that some are being sent when the server dies.
        time.sleep(0.01)
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


hooks = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hooks)
threading.Thread(target=hooks.serve_forever, daemon=True).start()
status, webhook = call("POST", "/v1/webhooks", {"url": f"http://127.0.0.1:{hooks.server_address[1]}/hooks",
                                                "event_types": ["listing.*"]}, token)
assert status == 201, webhook


def listing(external_id, tag):
    return {"kind": "offer", "title": {"vi": f"Thiết bị {external_id} lô {tag}"}, "keywords": ["thử"],
            "field_codes": ["211"], "trl": 5, "province": "75", "owner": {"name": "Viện thử"},
            "contact": {"name": "Nguyễn Văn An", "email": "an@example.vn"},
            "source": {"exchange": "crash", "external_id": external_id}}


lock = threading.Lock()
acked = {}          # external id -> (listing id, version, tag) of its last acknowledged write
acked_writes = []   # every acknowledged (listing id, version)
in_flight = {}      # writer -> (tag, external ids) of the request it has not had answered
errors = {}
requests = {"sent": 0}
answers_lost = []   # (tag, how many records) of the writes whose answer a kill lost, read back
running = threading.Event()
running.set()
stop = threading.Event()


def note_error(status, body):
    key = f"{status} {(body or {}).get('code', '')}".strip()
    with lock:
        errors[key] = errors.get(key, 0) + 1


def until_acknowledged(writer, tag, external_ids, send):
    """Sends until answered 2xx, as a client does: the same request (and key) again after a
    broken connection, a 503 or a 409 in progress, waiting while the server is down. None when
    the write was carried out but its answer lost to a kill (409 idempotency_answer_lost): the
    caller reads the records instead."""
    with lock:
        in_flight[writer] = (tag, external_ids)
    while True:
        running.wait()
        with lock:
            requests["sent"] += 1
        status, body = send()
        lost = status == 409 and (body or {}).get("code") == "idempotency_answer_lost"
        if 200 <= status < 300 or lost:
            with lock:
                del in_flight[writer]
                if lost:
                    answers_lost.append((tag, len(external_ids)))
            return None if lost else body
        note_error(status, body)
        if status not in (0, 409, 503):
            raise SystemExit(f"unexpected answer {status}: {body}")
        time.sleep(0.05)


def acknowledge(external_id, listing_id, version, tag):
    with lock:
        acked[external_id] = (listing_id, version, tag)
        acked_writes.append((listing_id, version))


def read_back(listing_id, tag):
    """The record a write whose answer was lost left: it must be the write's (its tag) and
    published, as the write made it."""
    status, body = call("GET", f"/v1/listings/{listing_id}", token=token)
    if status != 200 or body["status"] != "published" or not body["title"]["vi"].endswith(f"lô {tag}"):
        raise SystemExit(f"an answer was lost, but the write is not there: {status} {body}")
    return body


def batch_writer(writer):
    """Batches of upserts, each followed by a publish, with an Idempotency-Key."""
    round_ = 0
    while not stop.is_set():
        round_ += 1
        tag = f"{writer}.{round_}"
        chosen = random.sample([f"w{writer}-{i}" for i in range(ITEMS_PER_WRITER)], BATCH_ITEMS)
        items = []
        for external_id in chosen:
            items.append({"op": "upsert", "listing": listing(external_id, tag)})
            items.append({"op": "publish", "source": {"exchange": "crash", "external_id": external_id}})
        key = str(uuid.uuid4())
        body = until_acknowledged(writer, tag, chosen, lambda: call("POST", "/v1/listings/batch", {"items": items},
                                                                    token, key=key))
        if body is None:
            quoted = ",".join(f"'{external_id}'" for external_id in chosen)
            found = sql("SELECT id, source_external_id FROM listings WHERE "
                        f"source_exchange = 'crash' AND source_external_id IN ({quoted})")
            if len(found) != len(chosen):
                raise SystemExit(f"an answer was lost, but {len(found)} of {len(chosen)} records are there")
            for listing_id, external_id in found:
                acknowledge(external_id, listing_id, read_back(listing_id, tag)["version"], tag)
            continue
        for item in body["items"]:
            if item["result"] == "failed":
                raise SystemExit(f"a batch item failed: {item}")
            external_id = chosen[item["index"] // 2]
            acknowledge(external_id, item["id"], item["version"], tag)


def put_writer(writer):
    """One record at a time: PUT by source (idempotent by itself), then publish with a key."""
    round_ = 0
    while not stop.is_set():
        round_ += 1
        tag = f"{writer}.{round_}"
        external_id = f"w{writer}-{random.randrange(ITEMS_PER_WRITER)}"
        body = until_acknowledged(writer, tag, [external_id], lambda: call(
            "PUT", f"/v1/listings/by-source/crash/{urllib.parse.quote(external_id)}", listing(external_id, tag), token))
        acknowledge(external_id, body["id"], body["version"], tag)
        if body["status"] != "published":
            key = str(uuid.uuid4())
            listing_id = body["id"]
            body = until_acknowledged(writer, tag, [external_id], lambda: call(
                "POST", f"/v1/listings/{listing_id}/publish", token=token, key=key))
            body = body or read_back(listing_id, tag)
            acknowledge(external_id, body["id"], body["version"], tag)


threads = [threading.Thread(target=batch_writer if w % 2 == 0 else put_writer, args=(w,), daemon=True)
           for w in range(WRITERS)]
for thread in threads:
    thread.start()

half_written = []
pending_at_kill = []
# At each kill, when (UTC) and which deliveries the killed server held leased.
stranded = []
wal_sizes = []
for kill in range(KILLS):
    time.sleep(random.uniform(1.5, 3.0))
    server["process"].kill()
    server["process"].wait()
    running.clear()
    if not POSTGRES and os.path.exists(URL + "-wal"):
        wal_sizes.append(os.path.getsize(URL + "-wal"))
    # Down: each request in flight wrote all of its records (its tag on each) or none.
    with lock:
        flights = list(in_flight.values())
    for tag, external_ids in flights:
        written = int(sql(f"SELECT count(*) FROM listings WHERE title_vi LIKE '% lô {tag}'")[0][0])
        if written not in (0, len(external_ids)):
            half_written.append((tag, written, len(external_ids)))
    pending_at_kill.append(int(sql("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'")[0][0]))
    stranded.append((datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None),
                     [row[0] for row in sql("SELECT id FROM webhook_deliveries "
                                            "WHERE status = 'pending' AND leased_until IS NOT NULL")]))
    ready_times.append(start())
    running.set()
    progress(f"kill {kill + 1}: {pending_at_kill[-1]} deliveries pending, ready again in {ready_times[-1]:.2f} s")

time.sleep(2)
stop.set()
for thread in threads:
    thread.join()

progress(f"load stopped: {len(acked_writes)} writes acknowledged; waiting for the deliveries")
# Every delivery delivered: those leased by a killed server once their lease has run out.
load_stopped = time.monotonic()
deadline = load_stopped + 240
while time.monotonic() < deadline:
    if int(sql("SELECT count(*) FROM webhook_deliveries WHERE status <> 'delivered'")[0][0]) == 0:
        break
    time.sleep(1)
deliveries = {row[0] for row in sql("SELECT id FROM webhook_deliveries")}
undelivered = int(sql("SELECT count(*) FROM webhook_deliveries WHERE status <> 'delivered'")[0][0])
drained = time.monotonic() - load_stopped

# Every acknowledged item there, at the version and with the content last acknowledged.
found, differing = 0, []
for external_id, (listing_id, version, tag) in acked.items():
    status, body = call("GET", f"/v1/listings/{listing_id}", token=token)
    if status == 200 and body["version"] == version and body["title"]["vi"].endswith(f"lô {tag}"):
        found += 1
    else:
        differing.append((external_id, f"acknowledged v{version} lô {tag}",
                          f"found {status} v{body.get('version')} {body.get('title', {}).get('vi', '')[-10:]}"))
logged = {(row[0], int(row[1])) for row in sql("SELECT entity_id, version FROM change_log WHERE entity = 'listing'")}
unlogged = [write for write in acked_writes if write not in logged]
# How long after each kill the deliveries the killed server held were delivered (the last of them).
resumed = []
for killed_at, ids in stranded:
    quoted = ",".join(f"'{i}'" for i in ids)
    done = [datetime.datetime.fromisoformat(row[0]) for row in sql(
        f"SELECT finished_at FROM webhook_deliveries WHERE id IN ({quoted}) AND finished_at IS NOT NULL")] if ids else []
    late = f"{(max(done) - killed_at).total_seconds():.1f} s" if done and len(done) == len(ids) else "-"
    resumed.append(f"{len(ids)} leased, {late}")

server["process"].terminate()
clean_exit = server["process"].wait(timeout=60)
integrity, wal_left = "n/a", False
if not POSTGRES:
    integrity = sql("PRAGMA integrity_check", read_only=False)[0][0]
    wal_left = os.path.exists(URL + "-wal") and os.path.getsize(URL + "-wal") > 0
hooks.shutdown()

with received_lock:
    got = dict(received)
print(f"writers: {WRITERS} ({(WRITERS + 1) // 2} batching {BATCH_ITEMS} records, {WRITERS // 2} one by one), "
      f"kill -9: {KILLS}, requests sent: {requests['sent']}")
print(f"writes acknowledged (batch items and single requests): {len(acked_writes)}, to {len(acked)} records")
print(f"records found afterwards at the version acknowledged: {found} of {len(acked)} {differing or ''}".rstrip())
print(f"acknowledged writes missing from the change log: {len(unlogged)}")
print(f"requests in flight at a kill written halfway: {len(half_written)} {half_written or ''}".rstrip())
print(f"errors seen by clients (then retried): {errors or 'none'}")
print(f"writes whose answer a kill lost (409 idempotency_answer_lost, records read back): {len(answers_lost)} "
      f"{answers_lost or ''}".rstrip())
print("restart to ready: " + ", ".join(f"{t:.2f} s" for t in ready_times[1:]) + f" (first start {ready_times[0]:.2f} s)")
print(f"deliveries pending at each kill: {pending_at_kill}")
print(f"deliveries the killed server held at each kill, and the last of them delivered after: {resumed}")
print(f"deliveries made: {len(deliveries)}, delivered at the end: {len(deliveries) - undelivered}, "
      f"received: {len(got)} distinct webhook-ids, {sum(got.values()) - len(got)} sent again after a kill; "
      f"all delivered {drained:.0f} s after the load stopped")
if not POSTGRES:
    print(f"SQLite: WAL at each kill {[f'{s // 1024} KiB' for s in wal_sizes]}, after the clean stop: "
          f"{'left' if wal_left else 'checkpointed and removed'}; integrity_check: {integrity}")
print(f"clean stop exit status: {clean_exit}")
failed = (found != len(acked) or unlogged or half_written or undelivered or set(got) != deliveries
          or clean_exit != 0 or integrity not in ("ok", "n/a") or wal_left)
if failed:
    raise SystemExit("FAILED")
