"""Collection benchmark: ``/v1/batch`` over loopback against a real ``cxlens serve``.

    python bench/collect.py [--seconds 20] [--connections 4] [--batch 100] [--no-doc]
                            [--rate 2000] [--fair-seconds 30] [--answers 30]
                            [--baseline REV] [--skip-throughput]

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
4. **Writes while collecting** (issue 15): a new home whose workspace has the NPS survey
   and ``--answers`` open invitations; a server; each customer opens their survey page
   first. Then ``/v1/batch`` arrives at a steady ``--rate`` messages/s (batches of 100 from
   two keep-alive connections on 127.0.0.1) for ``--fair-seconds``, and the customers send
   their answers spread evenly over that time, each from its own thread. The time from
   sending an answer to its reply is the wait of an interactive write (a survey answer is
   one small ingest batch through the writer) plus its own work: the median, p95 and max
   are reported, with how many answers came back while the traffic was still arriving.
   With ``--baseline REV`` the same is measured first on the server code of git revision
   REV (``git archive`` into a temporary folder), for a before/after in one run. Then every
   acknowledged message must be an ``events`` row exactly once.
5. Writes the figures, the machine, the load and the command to its section of
   ``docs/benchmarks.md`` (other sections are kept).

Targets: >= 5,000 events/s sustained with zero loss (issue 3); an interactive write waits
about one flush chunk, not for the traffic to stop (issue 15).
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
from datetime import date
from pathlib import Path

from common import ROOT, markers, not_quiet, wait_quiet, write_section

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


def env_for(src: Path | None) -> dict[str, str]:
    """The environment of a cxlens subprocess: ``src`` first on the path, if given."""
    if src is None:
        return dict(os.environ)
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(src), *filter(None, [os.environ.get("PYTHONPATH")])])}


def cli(*args: str, home: Path, stdin: str | None = None, src: Path | None = None) -> str:
    r = subprocess.run([*CXLENS, *args], input=stdin, capture_output=True, text=True,
                       env={**env_for(src), "CXLENS_HOME": str(home)}, timeout=600)
    if r.returncode != 0:
        raise SystemExit(f"cxlens {' '.join(args)} failed:\n{r.stdout}{r.stderr}")
    return r.stdout


def start_server(home: Path, port: int, log: Path,
                 src: Path | None = None) -> subprocess.Popen:
    proc = subprocess.Popen([*CXLENS, "serve", "--home", str(home), "--port", str(port)],
                            stdout=log.open("w"), stderr=subprocess.STDOUT, env=env_for(src))
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


# ------------------------------------------------------------------- writes while collecting

CSRF_FIELD = 'name="csrf_token" value="'


def survey_links(workspace: Path, n: int) -> list[str]:
    """Save the built-in NPS survey and ``n`` open invitations; their answer links."""
    from importlib import resources

    from cxlens.surveys import invitations, store
    from cxlens.warehouse.store import open_warehouse

    source = resources.files("cxlens.surveys").joinpath("builtin/nps.yml").read_text(
        encoding="utf-8")
    key = invitations.workspace_key(workspace)
    with open_warehouse(workspace) as con:
        store.save_survey(con, source)
        invitations.insert(con, key, workspace.name,
                           [{"survey_id": "nps", "language": "en",
                             "email": f"customer{i}@example.fi"} for i in range(n)],
                           date.today(), {})
        nonces = [r[0] for r in con.execute(
            "SELECT nonce FROM survey_invitations ORDER BY invitation_id").fetchall()]
    return ["/s/" + invitations.make_token(key, workspace.name, x) for x in nonces]


def paced(url: str, key: str, rate: float, seconds: float, halt: threading.Event) -> dict:
    """``rate`` messages/s to /v1/batch in batches of 100 from two connections, for
    ``seconds`` (or until ``halt``); what was acknowledged, and when the last one was."""
    import httpx2 as httpx

    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    size, conns = 100, 2
    interval = conns * size / rate
    lock = threading.Lock()
    out: dict = {"acked": [], "failed": 0, "last_ack": 0.0}
    t0 = time.monotonic()
    deadline = t0 + seconds

    def worker(tid: int) -> None:
        acked: list[str] = []
        failed, last, n = 0, 0.0, 0
        due = t0 + tid * interval / conns
        with httpx.Client(base_url=url, timeout=600,
                          headers={"Authorization": auth,
                                   "Content-Type": "application/json"}) as client:
            while time.monotonic() < deadline and not halt.is_set():
                now = dt.datetime.now(dt.UTC).isoformat()
                batch = [message(tid, n, i, now) for i in range(size)]
                for m in batch:
                    m["messageId"] = "f-" + m["messageId"]
                try:
                    r = client.post("/v1/batch",
                                    content=json.dumps({"batch": batch}, separators=(",", ":")))
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    acked += [m["messageId"] for m in batch]
                    last = time.monotonic()
                else:
                    failed += size
                n += 1
                due = max(due + interval, time.monotonic() - 1.0)  # no burst after a stall
                halt.wait(max(0.0, due - time.monotonic()))
        with lock:
            out["acked"] += acked
            out["failed"] += failed
            out["last_ack"] = max(out["last_ack"], last)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out["seconds"] = time.monotonic() - t0
    return out


def fair_run(args: argparse.Namespace, src: Path, label: str) -> dict:
    """Survey answers sent while ``args.rate`` messages/s arrive, on the server of ``src``."""
    import httpx2 as httpx

    tmp = Path(tempfile.mkdtemp(prefix=f"cxlens-bench-fair-{label.split()[0]}-"))
    home = tmp / "home"
    cli("admin", "create-user", "bench@acme.fi", "--password-stdin", home=home,
        stdin="bench password 123\n", src=src)
    key = json.loads(cli("admin", "create-workspace", "acme", "--owner", "bench@acme.fi",
                         "--json", home=home, src=src))["write_key"]
    workspace = home / "workspaces" / "acme"
    links = survey_links(workspace, args.answers)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    load = wait_quiet(args.max_wait)
    proc = start_server(home, port, tmp / "server.log", src)
    answers: list[dict] = []
    try:
        customers = []
        for link in links:  # each customer has the page open before the traffic starts
            c = httpx.Client(base_url=url, timeout=args.fair_seconds + 600)
            page = c.get(link).text
            customers.append((c, link, page.split(CSRF_FIELD, 1)[1].split('"', 1)[0]))
        halt = threading.Event()
        traffic: dict = {}
        driver = threading.Thread(target=lambda: traffic.update(
            paced(url, key, args.rate, args.fair_seconds, halt)))
        t0 = time.monotonic()
        driver.start()
        warm = min(3.0, args.fair_seconds / 5)
        gap = (args.fair_seconds - warm - 2.0) / max(1, len(customers))

        def answer(c: httpx.Client, link: str, csrf: str) -> None:
            start = time.monotonic()
            try:
                r = c.post(link, data={"csrf_token": csrf, "score": "9", "action": "send"})
                status = r.status_code
            except httpx.HTTPError:
                status = 0
            answers.append({"start": start, "end": time.monotonic(), "status": status})

        senders = []
        for i, (c, link, csrf) in enumerate(customers):
            time.sleep(max(0.0, t0 + warm + i * gap - time.monotonic()))
            senders.append(threading.Thread(target=answer, args=(c, link, csrf)))
            senders[-1].start()
        driver.join()
        for t in senders:
            t.join(args.fair_seconds + 600)
        for c, _, _ in customers:
            c.close()
    finally:
        stop_seconds = stop_server(proc)
    from cxlens.warehouse.store import open_warehouse

    with open_warehouse(workspace, read_only=True) as con:
        ids = [r[0] for r in con.execute(
            "SELECT event_id FROM v_events WHERE source = 'collect'").fetchall()]
        pending = con.execute("SELECT count(*) FROM inbox WHERE status = 'pending'"
                              ).fetchall()[0][0]
        feedback = con.execute("SELECT count(*) FROM v_feedback").fetchall()[0][0]
    waits = sorted(a["end"] - a["start"] for a in answers)

    def pct(p: float) -> float:
        return waits[min(len(waits) - 1, int(p * len(waits)))] if waits else float("nan")

    acked = traffic.get("acked", [])
    return {"label": label, "load": load, "answers": len(answers),
            "answered": sum(1 for a in answers if a["status"] == 200),
            "during": sum(1 for a in answers if a["end"] < traffic.get("last_ack", 0)),
            "p50": pct(0.5), "p95": pct(0.95), "max": waits[-1] if waits else float("nan"),
            "rate": len(acked) / traffic["seconds"] if traffic.get("seconds") else 0.0,
            "acked": len(acked), "failed": traffic.get("failed", 0),
            "loaded_once": len(ids) == len(set(ids)) == len(acked) and set(ids) == set(acked),
            "pending": pending, "feedback": feedback, "stop_seconds": stop_seconds,
            "tmp": str(tmp)}


def baseline_src(rev: str) -> Path:
    """The ``src`` folder of git revision ``rev`` of this repository, in a temporary folder."""
    dest = Path(tempfile.mkdtemp(prefix="cxlens-bench-baseline-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / "src"


def fair_section(rows: list[dict], args: argparse.Namespace) -> list[str]:
    lines = [
        "",
        f"### Writes while collecting: survey answers while {args.rate:,} messages/s arrive",
        "",
        f"A new server per row; {args.answers} customers, each with the survey page already "
        f"open, sent their answers spread evenly over {args.fair_seconds:.0f} s of "
        f"`/v1/batch` traffic paced at {args.rate:,} messages/s (batches of 100, two "
        "keep-alive connections). An answer's time is from sending it to its reply: its "
        "wait for the workspace's writer plus its own small ingest batch. When answers only "
        "come back after the traffic stopped (the flush looped while messages arrived and "
        "held the writer), their times are set by the traffic's length, not by the code: "
        "with a longer traffic they grow with it.",
        "",
        "| server code | answers while the traffic ran | answer p50 / p95 / max | "
        "messages/s accepted | acknowledged | each loaded once | load at start |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['during']} of {r['answers']} ({r['answered']} answered) | "
            f"{r['p50']:.2f} / {r['p95']:.2f} / {r['max']:.2f} s | {r['rate']:,.0f} | "
            f"{r['acked']:,} | {'yes' if r['loaded_once'] and not r['pending'] else 'NO'} | "
            f"{r['load']:.2f} |")
    return lines


def section(res: dict, command: str, fair: list[dict], args: argparse.Namespace) -> str:
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
    if fair:
        lines += fair_section(fair, args)
        lines += not_quiet(max(r["load"] for r in fair), "the times are upper bounds")
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
    ap.add_argument("--rate", type=int, default=2000,
                    help="messages/s while the survey answers are sent")
    ap.add_argument("--fair-seconds", type=float, default=30,
                    help="seconds of paced traffic while the answers are sent")
    ap.add_argument("--answers", type=int, default=30, help="survey answers sent meanwhile")
    ap.add_argument("--baseline", metavar="REV",
                    help="also measure the answers on the server code of this git revision")
    ap.add_argument("--skip-throughput", action="store_true",
                    help="only the answers while collecting (prints; writes no doc)")
    ap.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    args = ap.parse_args()
    fair = []
    if args.baseline:
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.baseline],
                             capture_output=True, text=True, check=True).stdout.strip()
        fair.append(fair_run(args, baseline_src(rev), f"before (`{rev}`)"))
        print(json.dumps(fair[-1]), flush=True)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip() or "this tree"
    fair.append(fair_run(args, ROOT / "src", f"after (`{head}` + this tree)"))
    print(json.dumps(fair[-1]), flush=True)
    if args.skip_throughput:
        print("\n".join(fair_section(fair, args)))
        return
    res = run(args)
    res.update(connections=args.connections, batch=args.batch)
    command = "python bench/collect.py " + " ".join(sys.argv[1:])
    text = section(res, command.strip(), fair, args)
    print(text)
    if not args.no_doc:
        write_section("collect.py", text)


if __name__ == "__main__":
    main()
