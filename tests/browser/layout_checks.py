"""What the layout test measures inside a page, and the English strings it looks for on a
Finnish or Swedish page. Kept apart from the test so that each half reads on its own.

The measuring is JavaScript run in the page (the browser knows every box; Python would only
guess), and it returns plain findings — where, what and how big — that the test puts into
its assertion message.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

# Elements that are allowed to be wider than their box: intended scroll containers and what
# is inside them, code blocks, text fields (a long value scrolls inside its field), and
# Plotly's own drawing (checked apart, by its text boxes).
SCROLLERS = ".scroll, pre, textarea, input, .js-plotly-plot"

# The boxes of one page: every visible element whose content is wider than its box, every
# element whose right edge is past the window, every select whose chosen text is cut off,
# and every chart text (axis titles, ticks, legends) outside its chart.
MEASURE = r"""(scrollers) => {
  const vw = document.documentElement.clientWidth;
  const found = [];
  const path = (e) => {
    const parts = [];
    for (let n = e; n && n !== document.body && parts.length < 5; n = n.parentElement) {
      let s = n.tagName.toLowerCase();
      if (n.id) { s += "#" + n.id; parts.unshift(s); break; }
      const cls = [...n.classList].filter(c => !c.startsWith("js-")).slice(0, 2);
      if (cls.length) s += "." + cls.join(".");
      parts.unshift(s);
    }
    return parts.join(" > ");
  };
  const words = (e) => (e.innerText || e.textContent || "").trim().replace(/\s+/g, " ")
    .slice(0, 60);
  const shown = (e) => {
    const cs = getComputedStyle(e);
    if (cs.display === "none" || cs.visibility === "hidden") return false;
    const r = e.getBoundingClientRect();
    return r.width > 0 || r.height > 0;
  };
  // Hidden on purpose: off-screen helpers (clipped, or moved out at the left like the
  // builder's default submit button).
  const offscreen = (e) => {
    const cs = getComputedStyle(e);
    return cs.position === "absolute" && (cs.clip !== "auto" || cs.clipPath !== "none"
      || e.getBoundingClientRect().right <= 0);
  };
  const wide = [], past = [];
  for (const e of document.body.querySelectorAll("*")) {
    if (e instanceof SVGElement || ["SCRIPT", "STYLE", "OPTION", "BR"].includes(e.tagName))
      continue;
    if (!shown(e) || offscreen(e)) continue;
    const inScroller = e.parentElement && e.parentElement.closest(scrollers);
    if (inScroller) continue;
    const cs = getComputedStyle(e);
    const r = e.getBoundingClientRect();
    if (!e.matches(scrollers) && cs.display !== "inline" && e.clientWidth > 0
        && e.scrollWidth > e.clientWidth + 1) wide.push(e);
    if (r.right > vw + 1 && r.width > 0) past.push(e);
    if (e.tagName === "SELECT" && e.selectedIndex >= 0) {
      const ctx = document.createElement("canvas").getContext("2d");
      ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
      const label = e.options[e.selectedIndex].text;
      const need = Math.ceil(ctx.measureText(label).width);
      // The room for the text: the box less its padding and Chromium's arrow (20 px at 16).
      const room = e.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight)
        - 1.25 * parseFloat(cs.fontSize);
      if (need > room + 2) {
        found.push({kind: "select cuts its chosen option", where: path(e), text: label,
                    sizes: `text ${need} px > room ${Math.round(room)} px`});
      }
    }
  }
  // A field of a scrolling box (a table's edit form) out of the part that shows: it is
  // there only for those who think of scrolling sideways. A row's one action button (Roll
  // back at the end of a batch's row) scrolls in with its row like any other cell.
  for (const box of document.querySelectorAll(".scroll")) {
    if (!shown(box)) continue;
    const b = box.getBoundingClientRect();
    for (const c of box.querySelectorAll("input, select, textarea")) {
      if (!shown(c) || ["hidden", "submit", "button"].includes(c.type)) continue;
      const r = c.getBoundingClientRect();
      if (r.right > b.right + 1 || r.left < b.left - 1) {
        found.push({kind: "field outside the visible part of its scroll box",
                    where: path(c), text: words(c) || c.name || "",
                    sizes: `field ${Math.round(r.left)}..${Math.round(r.right)}, `
                      + `box ${Math.round(b.left)}..${Math.round(b.right)}`});
      }
    }
  }
  // From laptop width on, a table fits its card: only a box marked data-wide may scroll
  // sideways (a file's own columns, the numbers behind a chart).
  if (vw >= 1280) {
    for (const box of document.querySelectorAll(".scroll:not([data-wide])")) {
      if (shown(box) && box.scrollWidth > box.clientWidth + 1) {
        found.push({kind: "a table scrolls sideways at laptop width", where: path(box),
                    text: words(box).slice(0, 40),
                    sizes: `scrollWidth ${box.scrollWidth} > clientWidth ${box.clientWidth}`});
      }
    }
  }
  // The innermost box whose content is too wide (its ancestors are wide because of it) and
  // the outermost box past the window's edge (its children are past it with it).
  for (const e of wide) {
    if (wide.some(o => o !== e && e.contains(o))) continue;
    found.push({kind: "content wider than its box", where: path(e), text: words(e),
                sizes: `scrollWidth ${e.scrollWidth} > clientWidth ${e.clientWidth}`});
  }
  for (const e of past) {
    if (past.includes(e.parentElement)) continue;
    const r = e.getBoundingClientRect();
    found.push({kind: "past the right edge of the window", where: path(e), text: words(e),
                sizes: `right ${Math.round(r.right)} > window ${vw}`});
  }
  for (const svg of document.querySelectorAll(".js-plotly-plot svg.main-svg:first-of-type")) {
    const box = svg.getBoundingClientRect();
    const plot = svg.closest(".js-plotly-plot");
    for (const t of plot.querySelectorAll(
        ".g-xtitle text, .g-ytitle text, .gtitle, .xtick text, .ytick text, .legendtext, "
        + ".annotation-text")) {
      const r = t.getBoundingClientRect();
      if (r.width === 0 || !t.textContent.trim()) continue;
      if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1
          || r.bottom > box.bottom + 1) {
        found.push({kind: "chart text outside its chart", where: path(plot.parentElement)
                      + " " + (t.closest("g[class]") || t).getAttribute("class"),
                    text: t.textContent.trim().slice(0, 60),
                    sizes: `text ${Math.round(r.left)}..${Math.round(r.right)} x `
                      + `${Math.round(r.top)}..${Math.round(r.bottom)}, chart `
                      + `${Math.round(box.left)}..${Math.round(box.right)} x `
                      + `${Math.round(box.top)}..${Math.round(box.bottom)}`});
      }
    }
  }
  return found;
}"""

# What a reader of the page sees or hears: the rendered text (with chart texts), titles,
# labels, placeholders and every option of every select — less what the page marks as
# the data's own words with ``translate="no"`` (a file's columns, a trigger's id).
READ = r"""() => {
  const data = (e) => e.closest("[translate=no]");
  let body = document.body.innerText;
  for (const e of document.querySelectorAll("[translate=no]")) {
    const own = e.innerText;
    if (own) body = body.replace(own, " ");
  }
  const parts = [document.title, body];
  for (const t of document.querySelectorAll("svg text")) parts.push(t.textContent);
  for (const e of document.querySelectorAll("[title], [aria-label], [placeholder], [alt]"))
    for (const a of ["title", "aria-label", "placeholder", "alt"])
      if (e.hasAttribute(a) && !data(e)) parts.push(e.getAttribute(a));
  for (const o of document.querySelectorAll("option")) if (!data(o)) parts.push(o.text);
  return parts.join("\n");
}"""

# Strings that may stand in English on a Finnish or Swedish page, each with its reason.
ALLOWED: dict[str, str] = {
    "cxlens": "the product's name",
    "English": "a language's own name in the language menu",
    "Svenska": "a language's own name in the language menu",
    "Demo Oy": "the demo workspace's name",
    "Store team": "the demo's team names (Store team Tampere Ratina), data of its HR file",
    "Customer service HQ": "a team name of the demo's HR file",
    "Customer": "the demo CRM's customer segment, a value of the data",
}

# Words too short for the rule of ``_counts`` that are English all the same.
SHORT_WORDS = ("yes",)

# Key prefixes whose last part is a raw value of the data (an event type, a touchpoint).
RAW_CODES = ("event", "value")


@cache
def _catalogue(code: str) -> dict[str, str]:
    source = resources.files("cxlens.web").joinpath("locales", f"{code}.json")
    return json.loads(source.read_text(encoding="utf-8"))


def _fragments(text: str) -> list[str]:
    """The literal parts of a locale text around its ``{placeholders}``."""
    return [p.strip(" .,:;()–-…·/") for p in re.split(r"\{[^}]*\}", text)]


def _counts(fragment: str) -> bool:
    """A fragment that can only be English when seen: two words or more, or one word of five
    letters or more (shorter ones, like "OK" or "NPS", are the same in every language)."""
    found = re.findall(r"[A-Za-z][A-Za-z'’]*", fragment)
    return (len(fragment.split()) >= 2 and len(found) >= 2) or (
        len(found) == 1 and len(found[0]) >= 5 and found[0] == fragment)


@cache
def english_strings(lang: str) -> tuple[str, ...]:
    """The English locale texts that must not show on a page in ``lang``: the values (and
    the literal parts of values with placeholders) that count (see ``_counts``), differ
    from the key's own text in ``lang``, and are not words of that language too (a Swedish
    "Filter" or a Finnish "Internet" is no leftover); and the raw codes of ``RAW_CODES``
    keys, which a page should show by their label."""
    en, own = _catalogue("en"), _catalogue(lang)
    own_words = {w.lower() for v in own.values() for w in re.findall(r"\w+", v)}
    out: set[str] = set()
    for key, value in en.items():
        if key.startswith("_") or value == own.get(key):
            continue
        for frag in _fragments(value):
            if not _counts(frag) or frag in ALLOWED:
                continue
            if " " not in frag and frag.lower() in own_words:
                continue
            out.add(frag)
    # The raw codes that have a label (GA4's "add_to_cart", the touchpoint "purchase"): shown
    # as they are, they are English too.
    for key in en:
        prefix, _, code = key.partition(".")
        if prefix in RAW_CODES and (_counts(code) or "_" in code) \
                and code.lower() not in own_words:
            out.add(code)
    # Short English words that a table shows for a true value.
    out.update(w for w in SHORT_WORDS if w.lower() not in own_words)
    # Longest first: a finding names the whole sentence, not its last word.
    return tuple(sorted(out, key=lambda s: (-len(s), s)))


# Where a string found starts and ends: not inside a word, nor inside an identifier or a file
# name of the data ("nps-purchase", "2026…-employees.csv"), which are no text of the page.
_BEFORE, _AFTER = r"(?<![\w-])", r"(?![\w-]|\.\w)"


def english_on(text: str, lang: str) -> list[tuple[str, str]]:
    """The English strings of ``english_strings(lang)`` found as whole words in ``text``, in
    any case, each with the words around its first sighting (to find where it comes from)."""
    for allowed in ALLOWED:
        text = re.sub(_BEFORE + re.escape(allowed) + _AFTER, " ", text)
    hits: list[tuple[str, str]] = []
    for s in english_strings(lang):
        if any(s.lower() in h.lower() for h, _ in hits):
            continue
        # Any case: "Delivery" at the start of a label is the raw "delivery" too.
        m = re.search(_BEFORE + re.escape(s) + _AFTER, text, re.IGNORECASE)
        if m:
            around = text[max(0, m.start() - 30):m.end() + 30]
            hits.append((s, " ".join(around.split())))
    return hits
