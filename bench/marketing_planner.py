"""The budget planner's fit (issue 14): cxlens' marketing-mix model on two years of daily
spend at the L demo's scale, side by side with PyMC-Marketing's MMM on the same series.

    PYTHONPATH=src .venv/bin/python bench/marketing_planner.py [--seed 3] [--boot 100]
        [--draws 500] [--tune 500] [--chains 2] [--max-wait 600] [--no-doc]

1. The series: the L demo's spend and ad-bought customers from the demo's own generator
   (``make_spend`` and ``carry_over`` at the L demo's scale: 440 000 persons, 343 buyers per
   1 000, so the planted curves are the L demo's ``spend_response``), organic customers
   Poisson on the demo's growing trend with a weekday rhythm (``tests/analytics/marketing/
   mmm_sim.py``). Simulated rather than read from the L demo's files: the benchmark's L
   files were made before the carry-over was planted.
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
TOL = {"decay_flighted": 0.1, "decay_always_on": 0.3, "rise": 0.2, "marginal": 0.15}
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
    series, truth = simulate(SCALES["L"], seed=args.seed)
    load = wait_quiet(args.max_wait)
    res: dict[str, Any] = {"load": load, "days": series.days}
    point, c0, w0 = timed(lambda: mmm.fit_series(series, n_boot=0))
    _, c1, w1 = timed(lambda: mmm.fit_series(series, n_boot=args.boot))
    res["cxlens"] = {"cpu": c0, "wall": w0, "rows": judge(series, point.params, truth)}
    res["cxlens_boot"] = {"cpu": c1, "wall": w1}
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
    lines = [
        BEGIN, "", "### The budget planner's fit (marketing-mix model)", "",
        f"`PYTHONPATH=src .venv/bin/python bench/marketing_planner.py --seed {args.seed} "
        f"--boot {args.boot} --draws {args.draws} --tune {args.tune} --chains "
        f"{args.chains}` — {res['days']} days of daily spend on two channels at the L demo's "
        f"scale (simulated with the demo's generator: the L files predate the carry-over), "
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
