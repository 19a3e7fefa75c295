"""The experience results as JSON: ``GET /api/w/{slug}/experience/…``.

``score``, ``changes``, ``drivers``, ``people`` and ``value``: the same analytics functions
as the Experience, Drivers and People pages and ``cxlens experience``, with the same
parameters. A route checks its query (a model per endpoint), calls
:mod:`cxlens.analytics.experience` / ``weighting`` / ``drivers`` / ``people``, and copies the
result into a response model (:mod:`.experience_models`). No statistics here. Every value
carries its n, its 95 % interval (``low``, ``high`` and the ``method`` that made it) and the
small-sample flag ``too_small``.

Parameters the analytics refuse (an unknown group, a weighting that cannot be made) answer
422 in the one error shape; a result the data cannot give (drivers without attribute
ratings) is a 200 with ``available: false`` and the reason, so a dashboard polling the
endpoint can tell "no data yet" from a broken request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from cxlens.analytics import drivers as drv
from cxlens.analytics import experience as exp
from cxlens.analytics import people as ppl
from cxlens.analytics import weighting as wgt
from cxlens.analytics.group_names import group_names
from cxlens.web.api.experience_models import (
    GROUP_DIMENSIONS,
    ChangesOut,
    ChangesQuery,
    DriversOut,
    DriversQuery,
    PeopleOut,
    PeopleQuery,
    ScoreQuery,
    ScoresOut,
    ValueOut,
    ValueQuery,
    WeightedQuery,
    WeightingOut,
    drivers_out,
    people_out,
    period_change_out,
    score_out,
    segment_test_out,
    value_out,
    weighting_out,
)
from cxlens.web.deps import ServerClock, TokenScope

router = APIRouter(prefix="/api/w/{slug}/experience", tags=["experience"])
Reader = TokenScope("read")


@contextmanager
def unprocessable() -> Iterator[None]:
    """A parameter the analytics refuse (ValueError) is the caller's to fix: 422."""
    try:
        yield
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None


def _window(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and start >= end:
        raise HTTPException(422, "start must be before end (end is the day after the last)")


def parse_filters(items: list[str]) -> dict[str, list[str]]:
    """``["country:FI", "country:SE", "segment:B2B"]`` → ``{"country": ["FI", "SE"], …}``."""
    out: dict[str, list[str]] = {}
    for item in items:
        name, sep, value = item.partition(":")
        if not sep or not value:
            raise HTTPException(422, f"filter {item!r} is not dimension:value "
                                     "(e.g. filter=country:FI)")
        if name not in GROUP_DIMENSIONS:
            raise HTTPException(422, f"filter {item!r}: {name!r} is not one of "
                                     f"{', '.join(GROUP_DIMENSIONS)}")
        out.setdefault(name, []).append(value)
    return out


def _shares(text: str) -> dict[str, float]:
    try:
        return wgt.parse_shares(text)
    except ValueError as exc:
        raise HTTPException(422, f"shares {exc}") from None


def weights_for(eng: Any, q: WeightedQuery, start: date | None, end: date | None,
                filters: dict[str, list[str]], grain: str | None,
                ) -> tuple[str | wgt.Weighting | None, WeightingOut | None]:
    """The ``weights`` argument of the analytics for the query, and what to report of it.

    A properties key must be one :func:`weighting.weight_keys` finds for the metric (so a
    misspelt key is an error, not a result from zero answers); ``weight_by`` builds the
    post-stratification weights over the same answers the scores will use.
    """
    if q.weights is not None and q.weight_by is not None:
        raise HTTPException(422, "give weights (a key the answers carry) or weight_by "
                                 "(a customer attribute), not both")
    if q.shares is not None and q.weight_by is None:
        raise HTTPException(422, "shares are the population's shares of weight_by: "
                                 "give weight_by too")
    if q.weights is not None:
        keys = wgt.weight_keys(eng, q.metric)
        if q.weights not in keys:
            raise HTTPException(422, f"no {q.metric} answer carries response weights under "
                                     f"the key {q.weights!r}; keys that do: "
                                     f"{', '.join(keys) or 'none'}")
        return q.weights, weighting_out(q.weights, None)
    if q.weight_by is not None:
        shares = _shares(q.shares) if q.shares is not None else None
        with unprocessable():
            w = wgt.poststratify(eng, q.metric, q.weight_by, start, end, shares=shares,
                                 filters=filters, grain=grain)
        return w, weighting_out(None, w)
    return None, None


@router.get("/score")
def score(access: Reader, q: Annotated[ScoreQuery, Query()]) -> ScoresOut:
    """The metric overall, or per group of ``by`` and/or per ``period`` bucket.

    Groups without answers are absent; answers without a group form the group ``null``.
    """
    _window(q.start, q.end)
    filters = parse_filters(q.filter)
    with access.engine() as eng:
        weights, weighting = weights_for(eng, q, q.start, q.end, filters, q.period)
        with unprocessable():
            scores = exp.score(eng, q.metric, by=q.by, period=q.period, start=q.start,
                               end=q.end, weights=weights, filters=filters)
        names = group_names(eng, q.by) if q.by else {}
    return ScoresOut(metric=q.metric, by=q.by, period=q.period, start=q.start, end=q.end,
                     filters=filters, weighting=weighting, min_sample=exp.MIN_SAMPLE,
                     scores=[score_out(s) for s in scores], group_names=names)


@router.get("/changes")
def changes(access: Reader, q: Annotated[ChangesQuery, Query()],
            clock: ServerClock) -> ChangesOut:
    """Is the latest ``grain`` different from the one before, and which group of ``by``
    differs from the rest (p, Benjamini–Hochberg q, ``significant`` at q < 0.05)?

    The period test compares the ``grain`` containing ``as_of`` (default: the day of the
    latest answer) with the one before; the segment tests use the answers in
    ``[start, end)``. With ``weight_by`` every ``grain`` bucket is weighted to the
    population, so both periods and any window of whole buckets match it.
    """
    _window(q.start, q.end)
    filters = parse_filters(q.filter)
    with access.engine() as eng:
        weights, weighting = weights_for(eng, q, None, None, filters, q.grain)
        with unprocessable():
            period = exp.compare_periods(eng, q.metric, q.grain, q.as_of, on=q.on,
                                         weights=weights, filters=filters,
                                         today=clock().date())
            tests = exp.compare_segments(eng, q.metric, q.by, q.start, q.end, on=q.on,
                                         weights=weights, filters=filters)
        names = group_names(eng, q.by)
    return ChangesOut(metric=q.metric, on=q.on, by=q.by, grain=q.grain, start=q.start,
                      end=q.end, filters=filters, weighting=weighting, alpha=exp.ALPHA,
                      min_sample=exp.MIN_SAMPLE, periods=period_change_out(period),
                      segments=[segment_test_out(t) for t in tests], group_names=names)


@router.get("/drivers")
def drivers(access: Reader, q: Annotated[DriversQuery, Query()]) -> DriversOut:
    """Relative importance of the attribute ratings for the overall score (Johnson's
    relative weights or the Shapley decomposition of R²), each with its bootstrap interval,
    its mean rating (performance) and its quadrant of the priority matrix."""
    _window(q.start, q.end)
    with access.engine() as eng:
        try:
            kd = drv.key_drivers(eng, q.metric, start=q.start, end=q.end, method=q.method,
                                 n_boot=q.n_boot, seed=q.seed)
        except ValueError as exc:  # too few ratings: the data, not the request
            return DriversOut(metric=q.metric, method=q.method, available=False,
                              reason=str(exc), min_sample=exp.MIN_SAMPLE)
    return drivers_out(kd)


@router.get("/people")
def people(access: Reader, q: Annotated[PeopleQuery, Query()]) -> PeopleOut:
    """eNPS per team beside its customers' NPS, each team's eNPS against the other teams
    (BH-adjusted), and the correlation across teams with Fisher's interval."""
    _window(q.start, q.end)
    with access.engine() as eng:
        link = ppl.team_link(eng, q.start, q.end, min_answers=q.min_answers)
    return people_out(link, q.start, q.end)


@router.get("/value")
def value(access: Reader, q: Annotated[ValueQuery, Query()], clock: ServerClock) -> ValueOut:
    """Revenue per customer and repurchase rate of promoters, passives and detractors in the
    ``days`` after their first NPS answer, and the worth of one detractor turned promoter
    (promoters' minus detractors' revenue, Welch interval; the difference of their repurchase
    rates, Newcombe interval): associations, not effects. Revenue per customer has a BCa
    bootstrap interval over the group's customers (``n_boot`` replicates from ``seed``).

    Only answers whose whole window is observed count: by ``as_of`` when given, else by the
    last order date in the data (not in the future).
    """
    with access.engine() as eng, unprocessable():
        v = exp.value_by_group(eng, days=q.days, as_of=q.as_of, n_boot=q.n_boot,
                               seed=q.seed, now=clock())
    return value_out(v)
