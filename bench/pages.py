"""Page benchmark: warm response times of the dashboard on the M demo, over loopback.

    python bench/pages.py [--size M] [--requests 100] [--no-doc]

1. Makes a temporary home with a user and a workspace, loads the demo company of ``--size``
   into that workspace with ``cxlens demo run`` (before the server starts: it owns the file
   afterwards), and starts ``cxlens serve`` on a free loopback port in a subprocess.
2. Signs in over HTTP (CSRF form), requests every page ``--warmup`` times (warm caches,
   opened warehouse), then times ``--requests`` sequential GETs of each page: the Overview
   ``/w/{slug}/`` first, then Data, Customers, Annotations and the JSON summary.
3. Writes p50 / p95 / p99 / max per page, the machine, the load and the command to its
   section of ``docs/benchmarks.md`` (other sections are kept).

Target (issue 3): Overview p95 <= 300 ms on the M demo, warm.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

from collect import CXLENS, cli, free_port, start_server, stop_server
from common import markers, not_quiet, wait_quiet, write_section

BEGIN, END = markers("pages.py")
TARGET_P95_MS = 300
PAGES = [("Overview", "/w/{slug}/"), ("Data", "/w/{slug}/data"),
         ("Customers", "/w/{slug}/customers"), ("Annotations", "/w/{slug}/annotations"),
         ("JSON summary", "/api/w/{slug}/summary")]
PASSWORD = "bench password 123"


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def measure(url: str, slug: str, n: int, warmup: int) -> dict[str, dict]:
    import httpx2 as httpx

    web = httpx.Client(base_url=url, timeout=120)
    page = web.get("/signin").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf, "no CSRF field on /signin"
    r = web.post("/signin", data={"email": "bench@acme.fi", "password": PASSWORD,
                                  "csrf_token": csrf.group(1)})
    assert r.status_code == 303, (r.status_code, r.text[:300])
    out: dict[str, dict] = {}
    for name, path in PAGES:
        p = path.format(slug=slug)
        for _ in range(warmup):
            web.get(p)
        times, statuses = [], set()
        for _ in range(n):
            t = time.perf_counter()
            resp = web.get(p)
            times.append((time.perf_counter() - t) * 1000)
            statuses.add(resp.status_code)
        out[name] = {"path": path, "statuses": sorted(statuses), "bytes": len(resp.content),
                     "p50": percentile(times, 0.5), "p95": percentile(times, 0.95),
                     "p99": percentile(times, 0.99), "max": max(times)}
    return out


def run(args: argparse.Namespace) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="cxlens-bench-pages-"))
    home = tmp / "home"
    cli("admin", "create-user", "bench@acme.fi", "--password-stdin", home=home,
        stdin=PASSWORD + "\n")
    cli("admin", "create-workspace", "acme", "--owner", "bench@acme.fi", home=home)
    t = time.monotonic()
    demo = json.loads(cli("demo", "run", "--size", args.size, "--out", str(tmp / "demo"),
                          "--workspace", str(home / "workspaces" / "acme"), "--json",
                          home=home))
    load_seconds = time.monotonic() - t
    port = free_port()
    proc = start_server(home, port, tmp / "server.log")
    try:
        load = wait_quiet(args.max_wait)
        pages = measure(f"http://127.0.0.1:{port}", "acme", args.requests, args.warmup)
    finally:
        stop_server(proc)
    return {"load": load, "load_after": os.getloadavg()[0], "pages": pages,
            "summary": demo.get("summary", {}), "demo_seconds": load_seconds, "tmp": str(tmp)}


def section(res: dict, args: argparse.Namespace, command: str) -> str:
    s = res["summary"]
    held = ", ".join(f"{v:,} {k}" for k, v in s.items() if isinstance(v, int) and v)
    lines = [
        BEGIN,
        "## Pages: warm response times on the demo (bench/pages.py)",
        "",
        f"Measured {dt.date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} "
        f"cores, Python {platform.python_version()}; the 1-minute load was "
        f"{res['load']:.2f} at the start and {res['load_after']:.2f} at the end.",
        "",
        f"Command: `{command}`",
        "",
        f"The {args.size} demo ({held}) loaded with `cxlens demo run` in "
        f"{res['demo_seconds']:.0f} s, then a real `cxlens serve` in a subprocess; a signed-in "
        f"client on loopback requested each page {args.warmup} times to warm up, then "
        f"{args.requests} times in sequence (one connection, keep-alive).",
        "",
        "| page | path | status | p50 ms | p95 ms | p99 ms | max ms | target |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, p in res["pages"].items():
        target = f"p95 ≤ {TARGET_P95_MS} ms" if name == "Overview" else ""
        lines.append(f"| {name} | `{p['path']}` | {'/'.join(map(str, p['statuses']))} | "
                     f"{p['p50']:.0f} | {p['p95']:.0f} | {p['p99']:.0f} | {p['max']:.0f} | "
                     f"{target} |")
    ov = res["pages"].get("Overview")
    if ov:
        met = ov["statuses"] == [200] and ov["p95"] <= TARGET_P95_MS
        lines += ["", f"**Overview p95 {ov['p95']:.0f} ms against ≤ {TARGET_P95_MS} ms: "
                  f"{'met' if met else 'NOT met'}.**"]
    lines += not_quiet(res["load"], "the times are upper bounds")
    lines += ["", END]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="M", choices=["S", "M", "L"])
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--max-wait", type=float, default=180,
                    help="seconds to wait for a quiet machine (load < 1.0) first")
    ap.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    args = ap.parse_args()
    assert CXLENS
    res = run(args)
    command = ("python bench/pages.py " + " ".join(sys.argv[1:])).strip()
    text = section(res, args, command)
    print(text)
    if not args.no_doc:
        write_section("pages.py", text)


if __name__ == "__main__":
    main()
