"""Propose a mapping from a header by fuzzy matching English, Finnish and Swedish names.

Nordic exports name the same column in three languages (``Sähköposti`` / ``E-post`` /
``Email``), with varying case, accents and punctuation. Each canonical field has a list of
names; each header is normalised and scored against them with RapidFuzz. A proposal is
*confident* when every required field found a header that scored at least ``SURE``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import duckdb
from rapidfuzz import fuzz

from cxlens.ingest.mapping import Mapping, Rule
from cxlens.schema import kind

SURE = 90.0
MAYBE = 75.0

# Identifiers: a wrong match merges different people (or orders) into one.
ID_FIELDS = frozenset({"crm_id", "anonymous_id", "loyalty_id", "order_id", "event_id",
                       "response_id", "employee_id"})
# Fields that link identities or change what a row means: below SURE they are asked about,
# like required fields, never applied without confirmation.
CAREFUL = ID_FIELDS | {"email", "phone", "campaign", "store_id", "channel", "amount",
                       "currency", "date", "ts", "created_at"}
# Placeholders exports write for "no value"; they are empty values, not values of a shape.
NULL_WORDS = "'', 'null', 'n/a', 'na', 'none', 'nan', '-', '--', '#n/a'"
# The values take part in the match from this many non-empty sample values on.
MIN_VALUES = 10
_DATES = frozenset({"date", "ts", "created_at", "start_date"})

# Names per field, any language; normalised before matching.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": ("email", "e-mail", "email address", "sähköposti", "sahkoposti", "sposti",
              "e-post", "epost", "e-postadress", "mail", "customer email", "asiakkaan sähköposti",
              "sähköpostiosoite", "sahkopostiosoite", "asiakkaan sahkoposti", "epostadress"),
    "phone": ("phone", "phone number", "mobile", "puhelin", "puhelinnumero", "matkapuhelin",
              "gsm", "telefon", "telefonnummer", "mobil", "mobilnummer", "tel",
              "puhelin nro", "puhelinnro", "matkapuhelinnumero", "mobiili", "mobiilinumero",
              "mobiltelefon"),
    "crm_id": ("crm id", "customer id", "customer number", "contact id", "record id",
               "asiakasnumero", "asiakas id", "asiakastunnus", "kundnummer", "kund id", "kundid",
               "asiakasnro", "asiakas nro", "kundnr", "kund nr"),
    "loyalty_id": ("loyalty id", "loyalty number", "member number", "card number",
                   "kanta-asiakasnumero", "jäsennumero", "bonuskortti", "medlemsnummer",
                   "kundkortsnummer", "stamkundsnummer"),
    "anonymous_id": ("anonymous id", "cookie id", "device id", "client id", "visitor id",
                     "user pseudo id", "evästetunniste", "laitetunniste"),
    "ts": ("timestamp", "date", "time", "datetime", "created at", "event time", "order date",
           "päivämäärä", "pvm", "aika", "aikaleima", "ajankohta", "tilauspäivä", "datum",
           "tid", "tidpunkt", "tidsstämpel", "orderdatum", "submitted at", "answered at",
           # ASCII spellings (exports that drop ä and ö) and bank and ledger words
           "paivamaara", "paiva", "tilauspaiva", "kirjauspäivä", "kirjauspaiva",
           "kirjauspvm", "arvopäivä", "arvopaiva", "maksupäivä", "maksupaiva",
           "tapahtumapäivä", "tapahtumapaiva", "laskun päivämäärä", "laskun paivamaara",
           "laskun pvm", "laskupäivä", "laskupaiva", "tositepäivä", "tositepaiva",
           "bokföringsdag", "bokforingsdag", "bokföringsdatum", "bokforingsdatum",
           "valutadag", "valutadatum",
           "transaktionsdag", "transaktionsdatum", "valutadag", "valutadatum",
           "reskontradatum", "fakturadatum", "verifikationsdatum", "betalningsdag",
           "booking date", "transaction date", "value date", "invoice date"),
    "created_at": ("created at", "create date", "created", "luotu", "luontipäivä",
                   "skapad", "registered", "liittynyt", "date joined", "luontipaiva",
                   "liittymispäivä", "liittymispaiva", "registreringsdatum", "skapad datum"),
    "date": ("date", "day", "päivä", "päivämäärä", "pvm", "datum", "dag", "paiva",
             "paivamaara", "raportointipäivä", "raportointipaiva"),
    "amount": ("amount", "total", "sum", "price", "revenue", "value", "cost", "spend",
               "summa", "yhteensä", "hinta", "arvo", "kulu", "kustannus", "belopp", "summa",
               "totalt", "pris", "kostnad", "order total", "amount spent",
               # ASCII spellings and bank and ledger words
               "määrä", "maara", "määrä euroa", "maara euroa", "summa euroa", "summa eur",
               "rahamäärä", "rahamaara", "kokonaissumma", "loppusumma", "laskun summa",
               "verollinen summa", "summa verollinen", "yhteensä eur", "yhteensa",
               "totalbelopp", "belopp sek", "belopp eur", "fakturabelopp", "summa inkl moms",
               "total amount", "gross amount", "transaction amount"),
    "currency": ("currency", "valuutta", "valuta", "currency code", "valuuttakoodi",
                 "rahayksikkö", "rahayksikko", "valutakod"),
    "order_id": ("order id", "order number", "order", "tilausnumero", "tilaus", "tilaus id",
                 "ordernummer", "order nr", "kvittonumero", "receipt number", "kvitto",
                 # bank, payment and ledger line ids: unique per transaction
                 "arkistointitunnus", "arkistotunnus", "arkistointi id", "kuittinumero",
                 "kuittinro", "tilausnro", "laskunumero", "laskun numero", "laskunro",
                 "tositenumero", "tositenro", "fakturanummer", "fakturanr",
                 "verifikationsnummer", "verifikationsnr", "transaction id", "payment id",
                 "invoice number", "transaktions id"),
    "event_id": ("event id", "tapahtuma id", "händelse id"),
    "event_type": ("event type", "event", "event name", "action", "type", "tapahtuma",
                   "tapahtumatyyppi", "händelse", "händelsetyp", "tapahtumalaji",
                   "handelsetyp", "transaktionstyp"),
    "channel": ("channel", "kanava", "kanal", "medium"),
    "campaign": ("campaign", "campaign name", "kampanja", "kampanj", "kampanjnamn"),
    "store_id": ("store", "store id", "shop", "location", "myymälä", "kauppa", "butik",
                 "butiks id", "myymala", "toimipiste", "toimipaikka"),
    "first_name": ("first name", "firstname", "given name", "etunimi", "förnamn", "fornamn"),
    "last_name": ("last name", "lastname", "surname", "family name", "sukunimi",
                  "efternamn"),
    "name": ("name", "full name", "customer name", "nimi", "asiakkaan nimi", "namn",
             "kundnamn", "company", "yritys", "företag",
             # the other party of a bank line: payer or payee
             "saaja/maksaja", "saaja maksaja", "maksaja", "saaja", "saajan nimi",
             "maksajan nimi", "mottagare", "avsändare", "avsandare", "betalare",
             "mottagarens namn", "text/mottagare", "foretag"),
    "language": ("language", "locale", "kieli", "asiointikieli", "språk", "sprak"),
    "country": ("country", "maa", "land", "country code", "maakoodi",
                "landskod"),
    "city": ("city", "town", "kaupunki", "paikkakunta", "stad", "ort", "postitoimipaikka",
             "postort"),
    "segment": ("segment", "lifecycle stage", "customer type", "asiakasryhmä", "segmentti",
                "kundsegment", "kundgrupp", "asiakasryhma"),
    "status": ("status", "tila", "order status", "financial status", "maksun tila",
               "tilauksen tila", "laskun tila", "orderstatus", "betalningsstatus"),
    "response_id": ("response id", "answer id", "vastaus id", "svar id"),
    "metric": ("metric", "mittari", "mått"),
    "score": ("score", "rating", "nps", "csat", "ces", "grade", "arvosana", "pisteet",
              "suositteluhalukkuus", "betyg", "poäng", "stars", "tähdet", "stjärnor"),
    "comment": ("comment", "comments", "feedback", "open answer", "review", "kommentti",
                "palaute", "avoin vastaus", "kommentar", "synpunkter", "fritext",
                "viesti", "meddelande", "selitys", "lisätietoja", "lisatietoja"),
    "survey_id": ("survey", "survey id", "kysely", "kysely id", "enkät", "enkät id"),
    "touchpoint": ("touchpoint", "kontaktipiste", "kontaktpunkt"),
    "team_id": ("team", "team id", "tiimi", "tiimi id", "lag", "avdelning", "osasto"),
    "team_name": ("team name", "tiimin nimi", "lagnamn"),
    "employee_id": ("employee id", "employee number", "henkilönumero", "työntekijä id",
                    "anställningsnummer", "personnummer intern"),
    "store_name": ("store name", "myymälän nimi", "butiksnamn"),
    "role": ("role", "title", "job title", "rooli", "tehtävänimike", "roll", "befattning"),
    "start_date": ("start date", "hire date", "aloituspäivä", "työsuhde alkanut",
                   "startdatum", "anställd sedan"),
    "impressions": ("impressions", "impr", "näyttökerrat", "visningar", "exponeringar",
                    "nayttokerrat"),
    "clicks": ("clicks", "link clicks", "klikkaukset", "klick", "napsautukset",
               "klikit"),
    "source": ("source", "lähde", "källa", "utm source"),
}


def normalise(header: str) -> str:
    text = unicodedata.normalize("NFKC", header).casefold()
    text = re.sub(r"[\s_\-./:#()\[\]]+", " ", text)
    return text.strip()


@dataclass
class Match:
    field: str
    column: str | None
    score: float


@dataclass
class Proposal:
    mapping: Mapping
    matches: list[Match]
    missing_required: list[str] = field(default_factory=list)
    unsure: list[Match] = field(default_factory=list)

    @property
    def confident(self) -> bool:
        return not self.missing_required and not self.unsure


@dataclass(frozen=True)
class Profile:
    """What a column's values look like, as shares of its non-empty sample values."""

    values: int = 0  # non-empty values in the sample
    distinct: int = 0
    numeric: float = 0.0  # plain numbers, with separators or a currency sign
    small_int: float = 0.0  # whole numbers 0..10: a rating or a count, not an id
    person_name: float = 0.0  # two or three capitalised words
    email: float = 0.0
    phone: float = 0.0
    url: float = 0.0
    date: float = 0.0
    code3: float = 0.0  # three letters: a currency or a country code

    @property
    def few_values(self) -> bool:
        """A handful of values repeated over many rows: a category or a grade."""
        return self.values >= 20 and self.distinct <= 10


# One regular expression per shape; each is counted over the sample in one SQL pass.
_SHAPES = {
    "numeric": r"^[-+−]?[^0-9A-Za-z]{0,3}[0-9][0-9 .,'\x{00a0}\x{202f}]*[^0-9A-Za-z]{0,4}$",
    "small_int": r"^(10|[0-9])$",
    "person_name": r"^[A-ZÅÄÖÉÜ][a-zåäöéüß'\-]+( [A-ZÅÄÖÉÜ][a-zåäöéüß'\-]+){1,2}$",
    "email": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    "phone": r"^\+?[0-9(][0-9 ()\-./\x{00a0}]{5,20}$",
    "url": r"^(https?://|www\.)",
    "date": (r"^([0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}|[0-9]{1,2}[-/.][0-9]{1,2}[-/.]"
             r"[0-9]{2,4}|[0-9]{8}|[0-9]{10}|[0-9]{13})([ T].*)?$"),
    "code3": r"^[A-Za-z]{3}$",
}


def profile_columns(con: duckdb.DuckDBPyConnection, sample: str,
                    columns: list[str]) -> dict[str, Profile]:
    """Profile every column of the staged sample in one SQL pass (no Python per row)."""
    if not columns:
        return {}
    parts = []
    for i, c in enumerate(columns):
        t = f"trim(\"{c.replace(chr(34), chr(34) * 2)}\")"
        v = f"CASE WHEN lower({t}) NOT IN ({NULL_WORDS}) THEN {t} END"
        parts.append(f"count({v}) AS n{i}, count(DISTINCT {v}) AS d{i}")
        parts += [f"count(*) FILTER (WHERE regexp_matches({v}, '{rx.replace(chr(39), chr(39) * 2)}'"
                  f")) AS {name}{i}" for name, rx in _SHAPES.items()]
    row = con.execute(f"SELECT {', '.join(parts)} FROM {sample}").fetchall()[0]
    width = 2 + len(_SHAPES)
    out: dict[str, Profile] = {}
    for i, c in enumerate(columns):
        n, d, *shapes = row[i * width:(i + 1) * width]
        share = {name: (k / n if n else 0.0) for name, k in zip(_SHAPES, shapes, strict=True)}
        out[c] = Profile(values=n, distinct=d, **share)
    return out


def value_verdict(field_name: str, p: Profile) -> str | None:
    """``'drop'`` when the values contradict the field, ``'doubt'`` when they make the
    match doubtful (asked about), None when they fit or say nothing."""
    if p.values < MIN_VALUES:  # too few values to say anything
        return None
    if field_name in ID_FIELDS:
        if p.person_name > 0.5:  # names are not ids
            return "drop"
        if p.small_int > 0.8 and p.distinct <= 11:  # a 1–10 rating is not an id
            return "drop"
        if p.few_values or p.date > 0.8 or p.email > 0.8:
            return "drop"
        if p.values >= 20 and p.distinct / p.values < 0.05:
            return "doubt"
        return None
    if field_name == "email":
        return "drop" if p.email < 0.5 else None
    if field_name == "phone":
        return "drop" if p.phone < 0.5 and p.email + p.person_name > 0.3 else (
            "doubt" if p.phone < 0.5 else None)
    if field_name in _DATES:
        return "drop" if p.date < 0.3 and p.numeric < 0.5 else (
            "doubt" if p.date < 0.5 else None)
    if field_name == "amount":
        return "drop" if p.numeric < 0.3 else "doubt" if p.numeric < 0.8 else None
    if field_name == "currency":
        return "drop" if p.code3 < 0.3 and p.numeric > 0.5 else (
            "doubt" if p.code3 < 0.8 else None)
    if field_name in ("campaign", "channel", "store_id"):
        if p.email > 0.5 or (p.phone > 0.8 and p.numeric < 0.5) or p.date > 0.8:
            return "drop"
        return "doubt" if p.person_name > 0.5 else None
    if field_name == "score" and p.values and p.numeric < 0.5:
        return "doubt"
    return None


def _score(header: str, names: tuple[str, ...]) -> float:
    h = normalise(header)
    best = 0.0
    for n in names:
        nn = normalise(n)
        if h == nn:
            return 100.0
        best = max(best, fuzz.ratio(h, nn), 0.95 * fuzz.token_set_ratio(h, nn) if len(h) > 3
                   else 0.0)
    return best


def propose(columns: list[str], kind_name: str, *,
            profile: dict[str, Profile] | None = None) -> Proposal:
    """Assign each canonical field the best unused header, best scores first.

    With a ``profile`` of the columns' values, a pairing the values contradict is not a
    candidate and one they make doubtful scores below ``SURE`` (see :func:`value_verdict`).
    """
    k = kind(kind_name)
    candidates: list[tuple[float, str, str]] = []
    for f in k.fields:
        if f.name == "properties":
            continue
        names = (f.name.replace("_", " "), *SYNONYMS.get(f.name, ()))
        for col in columns:
            s = _score(col, names)
            prof = profile.get(col) if profile else None
            verdict = value_verdict(f.name, prof) if prof else None
            if s >= 100.0 and not (prof and f.name in ID_FIELDS and prof.person_name > 0.5
                                   and prof.values >= MIN_VALUES):
                # The header names the field exactly: its bad values are quarantined, or
                # kept with a warning, which tells more than a silently dropped column;
                # only names are never taken for ids.
                verdict = None
            if verdict == "drop":
                continue
            if verdict == "doubt":
                s = min(s, SURE - 1.0)
            if s >= MAYBE:
                # Required fields win ties, so 'Date' goes to ts rather than created_at.
                candidates.append((s + (0.5 if f.required else 0.0), f.name, col))
    # A header that is exactly a known name of one field is not a near match of another
    # ('Valutadag', the value date, is not the currency 'Valuta').
    exact = {col for s, _, col in candidates if s >= 100.0}
    candidates = [c for c in candidates if c[0] >= 100.0 or c[2] not in exact]
    taken_f: dict[str, Match] = {}
    taken_c: set[str] = set()
    for s, fname, col in sorted(candidates, key=lambda t: -t[0]):
        if fname in taken_f or col in taken_c:
            continue
        taken_f[fname] = Match(fname, col, min(s, 100.0))
        taken_c.add(col)
    matches = [taken_f[f.name] for f in k.fields if f.name in taken_f]
    rules = {m.field: Rule(column=m.column) for m in matches}
    missing = [r for r in k.required if r not in taken_f]
    unsure = [m for m in matches if m.score < SURE and (m.field in k.required
                                                        or m.field in CAREFUL)]
    mapping = Mapping(kind=kind_name, columns=rules, name=None,
                      description="proposed from the header; edit and pass with --mapping")
    return Proposal(mapping=mapping, matches=matches, missing_required=missing, unsure=unsure)
