"""The fits bench/value.py compares: cxlens and its peers, each as a call that returns the
fitted parameters under cxlens' names (r, alpha, a, b; p, q, gamma; r, alpha, s, beta).

Peers are fitted the way their documentation shows, on the data they take:

- lifetimes 0.11 (``BetaGeoFitter``, ``GammaGammaFitter``): per-customer rows, and the
  compressed rows with ``weights=`` (its ``fit`` documents the argument for exactly that).
- PyMC-Marketing's CLV module (``BetaGeoModel``, ``GammaGammaModel``): its MAP fit,
  ``model.fit(data=..., method="map")``, on per-customer rows (the models require a unique
  ``customer_id`` per row and have no weights). Its default BG/NBD priors are proper
  (Weibull on r and alpha, a Pareto-Uniform pair on a and b), so its MAP is not the maximum
  likelihood; here every parameter gets ``Prior("HalfFlat")``, which makes ``pm.find_MAP``
  (log-density without the transform's Jacobian) a maximum-likelihood fit, like for like.
  Its Gamma-Gamma priors are already HalfFlat. A third BG/NBD fit uses the library's
  ``BetaGeoNBD`` distribution in a small ``pm.Model`` of our own, each compressed row's
  log-density multiplied by its count in a ``pm.Potential``: PyMC on the same summary as
  cxlens.

Imports happen inside the calls, so a missing peer costs its rows only.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from _value_sim import Compressed, Customers
from cxlens.analytics.value import bgnbd, gamma_gamma, paretonbd

Params = dict[str, float]


@dataclass(frozen=True)
class Contender:
    """One fit to time: ``model`` is BG/NBD, Gamma-Gamma or Pareto/NBD; ``data`` says what
    it is fitted on."""

    tool: str
    model: str
    data: str
    call: Callable[[], Any]
    params: Callable[[Any], Params]


def _lifetimes_bg(x: np.ndarray, t_x: np.ndarray, T: np.ndarray,
                  weights: np.ndarray | None = None) -> Params:
    from lifetimes import BetaGeoFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = BetaGeoFitter().fit(x, t_x, T, weights=weights)
    return {k: float(f.params_[k]) for k in ("r", "alpha", "a", "b")}


def _lifetimes_gg(x: np.ndarray, m: np.ndarray, weights: np.ndarray | None = None) -> Params:
    from lifetimes import GammaGammaFitter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = GammaGammaFitter().fit(x, m, weights=weights)
    return {"p": float(f.params_["p"]), "q": float(f.params_["q"]),
            "gamma": float(f.params_["v"])}


def _posterior(idata: Any, names: dict[str, str]) -> Params:
    return {ours: float(np.asarray(idata.posterior[theirs]).ravel()[0])
            for ours, theirs in names.items()}


def _pymc_bg_rows(c: Customers) -> Params:
    import pandas as pd
    from pymc_extras.prior import Prior
    from pymc_marketing.clv import BetaGeoModel

    data = pd.DataFrame({"customer_id": np.arange(c.x.size), "frequency": c.x,
                         "recency": c.t_x, "T": c.T})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = BetaGeoModel(model_config={k: Prior("HalfFlat")
                                           for k in ("r", "alpha", "a", "b")})
        idata = model.fit(data=data, method="map", progressbar=False)
    return _posterior(idata, {k: k for k in ("r", "alpha", "a", "b")})


def _pymc_bg_weighted(s: Compressed) -> Params:
    import pymc as pm
    from pymc_marketing.clv.distributions import BetaGeoNBD

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pm.Model():
            r, alpha, a, b = (pm.HalfFlat(k) for k in ("r", "alpha", "a", "b"))
            dist = BetaGeoNBD.dist(a=a, b=b, r=r, alpha=alpha, T=s.T)
            pm.Potential("ll", s.n * pm.logp(dist, np.stack([s.t_x, s.x], axis=1)))
            point = pm.find_MAP(progressbar=False)
    return {k: float(point[k]) for k in ("r", "alpha", "a", "b")}


def _pymc_gg_rows(c: Customers) -> Params:
    import pandas as pd
    from pymc_marketing.clv import GammaGammaModel

    rep = c.repeat
    data = pd.DataFrame({"customer_id": np.arange(int(rep.sum())), "frequency": c.x[rep],
                         "monetary_value": c.mean_spend[rep]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = GammaGammaModel().fit(data=data, method="map", progressbar=False)
    return _posterior(idata, {"p": "p", "q": "q", "gamma": "v"})


def contenders(c: Customers, s: Compressed, rows: int) -> list[Contender]:
    """Every fit of the comparison, cxlens first within each model."""
    rep = c.repeat
    comp = f"compressed ({s.x.size:,} rows)"
    gg_comp = f"compressed ({s.gg_x.size:,} rows)"
    per = f"per customer ({rows:,} rows)"
    gg_per = f"per repeat buyer ({int(rep.sum()):,} rows)"
    fit_params = lambda f: f.as_dict()  # noqa: E731
    same = lambda p: p  # noqa: E731
    return [
        Contender("cxlens", "BG/NBD", comp, lambda: bgnbd.fit(s.x, s.t_x, s.T, s.n),
                  fit_params),
        Contender("lifetimes", "BG/NBD", per, lambda: _lifetimes_bg(c.x, c.t_x, c.T), same),
        Contender("lifetimes", "BG/NBD", comp + ", weights=",
                  lambda: _lifetimes_bg(s.x, s.t_x, s.T, s.n), same),
        Contender("PyMC-Marketing", "BG/NBD", per + ", BetaGeoModel MAP",
                  lambda: _pymc_bg_rows(c), same),
        Contender("PyMC-Marketing", "BG/NBD", comp + ", BetaGeoNBD × counts, find_MAP",
                  lambda: _pymc_bg_weighted(s), same),
        Contender("cxlens", "Gamma-Gamma", gg_comp,
                  lambda: gamma_gamma.fit(s.gg_x, s.gg_m, s.gg_n), fit_params),
        Contender("lifetimes", "Gamma-Gamma", gg_per,
                  lambda: _lifetimes_gg(c.x[rep], c.mean_spend[rep]), same),
        Contender("lifetimes", "Gamma-Gamma", gg_comp + ", weights=",
                  lambda: _lifetimes_gg(s.gg_x, s.gg_m, s.gg_n), same),
        Contender("PyMC-Marketing", "Gamma-Gamma", gg_per + ", GammaGammaModel MAP",
                  lambda: _pymc_gg_rows(c), same),
        Contender("cxlens", "Pareto/NBD", comp, lambda: paretonbd.fit(s.x, s.t_x, s.T, s.n),
                  fit_params),
    ]


def log_likelihood(model: str, params: Params, s: Compressed) -> float:
    """The total log-likelihood of ``params`` on the compressed summary, computed by cxlens'
    own per-row likelihood: one yardstick for every tool's parameters."""
    if model == "BG/NBD":
        theta = np.array([params[k] for k in bgnbd.NAMES])
        return float(s.n @ bgnbd.log_likelihood(theta, s.x, s.t_x, s.T)[0])
    if model == "Gamma-Gamma":
        theta = np.array([params[k] for k in gamma_gamma.NAMES])
        return float(s.gg_n @ gamma_gamma.log_likelihood(theta, s.gg_x, s.gg_m)[0])
    theta = np.array([params[k] for k in paretonbd.NAMES])
    return float(s.n @ paretonbd.log_likelihood(theta, s.x, s.t_x, s.T)[0])
