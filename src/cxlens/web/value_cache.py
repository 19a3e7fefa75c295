"""The fitted value model of a workspace, kept while its orders stay as they are.

``fit_value`` fits BG/NBD and Pareto/NBD on a calibration period, judges them on the
holdout and refits the chosen one: about 20 s on the M demo, most of it Pareto/NBD. The
Value page must not pay that on every visit, so the server keeps each fitted
:class:`~cxlens.analytics.value.models.ValueModel` here, keyed by everything the fit depends
on:

* the warehouse (its path: one workspace's model never answers for another);
* its **data version**: the last batch and how many batches are loaded — a new batch, a
  rollback or a retry changes it, and only batches change the orders the model reads;
* the engine, the day the fit calls today, and the page's parameters (model, end,
  calibration end, currency).

The first visit after a change computes; two visits at once wait for one fit (a lock per
key) rather than fitting twice. Failures (no purchases, a model that cannot be identified)
are cheap and not kept. The cache is small (:data:`SIZE` models, least recently used out):
a model holds only its compressed summary, a few kilobytes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from cxlens.analytics.value.models import ValueModel, fit_value
from cxlens.web.warehouses import Warehouse, engine_name

SIZE = 32

# The data version of a warehouse: a batch committed, rolled back or retried changes it.
_VERSION = """SELECT coalesce(max(batch_id), 0) AS last,
       count(*) FILTER (WHERE status = 'loaded') AS loaded, count(*) AS batches
FROM batches WHERE finished_at IS NOT NULL"""


@dataclass(frozen=True)
class FitParams:
    """The page's choices a fit depends on (``None``: the analytics' default)."""

    model: str | None = None
    end: date | None = None
    calibration_end: date | None = None
    currency: str = "EUR"


_CACHE: OrderedDict[tuple[object, ...], ValueModel] = OrderedDict()
_LOCKS: dict[tuple[object, ...], threading.Lock] = {}
_lock = threading.Lock()


def data_version(warehouse: Warehouse) -> tuple[int, int, int]:
    """The warehouse's last committed batch, and how many batches are loaded and known."""
    with warehouse.read() as cur:
        row = cur.execute(_VERSION).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def fitted(warehouse: Warehouse, engine_choice: str | None, today: date, params: FitParams,
           fit: Callable[..., ValueModel] = fit_value) -> ValueModel:
    """The workspace's value model for ``params``: the kept one while the data version is
    the same, else fitted now (through the workspace's engine) and kept."""
    key = (str(warehouse.path), data_version(warehouse), engine_name(engine_choice), today,
           params)
    with _lock:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
        turn = _LOCKS.setdefault(key, threading.Lock())
    with turn:
        with _lock:  # another request may have fitted it while this one waited
            if key in _CACHE:
                return _CACHE[key]
        try:
            with warehouse.engine(engine_choice) as eng:
                model = fit(eng, today, model=params.model, end=params.end,
                            calibration_end=params.calibration_end, currency=params.currency)
        finally:
            with _lock:
                _LOCKS.pop(key, None)
        with _lock:
            _CACHE[key] = model
            while len(_CACHE) > SIZE:
                _CACHE.popitem(last=False)
    return model


def clear() -> None:
    """Forget every kept model (tests)."""
    with _lock:
        _CACHE.clear()
