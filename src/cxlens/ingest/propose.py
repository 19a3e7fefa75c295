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

from rapidfuzz import fuzz

from cxlens.ingest.mapping import Mapping, Rule
from cxlens.schema import kind

SURE = 90.0
MAYBE = 75.0

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


def propose(columns: list[str], kind_name: str) -> Proposal:
    """Assign each canonical field the best unused header, best scores first."""
    k = kind(kind_name)
    candidates: list[tuple[float, str, str]] = []
    for f in k.fields:
        if f.name == "properties":
            continue
        names = (f.name.replace("_", " "), *SYNONYMS.get(f.name, ()))
        for col in columns:
            s = _score(col, names)
            if s >= MAYBE:
                # Required fields win ties, so 'Date' goes to ts rather than created_at.
                candidates.append((s + (0.5 if f.required else 0.0), f.name, col))
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
    unsure = [m for m in matches if m.score < SURE and m.field in k.required]
    mapping = Mapping(kind=kind_name, columns=rules, name=None,
                      description="proposed from the header; edit and pass with --mapping")
    return Proposal(mapping=mapping, matches=matches, missing_required=missing, unsure=unsure)
