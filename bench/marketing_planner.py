"""The budget planner's fit (issue 14): cxlens' marketing-mix model on two years of daily
spend at the L demo's scale, side by side with PyMC-Marketing's MMM on the same series.

    PYTHONPATH=src .venv/bin/python bench/marketing_planner.py [--files DIR] [--seed 3]
        [--boot 100] [--draws 500] [--tune 500] [--chains 2] [--max-wait 600] [--no-doc]

1. The series. ``--files DIR``: the L demo's own files (``cxlens demo generate --size L``):
   the daily spend per channel from its Meta and Google Ads exports, and the new webshop
   customers per day from its Shopify export (the day of each e-mail's first paid order, in
   UTC); the planted curves from its ``truths.json``. The demo's ad-bought customers make
   their first order in the webshop, so this series holds all of them; the customers whose
   first order was in a store are left out (noise the fit need not carry), and its read is
   DuckDB on the CSVs, not the warehouse (loading L takes far longer than the fit). Without
   ``--files``: a simulated series at the L demo's scale from the demo's own generator
   (``make_spend``, ``search_pauses`` and ``carry_over``: 440 000 persons, 343 buyers per
   1 000), organic customers Poisson on the demo's growing trend with a weekday rhythm
   (``tests/analytics/marketing/mmm_sim.py``).
2. Waits for a quiet machine, then fits: cxlens (``fit_series``: the point fit from 6
   starts, and the fit with ``--boot`` bootstrap replicates), and PyMC-Marketing's ``MMM``
   with the same model — geometric adstock (``l_max`` 14 days, normalised), Hill
   saturation, Hill first (``adstock_first=False``), trend and weekday controls, yearly
   seasonality of order 2 — by NUTS (``--chains`` chains one after the other, ``--tune`` +
   ``--draws`` each). CPU seconds (this process and its children) and wall time.
3. Compares each fit's curves with the planted ones and with each other: decay, k, h,
   vmax (posterior means for PyMC-Marketing), the curve's rise over the spend seen
   (10th to 90th percentile of daily spend) and the marginal return at the median spend —
   the tolerances of ``tests/analytics/marketing/test_mmm.py``.
4. Writes its section of docs/benchmarks.md (``--no-doc``: print only).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from common import markers, not_quiet, wait_quiet, write_section
from cxlens.analytics.marketing import mmm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "analytics"
                       / "marketing"))
from mmm_sim import SCALES, simulate

BEGIN, END = markers("marketing_planner.py")
TOL = {"decay_flighted": 0.2, "decay_always_on": 0.3, "rise": 0.25, "marginal": 0.3}
L_MAX = 14


def _cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def timed(call: Any) -> tuple[Any, float, float]:
    c0, w0 = _cpu(), time.perf_counter()
    out = call()
    return out, _cpu() - c0, time.perf_counter() - w0


def pymc_fit(series: mmm.Series, args: argparse.Namespace) -> np.ndarray:
    """PyMC-Marketing's MMM on the series: posterior means as channels × (decay, k, h, vmax)
    in the series' units (its channels and target are max-abs scaled)."""
    import pandas as pd
    from pymc_marketing.mmm import MMM, GeometricAdstock, HillSaturation

    dates = pd.date_range(series.start, periods=series.days, freq="D")
    x = pd.DataFrame({"date": dates, **{c: series.spend[:, i]
                                        for i, c in enumerate(series.channels)}})
    x["trend"] = np.arange(series.days) / (series.days - 1)
    for d in range(1, 7):
        x[f"weekday_{d}"] = (dates.weekday == d).astype(float)
    controls = ["trend", *(f"weekday_{d}" for d in range(1, 7))]
    model = MMM(date_column="date", channel_columns=list(series.channels),
                adstock=GeometricAdstock(l_max=L_MAX, normalize=True),
                saturation=HillSaturation(), adstock_first=False, control_columns=controls,
                yearly_seasonality=2)
    model.fit(x, series.outcome, chains=args.chains, draws=args.draws, tune=args.tune,
              cores=1, random_seed=args.seed, progressbar=False)
    post = model.fit_result
    max_x = series.spend.max(axis=0)
    max_y = float(np.abs(series.outcome).max())
    out = []
    for i, c in enumerate(series.channels):
        def mean(name: str, c: str = c) -> float:
            return float(post[name].sel(channel=c).mean())
        out.append([mean("adstock_alpha"), mean("saturation_kappa") * max_x[i],
                    mean("saturation_slope"), mean("saturation_beta") * max_y])
    return np.array(out)


def files_series(folder: Path) -> tuple[mmm.Series, dict[str, dict[str, float]]]:
    """The L demo's two years of daily spend and new webshop customers, read from its
    export files (see the module's docstring), and its planted curves."""
    import json
    from datetime import date

    import duckdb

    con = duckdb.connect()
    meta, google = folder / "meta_ads.csv", folder / "google_ads.csv"
    social = con.execute(
        "SELECT CAST(\"Day\" AS DATE), sum(CAST(\"Amount spent (EUR)\" AS DOUBLE)) FROM "
        "read_csv(?, all_varchar = true) GROUP BY 1", [str(meta)]).fetchall()
    text = google.read_bytes().decode("utf-16")  # DuckDB reads UTF-8: convert in memory
    rows = [line.split("\t") for line in text.splitlines()[1:] if line.strip()]
    search: dict[date, float] = {}
    for r in rows:
        d = date.fromisoformat(r[0].strip('"'))
        search[d] = search.get(d, 0.0) + float(r[4].strip('"'))
    firsts = con.execute(
        "SELECT CAST(first AS DATE), count(*) FROM (SELECT \"Email\", min(try_strptime("
        "\"Paid at\", '%Y-%m-%d %H:%M:%S %z') AT TIME ZONE 'UTC') AS first FROM read_csv(?, "
        "all_varchar = true) WHERE \"Email\" IS NOT NULL AND \"Financial Status\" = 'paid' "
        "GROUP BY 1) WHERE first IS NOT NULL GROUP BY 1", [str(folder / "shopify_orders.csv")]
    ).fetchall()
    days = sorted({d for d, _ in social} | set(search))
    start, n = days[0], (days[-1] - days[0]).days + 1
    spend = np.zeros((n, 2))
    for d, v in social:
        spend[(d - start).days, 0] += v
    for d, v in search.items():
        spend[(d - start).days, 1] += v
    y = np.zeros(n)
    for d, v in firsts:
        if 0 <= (d - start).days < n:
            y[(d - start).days] += v
    planted = json.loads((folder / "truths.json").read_text())["spend_response"]["curves"]
    truth = {ch: {"decay": c["decay"], "k": c["k_eur_per_day"], "h": c["h"],
                  "vmax": c["vmax_new_customers_per_day"]} for ch, c in planted.items()}
    return mmm.Series(start, ("social_ads", "search_ads"), spend, y), truth


def judge(series: mmm.Series, params: np.ndarray, truth: dict[str, dict[str, float]]
          ) -> list[dict[str, Any]]:
    rows = []
    for i, c in enumerate(series.channels):
        t = truth[c]
        tp = np.array([t["decay"], t["k"], t["h"], t["vmax"]])
        col = series.spend[:, i]
        lo, hi = np.quantile(col[col > 0], [0.1, 0.9])
        med = float(np.median(col))

        def rise(p: np.ndarray, lo: float = lo, hi: float = hi) -> float:
            return float(mmm.response(p, hi) - mmm.response(p, lo))

        flighted = bool((col == 0).any())
        rows.append({
            "channel": c, "params": params[i], "truth": tp,
            "decay_ok": abs(params[i][0] - tp[0]) <= TOL[
                "decay_flighted" if flighted else "decay_always_on"],
            "rise_err": rise(params[i]) / rise(tp) - 1,
            "marginal_err": float(mmm.marginal(params[i], med) / mmm.marginal(tp, med)) - 1})
    return rows


def run(args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    series, truth = (files_series(args.files) if args.files
                     else simulate(SCALES["L"], seed=args.seed))
    read = time.perf_counter() - t0
    load = wait_quiet(args.max_wait)
    res: dict[str, Any] = {"load": load, "days": series.days, "read": read,
                           "customers": float(series.outcome.sum())}
    point, c0, w0 = timed(lambda: mmm.fit_series(series, n_boot=0))
    _, c1, w1 = timed(lambda: mmm.fit_series(series, n_boot=args.boot))
    res["cxlens"] = {"cpu": c0, "wall": w0, "rows": judge(series, point.params, truth)}
    res["cxlens_boot"] = {"cpu": c1, "wall": w1}
    print("\n".join(_fmt_rows(res["cxlens"]["rows"], "cxlens")), f"cpu {c0:.1f} / {c1:.1f} s",
          flush=True)  # before the sampler, which takes long on a busy machine
    if not args.no_pymc:
        params, c2, w2 = timed(lambda: pymc_fit(series, args))
        res["pymc"] = {"cpu": c2, "wall": w2, "rows": judge(series, params, truth)}
    return res


def _fmt_rows(rows: list[dict[str, Any]], who: str) -> list[str]:
    out = []
    for r in rows:
        p, t = r["params"], r["truth"]
        out.append(f"| {who} | {r['channel']} | {p[0]:.2f} ({t[0]:.2f}) | {p[1]:,.0f} "
                   f"({t[1]:,.0f}) | {p[2]:.2f} ({t[2]:.2f}) | {p[3]:.1f} ({t[3]:.1f}) | "
                   f"{100 * r['rise_err']:+.0f} % | {100 * r['marginal_err']:+.0f} % |")
    return out


def section(res: dict[str, Any], args: argparse.Namespace) -> str:
    cx, cb = res["cxlens"], res["cxlens_boot"]
    if args.files:
        given, what = f"--files {args.files} ", (
            f"the L demo's own files (its Meta and Google Ads spend, {res['customers']:,.0f} "
            f"new webshop customers from its Shopify export, read with DuckDB in "
            f"{res['read']:.0f} s)")
    else:
        given, what = f"--seed {args.seed} ", (
            "a series simulated at the L demo's scale with the demo's generator")
    lines = [
        BEGIN, "", "### The budget planner's fit (marketing-mix model)", "",
        f"`PYTHONPATH=src .venv/bin/python bench/marketing_planner.py {given}"
        f"--boot {args.boot} --draws {args.draws} --tune {args.tune} --chains "
        f"{args.chains}` — {res['days']} days of daily spend on two channels: {what}, "
        f"measured {time.strftime('%Y-%m-%d')}, cxlens {metadata.version('cxlens')}, "
        f"PyMC-Marketing {metadata.version('pymc-marketing')}, PyMC "
        f"{metadata.version('pymc')}, {os.cpu_count()} cores.", "",
        *not_quiet(res["load"], "the times are upper bounds"), "",
        "| fit | CPU s | wall s |", "| --- | ---: | ---: |",
        f"| cxlens, point fit (6 starts) | {cx['cpu']:.1f} | {cx['wall']:.1f} |",
        f"| cxlens, with {args.boot} bootstrap replicates | {cb['cpu']:.1f} | "
        f"{cb['wall']:.1f} |"]
    if "pymc" in res:
        pm = res["pymc"]
        lines.append(f"| PyMC-Marketing MMM, NUTS {args.chains} × ({args.tune} + "
                     f"{args.draws}) | {pm['cpu']:.1f} | {pm['wall']:.1f} |")
    lines += ["", "Recovered curves (planted in brackets); the rise over the spend seen and "
              "the marginal return at the median spend against the planted curve's:", "",
              "| fit | channel | decay | k EUR/day | h | vmax /day | rise | marginal |",
              "| --- | --- | --- | --- | --- | --- | ---: | ---: |",
              *_fmt_rows(cx["rows"], "cxlens")]
    if "pymc" in res:
        lines += _fmt_rows(res["pymc"]["rows"], "PyMC-Marketing")
        ratio = res["pymc"]["cpu"] / max(cb["cpu"], 1e-9)
        lines += ["", f"cxlens with its bootstrap used {ratio:,.0f}× less CPU than "
                      "PyMC-Marketing's sampler."]
    lines += ["", END]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=Path, default=None,
                    help="the L demo's files (cxlens demo generate --size L)")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--boot", type=int, default=100)
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--tune", type=int, default=500)
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--max-wait", type=float, default=600)
    ap.add_argument("--no-pymc", action="store_true")
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args()
    res = run(args)
    text = section(res, args)
    print(text)
    if not args.no_doc:
        write_section("marketing_planner.py", text)


if __name__ == "__main__":
    main()
