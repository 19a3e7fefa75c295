"""Every signed-in page of the demo workspace (the survey builder, the trigger form and the
run preview included), and the public survey page, in English, Finnish and Swedish at
phone (390 px), laptop (1280 px) and wide (1920 px) width (Finnish and Swedish at the phone
and the wide width: ``CASES``): nothing sticks out of its box or
out of the window, no select cuts off its chosen option, no chart text falls outside its
chart, no English text is left on a Finnish or Swedish page, and the Overview's findings
are there with their numbers.

A screenshot of each page, language and width goes to ``build/screenshots/`` (git-ignored)
for a person to look at: ``<lang>-<width>-<page>.png``.

What the S demo lacks is added once through the pages (``prepared``): a custom survey to
edit, a store and a team with long names, and a follow-up item whose edit form is measured.

One browser context per language and width visits all pages in turn (one server and one
browser for the whole run, from ``browser_fixtures.py``), so the module stays at a few
minutes. The measuring and the English strings are in ``layout_checks.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from browser_fixtures import EMAIL, PASSWORD
from layout_checks import MEASURE, READ, SCROLLERS, english_on

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
WIDTHS = {390: 844, 1280: 900, 1920: 1080}
LOCALES = {"en": "en-GB", "fi": "fi-FI", "sv": "sv-SE"}
MAX_SHOWN = 6  # findings of one kind shown per page in a failure message

# Drawn when every chart has its SVG and the Overview's findings have arrived.
READY = """() => [...document.querySelectorAll("div.chart[data-figure]")]
    .every(d => d.querySelector("svg.main-svg"))
  && [...document.querySelectorAll("#insights")].every(s => s.dataset.loaded === "yes")"""

UPLOAD = ("order_id,ts,amount,email\n"
          "L-1,2026-11-20 10:00:00,19.90,l1@example.fi\n"
          "L-2,2026-11-21 11:00:00,kaksi euroa,l2@example.fi\n")


def _settle(page) -> None:
    page.wait_for_function(READY)
    page.evaluate("document.fonts.ready")


def _customer_profile(page, base: str) -> None:
    page.goto(base + "/w/demo/customers")
    page.locator("table.recent a").first.click()
    page.wait_for_selector("section.profile")


def _upload_preview(tmp: Path) -> Callable:
    def go(page, base: str) -> None:
        csv = tmp / "shop_orders.csv"
        csv.write_text(UPLOAD, encoding="utf-8")
        page.goto(base + "/w/demo/data")
        page.set_input_files("input[type=file]", str(csv))
        page.select_option("select[name=kind]", "orders")
        page.click("#upload form button")
        page.wait_for_selector("table.preview")
    return go


def _public_survey(lang: str) -> Callable:
    def go(page, base: str) -> None:
        page.goto(base + "/w/demo/surveys")
        link = page.locator("a[href*='/s/public/']").first.get_attribute("href")
        assert link, "the Surveys page shows no public link"
        page.goto(base + re.sub(r"^https?://[^/]+", "", link) + f"?lang={lang}")
        page.wait_for_selector("form")
    return go


def _moments(query: str) -> Callable:
    """The Moments page once its moments are computed: a first visit answers at once and
    reloads itself until they are (web/pages/moments.py)."""
    def go(page, base: str) -> None:
        page.goto(base + "/w/demo/moments" + query)
        page.wait_for_selector("#chart-moments", timeout=240_000)
    return go


def _attribution(query: str) -> Callable:
    """The Attribution page once its models are computed (a worker thread, as Moments)."""
    def go(page, base: str) -> None:
        page.goto(base + "/w/demo/attribution" + query)
        page.wait_for_selector("#chart-conversions", timeout=240_000)
    return go


def _run_preview(page, base: str) -> None:
    """The Surveys page after "Preview" of the trigger run: what a run would make, with
    nothing made (the survey browser tests hand out today's invitations later)."""
    page.goto(base + "/w/demo/surveys")
    page.click("#run-preview")
    page.wait_for_selector("#run-result")


# The pages in three parts, each its own test case: ``-k analysis`` runs only the analysis
# pages (Journeys, Value, Comments and the pages that join their menu groups), ``-k
# marketing`` the Marketing menu's.
PARTS = ("base", "analysis", "marketing")


def pages(lang: str, tmp: Path, part: str = "base") -> list[tuple[str, str | Callable]]:
    """Each page by its screenshot name: a path, or a function that brings the page up."""
    if part == "marketing":
        return [("marketing", "/w/demo/marketing"), ("attribution", _attribution("?order=2")),
                ("targets", "/w/demo/targets"),
                ("targets-lookalike", "/w/demo/targets?segment=lookalike&top=25"),
                ("planner", "/w/demo/planner")]
    if part == "analysis":
        return [("journeys", "/w/demo/journeys"),
                ("journeys-from", "/w/demo/journeys?anchor=support_ticket&direction=from"
                                  "&steps=5&top=20&months=24"),
                ("moments", _moments("")),
                ("moments-revenue", _moments("?outcome=revenue&within=30&months=24"
                                             "&moment=support_ticket")),
                ("retention", "/w/demo/retention"), ("value", "/w/demo/value"),
                ("at-risk", "/w/demo/at-risk"), ("comments", "/w/demo/comments?months=24"),
                ("comments-theme", "/w/demo/comments?metric=nps&months=24&theme=delivery"
                                   "#theme")]
    return [
        ("overview", "/w/demo/"), ("experience", "/w/demo/experience"),
        ("experience-stores", "/w/demo/experience?by=store_id"),
        ("drivers", "/w/demo/drivers"), ("people", "/w/demo/people"),
        ("followups", "/w/demo/followups"), ("customers", "/w/demo/customers"),
        ("customer", _customer_profile), ("data", "/w/demo/data"),
        ("upload-preview", _upload_preview(tmp)), ("surveys", "/w/demo/surveys"),
        ("survey-new", "/w/demo/surveys/new"), ("survey-edit", f"/w/demo/surveys/{SURVEY}/edit"),
        ("trigger-edit", "/w/demo/surveys?trigger=nps-purchase#trigger-form"),
        ("run-preview", _run_preview),
        ("settings", "/w/demo/settings"), ("account", "/account"),
        ("notes", "/w/demo/annotations"), ("survey-answer", _public_survey(lang)),
    ]


def _describe(name: str, width: int, lang: str, found: list[dict]) -> list[str]:
    out: list[str] = []
    by_kind: dict[str, list[dict]] = {}
    for f in found:
        by_kind.setdefault(f["kind"], []).append(f)
    for kind, items in by_kind.items():
        for f in items[:MAX_SHOWN]:
            out.append(f"{name} {lang} {width}px: {kind}: {f['where']} "
                       f"({f['sizes']}) «{f['text']}»")
        if len(items) > MAX_SHOWN:
            out.append(f"{name} {lang} {width}px: {kind}: … and {len(items) - MAX_SHOWN} more")
    return out


def _open_details(page) -> None:
    """Open every disclosure of the page's content (numbers tables, edit forms), so what is
    inside is measured and read too."""
    page.evaluate("""() => document.querySelectorAll("main details")
        .forEach(d => { d.open = true; })""")


def _sign_in(context, server):
    p = context.new_page()
    p.set_default_timeout(60_000)  # a first visit fits a model (Value, Targets) under load
    p.goto(f"{server.url}/signin")
    p.fill("input[name=email]", EMAIL)
    p.fill("input[name=password]", PASSWORD)
    p.click("form button")
    p.wait_for_url(f"{server.url}/w/{server.slug}/")
    return p


# A custom survey, so that its builder page (built-in surveys are read-only) can be measured;
# its id is no other test's. (Not plain "returns": that is the English name of a comment
# theme, which the English-text check would then find in the Finnish survey list.)
SURVEY = "return-flow"
SURVEY_YAML = """\
id: return-flow
metric: csat
default_language: fi
title:
  fi: Palautuksen sujuvuus verkkokaupassa ja myymälässä
  sv: Hur smidig var returen i webbutiken och i butiken?
  en: How smooth was your return in the web shop and in the store?
questions:
  - id: score
    type: rating
    scale: [1, 5]
    main: true
    text:
      fi: Kuinka tyytyväinen olit palautuksen käsittelyyn kokonaisuutena?
      sv: Hur nöjd var du med hanteringen av returen som helhet?
      en: How satisfied were you with the handling of your return as a whole?
  - id: where
    type: choice
    options:
      - {id: store, text: {fi: Myymälässä asiakaspalvelutiskillä, sv: I butikens kundtjänst,
                           en: At the store's customer service desk}}
      - {id: locker, text: {fi: Pakettiautomaatissa, sv: I ett paketskåp,
                            en: In a parcel locker}}
    text:
      fi: Mistä palautit tuotteen?
      sv: Var lämnade du tillbaka varan?
      en: Where did you return the item?
  - id: comment
    type: text
    text:
      fi: Mitä voisimme tehdä paremmin?
      sv: Vad kunde vi göra bättre?
      en: What could we do better?
thanks:
  fi: Kiitos palautteestasi!
  sv: Tack för din feedback!
  en: Thank you for your feedback!
email:
  subject: {fi: "Miten palautus sujui?", sv: "Hur gick returen?", en: "How did your return go?"}
  body:
    fi: "Hei, kerro miten palautus sujui: {link}"
    sv: "Hej, berätta hur returen gick: {link}"
    en: "Hello, tell us how your return went: {link}"
"""

# One more person on the HR list whose store and team have long names, sorting before the
# demo's own names of the same codes (the first name in sort order is the one shown): the
# Experience charts and tables and the People page show them.
LONG_STORE = "Oulu Kauppakeskus Valkea, myymälä ja verkkokaupan noutopiste"
LONG_TEAM = "Store team Oulu Kauppakeskus Valkea, myymälä ja noutopiste"
EMPLOYEES = ("employee_id,name,team_id,team_name,store_id,store_name,role,start_date\n"
             f"E9901,Aino Pitkänen,T-FI-OUL,\"{LONG_TEAM}\",FI-OUL,\"{LONG_STORE}\","
             "Sales associate,2020-03-01\n")


# A dissatisfied customer's answer from another tool, given yesterday: the trigger run opens
# a follow-up item for it, whose edit form the test measures (the S demo has none). A CSAT
# answer, so that the NPS figures test_survey_browser compares before and after its own
# answer stay the demo's.
def _detractor_answer() -> str:
    yesterday = date.today() - timedelta(days=1)
    return ("response_id,ts,metric,score,comment,language,touchpoint,email\n"
            f"layout-1,{yesterday} 12:00:00,csat,1,\"Paketti tuli viikon myöhässä eikä "
            "kukaan vastannut asiakaspalvelun chatissa kahteen päivään\",fi,delivery,"
            "palaute.testi@example.fi\n")


def _upload(page, base: str, path: Path, kind: str) -> None:
    page.goto(base + "/w/demo/data")
    page.set_input_files("input[type=file]", str(path))
    page.select_option("select[name=kind]", kind)
    page.click("#upload form button")
    page.wait_for_selector("table.preview")
    page.click("#confirm")
    page.wait_for_selector("#done")
    assert page.inner_text("#loaded") == "1", page.inner_text("#job")


@pytest.fixture(scope="module")
def prepared(browser, server, tmp_path_factory: pytest.TempPathFactory) -> None:
    """What the demo lacks for this test, added once through the pages as a user would: a
    custom survey (for the builder's edit page), long store and team names and a follow-up
    item. Nothing that the later browser tests count on changes: no invitation is made or
    handed out, and their counts are taken before and after their own steps."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        p = _sign_in(context, server)
        p.goto(server.url + "/w/demo/surveys")
        p.evaluate("document.querySelector('details#add').open = true")
        p.fill('textarea[name="definition"]', SURVEY_YAML)
        p.locator("details#add form button").click()
        p.wait_for_load_state()
        assert f"saved={SURVEY}" in p.url, p.inner_text("main")[:2000]
        files = tmp_path_factory.mktemp("layout")
        (files / "employees.csv").write_text(EMPLOYEES, encoding="utf-8")
        _upload(p, server.url, files / "employees.csv", "employees")
        (files / "answers.csv").write_text(_detractor_answer(), encoding="utf-8")
        _upload(p, server.url, files / "answers.csv", "feedback")
        # Today's run again: nothing new to invite (the seed ran it), the imported answer's
        # follow-up opened.
        p.goto(server.url + "/w/demo/surveys")
        p.click("#run-now")
        p.wait_for_selector("#run-result")
    finally:
        context.close()


@pytest.fixture
def signed_in(browser, server, prepared):
    contexts = []

    def make(lang: str, width: int):
        context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]},
                                      locale=LOCALES[lang])
        contexts.append(context)
        return _sign_in(context, server)

    try:
        yield make
    finally:
        for c in contexts:
            c.close()


# Every page at every width in English, and in Finnish and Swedish at the narrowest and the
# widest width: 21 cases where the full matrix was 27 (about 80 s less in CI). What this
# gives up: a Finnish or Swedish text that overflows at 1280 px only, and fits at both 390
# and 1920 px (the phone width, where the longer words wrap least well, stays checked).
NARROW, WIDE = min(WIDTHS), max(WIDTHS)
CASES = [(lang, width) for lang in LOCALES for width in WIDTHS
         if lang == "en" or width in (NARROW, WIDE)]


@pytest.mark.slow
@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize(("lang", "width"), CASES, ids=[f"{lg}-{w}" for lg, w in CASES])
def test_every_page_fits_and_speaks_the_language(signed_in, server, tmp_path: Path,
                                                 lang: str, width: int, part: str) -> None:
    page = signed_in(lang, width)
    page.goto(f"{server.url}/w/demo/?lang={lang}")  # remembered in a cookie from here on
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for name, target in pages(lang, tmp_path, part):
        if callable(target):
            target(page, server.url)
        else:
            page.goto(server.url + target)
        assert page.locator("html").get_attribute("lang") == lang, (name, lang)
        _settle(page)
        page.screenshot(path=str(SCREENSHOTS / f"{lang}-{width}-{name}.png"), full_page=True)
        closed = page.evaluate(MEASURE, SCROLLERS)
        problems += _describe(name, width, lang, closed)
        _open_details(page)
        seen = {(f["kind"], f["where"]) for f in closed}
        opened = [f for f in page.evaluate(MEASURE, SCROLLERS)
                  if (f["kind"], f["where"]) not in seen]
        problems += _describe(f"{name} (opened)", width, lang, opened)
        if name == "experience-stores":
            assert LONG_STORE in page.inner_text("main"), "the long store name is not shown"
        if name == "journeys":
            # the Store filter offers the long name but stays as narrow as the other filters
            store = page.locator("select[name=store]")
            assert LONG_STORE in store.inner_text(), "the long store name is not offered"
            rem = page.evaluate("parseFloat(getComputedStyle(document.documentElement)"
                                ".fontSize)")
            assert store.bounding_box()["width"] <= 16 * rem + 1, store.bounding_box()
        if name == "followups":
            # The demo has open follow-ups: their edit forms are measured opened.
            assert page.locator("table.followups tr.edit details").count(), \
                page.inner_text("table.followups")
            page.screenshot(path=str(SCREENSHOTS / f"{lang}-{width}-{name}-form.png"),
                            full_page=True)
        if lang != "en":
            english = english_on(page.evaluate(READ), lang)
            if english:
                problems.append(f"{name} {lang} {width}px: English text: "
                                + "; ".join(f"«{s}» in «…{around}…»"
                                            for s, around in english))
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


# The Overview's findings: each a sentence with its figure, its 95 % interval and its n.
NUMBERED = {"en": ("95 %", "n "), "fi": ("95 %", "n "), "sv": ("95 %", "n ")}


@pytest.mark.parametrize("lang", list(LOCALES))
def test_the_overview_findings_have_their_numbers(signed_in, server, lang: str) -> None:
    page = signed_in(lang, 1280)
    page.goto(f"{server.url}/w/demo/?lang={lang}")
    # The period of test_pages_browser's findings test: a year of the S demo with a finding
    # (its findings come and go with the demo's draws: few answers).
    page.goto(f"{server.url}/w/demo/?as_of=2026-09-27&days=365")
    _settle(page)
    sentences = page.locator("#insights .insight-list li span.insight").all_inner_texts()
    assert sentences, page.inner_text("#insights")
    numbered = [s for s in sentences if re.search(r"\d", s)]
    assert numbered == sentences, sentences
    assert any(all(part in s for part in NUMBERED[lang]) for s in sentences), sentences
