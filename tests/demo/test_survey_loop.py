"""The demo's survey programme runs through the real survey code and adds up."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cxlens.analytics.surveys import survey_activity
from cxlens.demo import generate, survey_loop
from cxlens.ingest.load import ingest
from cxlens.surveys import followups, invitations
from cxlens.warehouse.engine import DuckDBEngine
from cxlens.warehouse.store import open_warehouse


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo-loop")
    manifest = generate(root / "files", size="S", seed=5)
    with open_warehouse(root / "ws") as con:
        for f in manifest.files:
            ingest(con, f.path, f.kind, preset=f.preset)
    return root / "ws"


def _run(loaded: Path, target: Path, monkeypatch: pytest.MonkeyPatch):
    shutil.copytree(loaded, target)
    monkeypatch.setattr(survey_loop, "ANSWER_SHARE", 0.5)  # enough answers on the S demo
    with open_warehouse(target) as con:
        result = survey_loop.run(con, target, seed=3)
        scores = [r[0] for r in con.execute(
            "SELECT score FROM v_feedback WHERE response_id LIKE 'inv-%' ORDER BY response_id"
        ).fetchall()]
        return result, scores, invitations.counts(con), followups.list_followups(con), \
            survey_activity(DuckDBEngine(con))


def test_the_loop_adds_up(loaded: Path, tmp_path: Path, monkeypatch) -> None:
    result, scores, counts, items, activity = _run(loaded, tmp_path / "ws", monkeypatch)
    assert result.invitations == result.sent > 5
    assert result.answered == len(scores) > 0
    assert result.opted_out == 2 and counts.get("opted_out", 0) >= 2
    assert counts.get("answered", 0) == result.answered
    assert all(0 <= s <= 10 for s in scores)
    detractors = sum(s <= 6 for s in scores)
    assert detractors >= 1  # the first answer is a detractor's, on every seed
    assert result.followups == len(items) == detractors + result.imported_followups
    own = [f for f in items if f.invitation_id is not None]
    assert len(own) == detractors
    assert [(f.status, f.owner) for f in own if f.status != "open"] == [
        ("resolved", survey_loop.OWNER)]
    imported = [f for f in items if f.invitation_id is None]
    assert len(imported) == result.imported_followups
    if imported:
        assert [f.status for f in imported].count("contacted") == 1
    nps = next(a for a in activity.surveys if a.survey_id == "nps")
    assert nps.answered == result.answered


def test_the_answers_follow_the_seed(loaded: Path, tmp_path: Path, monkeypatch) -> None:
    _, first, *_ = _run(loaded, tmp_path / "a", monkeypatch)
    _, second, *_ = _run(loaded, tmp_path / "b", monkeypatch)
    assert first == second
