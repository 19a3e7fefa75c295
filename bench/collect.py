"""Collection benchmark: ``/v1/batch`` over loopback against a real ``cxlens serve``.

    python bench/collect.py [--seconds 20] [--connections 4] [--batch 100] [--no-doc]

1. Makes a temporary home with a user, a workspace and its write key (``cxlens admin``),
   and starts ``cxlens serve`` on a free loopback port in a subprocess.
2. Drives ``POST /v1/batch`` from a separate process (``--drive``) for a bounded time:
   several threads, each with its own keep-alive httpx connection, batches of ``--batch``
   Segment track/page/identify messages (~500 bytes each, unique ``messageId``s); one
   request in 50 carries an invalid message, so the server must refuse it whole (400).
   The driver counts sent, accepted (200) and rejected (4xx) messages, and errors.
3. Stops the server with SIGINT (its final flush runs), opens the warehouse and checks by
   count: sent = stored + rejected (stored = inbox rows), no message pending, and every
   stored message is an ``events`` row or a quarantined row.
4. Writes the figures, the machine, the load and the command to its section of
   ``docs/benchmarks.md`` (other sections are kept).

Target (issue 3): >= 5,000 events/s sustained with zero loss.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import markers, not_quiet, wait_quiet, write_section

BEGIN, END = markers("collect.py")
TARGET = 5000
CXLENS = [sys.executable, "-m", "cxlens.cli"]
BAD_EVERY = 50  # one request in this many holds an invalid message


# ------------------------------------------------------------------------ the driver


def message(tid: int, n: int, i: int, now: str) -> dict:
    uid = f"user-{tid}-{(n * 7 + i) % 5000}"
    kind = ("identify", "page", "track", "track", "track")[i % 5]
    m: dict = {"type": kind, "messageId": f"b-{tid}-{n}-{i}", "anonymousId": f"anon-{uid}",
               "timestamp": now,
               "context": {"library": {"name": "bench", "version": "1"},
                           "page": {"url": f"https://shop.example.fi/p/{i}",
                                    "referrer": "https://www.google.com/"},
                           "userAgent": "Mozilla/5.0 (X11; Linux x86_64) bench",
                           "ip": "127.0.0.1", "locale": "fi-FI"}}
    if kind == "identify":
        m["userId"] = uid
        m["traits"] = {"email": f"{uid}@example.fi", "name": f"User {uid}", "plan": "pro"}
    elif kind == "page":
        m["name"] = "Product"
        m["properties"] = {"path": f"/p/{i}", "title": "Product page"}
    else:
        m["event"] = "Product Viewed" if i % 2 else "Order Completed"
        m["properties"] = {"sku": f"SKU-{i}", "price": 19.9 + i, "currency": "EUR"}
    return m


def drive(url: str, key: str, seconds: float, connections: int, size: int) -> dict:
    import httpx2 as httpx

    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    lock = threading.Lock()
    totals = {"sent": 0, "accepted": 0, "rejected": 0, "errors": 0, "requests": 0}
    per_second: dict[int, int] = {}
    latencies: list[float] = []
    t0 = time.monotonic()
    deadline = t0 + seconds

    def worker(tid: int) -> None:
        mine = {"sent": 0, "accepted": 0, "rejected": 0, "errors": 0, "requests": 0}
        lat: list[float] = []
        buckets: dict[int, int] = {}
        with httpx.Client(base_url=url, timeout=60,
                          headers={"Authorization": auth,
                                   "Content-Type": "application/json"}) as client:
            n = 0
            while time.monotonic() < deadline:
                now = dt.datetime.now(dt.UTC).isoformat()
                batch = [message(tid, n, i, now) for i in range(size)]
                if n % BAD_EVERY == BAD_EVERY - 1:
                    batch[size // 2] = {"type": "track", "userId": "x", "messageId": "bad"}
                body = json.dumps({"batch": batch}, separators=(",", ":"))
                start = time.monotonic()
                try:
                    r = client.post("/v1/batch", content=body)
                    status = r.status_code
                except httpx.HTTPError:
                    status = 0
                end = time.monotonic()
                lat.append(end - start)
                mine["requests"] += 1
                mine["sent"] += size
                if status == 200:
                    mine["accepted"] += size
                    b = int(end - t0)
                    buckets[b] = buckets.get(b, 0) + size
                elif 400 <= status < 500:
                    mine["rejected"] += size
                else:
                    mine["errors"] += size
                n += 1
        with lock:
            for k, v in mine.items():
                totals[k] += v
            for b, v in buckets.items():
                per_second[b] = per_second.get(b, 0) + v
            latencies.extend(lat)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - t0
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    full = [per_second.get(s, 0) for s in range(int(seconds))]
    windows = [sum(full[i:i + 5]) / 5 for i in range(0, max(1, len(full) - 4))]
    return {**totals, "seconds": took, "rate": totals["accepted"] / took,
            "min_5s_rate": min(windows) if windows else 0.0,
            "p50_ms": pct(0.5), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
            "max_ms": latencies[-1] * 1000 if latencies else 0.0}


# ------------------------------------------------------------------------ the parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str, home: Path, stdin: str | None = None) -> str:
    r = subprocess.run([*CXLENS, *args], input=stdin, capture_output=True, text=True,
                       env={**os.environ, "CXLENS_HOME": str(home)}, timeout=600)
    if r.returncode != 0:
        raise SystemExit(f"cxlens {' '.join(args)} failed:\n{r.stdout}{r.stderr}")
    return r.stdout


def start_server(home: Path, port: int, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen([*CXLENS, "serve", "--home", str(home), "--port", str(port)],
                            stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise SystemExit("the server did not start:\n" + log.read_text()) from None
            time.sleep(0.2)


def stop_server(proc: subprocess.Popen) -> float:
    t = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise SystemExit("the server did not stop within 300 s") from None
    return time.monotonic() - t


def count(workspace: Path) -> dict:
    from cxlens.warehouse.store import open_warehouse

    with open_warehouse(workspace, read_only=True) as con:
        status = dict(con.execute("SELECT status, count(*) FROM inbox GROUP BY 1").fetchall())
        events = con.execute("SELECT count(*) FROM events WHERE source = 'collect' "
                             "AND _superseded_by IS NULL").fetchall()[0][0]
        quarantined = con.execute(
            "SELECT count(*) FROM quarantine q JOIN batches b USING (batch_id) "
            "WHERE b.source_file = 'collect:segment' AND b.kind = 'events'").fetchall()[0][0]
        batches = con.execute("SELECT count(*) FROM batches WHERE source_file = "
                              "'collect:segment'").fetchall()[0][0]
    return {"inbox": sum(status.values()), "status": status, "events": events,
            "quarantined_rows": quarantined, "batches": batches}


def run(args: argparse.Namespace) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="cxlens-bench-collect-"))
    home = tmp / "home"
    cli("admin", "create-user", "bench@acme.fi", "--password-stdin", home=home,
        stdin="bench password 123\n")
    key = json.loads(cli("admin", "create-workspace", "acme", "--owner", "bench@acme.fi",
                         "--json", home=home))["write_key"]
    port = free_port()
    load = wait_quiet(args.max_wait)
    proc = start_server(home, port, tmp / "server.log")
    try:
        r = subprocess.run([sys.executable, __file__, "--drive", f"http://127.0.0.1:{port}", key,
                            str(args.seconds), str(args.connections), str(args.batch)],
                           capture_output=True, text=True, timeout=args.seconds + 600)
        if r.returncode != 0:
            raise SystemExit("the driver failed:\n" + r.stdout + r.stderr)
        sent = json.loads(r.stdout)
    finally:
        stop_seconds = stop_server(proc)
    counts = count(home / "workspaces" / "acme")
    log = (tmp / "server.log").read_text()
    return {"load": load, "load_after": os.getloadavg()[0], "drive": sent, "counts": counts,
            "stop_seconds": stop_seconds,
            "flush_lines": sum(1 for line in log.splitlines() if "collect flush" in line),
            "tmp": str(tmp)}


def section(res: dict, command: str) -> str:
    d, c = res["drive"], res["counts"]
    st = c["status"]
    stored = c["inbox"]
    balanced = d["sent"] == stored + d["rejected"] and d["errors"] == 0
    processed = st.get("processed", 0) + st.get("quarantined", 0)
    ok = balanced and st.get("pending", 0) == 0 and c["events"] == st.get("processed", 0)
    lines = [
        BEGIN,
        "## Collection: /v1/batch over loopback (bench/collect.py)",
        "",
        f"Measured {dt.date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} "
        f"cores, Python {platform.python_version()}; the 1-minute load was "
        f"{res['load']:.2f} at the start and {res['load_after']:.2f} at the end.",
        "",
        f"Command: `{command}`",
        "",
        f"A real `cxlens serve` in a subprocess; a separate driver process with "
        f"{res['connections']} keep-alive connections sent batches of {res['batch']} "
        f"messages (~500 bytes each; one request in {BAD_EVERY} with an invalid message, refused "
        "whole) for "
        f"{d['seconds']:.1f} s. The server's flusher loaded the inbox while it ran.",
        "",
        "| figure | value | target |",
        "| --- | ---: | --- |",
        f"| accepted events/s (whole run) | {d['rate']:,.0f} | ≥ {TARGET:,} |",
        f"| slowest 5-second window, events/s | {d['min_5s_rate']:,.0f} | ≥ {TARGET:,} |",
        f"| requests | {d['requests']:,} | |",
        f"| latency p50 / p95 / p99 / max | {d['p50_ms']:.0f} / {d['p95_ms']:.0f} / "
        f"{d['p99_ms']:.0f} / {d['max_ms']:.0f} ms | |",
        f"| sent | {d['sent']:,} | |",
        f"| accepted (200) | {d['accepted']:,} | |",
        f"| rejected (400, whole request) | {d['rejected']:,} | |",
        f"| errors (5xx / transport) | {d['errors']:,} | 0 |",
        f"| stored (inbox rows) | {stored:,} | = accepted |",
        f"| loaded as events / quarantined / pending after stop | {st.get('processed', 0):,} / "
        f"{st.get('quarantined', 0):,} / {st.get('pending', 0):,} | pending 0 |",
        f"| `events` rows from collect | {c['events']:,} | = processed |",
        f"| collect batches written (customers + events) | {c['batches']:,} | |",
        f"| server stop incl. final flush | {res['stop_seconds']:.1f} s | |",
        "",
        f"**sent = stored + rejected: {d['sent']:,} = {stored:,} + {d['rejected']:,} → "
        f"{'yes' if balanced else 'NO'}**; every stored message is an event or a quarantined "
        f"row: {'yes' if processed == stored and ok else 'NO'}.",
    ]
    lines += not_quiet(res["load"], "the rate is a lower bound")
    lines += ["", END]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--drive":
        url, key, seconds, conns, size = sys.argv[2:7]
        print(json.dumps(drive(url, key, float(seconds), int(conns), int(size))))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--max-wait", type=float, default=180,
                    help="seconds to wait for a quiet machine (load < 1.0) first")
    ap.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    args = ap.parse_args()
    res = run(args)
    res.update(connections=args.connections, batch=args.batch)
    command = "python bench/collect.py " + " ".join(sys.argv[1:])
    text = section(res, command.strip())
    print(text)
    if not args.no_doc:
        write_section("collect.py", text)


if __name__ == "__main__":
    main()
