"""Survey activity and the response rate: Wilson intervals against Newcombe's published
figures, and the counts of a hand-built set of invitations, one of each kind."""

from __future__ import annotations

import doctest
from datetime import datetime
from pathlib import Path

import pytest

from cxlens.analytics import surveys as srv
from cxlens.analytics.surveys import response_rate, survey_activity
from cxlens.surveys import answers, definitions, store
from cxlens.warehouse.engine import DuckDBEngine
from cxlens.warehouse.store import open_warehouse


@pytest.mark.parametrize(("answered", "n", "low", "high"), [
    # Newcombe (1998a), Statistics in Medicine 17, 857–872, Table II, method 3 (Wilson).
    (81, 263, 25.53, 36.62),
    (15, 148, 6.24, 16.05),
    (0, 20, 0.0, 16.11),
    (1, 29, 0.61, 17.18),
])
def test_response_rate_reproduces_newcombe_1998(answered: int, n: int, low: float,
                                                high: float) -> None:
    r = response_rate(answered, n)
    assert (r.answered, r.n) == (answered, n)
    assert r.rate.value == pytest.approx(100 * answered / n)
    assert r.rate.low == pytest.approx(low, abs=0.01)
    assert r.rate.high == pytest.approx(high, abs=0.01)
    assert r.rate.method == "wilson"
    assert r.too_small == (n < 30)


def test_response_rate_of_nothing_sent_is_empty_and_nonsense_refused() -> None:
    r = response_rate(0, 0)
    assert r.rate.value is None and r.rate.low is None and r.too_small
    for answered, n in ((3, 2), (-1, 5)):
        with pytest.raises(ValueError):
            response_rate(answered, n)


def test_the_docstring_example_runs() -> None:
    result = doctest.testmod(srv, raise_on_error=True)
    assert result.failed == 0 and result.attempted == 2


T = datetime(2026, 11, 20, 9, 0)
# (survey, state, sent, opened, reminded, answered): one invitation of each kind
INVITATIONS = [
    ("nps", "created", None, None, None, None),  # waiting: not in n
    ("nps", "sent", T, None, None, None),
    ("nps", "sent", T, None, T, None),  # reminded
    ("nps", "opened", None, T, None, None),  # a CSV link opened before it was marked sent
    ("nps", "answered", T, T, None, T),
    ("nps", "answered", None, None, None, T),  # answered straight from a handed-out link
    ("nps", "expired", T, None, None, None),  # sent, never answered: in n
    ("nps", "expired", None, None, None, None),  # never sent: not in n
    ("nps", "opted_out", T, None, None, None),
    ("legacy", "sent", datetime(2026, 11, 21), None, None, None),  # no stored definition
]


def test_survey_activity_counts_each_kind_of_invitation(tmp_path: Path) -> None:
    with open_warehouse(tmp_path / "ws") as con:
        assert survey_activity(DuckDBEngine(con)) == srv.SurveysSummary()  # no survey tables yet
        for name in ("nps", "ces"):
            store.save_survey(con, definitions.builtin_source(name), now=T)
        con.executemany(
            "INSERT INTO survey_invitations (invitation_id, nonce, token_hash, survey_id, "
            "language, invited_on, state, created_at, sent_at, opened_at, reminded_at, "
            "answered_at, expires_at) VALUES (?, 'n', 'h', ?, 'fi', DATE '2026-11-20', ?, "
            "TIMESTAMP '2026-11-20', ?, ?, ?, ?, TIMESTAMP '2026-12-20')",
            [(i, *row) for i, row in enumerate(INVITATIONS, 1)])
        con.executemany("INSERT INTO survey_optouts VALUES (?, ?, TIMESTAMP '2026-11-20', "
                        "'test')",
                        [("email:a@x.fi", "C1"), ("phone:+358401", "C1"),
                         ("email:b@x.fi", None)])
        nps = store.require_survey(con, "nps").survey
        answers.submit_public(con, nps, {"score": 9}, language="fi", now=T)
        summary = survey_activity(DuckDBEngine(con))
    by_id = {s.survey_id: s for s in summary.surveys}
    assert list(by_id) == ["ces", "legacy", "nps"]
    n = by_id["nps"]
    assert (n.invitations, n.waiting, n.delivered, n.reminders, n.opened, n.answered,
            n.expired, n.opted_out, n.public_answers) == (9, 1, 7, 1, 2, 2, 2, 1, 1)
    assert n.last_sent == T
    assert n.response == response_rate(2, 7)
    assert (round(n.response.rate.low, 2), round(n.response.rate.high, 2)) == (8.22, 64.11)
    ces = by_id["ces"]
    assert (ces.invitations, ces.delivered, ces.response.rate.value) == (0, 0, None)
    legacy = by_id["legacy"]
    assert legacy.delivered == 1 and legacy.last_sent == datetime(2026, 11, 21)
    assert summary.opted_out_customers == 2  # C1 (two identifiers) and b@x.fi
    assert (summary.delivered, summary.answered, summary.waiting) == (8, 2, 1)
