"""Attribution over the whole journey: every model side by side, in one result.

:func:`attribute` reads the distinct paths once (:mod:`cxlens.analytics.marketing._paths`:
marketing and sales/service touchpoints in one path, per conversion, within a lookback),
then applies the models asked for:

* the rules (:mod:`~cxlens.analytics.marketing.rules`): ``first``, ``last``, ``linear``,
  ``position`` (40/20/40) and ``time_decay`` (its own query: it needs each touch's age);
* the data-driven models: ``markov`` (:mod:`~cxlens.analytics.marketing.markov`, exact
  removal effects, order 1–3) and ``shapley`` (:mod:`~cxlens.analytics.marketing.shapley`).

Each model gives every channel conversions and revenue, and its share of the attributed
total. Conversions without any touchpoint in the lookback are credited to no channel and
reported apart (``untouched_conversions``).

**Intervals** (data-driven models only): a bootstrap over the journeys, drawn on the
distinct paths' counts — each path's conversions and non-conversions replaced by Poisson
draws with those means (the Poisson bootstrap, Hanley & MacGibbon 2006; Chamandy et al.
2012), its revenue scaled with its conversions — and the model refitted on each replicate;
the 95 % interval is the replicates' 2.5 and 97.5 percentiles. Seeded, so the same data
give the same interval every time and on both engines. A customer's journeys are resampled
as independent ones (docs/methods.md, "Attribution").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from cxlens.analytics._money import CURRENCY, clean_rates, unrated, unrated_message
from cxlens.analytics._orders import counted_order
from cxlens.analytics.journeys._log import Selection
from cxlens.analytics.marketing._paths import PathOptions, PathTable, decay_sql, journey_paths
from cxlens.analytics.marketing._spend import SpendInputError, spend_campaigns
from cxlens.analytics.marketing.markov import MarkovAttribution, normalised
from cxlens.analytics.marketing.rules import DEFAULT_HALF_LIFE, WEIGHTS, rule_credit
from cxlens.analytics.marketing.shapley import membership
from cxlens.warehouse.engine import Engine

MODELS: tuple[str, ...] = ("first", "last", "linear", "position", "time_decay", "markov",
                           "shapley")
DATA_DRIVEN: tuple[str, ...] = ("markov", "shapley")
N_BOOT = 200
"""Bootstrap replicates of the data-driven models by default: enough for a 95 % percentile
interval whose bounds move by a few per cent of its width between seeds; each replicate
refits the model (for Markov, one linear solve per channel)."""
SEED = 14
LEVEL = 0.95


@dataclass(frozen=True)
class ChannelRow:
    """One channel under one model. ``conversion_share``/``revenue_share``: of the
    attributed total (0–1); ``low``/``high``: 95 % interval of ``conversions``,
    ``revenue_low``/``revenue_high`` of ``revenue`` (data-driven models only);
    ``removal_effect`` (Markov only): the share of conversion probability lost without it,
    ``revenue_removal_effect`` the share of expected revenue."""

    channel: str
    conversions: float
    revenue: float
    conversion_share: float
    revenue_share: float
    removal_effect: float | None = None
    revenue_removal_effect: float | None = None
    low: float | None = None
    high: float | None = None
    revenue_low: float | None = None
    revenue_high: float | None = None


@dataclass(frozen=True)
class ModelResult:
    model: str
    rows: list[ChannelRow]


@dataclass(frozen=True)
class Attribution:
    """All the models asked for, side by side; ``reason`` says why there is nothing to
    attribute when there is nothing."""

    models: list[ModelResult]
    channels: list[str]
    paths: int  # distinct paths
    journeys: int  # converting and non-converting paths
    conversions: float  # all conversions, with a touch or not
    revenue: float
    non_conversions: float
    untouched_conversions: float  # conversions without a touchpoint in the lookback
    untouched_revenue: float
    order: int
    half_life_days: float
    currency: str
    n_boot: int
    seed: int
    options: dict[str, Any] = field(default_factory=dict)
    selection: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    rates: dict[str, float] = field(default_factory=dict)  # other currencies' value in it

    def model(self, name: str) -> ModelResult:
        """The result of one model (``KeyError`` when it was not asked for)."""
        for m in self.models:
            if m.model == name:
                return m
        raise KeyError(name)

    def table(self) -> list[dict[str, Any]]:
        """One row per channel, each model's share of conversions and of revenue side by
        side (``<model>_conversions``, ``<model>_revenue``: shares 0–1)."""
        out = []
        for c in self.channels:
            row: dict[str, Any] = {"channel": c}
            for m in self.models:
                r = next(r for r in m.rows if r.channel == c)
                row[f"{m.model}_conversions"] = r.conversion_share
                row[f"{m.model}_revenue"] = r.revenue_share
            out.append(row)
        return out

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["table"] = self.table()
        return d


def _rows(channels: list[str], credit: Mapping[str, tuple[float, float]],
          effects: Mapping[str, tuple[float, float]] | None = None,
          bounds: Mapping[str, tuple[float, float, float, float]] | None = None
          ) -> list[ChannelRow]:
    conv_total = sum(credit.get(c, (0.0, 0.0))[0] for c in channels)
    rev_total = sum(credit.get(c, (0.0, 0.0))[1] for c in channels)
    rows = []
    for c in channels:
        conv, rev = credit.get(c, (0.0, 0.0))
        b = bounds.get(c) if bounds else None
        rows.append(ChannelRow(
            c, float(conv), float(rev),
            float(conv / conv_total) if conv_total > 0 else 0.0,
            float(rev / rev_total) if rev_total > 0 else 0.0,
            *((None, None) if effects is None else effects.get(c, (0.0, 0.0))),
            *(b if b is not None else (None, None, None, None))))
    return rows


def _poisson(table: PathTable, n_boot: int, rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Replicates of the paths' (conversions, revenue, nulls): Poisson draws, revenue
    scaled with the conversions (shape ``(n_boot, paths)``)."""
    conv = rng.poisson(table.conversions, (n_boot, len(table)))
    nulls = rng.poisson(table.nulls, (n_boot, len(table)))
    per = np.divide(table.revenue, table.conversions, out=np.zeros(len(table)),
                    where=table.conversions > 0)
    return conv.astype(float), conv * per, nulls.astype(float)


def _bounds(reps_conv: np.ndarray, reps_rev: np.ndarray, channels: list[str]
            ) -> dict[str, tuple[float, float, float, float]]:
    q = [(1 - LEVEL) / 2, (1 + LEVEL) / 2]
    lc, hc = np.quantile(reps_conv, q, axis=0)
    lr, hr = np.quantile(reps_rev, q, axis=0)
    return {c: (float(lc[i]), float(hc[i]), float(lr[i]), float(hr[i]))
            for i, c in enumerate(channels)}


def _touched(table: PathTable) -> np.ndarray:
    return np.array([bool(p) for p in table.paths], dtype=bool)


def markov_result(table: PathTable, order: int, n_boot: int, rng: np.random.Generator
                  ) -> ModelResult:
    """The Markov model's rows with removal effects and bootstrap intervals."""
    model = MarkovAttribution(order).fit(table)
    channels = model.channels_
    credit = model.credit(table)
    effects = {c: (float(a), float(b)) for c, a, b in zip(
        channels, model.removal_effects_, model.revenue_removal_effects_, strict=True)}
    bounds = None
    if n_boot > 0 and table.conversions.sum() > 0:
        conv, rev, nulls = _poisson(table, n_boot, rng)
        touched = _touched(table)
        rc, rr = np.zeros((n_boot, len(channels))), np.zeros((n_boot, len(channels)))
        for b in range(n_boot):
            re, rv = model.replicate(conv[b], nulls[b], rev[b])
            rc[b] = normalised(re) * conv[b][touched].sum()
            rr[b] = normalised(rv) * rev[b][touched].sum()
        bounds = _bounds(rc, rr, channels)
    return ModelResult("markov", _rows(channels, credit, effects, bounds))


def shapley_result(table: PathTable, n_boot: int, rng: np.random.Generator) -> ModelResult:
    """The Shapley values with bootstrap intervals (a replicate is one matrix product)."""
    channels, m = membership(table)
    credit = {c: (float(v), float(r)) for c, v, r in
              zip(channels, table.conversions @ m, table.revenue @ m, strict=True)}
    bounds = None
    if n_boot > 0 and table.conversions.sum() > 0:
        conv, rev, _ = _poisson(table, n_boot, rng)
        bounds = _bounds(conv @ m, rev @ m, channels)
    return ModelResult("shapley", _rows(channels, credit, None, bounds))


def _decay(engine: Engine, sel: Selection, opts: PathOptions, half_life: float,
           currency: str, rates: Mapping[str, float]) -> dict[str, tuple[float, float]]:
    sql, params = decay_sql(sel, opts, half_life, currency, rates)
    return {r["channel"]: (float(r["conversions"]), float(r["revenue"]))
            for r in engine.query(sql, params).to_pylist()}


def attribute_paths(table: PathTable, models: Sequence[str] = MODELS, order: int = 1,
                    n_boot: int = N_BOOT, seed: int = SEED,
                    decay: Mapping[str, tuple[float, float]] | None = None,
                    half_life_days: float = DEFAULT_HALF_LIFE,
                    currency: str = CURRENCY) -> Attribution:
    """The models on given paths (no engine: hand-made paths, simulations). ``time_decay``
    needs the touches' ages, so here it takes its credit ready-made in ``decay``."""
    models = _check(models, order, n_boot, half_life_days)
    rng = np.random.default_rng(seed)
    channels = table.channels
    results = []
    for name in models:
        if name in WEIGHTS:
            results.append(ModelResult(name, _rows(channels, rule_credit(table, name))))
        elif name == "time_decay":
            results.append(ModelResult(name, _rows(channels, dict(decay or {}))))
        elif name == "markov":
            results.append(markov_result(table, order, n_boot, rng))
        else:
            results.append(shapley_result(table, n_boot, rng))
    touched = _touched(table)
    conv = float(table.conversions.sum())
    reason = None
    if len(table) == 0:
        reason = "no touchpoints or orders in the selection"
    elif conv == 0:
        reason = "no conversions in the selection: nothing to attribute"
    elif not touched.any() or table.conversions[touched].sum() == 0:
        reason = "no conversion had a touchpoint in the lookback"
    return Attribution(
        results, channels, len(table), int(conv + table.nulls.sum()), conv,
        float(table.revenue.sum()), float(table.nulls.sum()),
        float(table.conversions[~touched].sum()) if len(table) else 0.0,
        float(table.revenue[~touched].sum()) if len(table) else 0.0,
        order, float(half_life_days), currency, n_boot, seed, reason=reason)


def _check(models: Sequence[str], order: int, n_boot: int, half_life: float) -> list[str]:
    models = list(dict.fromkeys(models))
    bad = [m for m in models if m not in MODELS]
    if bad or not models:
        raise ValueError(f"model must be one of {', '.join(MODELS)}, not {bad or models!r}")
    if not 1 <= int(order) <= 3:
        raise ValueError(f"order must be 1 to 3, not {order}")
    if not 0 <= int(n_boot) <= 10_000:
        raise ValueError(f"bootstrap replicates must be 0 to 10000, not {n_boot}")
    if not 0 < float(half_life) <= 3650:
        raise ValueError(f"half-life must be above 0 and at most 3650 days, not {half_life}")
    return models


def attribute(engine: Engine, models: Sequence[str] = MODELS, sel: Selection | None = None,
              order: int = 1, lookback_days: int = 30, conversion: str = "every",
              campaigns: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
              half_life_days: float = DEFAULT_HALF_LIFE, sale_touch: bool = True,
              n_boot: int = N_BOOT, seed: int = SEED,
              currency: str = CURRENCY, spend_channels: bool = True,
              rates: Mapping[str, float] | None = None) -> Attribution:
    """Attribution of the selection's conversions to channels by each model in ``models``
    (see the module's docstring); ``campaigns`` maps campaign patterns (SQL ``LIKE``) to
    channels, before the spend table's own campaigns (``spend_channels``: an event whose
    campaign the spend books under a paid channel counts as that channel,
    ``_spend.spend_campaigns``); ``conversion`` is ``"every"`` order or the ``"first"``.
    Revenue is in ``currency``, orders in others converted at ``rates`` (their value in
    ``currency``); orders of the period in a currency without a rate are refused
    (:class:`~cxlens.analytics.marketing._spend.SpendInputError`), not left out."""
    models = _check(models, order, n_boot, half_life_days)
    sel = sel or Selection()
    rates = clean_rates(currency, rates)
    opts = PathOptions(int(lookback_days), conversion,  # type: ignore[arg-type]
                       PathOptions.mapping(campaigns),
                       spend_campaigns(engine) if spend_channels else (),
                       sale_touch=sale_touch)
    _refuse_unrated(engine, sel, currency, rates)
    table = journey_paths(engine, sel, opts, currency, rates)
    decay = (_decay(engine, sel, opts, half_life_days, currency, rates)
             if "time_decay" in models and table.conversions.sum() > 0 else None)
    result = attribute_paths(table, models, order, n_boot, seed, decay, half_life_days,
                             currency)
    return Attribution(**{**_fields(result), "options": opts.as_dict(), "rates": dict(rates),
                          "selection": {k: v for k, v in sel.as_dict().items()
                                        if v is not None}})


def _refuse_unrated(engine: Engine, sel: Selection, currency: str,
                    rates: Mapping[str, float]) -> None:
    """Counted orders of the period in a currency without a rate: their revenue cannot be
    credited, and leaving it out would shrink the channels' revenue unseen."""
    period, params = sel.period()
    where = f"customer_id IS NOT NULL AND ts IS NOT NULL AND {counted_order()}{period}"
    bad = unrated(engine, "v_orders", currency, rates, where, params)
    if bad:
        raise SpendInputError(unrated_message("orders", bad, currency))


def _fields(a: Attribution) -> dict[str, Any]:
    """The fields of ``a`` without converting the nested rows to dicts."""
    return {f: getattr(a, f) for f in a.__dataclass_fields__}


__all__ = ["DATA_DRIVEN", "MODELS", "N_BOOT", "Attribution", "ChannelRow", "ModelResult",
           "attribute", "attribute_paths"]
