"""Markov attribution (issue 14): order 1 on a million simulated paths, cxlens' exact
removal effects side by side with ChannelAttribution's simulated ones in one run.

    PYTHONPATH=src .venv/bin/python bench/marketing.py [--paths 1000000] [--seed 14]
        [--max-wait 600] [--budget 30] [--no-doc]

1. Simulates ``--paths`` journeys as walks through a known first-order chain over eight
   channels (``TRUTH``: from the start into a channel, then on to another channel, to a
   conversion or to nothing; every channel state is left for an absorbing state with
   probability at least 0.25, and a walk still going after ``MAX_LEN`` touches — about
   1 in 10⁵ — ends without a conversion). The chain has no self-loops: a channel never
   follows itself, as in the engine's paths, where repeats in a row are one touch.
2. Waits for a quiet machine, then fits twice, on the same rows for both tools: the
   distinct paths with their counts, and one row per journey (a million rows, the shape
   ChannelAttribution is usually fed). cxlens' ``MarkovAttribution(1).fit`` (transition
   counts, one linear solve per channel) and ChannelAttribution's ``markov_model`` (order
   1, one thread) twice: with its defaults (10⁵ simulated walks and more until its results
   change by less than 5 %) and with ``nsim_start=1e6``, which the comparison of removal
   effects uses (with its defaults its noise is about 0.01-0.03). Each fit runs up to 3
   times while its runs take less than ``--budget`` seconds together; the best counts.
   Memory is the process's resident-set high-water mark during the fit's first run, reset
   before it (``/proc/self/clear_refs``): everything resident, the simulated paths included.
3. Checks: the removal effects equal ChannelAttribution's within 0.01 (its noise) and the
   exact ones of the true chain within 0.01 (the fitted chain is the maximum-likelihood
   one: it converges to the truth); cxlens no slower than ChannelAttribution.
4. Writes its section of docs/benchmarks.md (``--no-doc``: print only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import sys
import time
from collections.abc import Callable
from importlib import metadata
from typing import Any

import numpy as np

from common import markers, not_quiet, wait_quiet, write_section
from cxlens.analytics.marketing._paths import PathTable
from cxlens.analytics.marketing.markov import MarkovAttribution

BEGIN, END = markers("marketing.py")
CHANNELS = ("display", "email", "search", "social", "store", "support", "video", "web")
MAX_LEN = 40
TOLERANCE = 0.01
MAX_RUNS = 3
DEFAULTS = "ChannelAttribution, defaults"
ACCURATE = "ChannelAttribution, 10⁶ walks"


def truth_chain(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The true chain: ``start`` (probabilities into the channels) and ``move`` (rows: a
    channel; columns: the channels, then conversion, then null). Conversions are likelier
    from search, store and e-mail; no self-loops (repeats are collapsed)."""
    rng = np.random.default_rng(seed)
    m = len(CHANNELS)
    start = rng.dirichlet(np.full(m, 2.0))
    conv = np.array([0.02, 0.08, 0.10, 0.03, 0.12, 0.04, 0.02, 0.06])
    null = rng.uniform(0.23, 0.40, m)
    move = np.zeros((m, m + 2))
    for i in range(m):
        w = rng.dirichlet(np.full(m - 1, 1.5)) * (1 - conv[i] - null[i])
        move[i, [j for j in range(m) if j != i]] = w
        move[i, m], move[i, m + 1] = conv[i], null[i]
    return start, move


def exact_truth(start: np.ndarray, move: np.ndarray) -> np.ndarray:
    """The true chain's removal effects, solved exactly."""
    m = len(start)
    q, r = move[:, :m], move[:, m]

    def p(keep: np.ndarray) -> float:
        x = np.linalg.solve(np.eye(keep.sum()) - q[keep][:, keep], r[keep])
        return float(start[keep] @ x)

    full = p(np.ones(m, bool))
    return np.array([1 - p(np.arange(m) != c) / full for c in range(m)])


def simulate(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` walks through the true chain: (channel per step, -1 after the end; 1 for a
    conversion, else 0)."""
    start, move = truth_chain()
    m = len(CHANNELS)
    rng = np.random.default_rng(seed)
    steps = np.full((n, MAX_LEN), -1, dtype=np.int8)
    state = np.searchsorted(np.cumsum(start), rng.random(n) * start.sum())
    state = np.minimum(state, m - 1)
    outcome = np.full(n, 2, dtype=np.int8)  # 1 conversion, 0 null, 2 still walking
    cum = np.cumsum(move, axis=1)
    alive = np.arange(n)
    for k in range(MAX_LEN):
        steps[alive, k] = state
        nxt = (rng.random(len(alive))[:, None] > cum[state]).sum(axis=1)
        nxt = np.minimum(nxt, m + 1)
        done = nxt >= m
        outcome[alive[done]] = (nxt[done] == m).astype(np.int8)
        alive, state = alive[~done], nxt[~done]
        if not len(alive):
            break
    outcome[outcome == 2] = 0  # cut after MAX_LEN touches: no conversion
    return steps, outcome


def as_table(steps: np.ndarray, outcome: np.ndarray, distinct: bool) -> PathTable:
    """The walks counted per distinct path (``distinct``), or one row per walk."""
    if not distinct:
        paths = [tuple(CHANNELS[c] for c in row[row >= 0]) for row in steps]
        conv = outcome.astype(float)
        return PathTable(paths, conv, np.zeros(len(conv)), 1.0 - conv)
    keys, inverse = np.unique(steps, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    conv = np.bincount(inverse, weights=outcome, minlength=len(keys))
    total = np.bincount(inverse, minlength=len(keys)).astype(float)
    paths = [tuple(CHANNELS[c] for c in row[row >= 0]) for row in keys]
    return PathTable(paths, conv, np.zeros(len(keys)), total - conv)


def _status(key: str) -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


def measure(call: Callable[[], Any], budget: float) -> dict[str, Any]:
    """The first run's result, the best time of up to MAX_RUNS runs within ``budget``
    seconds, and the resident-set high-water mark of the first run."""
    gc.collect()
    with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
        f.write("5")
    times, cpu, result, peak = [], [], None, float("nan")
    while not times or (len(times) < MAX_RUNS and sum(times) < budget):
        t, c = time.perf_counter(), time.process_time()
        out = call()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        if result is None:
            result, peak = out, _status("VmHWM")
    best = int(np.argmin(times))
    return {"result": result, "first": times[0], "best": times[best], "cpu": cpu[best],
            "runs": len(times), "peak_mb": peak}


def ours(table: PathTable) -> dict[str, float]:
    m = MarkovAttribution(1).fit(table)
    return dict(zip(m.channels_, m.removal_effects_.tolist(), strict=True))


def theirs(frame: Any, nsim_start: float = 1e5) -> dict[str, float]:
    import ChannelAttribution as ca

    out = ca.markov_model(frame, "path", "conv", var_null="nul", order=1, out_more=True,
                          verbose=False, flg_pro=False, nsim_start=nsim_start)
    re = out["removal_effects"]
    return dict(zip(re["channel_name"], re.iloc[:, 1].astype(float),
                    strict=True))


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def header(args: argparse.Namespace, sim_s: float, load: float) -> list[str]:
    return [BEGIN, "## Attribution: Markov order 1, cxlens and ChannelAttribution "
            "(bench/marketing.py)", "",
            f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, 1-minute load "
            f"{load:.2f} at the start; {os.cpu_count()} cores; Python "
            f"{sys.version.split()[0]}, NumPy {_version('numpy')}, SciPy "
            f"{_version('scipy')}, ChannelAttribution {_version('ChannelAttribution')}.",
            "", "```", f"PYTHONPATH=src .venv/bin/python bench/marketing.py --paths "
            f"{args.paths} --seed {args.seed}", "```", "",
            f"{args.paths:,} simulated journeys through a known first-order chain over "
            f"{len(CHANNELS)} channels ({sim_s:.1f} s to simulate). Both tools fit on the "
            "same rows, twice: the distinct paths with their counts (what the engine's SQL "
            "gives cxlens) and one row per journey."]


def part(title: str, table: PathTable, runs: dict[str, dict[str, Any]],
         truth: dict[str, float]) -> list[str]:
    a, b = runs["cxlens"], runs.get(ACCURATE)
    lines = ["", f"### {title}: {len(table):,} rows, {table.conversions.sum():,.0f} "
             "conversions", "",
             "| | best of runs (s) | first run (s) | CPU (s) | peak memory (MB) |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for name, r in runs.items():
        if "error" in r:
            lines.append(f"| {name} | {r['error']} | | | |")
            continue
        lines.append(f"| {name} | {r['best']:.2f} ({r['runs']}) | {r['first']:.2f} | "
                     f"{r['cpu']:.2f} | {r['peak_mb']:,.0f} |")
    lines += ["", "| channel | true (exact) | cxlens (exact) | ChannelAttribution, 10⁶ "
              "walks |",
              "| --- | ---: | ---: | ---: |"]
    mine = a["result"]
    other = b["result"] if b and "result" in b else {}
    for c in CHANNELS:
        lines.append(f"| {c} | {truth[c]:.4f} | {mine[c]:.4f} | "
                     f"{other[c]:.4f} |" if c in other else
                     f"| {c} | {truth[c]:.4f} | {mine[c]:.4f} | |")
    d_truth = max(abs(mine[c] - truth[c]) for c in CHANNELS)
    lines += ["", f"Largest difference from the true chain's removal effects: "
              f"{d_truth:.4f} (≤ {TOLERANCE}: {'yes' if d_truth <= TOLERANCE else 'NO'})."]
    if other:
        d_ca = max(abs(mine[c] - other[c]) for c in CHANNELS)
        lines.append(f"Largest difference from ChannelAttribution's with 10⁶ walks: "
                     f"{d_ca:.4f} (≤ {TOLERANCE}: {'yes' if d_ca <= TOLERANCE else 'NO'}).")
        dflt = runs.get(DEFAULTS, {})
        if "result" in dflt:
            d_dflt = max(abs(mine[c] - dflt["result"][c]) for c in CHANNELS)
            lines.append(f"With its defaults (10⁵ walks and more until the results move "
                         f"by less than 5 %) the largest difference is {d_dflt:.4f}.")
        for name in (DEFAULTS, ACCURATE):
            if "best" in runs.get(name, {}):
                faster = runs[name]["best"] / a["best"]
                lines.append(f"cxlens {faster:.1f}× {'faster' if faster >= 1 else 'SLOWER'}"
                             f" than {name} (best runs).")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--max-wait", type=float, default=600)
    ap.add_argument("--budget", type=float, default=30)
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args()
    import pandas as pd

    t = time.perf_counter()
    steps, outcome = simulate(args.paths, args.seed)
    sim_s = time.perf_counter() - t
    truth = dict(zip(CHANNELS, exact_truth(*truth_chain()).tolist(), strict=True))
    load = wait_quiet(args.max_wait)
    parts: list[str] = []
    for title, distinct in (("Distinct paths with counts", True), ("One row per journey",
                                                                    False)):
        table = as_table(steps, outcome, distinct)
        frame = pd.DataFrame({"path": [" > ".join(p) for p in table.paths],
                              "conv": table.conversions, "nul": table.nulls})
        runs = {"cxlens": measure(lambda tb=table: ours(tb), args.budget)}
        for name, nsim in ((DEFAULTS, 1e5), (ACCURATE, 1e6)):
            try:
                runs[name] = measure(lambda f=frame, n=nsim: theirs(f, n), args.budget)
            except ImportError as exc:
                runs[name] = {"error": f"not installed ({exc})"}
        parts += part(title, table, runs, truth)
        del table, frame, runs
    lines = header(args, sim_s, load) + parts
    lines += not_quiet(load, "the times are upper bounds")
    text = "\n".join([*lines, END])
    print(text)
    if not args.no_doc:
        write_section("marketing.py", text)


if __name__ == "__main__":
    main()
