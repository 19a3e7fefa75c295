"""Schemathesis against the app's own OpenAPI schema, in-process (ASGI): no 5xx, ever.

Every operation in ``/openapi.json`` gets generated requests, authenticated so they reach
the real handlers: ``/v1/...`` with the workspace's write key (HTTP basic), ``/api/...``
with a ``write`` token of the same workspace (read, write and ingest), and the path's
``{slug}`` set to that workspace. Bounded by ``MAX_EXAMPLES`` per operation
(``CXLENS_FUZZ_EXAMPLES`` to hunt longer), so it finishes in well under two minutes.

A 5xx it found (an annotation id over 64 bits) has its own regression test below.

Every answer is also checked for the one error shape: a 4xx/5xx is JSON ``{"ok": false,
"error": "…", "status": <the status>}`` (a 500 carries a ``reference``), never plain text.

The stateful run follows the schema's OpenAPI links (an annotation created, then edited
and deleted through its id) with :meth:`as_state_machine`, bounded by
``STATEFUL_EXAMPLES`` scenarios of at most ``STATEFUL_STEPS`` calls.
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
pytestmark = pytest.mark.fuzz

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from cxlens.web import db  # noqa: E402
from cxlens.web.accounts import create_user  # noqa: E402
from cxlens.web.app import create_app  # noqa: E402
from cxlens.web.settings import WebSettings  # noqa: E402
from cxlens.web.workspaces import create_token, create_workspace  # noqa: E402
from helpers import FUZZ_EXAMPLES  # noqa: E402

MAX_EXAMPLES = FUZZ_EXAMPLES  # per operation
STATEFUL_EXAMPLES = FUZZ_EXAMPLES  # scenarios of the state machine
STATEFUL_STEPS = 6  # calls per scenario at most
AUTH: dict[str, str] = {}
STATUSES: dict[str, set[int]] = {}


def _site() -> tuple[Any, Any]:
    """A home with workspace ``acme``, its write key and a ``write`` token (made at import:
    the schema must exist when pytest collects the generated tests)."""
    from argon2 import PasswordHasher

    from cxlens.web import security

    home = Path(tempfile.mkdtemp(prefix="cxlens-schemathesis-")) / "home"
    app = create_app(WebSettings.load(home=home))
    saved, security._hasher = security._hasher, PasswordHasher(
        time_cost=1, memory_cost=1024, parallelism=1)
    con = db.connect(app.state.settings.db_path)
    try:
        user = create_user(con, "ann@acme.fi", "correct horse battery")
        ws, key = create_workspace(con, app.state.settings.workspaces_dir, "acme", "Acme", user)
        token = create_token(con, ws, "fuzz", "write", user)
    finally:
        con.close()
        security._hasher = saved
    AUTH["v1"] = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    AUTH["api"] = f"Bearer {token}"
    return app, home.parent


APP, TMP = _site()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    APP.state.warehouses.close()
    shutil.rmtree(TMP, ignore_errors=True)


def error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """An error answer is the one JSON error shape, with the status it was sent with."""
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{case.operation.label}: a {response.status_code} that is not "
                             f"JSON: {response.content[:200]!r}") from None
    assert isinstance(body, dict) and body.get("ok") is False, body
    assert isinstance(body.get("error"), str) and body["error"], body
    assert body.get("status") == response.status_code, body
    assert response.status_code < 500 or body.get("reference"), body
    return None


CHECKS = [not_a_server_error, error_shape]


def _aim(case: Any) -> dict[str, str]:
    """Point the case at workspace ``acme`` and give it the credentials of its path."""
    if case.path_parameters and "slug" in case.path_parameters:
        case.path_parameters["slug"] = "acme"
    return {"Authorization": AUTH["v1"] if case.path.startswith("/v1/") else AUTH["api"]}


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any) -> None:
    response = case.call_and_validate(headers=_aim(case), checks=CHECKS)
    STATUSES.setdefault(case.path, set()).add(response.status_code)


class Stateful(schema.as_state_machine()):  # type: ignore[misc]
    """Sequences along the schema's links (create → edit/delete an annotation)."""

    def before_call(self, case: Any) -> None:
        self._headers = _aim(case)

    def get_call_kwargs(self, case: Any) -> dict[str, Any]:
        return {"headers": self._headers}

    def after_call(self, response: Any, case: Any) -> None:
        super().after_call(response, case)
        STATEFUL_CALLS.append((case.method, case.path, response.status_code))

    def validate_response(self, response: Any, case: Any,
                          additional_checks: Any = None, **kwargs: Any) -> None:
        case.validate_response(response, checks=CHECKS, headers=self._headers)


STATEFUL_CALLS: list[tuple[str, str, int]] = []


def test_stateful_sequences_along_the_links() -> None:
    """Annotations are created, then edited and deleted by the id the answer gave; no
    answer is a 5xx and every error has the JSON shape."""
    Stateful.run(settings=settings(max_examples=STATEFUL_EXAMPLES,
                                   stateful_step_count=STATEFUL_STEPS, deadline=None,
                                   derandomize=True, suppress_health_check=list(HealthCheck)))
    linked = [(m, p, s) for m, p, s in STATEFUL_CALLS
              if p == "/api/w/{slug}/annotations/{note_id}" and s == 200]
    assert any(m == "PUT" for m, _, _ in linked) or any(m == "DELETE" for m, _, _ in linked), \
        sorted(set(STATEFUL_CALLS))[:40]


def test_the_fuzzing_reached_real_handlers() -> None:
    """Not only 401/404: authenticated requests got answers from the handlers themselves."""
    if not STATUSES:
        pytest.skip("run with the fuzz test")
    for path in ("/v1/track", "/v1/identify", "/v1/page"):
        assert 200 in STATUSES.get(path, set()), (path, STATUSES.get(path))
    assert 200 in STATUSES.get("/api/w/{slug}/summary", set())


def test_an_annotation_id_over_64_bits_is_a_404_not_a_500() -> None:
    """Found by schemathesis: such an id used to reach sqlite3 and overflow."""
    from fastapi.testclient import TestClient

    client = TestClient(APP, headers={"Authorization": AUTH["api"]})
    r = client.delete(f"/api/w/acme/annotations/{2**63}")
    assert r.status_code == 404
