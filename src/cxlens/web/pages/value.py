"""The Value page (issue 12): which purchase model to trust, its parameters, the spend model,
and how both candidates predicted the holdout.

The fit is :func:`cxlens.analytics.value.models.fit_value`, the same as ``cxlens value fit``
and ``GET /api/w/{slug}/value/fit``; its parameters and intervals are laid out by the API's
own :func:`~cxlens.web.api.value.fit_out`, so the page, the API and the CLI show the same
numbers. The fit takes seconds (about 20 on the M demo), so the page reads it through
:mod:`cxlens.web.value_cache`: the first visit after a new batch computes, the rest do not.

The analytics' notes (not converged, spend dependent on frequency, few customers …) are
shown as messages in the reader's language; a note this page does not know is shown as the
analytics wrote it. A workspace without purchases, or whose customers never bought twice,
gets a message that says why instead of a model.

Below the model: how CLV is spread over the customers (a histogram, the mean and total with
intervals, median and 90th percentile, the share the top customers hold —
:mod:`cxlens.analytics.value.distribution`), the customers with the highest CLV, and the
worth of a new customer and CLV per acquisition channel, campaign and NPS group, each with
its interval and n (:mod:`cxlens.analytics.value.channels`), laid out through the API's
models and kept per data version like the fit.

The page is in the value group of the navigation (:data:`VALUE`) with Retention and At risk.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from cxlens.analytics.value._predict import Horizon
from cxlens.analytics.value._summary import NoPurchases, ValueInputError
from cxlens.analytics.value.bgnbd import NotIdentifiable
from cxlens.analytics.value.models import MIN_CUSTOMERS, ValueModel
from cxlens.errors import UserError
from cxlens.warehouse.store import db_path
from cxlens.web import charts_value as cv
from cxlens.web import formats, value_cache
from cxlens.web.api.money import served_money
from cxlens.web.api.value import (
    ClvDistributionOut,
    CustomerValuesOut,
    WorthsOut,
    fit_out,
    result_out,
)
from cxlens.web.deps import WorkspaceAccess, WorkspaceRole, get_clock
from cxlens.web.i18n import translate
from cxlens.web.kept import Kept
from cxlens.web.nav import VALUE, NavItem, register
from cxlens.web.params import parse_day
from cxlens.web.templating import lang_of, render

router = APIRouter(include_in_schema=False)
Viewer = WorkspaceRole("viewer")

register(NavItem("value", "nav.value", "/w/{slug}/value", "viewer", order=18, group=VALUE))

MODELS = ("bgnbd", "paretonbd")
WORTH_BY = ("channel", "campaign", "nps_group")
TOP_CUSTOMERS = 20
_KEPT = Kept(32)


def clear() -> None:
    """Forget the kept top customers and worths (tests)."""
    _KEPT.clear()


def worths(request: Request, access: WorkspaceAccess, params: value_cache.FitParams,
           v: ValueModel, h: Horizon | None = None) -> dict[str, Any]:
    """The CLV distribution, the top customers by CLV and the worth per channel, campaign
    and NPS group of the model ``v``, as the API gives them; kept until the next batch."""
    from cxlens.analytics.value.channels import clv_by_channel, clv_by_nps_group
    from cxlens.analytics.value.customers import customer_values
    from cxlens.analytics.value.distribution import clv_distribution

    h = h or Horizon()
    rates = dict(params.rates)  # those the model was fitted with

    def compute(eng: Any) -> dict[str, Any]:
        out: dict[str, Any] = {
            "distribution": result_out(ClvDistributionOut,
                                       clv_distribution(eng, v, horizon=h, rates=rates)),
            "top_customers": result_out(CustomerValuesOut, customer_values(
                eng, v, top=TOP_CUSTOMERS, horizon=h, rates=rates))}
        for by in WORTH_BY:
            res = (clv_by_nps_group(eng, v, horizon=h, rates=rates) if by == "nps_group"
                   else clv_by_channel(eng, v, by=by, horizon=h, rates=rates))
            out[f"worth_{by}"] = result_out(WorthsOut, res)
        return out

    today = get_clock(request)().date()
    return _KEPT.get(access.warehouse, access.workspace.engine, (today, params, v.end, h),
                     compute)


def _translator(lang: str) -> Callable[..., str]:
    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)
    return t


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def estimate_text(value: float | None, lang: str) -> str:
    """A parameter, standard error or interval end as a reader takes it in: three decimals
    below 10, two below 1 000, none above; beyond a million or below a thousandth as
    "2,92 × 10¹³" (a parameter that ran away, whose digits mean nothing)."""
    if value is None or not math.isfinite(value):
        return formats.DASH
    size = abs(value)
    if size >= 1e6 or 0 < size < 1e-3:
        power = math.floor(math.log10(size))
        mantissa = formats.num(value / 10 ** power, lang, 2)
        return f"{mantissa} × 10{str(power).translate(_SUPERSCRIPT)}"
    return formats.num(value, lang, 0 if size >= 1000 else 2 if size >= 10 else 3)


def note_text(t: Callable[..., str], v: ValueModel, note: str) -> str:
    """One of ``fit_value``'s notes in the reader's language (its facts read from the
    model, not from the text); a note not known here as the analytics wrote it."""
    if note.startswith(f"{v.chosen} did not converge"):
        return t("vp.note.not_converged", model=t(f"vp.model.{v.chosen}"),
                 at_bound=", ".join(v.purchases.at_bound) or "–")
    if note.startswith("spend per purchase moves") and v.independence is not None:
        return t("vp.note.dependent", r=f"{v.independence.correlation:.2f}")
    if note.startswith("the spend model's q"):
        return t("vp.note.q_le_1")
    if note.startswith("spend: "):
        return t("vp.note.no_spend")
    if note.startswith("only ") and "customers" in note:
        return t("vp.note.few", n=v.customers, min=MIN_CUSTOMERS)
    m = re.match(r"(\d+) orders are dated after today", note)
    if m:
        return t("vp.note.future", n=int(m.group(1)))
    m = re.match(r"(bgnbd|paretonbd) on the calibration period: ", note)
    if m:
        return t("vp.note.candidate", model=t(f"vp.model.{m.group(1)}"))
    return note


_MIXED = re.compile(r"(\d+) orders are in (.+), not ([A-Z]{3}): adding them without exchange")


def error_text(t: Callable[..., str], message: str) -> str:
    """A refused fit's reason in the reader's language, saying what to do on this page: the
    analytics' mixed-currency message suggests ``--rate``, which only the CLI takes, so the
    page asks for the currency field instead and names the CLI for converting. A reason not
    known here as the analytics wrote it."""
    m = _MIXED.match(message)
    if m:
        return t("vp.mixed_currencies", n=int(m.group(1)), others=m.group(2),
                 currency=m.group(3), example=m.group(2).split(", ")[0])
    return message


def build(v: ValueModel, lang: str) -> dict[str, Any]:
    """What the page shows of a fitted model."""
    t = _translator(lang)
    charts = [
        cv.holdout_chart("frequency", t("vp.by_frequency_title"), t, v.candidates,
                         "by_frequency", v.chosen),
        cv.holdout_chart("cohort", t("vp.by_cohort_title"), t, v.candidates, "by_cohort",
                         v.chosen),
    ]
    return {"model": v, "purchases": fit_out(v.chosen, v.purchases),
            "spend": None if v.spend is None else fit_out("gamma_gamma", v.spend),
            "candidate_fits": [(c, fit_out(c.model, c.fit)) for c in v.candidates],
            "notes": [note_text(t, v, n) for n in v.notes], "charts": charts,
            "left_out": {k: n for k, n in v.summary.left_out.items() if n}}


def distribution_chart(dist: ClvDistributionOut, lang: str) -> cv.Chart | None:
    """The histogram of the distribution (``None`` without bins: no spend model)."""
    if not dist.bins:
        return None
    return cv.clv_histogram(dist, _translator(lang),
                            lambda amount: formats.money(amount, lang, dist.currency))


def _has_warehouse(access: WorkspaceAccess) -> bool:
    return db_path(access.workspace.path).exists()


Text = Annotated[str | None, Query()]
Months = Annotated[int, Query()]
Discount = Annotated[float, Query()]


def _params(request: Request, access: WorkspaceAccess, model: str | None, end: str | None,
            calibration_end: str | None, currency: str | None) -> value_cache.FitParams:
    """The page's choices, checked: a 422 names a bad model, day or currency. Money is in
    the workspace's reporting currency and rates unless the page's field chose another."""
    if model and model not in MODELS:
        raise HTTPException(422, f"model must be one of {', '.join(MODELS)}")
    code = (currency or "").strip().upper() or None
    if code is not None and not re.fullmatch(r"[A-Z]{3}", code):
        raise HTTPException(422, "currency must be a three-letter code such as EUR or SEK")
    today = get_clock(request)().date()

    def day(value: str | None, name: str) -> date | None:
        return parse_day(value, default=today, name=name) if value else None

    return value_cache.fit_params(served_money(access, code), model=model or None,
                                  end=day(end, "end"),
                                  calibration_end=day(calibration_end, "calibration_end"))


def _fitted(request: Request, access: WorkspaceAccess,
            params: value_cache.FitParams) -> ValueModel:
    today = get_clock(request)().date()
    return value_cache.fitted(access.warehouse, access.workspace.engine, today, params)


@router.get("/w/{slug}/value")
def value(request: Request, access: Viewer, model: Text = None, end: Text = None,
          calibration_end: Text = None, currency: Text = None, months: Months = 12,
          discount: Discount = 0.10) -> Response:
    params = _params(request, access, model, end, calibration_end, currency)
    h = value_cache.horizon(months, discount)
    lang = lang_of(request)
    ctx: dict[str, Any] = {"access": access, "params": params, "models": MODELS,
                           "estimate": lambda value: estimate_text(value, lang),
                           "horizon": h, "horizons": value_cache.HORIZON_MONTHS,
                           "discounts": value_cache.DISCOUNTS,
                           "csv_base": f"/w/{access.workspace.slug}/value/",
                           "csv_query": _query(params, h, currency)}
    if _has_warehouse(access):
        try:
            fitted = _fitted(request, access, params)
            ctx.update(build(fitted, lang))
            ctx.update(worths(request, access, params, fitted, h))
            ctx["distribution_chart"] = distribution_chart(ctx["distribution"], lang)
        except NoPurchases as exc:
            ctx["empty"] = "no_purchases"
            ctx["reason"] = str(exc)  # which currency was looked for, and up to when
        except NotIdentifiable as exc:
            ctx["empty"] = "not_identifiable"
            ctx["reason"] = str(exc)
        except (UserError, ValueInputError) as exc:
            ctx["error"] = error_text(_translator(lang),
                                      getattr(exc, "message", None) or str(exc))
    else:
        ctx["empty"] = "no_purchases"
    return render(request, "value.html", ctx)


def _query(p: value_cache.FitParams, h: Horizon, currency: str | None) -> str:
    q = {"model": p.model, "end": p.end, "calibration_end": p.calibration_end,
         "currency": p.currency if currency else None,
         "months": h.months if h.months != Horizon.months else None,
         "discount": f"{h.discount:g}" if h.discount != Horizon.discount else None}
    return "&".join(f"{k}={v}" for k, v in q.items() if v)


@router.get("/w/{slug}/value/{key}.csv")
def value_csv(request: Request, key: str, access: Viewer, model: Text = None,
              end: Text = None, calibration_end: Text = None,
              currency: Text = None, months: Months = 12,
              discount: Discount = 0.10) -> Response:
    """The numbers of one chart as CSV (the same rows as its table)."""
    params = _params(request, access, model, end, calibration_end, currency)
    h = value_cache.horizon(months, discount)
    if not _has_warehouse(access):
        raise HTTPException(404, "no data yet")
    lang = lang_of(request)
    try:
        fitted = _fitted(request, access, params)
        built = build(fitted, lang)
        charts = built["charts"]
        if key == "distribution":
            dist = worths(request, access, params, fitted, h)["distribution"]
            charts = [c for c in [distribution_chart(dist, lang)] if c is not None]
    except (NoPurchases, NotIdentifiable):
        raise HTTPException(404, "no model yet: see the Value page for why") from None
    except (UserError, ValueInputError) as exc:
        raise HTTPException(422, getattr(exc, "message", None) or str(exc)) from None
    chart = next((ch for ch in charts if ch.key == key), None)
    if chart is None:
        raise HTTPException(404, "no such chart")
    name = f"{access.workspace.slug}-value-{key}-{built['model'].end}.csv"
    return Response(chart.csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
