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

4. The first visit (issue 10): the Overview as a browser first loads it — the page, every
   asset it names (gzip accepted, as browsers do) and the "what stands out" fragment it
   fetches — with an empty cache ("cold": a new client each round) and again with the
   assets cached ("warm": they are immutable, so only the page and the fragment), the very
   first one timed apart on a server that has served nothing yet. Requests go one after
   another, so a browser that fetches in parallel is faster. Target: under 1 s.
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
from typing import Any

from collect import CXLENS, cli, free_port, start_server, stop_server
from common import markers, not_quiet, wait_quiet, write_section

BEGIN, END = markers("pages.py")
TARGET_P95_MS = 300
TARGET_FIRST_VISIT_MS = 1000
PAGES = [("Overview", "/w/{slug}/"), ("Data", "/w/{slug}/data"),
         ("Customers", "/w/{slug}/customers"), ("Annotations", "/w/{slug}/annotations"),
         ("JSON summary", "/api/w/{slug}/summary")]
PASSWORD = "bench password 123"


def percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def signed_in(url: str) -> Any:
    import httpx2 as httpx

    web = httpx.Client(base_url=url, timeout=120)
    page = web.get("/signin").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf, "no CSRF field on /signin"
    r = web.post("/signin", data={"email": "bench@acme.fi", "password": PASSWORD,
                                  "csrf_token": csrf.group(1)})
    assert r.status_code == 303, (r.status_code, r.text[:300])
    return web


def measure(url: str, slug: str, n: int, warmup: int) -> dict[str, dict]:
    web = signed_in(url)
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


def visit(web: Any, slug: str, with_assets: bool) -> tuple[float, int]:
    """One Overview visit: milliseconds and bytes on the wire (compressed as sent)."""
    t = time.perf_counter()
    page = web.get(f"/w/{slug}/")
    assert page.status_code == 200, page.status_code
    wire = page.num_bytes_downloaded
    if with_assets:
        for url in re.findall(r'(?:src|href)="(/assets/[^"]+)"', page.text):
            wire += web.get(url).num_bytes_downloaded
    src = re.search(r'data-src="([^"]+)"', page.text)
    if src:
        wire += web.get(src.group(1).replace("&amp;", "&")).num_bytes_downloaded
    return (time.perf_counter() - t) * 1000, wire


def first_visit(url: str, slug: str, rounds: int) -> dict[str, Any]:
    web = signed_in(url)
    server_cold = visit(web, slug, True)  # the server's first Overview since it started
    cold, warm = [], []
    for _ in range(rounds):
        web = signed_in(url)  # an empty cache
        cold.append(visit(web, slug, True))
        warm.append(visit(web, slug, False))
    def summary(xs: list[tuple[float, int]]) -> dict[str, float]:
        ms = [x[0] for x in xs]
        return {"p50": percentile(ms, 0.5), "p95": percentile(ms, 0.95), "bytes": xs[-1][1]}
    return {"server_cold_ms": server_cold[0], "server_cold_bytes": server_cold[1],
            "cold": summary(cold), "warm": summary(warm), "rounds": rounds}


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
        first = first_visit(f"http://127.0.0.1:{port}", "acme", args.visits)
        pages = measure(f"http://127.0.0.1:{port}", "acme", args.requests, args.warmup)
    finally:
        stop_server(proc)
    return {"load": load, "load_after": os.getloadavg()[0], "pages": pages, "first": first,
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
    f = res["first"]
    lines += ["", "### The first visit: the page, its assets and its findings", "",
              f"{f['rounds']} rounds; the very first visit of a fresh server "
              f"{f['server_cold_ms']:.0f} ms ({f['server_cold_bytes'] / 1024:,.0f} KiB on the "
              "wire).", "",
              "| visit | p50 ms | p95 ms | KiB on the wire | target |",
              "| --- | ---: | ---: | ---: | --- |"]
    for name in ("cold", "warm"):
        v = f[name]
        lines.append(f"| {name} cache | {v['p50']:.0f} | {v['p95']:.0f} | "
                     f"{v['bytes'] / 1024:,.0f} | < {TARGET_FIRST_VISIT_MS} ms |")
    met = f["cold"]["p95"] < TARGET_FIRST_VISIT_MS and f["warm"]["p95"] < TARGET_FIRST_VISIT_MS
    lines += ["", f"**First visit p95 (cold {f['cold']['p95']:.0f} ms, warm "
              f"{f['warm']['p95']:.0f} ms) against < {TARGET_FIRST_VISIT_MS} ms: "
              f"{'met' if met else 'NOT met'}.**"]
    lines += not_quiet(res["load"], "the times are upper bounds")
    lines += ["", END]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="M", choices=["S", "M", "L"])
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--visits", type=int, default=20, help="first-visit rounds")
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
