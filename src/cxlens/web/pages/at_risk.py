"""The At-risk page (issue 12): the high-value customers whose probability of still being a
customer is falling, to call before they are lost.

The list is :func:`cxlens.analytics.value.customers.customer_values` with ``at_risk=True``,
the same as ``cxlens value customers --at-risk`` and ``GET /api/w/{slug}/value/customers
?at_risk=true``, laid out through the API's own :class:`~cxlens.web.api.value.CustomerValuesOut`
so the page, the API and the CLI show the same numbers. It needs the fitted value model
(:mod:`cxlens.web.value_cache`, shared with the Value page) and computes the whole list once
per data version (:class:`~cxlens.web.kept.Kept`): the page shows its first ``top`` rows and
the CSV download all of them, in the columns of the CLI's ``--csv``.

Each customer links to the customer search, which leads to the profile. The CLV horizon
and discount rate can be chosen (:data:`cxlens.web.value_cache.HORIZON_MONTHS`), as in the
API.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from cxlens.analytics.value._predict import Horizon
from cxlens.analytics.value._summary import NoPurchases, ValueInputError
from cxlens.analytics.value.bgnbd import NotIdentifiable
from cxlens.analytics.value.customers import customer_values
from cxlens.csv_out import csv_text
from cxlens.errors import UserError
from cxlens.warehouse.store import db_path
from cxlens.web import value_cache
from cxlens.web.api.money import served_money
from cxlens.web.api.value import (
    CUSTOMER_CSV_COLUMNS,
    CustomerValuesOut,
    customer_csv_rows,
    result_out,
)
from cxlens.web.deps import WorkspaceAccess, WorkspaceRole, get_clock
from cxlens.web.kept import Kept
from cxlens.web.nav import VALUE, NavItem, register
from cxlens.web.templating import render

router = APIRouter(include_in_schema=False)
Viewer = WorkspaceRole("viewer")

register(NavItem("at_risk", "nav.at_risk", "/w/{slug}/at-risk", "viewer", order=19,
                 group=VALUE))

TOPS = (25, 50, 100, 250, 1000)
_KEPT = Kept(16)


def at_risk_list(request: Request, access: WorkspaceAccess, lookback_days: int,
                 currency: str, horizon: Horizon | None = None) -> Any:
    """Every high-value customer at risk (the analytics' result), kept until the next batch.
    Raises what ``fit_value`` and ``customer_values`` raise."""
    today = get_clock(request)().date()
    h = horizon or Horizon()
    m = served_money(access, currency)  # the workspace's rates, re-based on ``currency``
    v = value_cache.fitted(access.warehouse, access.workspace.engine, today,
                           value_cache.fit_params(m))
    return _KEPT.get(access.warehouse, access.workspace.engine,
                     (today, v.end, lookback_days, m.key(), h),
                     lambda eng: customer_values(eng, v, at_risk=True, top=None,
                                                 horizon=h, lookback_days=lookback_days,
                                                 rates=m.rates))


def clear() -> None:
    """Forget every kept list (tests)."""
    _KEPT.clear()


def _checked(access: WorkspaceAccess, top: int, lookback_days: int,
             currency: str | None) -> str:
    """The options, checked; the currency defaults to the workspace's reporting one."""
    if not 1 <= top <= 10000:
        raise HTTPException(422, "top must be 1 to 10000 customers")
    if not 7 <= lookback_days <= 365:
        raise HTTPException(422, "lookback_days must be 7 to 365")
    code = (currency or served_money(access).currency).strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise HTTPException(422, "currency must be a three-letter code such as EUR or SEK")
    return code


Top = Annotated[int, Query()]
Lookback = Annotated[int, Query()]
Months = Annotated[int, Query()]
Discount = Annotated[float, Query()]
Text = Annotated[str | None, Query()]


@router.get("/w/{slug}/at-risk")
def at_risk(request: Request, access: Viewer, top: Top = 100, lookback_days: Lookback = 90,
            months: Months = 12, discount: Discount = 0.10,
            currency: Text = None) -> Response:
    code = _checked(access, top, lookback_days, currency)
    h = value_cache.horizon(months, discount)
    ctx: dict[str, Any] = {"access": access, "top": top, "tops": TOPS,
                           "lookback_days": lookback_days, "currency": code, "horizon": h,
                           "horizons": value_cache.HORIZON_MONTHS,
                           "discounts": value_cache.DISCOUNTS,
                           "csv_url": f"/w/{access.workspace.slug}/at-risk.csv?"
                                      f"lookback_days={lookback_days}&months={months}"
                                      f"&discount={discount:g}&currency={code}"}
    if not db_path(access.workspace.path).exists():
        ctx["empty"] = "no_purchases"
        return render(request, "at_risk.html", ctx)
    try:
        out = result_out(CustomerValuesOut,
                         at_risk_list(request, access, lookback_days, code, h))
    except NoPurchases as exc:
        ctx.update(empty="no_purchases", reason=str(exc))
    except NotIdentifiable as exc:
        ctx.update(empty="not_identifiable", reason=str(exc))
    except (UserError, ValueInputError) as exc:
        ctx["error"] = getattr(exc, "message", None) or str(exc)
    else:
        ctx.update(result=out, rows=out.rows[:top])
    return render(request, "at_risk.html", ctx)


@router.get("/w/{slug}/at-risk.csv")
def at_risk_csv(request: Request, access: Viewer, lookback_days: Lookback = 90,
                months: Months = 12, discount: Discount = 0.10,
                currency: Text = None) -> Response:
    """The whole list in the columns of ``cxlens value customers --at-risk --csv``."""
    code = _checked(access, 1, lookback_days, currency)
    h = value_cache.horizon(months, discount)
    if not db_path(access.workspace.path).exists():
        raise HTTPException(404, "no data yet")
    try:
        res = at_risk_list(request, access, lookback_days, code, h)
    except (NoPurchases, NotIdentifiable):
        raise HTTPException(404, "no model yet: see the Value page for why") from None
    except (UserError, ValueInputError) as exc:
        raise HTTPException(422, getattr(exc, "message", None) or str(exc)) from None
    name = f"{access.workspace.slug}-at-risk-{date.isoformat(res.end)}.csv"
    return Response(csv_text(CUSTOMER_CSV_COLUMNS, customer_csv_rows(res)),
                    media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
