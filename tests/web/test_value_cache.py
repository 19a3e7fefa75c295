"""``web/value_cache``: the fitted value model is kept while the warehouse's batches stay the
same, and fitted again after a new batch, a rollback, or for other parameters, another day or
another workspace."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cxlens.ingest.batches import rollback
from cxlens.ingest.load import ingest
from cxlens.warehouse.store import open_warehouse
from cxlens.web import value_cache
from cxlens.web.warehouses import Warehouse

TODAY = date(2026, 6, 1)


def _orders(prefix: str, customers: int, start: int = 0) -> str:
    """Every customer buys in January and again in March, April or not at all."""
    rows = ["order_id,ts,amount,email"]
    for i in range(start, start + customers):
        rows.append(f"{prefix}{i}a,2026-01-{1 + i % 28:02d} 10:00:00,{20 + i % 7},c{i}@x.fi")
        if i % 3:
            rows.append(f"{prefix}{i}b,2026-0{3 + i % 2}-{1 + i % 27:02d} 10:00:00,"
                        f"{25 + i % 5},c{i}@x.fi")
        if i % 5 == 1:
            rows.append(f"{prefix}{i}c,2026-05-{1 + i % 20:02d} 10:00:00,30,c{i}@x.fi")
    return "\n".join(rows) + "\n"


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    (tmp_path / "first.csv").write_text(_orders("A", 120), encoding="utf-8")
    with open_warehouse(tmp_path / "ws") as con:
        assert ingest(con, tmp_path / "first.csv", "orders").balanced
    value_cache.clear()
    wh = Warehouse(tmp_path / "ws")
    yield wh
    wh.close()


def counting() -> tuple[list[int], object]:
    """A stand-in for ``fit_value`` that counts its calls and reads the engine it is given
    (how many customers have orders): the real fit takes seconds and is tested with the
    analytics."""
    from types import SimpleNamespace

    calls: list[int] = []

    def fit(eng, today, **params):
        calls.append(1)
        n = eng.query("SELECT count(DISTINCT customer_id) AS n FROM v_orders").to_pylist()
        return SimpleNamespace(customers=n[0]["n"], today=today, **params)
    return calls, fit


def test_kept_until_a_new_batch(warehouse: Warehouse, tmp_path: Path) -> None:
    calls, fit = counting()
    p = value_cache.FitParams()
    first = value_cache.fitted(warehouse, "duckdb", TODAY, p, fit)
    assert value_cache.fitted(warehouse, "duckdb", TODAY, p, fit) is first
    assert len(calls) == 1
    (tmp_path / "more.csv").write_text(_orders("B", 40, start=200), encoding="utf-8")
    result = warehouse.write(lambda cur: ingest(cur, tmp_path / "more.csv", "orders"))
    assert result.balanced
    second = value_cache.fitted(warehouse, "duckdb", TODAY, p, fit)
    assert len(calls) == 2 and second is not first
    assert second.customers == first.customers + 40
    assert value_cache.fitted(warehouse, "duckdb", TODAY, p, fit) is second
    # a rollback of that batch: the data change again, so does the model
    warehouse.write(lambda cur: rollback(cur, result.batch_id))
    third = value_cache.fitted(warehouse, "duckdb", TODAY, p, fit)
    assert len(calls) == 3 and third.customers == first.customers


def test_other_parameters_days_and_workspaces_are_fitted_apart(warehouse: Warehouse,
                                                               tmp_path: Path) -> None:
    calls, fit = counting()
    base = value_cache.fitted(warehouse, "duckdb", TODAY, value_cache.FitParams(), fit)
    other = value_cache.fitted(warehouse, "duckdb", TODAY,
                               value_cache.FitParams(model="paretonbd"), fit)
    later = value_cache.fitted(warehouse, "duckdb", date(2026, 6, 2),
                               value_cache.FitParams(), fit)
    assert len(calls) == 3 and len({id(base), id(other), id(later)}) == 3
    assert other.model == "paretonbd" and base.model is None and later.today != base.today
    (tmp_path / "b.csv").write_text(_orders("A", 120), encoding="utf-8")
    with open_warehouse(tmp_path / "ws2") as con:
        assert ingest(con, tmp_path / "b.csv", "orders").balanced
    twin = Warehouse(tmp_path / "ws2")
    try:
        assert value_cache.fitted(twin, "duckdb", TODAY, value_cache.FitParams(), fit) \
            is not base
    finally:
        twin.close()
    assert len(calls) == 4


def test_a_failed_fit_is_not_kept(tmp_path: Path) -> None:
    from cxlens.analytics.value._summary import NoPurchases
    from cxlens.analytics.value.models import fit_value

    (tmp_path / "customers.csv").write_text("email\na@x.fi\n", encoding="utf-8")
    with open_warehouse(tmp_path / "ws") as con:
        assert ingest(con, tmp_path / "customers.csv", "customers").balanced
    wh = Warehouse(tmp_path / "ws")
    calls: list[int] = []

    def fit(*args, **kwargs):
        calls.append(1)
        return fit_value(*args, **kwargs)
    try:
        for _ in range(2):
            with pytest.raises(NoPurchases):
                value_cache.fitted(wh, "duckdb", TODAY, value_cache.FitParams(), fit)
    finally:
        wh.close()
    assert len(calls) == 2
